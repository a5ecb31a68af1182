#!/usr/bin/env bash
# The spread of one model's competition score over sample draws: runs
# `gauntlet eval --competition` with seeds 1..N and prints the mean and the
# standard deviation of the score and of every task's raw score
# (docs/STATISTICS.md).
#
#   scripts/stats/seed-sigma.sh MODEL_DIR [SEEDS=10] [SAMPLES=50] [COMPETITION=INSTRUCT_8B] [OUT=target/seed-sigma]
#
# SAMPLES caps every task's sample count (`--samples`); `all` runs the
# reference counts. Each seed's JSON is kept in OUT, so an interrupted run
# resumes where it stopped. REFS="TASK=N …" (e.g. the competition's reference
# counts) adds each task's share of the spread scaled to N samples.
set -euo pipefail
model=${1:?usage: seed-sigma.sh MODEL_DIR [SEEDS] [SAMPLES] [COMPETITION] [OUT]}
seeds=${2:-10}
samples=${3:-50}
competition=${4:-INSTRUCT_8B}
out=${5:-target/seed-sigma}
gauntlet=${GAUNTLET_BIN:-target/debug/gauntlet}
mkdir -p "$out"
cap=()
[ "$samples" = all ] || cap=(--samples "$samples")
for seed in $(seq 1 "$seeds"); do
  file="$out/$competition-$samples-seed$seed.json"
  [ -s "$file" ] && continue
  start=$(date +%s)
  "$gauntlet" eval --model "$model" --competition "$competition" --seed "$seed" \
    "${cap[@]}" --no-references --json >"$file.part"
  mv "$file.part" "$file"
  echo "seed $seed: $(( $(date +%s) - start )) s" >&2
done
python3 - "$out" "$competition" "$samples" "$seeds" ${REFS:-} <<'PY'
import json, statistics, sys
out, comp, samples, seeds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
runs = [json.load(open(f"{out}/{comp}-{samples}-seed{s}.json")) for s in range(1, seeds + 1)]
def row(name, xs):
    print(f"| {name} | {len(xs)} | {statistics.mean(xs):.4f} | {statistics.stdev(xs):.4f} | {min(xs):.4f} | {max(xs):.4f} |")
print(f"{comp}, --samples {samples}, seeds 1..{seeds}\n")
print("| quantity | runs | mean | σ | min | max |")
print("|---|---|---|---|---|---|")
row("score", [r["score"] for r in runs])
for i, t in enumerate(runs[0]["tasks"]):
    row(f"{t['name']} raw ({t['samples']} samples)", [r["tasks"][i]["raw_score"] for r in runs])
# Each task's share of the score's spread: effective weight × σ of its
# normalised score, then scaled to REFS (the reference counts, task → samples)
# by 1/√n, the tasks taken as independent.
refs = dict(a.split("=") for a in sys.argv[5:]) if len(sys.argv) > 5 else {}
print("\n| task | samples | w·σ(normalised) | at reference count |")
print("|---|---|---|---|")
total_now, total_ref = 0.0, 0.0
for i, t in enumerate(runs[0]["tasks"]):
    part = t["effective_weight"] * statistics.stdev([r["tasks"][i]["normalized"] for r in runs])
    n_ref = int(refs.get(t["name"], t["samples"]))
    scaled = part * (t["samples"] / n_ref) ** 0.5
    total_now += part ** 2
    total_ref += scaled ** 2
    print(f"| {t['name']} | {t['samples']} → {n_ref} | {part:.4f} | {scaled:.4f} |")
print(f"| score (independent tasks) | | {total_now ** 0.5:.4f} | {total_ref ** 0.5:.4f} |")
PY

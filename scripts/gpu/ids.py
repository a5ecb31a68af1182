"""Pre-tokenised inputs for `gauntlet loss` and hf_reference.py loss: one JSON
line {"ids": [...]} per length given, pseudo-random ids (a fixed LCG) in
[0, vocab). usage: python3 ids.py 7,300,4096 [--vocab 49152]"""
import json
import sys

lengths = [int(x) for x in sys.argv[1].split(",")]
vocab = int(sys.argv[sys.argv.index("--vocab") + 1]) if "--vocab" in sys.argv else 49152
x = 12345
for n in lengths:
    ids = []
    for _ in range(max(n, 2)):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        ids.append((x >> 33) % vocab)
    print(json.dumps({"ids": ids}))

"""Reference outputs of transformers for Gauntlet's tiny test models.

Usage (from the repository root):
    cargo run -p gauntlet-model --example write_tiny -- /tmp/tiny
    .venv/bin/python scripts/reference/tiny_reference.py /tmp/tiny > model/tests/data/tiny_reference.json
    .venv/bin/python scripts/reference/tiny_reference.py /tmp/tiny bfloat16 \
        > model/tests/data/tiny_reference_bf16.json

For every variant directory it records, in float32 (or the dtype given: the
model's weights and activations in that dtype, log-softmax in float32, as
validators run it) with eager attention:
  - the token log-probabilities log p(t_k | t_<k) of three fixed sequences
    (7, 30 and 300 tokens: the last spans two attention query blocks and any
    sliding window), and
  - a greedy generation of 10 tokens with repetition penalty 1.3 that never stops at EOS.
The Rust test model/tests/reference.rs compares against this file.
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

torch.set_num_threads(2)


def seq(n, seed):
    # Same as `seq` in model/tests/runtime.rs and reference.rs.
    return [(i * 31 + seed * 17 + 3) % 256 for i in range(n)]


def main(root, dtype="float32"):
    out = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=getattr(torch, dtype), attn_implementation="eager"
        )
        model.eval()
        model.generation_config.eos_token_id = None
        entry = {"logprobs": [], "generate": []}
        with torch.no_grad():
            for n, seed in [(7, 0), (30, 1), (300, 2)]:
                ids = torch.tensor([seq(n, seed)])
                logits = model(ids).logits[0].float()
                lp = torch.log_softmax(logits, dim=-1)
                tgt = ids[0, 1:]
                entry["logprobs"].append(
                    {"n": n, "seed": seed, "values": lp[:-1].gather(1, tgt[:, None])[:, 0].tolist()}
                )
            for n, seed in [(3, 1), (11, 2)]:
                ids = torch.tensor([seq(n, seed)])
                gen = model.generate(
                    ids,
                    max_new_tokens=10,
                    do_sample=False,
                    repetition_penalty=1.3,
                    eos_token_id=None,
                    pad_token_id=0,
                )
                entry["generate"].append({"n": n, "seed": seed, "tokens": gen[0, n:].tolist()})
        out[name] = entry
    json.dump(out, sys.stdout, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])

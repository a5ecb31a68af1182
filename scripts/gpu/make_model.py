"""A random Llama-3.1-8B-shaped bf16 model as a Hugging Face directory, for
scripts/gpu-check.sh: the architecture of ../shared/bench/gpu_anchor.py (32
layers, hidden 4096, MLP 14336, 32 heads / 8 KV heads, rope theta 5e5, untied
lm-head) with SmolLM2's tokenizer and a vocabulary sized to it (49,152 instead
of Llama 3's 128,256, so the lm-head costs 0.4 of 16 GFLOP a token less than
the anchor's). Weights are transformers' initialisation scaled by 0.5 as the
anchor does (finite logits, long generations); speed does not depend on them.

usage: python3 make_model.py TOKENIZER_DIR OUT_DIR [--layers N] [--device cuda|cpu]
Prints one JSON line (seconds taken, parameters).
"""
import json
import os
import shutil
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    tok_dir, out = sys.argv[1], sys.argv[2]
    layers = int(sys.argv[sys.argv.index("--layers") + 1]) if "--layers" in sys.argv else 32
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda"
    t0 = time.time()
    tok = json.load(open(os.path.join(tok_dir, "tokenizer.json")))
    vocab = max(tok["model"]["vocab"].values()) + 1
    vocab = max([vocab] + [t["id"] + 1 for t in tok.get("added_tokens", [])])
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=4096, intermediate_size=14336,
                      num_hidden_layers=layers, num_attention_heads=32, num_key_value_heads=8,
                      max_position_embeddings=8192, rope_theta=500000.0,
                      tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                      torch_dtype="bfloat16")
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    model.save_pretrained(out, max_shard_size="5GB", safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if os.path.exists(os.path.join(tok_dir, f)):
            shutil.copy(os.path.join(tok_dir, f), out)
    print(json.dumps({"make_model_s": round(time.time() - t0, 1), "vocab": vocab,
                      "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()

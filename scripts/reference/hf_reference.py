#!/usr/bin/env python3
"""Reference numbers from transformers / PyTorch (f32, CPU) for checking Gauntlet's engine.

Subcommands (all print JSON on stdout, logs on stderr):

  loss  --model M --input FILE.jsonl [--ids] [--logprobs]
        one line per input line {"text": ...} (or pre-tokenised {"ids": [...]}):  {"tokens": n, "mean_nll": x}
        tokens = len(tokenizer(text).input_ids) (default special-token handling);
        mean_nll = mean over k = 1..n-1 of -log p(t_k | t_<k), f32, one text at a time.
        --ids adds the token ids, --logprobs the n-1 log-probabilities.

  mc    --model M --data FILE.jsonl [--json] [--limit N]
        multiple choice as REFERENCE.md §2: one user turn
        "{question}\\nA. {c1}\\nB. {c2}\\nC. {c3}\\nD. {c4}" through the chat template with the
        generation prompt; greedy, <= 20 new tokens, repetition penalty 1.1, stop at EOS;
        decode (skip special tokens), replace \\W by spaces, split, the first token equal to a
        letter is the prediction (else null). Prints {"pred", "completion"} per item, then a
        summary line {"raw_score", "n", "correct", ...}; --json prints one object instead:
        {"raw_score", "n", "items": [{"pred", "completion"}]} (the `gauntlet eval` form).

  bench [--model M] [--threads 2] [--json]
        scoring throughput (batch 8 x 512: forward + log_softmax + gather), greedy generation
        at batch 1 and 8 (64 new tokens, KV cache), f32 matmul peak (2048^3), peak RSS per
        workload (each workload runs in its own process).

  export --model M --out DIR
        save the model as a Hugging Face directory (f32 safetensors + tokenizer files).

--device cuda and --dtype bfloat16|float16 run the same on a GPU (scripts/gpu-check.sh).

M is a Hugging Face model directory, or gguf:PATH: the GGUF file loaded by transformers'
GGUF loader (dequantised to f32), with the tokenizer from --tokenizer (default
/work/shared/data/smollm2, rebuilt from the GGUF's metadata: the agreed reference tokenizer).
Default M: gguf:$GAUNTLET_CACHE/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf.
"""
import argparse
import json
import math
import os
import re
import resource
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF loader's progress bars

CACHE = os.environ.get("GAUNTLET_CACHE", os.path.expanduser("~/.cache/gauntlet"))
DEFAULT_MODEL = "gguf:" + os.path.join(CACHE, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TOKENIZER = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "smollm2"))
if not os.path.isdir(DEFAULT_TOKENIZER):
    DEFAULT_TOKENIZER = "/work/shared/data/smollm2"
LETTERS = ["A", "B", "C", "D"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def set_threads(n):
    import torch

    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


DEVICE = "cpu"
DTYPE = "float32"


def load(model_spec, tokenizer_dir=None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    t0 = time.time()
    if model_spec.startswith("gguf:"):
        path = os.path.abspath(os.path.expanduser(model_spec[len("gguf:"):]))
        if not os.path.isfile(path):
            sys.exit(f"error: GGUF file not found: {path} (run scripts/fetch-smollm2.sh)")
        model = AutoModelForCausalLM.from_pretrained(
            os.path.dirname(path), gguf_file=os.path.basename(path), dtype=getattr(torch, DTYPE)
        )
        tok = AutoTokenizer.from_pretrained(tokenizer_dir or DEFAULT_TOKENIZER)
    else:
        model = AutoModelForCausalLM.from_pretrained(model_spec, dtype=getattr(torch, DTYPE))
        tok = AutoTokenizer.from_pretrained(tokenizer_dir or model_spec)
    model.eval()
    model.to(DEVICE)
    log(f"loaded {model_spec} ({type(model).__name__}, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M params) in {time.time() - t0:.1f}s")
    return model, tok


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"error: {path}:{i}: not JSON: {e}")


def token_logprobs(model, ids):
    """log p(t_k | t_<k) for k = 1..n-1, f32."""
    import torch

    x = torch.tensor([ids], dtype=torch.long, device=DEVICE)
    with torch.inference_mode():
        logits = model(input_ids=x).logits[0, :-1].float()
        lp = torch.log_softmax(logits, dim=-1)
        return lp.gather(1, x[0, 1:, None])[:, 0]


def cmd_loss(a):
    set_threads(a.threads)
    model, tok = load(a.model, a.tokenizer)
    ctx = getattr(model.config, "max_position_embeddings", None)
    for i, row in enumerate(read_jsonl(a.input), 1):
        ids = row["ids"] if "ids" in row else tok(row["text"]).input_ids
        if ctx and len(ids) > ctx:
            log(f"line {i}: {len(ids)} tokens > context {ctx}: truncated")
            ids = ids[:ctx]
        out = {"tokens": len(ids)}
        if len(ids) < 2:
            out["mean_nll"] = None
            lps = []
        else:
            lps = token_logprobs(model, ids)
            out["mean_nll"] = float(-lps.mean())
            lps = [round(float(v), 6) for v in lps]
        if a.ids:
            out["ids"] = ids
        if a.logprobs:
            out["logprobs"] = lps
        print(json.dumps(out), flush=True)


def mc_prompt(question, choices):
    return question + "".join(f"\n{LETTERS[i]}. {c}" for i, c in enumerate(choices))


def parse_letter(completion):
    for word in re.sub(r"\W", " ", completion).split():
        if word in LETTERS:
            return word
    return None


def chat_ids(tok, content):
    messages = [{"role": "user", "content": content}]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # the template carries its own special tokens: no BOS added on top (SmolLM2 adds none anyway)
    return tok(text, add_special_tokens=False).input_ids


def greedy_config(tok, max_new_tokens, repetition_penalty, min_new_tokens=None):
    from transformers import GenerationConfig

    eos = tok.eos_token_id
    pad = tok.pad_token_id if tok.pad_token_id is not None else eos
    kw = dict(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        repetition_penalty=repetition_penalty,
        eos_token_id=eos,
        pad_token_id=pad,
        use_cache=True,
    )
    if min_new_tokens is not None:
        kw["min_new_tokens"] = min_new_tokens
    return GenerationConfig(**kw)


def cmd_mc(a):
    import torch

    set_threads(a.threads)
    model, tok = load(a.model, a.tokenizer)
    gc = greedy_config(tok, a.max_new_tokens, a.repetition_penalty)
    items, correct, n = [], 0, 0
    t0 = time.time()
    for i, row in enumerate(read_jsonl(a.data), 1):
        if a.limit and n >= a.limit:
            break
        choices = row["choices"]
        if len(choices) > len(LETTERS):
            sys.exit(f"error: {a.data}:{i}: more than {len(LETTERS)} choices")
        ids = chat_ids(tok, mc_prompt(row["question"], choices))
        x = torch.tensor([ids], dtype=torch.long, device=DEVICE)
        with torch.inference_mode():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gc)
        new = out[0, len(ids):].tolist()
        completion = tok.decode(new, skip_special_tokens=True)
        pred = parse_letter(completion)
        item = {"pred": pred, "completion": completion}
        items.append(item)
        n += 1
        if pred is not None and pred == row.get("answer"):
            correct += 1
        if not a.json:
            print(json.dumps(item, ensure_ascii=False), flush=True)
        if n % 20 == 0:
            log(f"{n} items, {correct} correct, {time.time() - t0:.0f}s")
    raw = (n - correct) / n if n else None
    if a.json:
        print(json.dumps({"raw_score": raw, "n": n, "items": items}, ensure_ascii=False))
    else:
        print(json.dumps({"summary": True, "raw_score": raw, "n": n, "correct": correct,
                          "no_letter": sum(1 for it in items if it["pred"] is None),
                          "seconds": round(time.time() - t0, 1)}))


# ---------------------------------------------------------------- bench

def peak_rss_mib():
    """Peak RSS of this process since start (or since reset_peak_rss), MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def reset_peak_rss():
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def matmul_peak(n=2048, reps=10):
    import torch

    torch.manual_seed(0)
    x = torch.randn(n, n)
    y = torch.randn(n, n)
    torch.matmul(x, y)
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(x, y)
        best = min(best, time.perf_counter() - t)
    return {"n": n, "seconds_best": best, "gflops": 2 * n ** 3 / best / 1e9}


def forward_flops_per_token(cfg, seq):
    """2 x (matmul weights incl. lm-head) + causal attention scores/values (mean context)."""
    h, L = cfg.hidden_size, cfg.num_hidden_layers
    nh = cfg.num_attention_heads
    hd = getattr(cfg, "head_dim", None) or h // nh
    nkv = getattr(cfg, "num_key_value_heads", nh)
    per_layer = h * nh * hd + 2 * h * nkv * hd + nh * hd * h + 3 * h * cfg.intermediate_size
    weights = L * per_layer + h * cfg.vocab_size
    attn = 2 * 2 * L * nh * hd * (seq + 1) / 2
    return 2 * weights + attn


def bench_scoring(model, batch, seq, reps):
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randint(100, model.config.vocab_size, (batch, seq), generator=g)
    att = torch.ones_like(x)

    def run():
        with torch.inference_mode():
            logits = model(input_ids=x, attention_mask=att).logits[:, :-1].float()
            lp = torch.log_softmax(logits, dim=-1)
            return lp.gather(2, x[:, 1:, None]).sum()

    run()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    best = min(times)
    flops = forward_flops_per_token(model.config, seq) * batch * seq
    return {"workload": "scoring", "batch": batch, "seq_len": seq, "reps": reps,
            "seconds_best": best, "seconds_median": sorted(times)[len(times) // 2],
            "tokens_per_s": batch * seq / best, "gflops": flops / best / 1e9}


def bench_generation(model, tok, batch, new_tokens, reps):
    import torch

    prompt = "Write a short story about a lighthouse keeper who finds a message in a bottle."
    ids = chat_ids(tok, prompt)
    x = torch.tensor([ids] * batch, dtype=torch.long)
    gc = greedy_config(tok, new_tokens, 1.0, min_new_tokens=new_tokens)

    def run():
        with torch.inference_mode():
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gc)
        assert out.shape[1] - x.shape[1] == new_tokens, out.shape
        return out

    # prefill alone, to report decode-only throughput too
    def prefill():
        with torch.inference_mode():
            model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=True)

    run()  # warm-up
    times, pre = [], []
    for _ in range(reps):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        prefill()
        pre.append(time.perf_counter() - t)
    best = min(times)
    decode = best - min(pre)
    return {"workload": "generation", "batch": batch, "prompt_len": len(ids),
            "new_tokens": new_tokens, "reps": reps, "seconds_best": best,
            "seconds_median": sorted(times)[len(times) // 2],
            "tokens_per_s": batch * new_tokens / best,
            "decode_tokens_per_s": batch * (new_tokens - 1) / decode if decode > 0 else None}


def cmd_bench_one(a):
    """Run one workload in this process (so its peak RSS is its own) and print JSON."""
    import torch

    set_threads(a.threads)
    if a.workload == "matmul":
        r = matmul_peak(a.matmul_n)
        r["workload"] = "matmul"
    else:
        model, tok = load(a.model, a.tokenizer)
        peak_load = peak_rss_mib()
        reset = reset_peak_rss()
        rss_loaded = rss_mib()
        if a.workload == "scoring":
            r = bench_scoring(model, a.batch, a.seq_len, a.reps)
        else:
            r = bench_generation(model, tok, a.batch, a.new_tokens, a.reps)
        r["rss_after_load_mib"] = rss_loaded
        r["peak_rss_during_load_mib"] = peak_load
        r["peak_rss_is_workload_only"] = reset
    r["threads"] = torch.get_num_threads()
    r["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(r))


def machine_info():
    info = {}
    try:
        with open("/proc/loadavg") as f:
            info["loadavg"] = f.read().split()[:3]
        info["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["nproc"] = os.cpu_count()
    return info


def cmd_bench(a):
    import platform

    import torch
    import transformers

    def sub(workload, **kw):
        argv = [sys.executable, os.path.abspath(__file__), "bench-one", "--workload", workload,
                "--threads", str(a.threads), "--model", a.model, "--reps", str(a.reps)]
        if a.tokenizer:
            argv += ["--tokenizer", a.tokenizer]
        for k, v in kw.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        log("running", " ".join(argv[2:]))
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            sys.exit(f"error: bench workload {workload} failed")
        return json.loads(p.stdout.strip().splitlines()[-1])

    if a.model.startswith("gguf:"):
        # load the dequantised f32 export instead (3 s instead of ~30 s per workload process;
        # the weights are the same: `loss` gives identical numbers from both)
        gguf_path = os.path.expanduser(a.model[len("gguf:"):])
        stem = os.path.splitext(os.path.basename(gguf_path))[0]
        hf_dir = os.path.join(CACHE, "reference", stem + "-f32")
        if not os.path.isfile(os.path.join(hf_dir, "model.safetensors")):
            argv = [sys.executable, os.path.abspath(__file__), "export", "--model", a.model, "--out", hf_dir]
            if a.tokenizer:
                argv += ["--tokenizer", a.tokenizer]
            subprocess.run(argv, check=True)
        a.source_model, a.model = a.model, hf_dir
    before = machine_info()
    rows = [sub("matmul", matmul_n=2048),
            sub("scoring", batch=a.score_batch, seq_len=a.score_seq),
            sub("generation", batch=1, new_tokens=a.new_tokens),
            sub("generation", batch=8, new_tokens=a.new_tokens)]
    after = machine_info()
    peak = rows[0]["gflops"]
    for r in rows[1:]:
        if "gflops" in r:
            r["fraction_of_matmul_peak"] = r["gflops"] / peak
    res = {
        "tool": "transformers/PyTorch",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
        "model": a.model, "model_source": getattr(a, "source_model", a.model),
        "dtype": "float32", "threads": a.threads,
        "machine_before": before, "machine_after": after,
        "results": rows,
    }
    if a.json:
        print(json.dumps(res, indent=1))
        return
    print(f"transformers {transformers.__version__} / torch {torch.__version__}, f32, "
          f"{a.threads} threads, {before.get('cpu', '?')}")
    print(f"load before: {before.get('loadavg')}  after: {after.get('loadavg')}")
    print(f"{'workload':<12}{'batch':>6}{'seq/new':>9}{'tok/s':>10}{'GFLOP/s':>9}{'%peak':>7}{'RSS MiB':>9}")
    for r in rows:
        if r["workload"] == "matmul":
            print(f"{'matmul':<12}{'':>6}{r['n']:>9}{'':>10}{r['gflops']:>9.1f}{100:>6.0f}%"
                  f"{r['peak_rss_mib']:>9.0f}")
        elif r["workload"] == "scoring":
            print(f"{'scoring':<12}{r['batch']:>6}{r['seq_len']:>9}{r['tokens_per_s']:>10.1f}"
                  f"{r['gflops']:>9.1f}{100 * r['fraction_of_matmul_peak']:>6.0f}%{r['peak_rss_mib']:>9.0f}")
        else:
            print(f"{'generation':<12}{r['batch']:>6}{r['new_tokens']:>9}{r['tokens_per_s']:>10.1f}"
                  f"{'':>9}{'':>7}{r['peak_rss_mib']:>9.0f}")


def cmd_export(a):
    import shutil

    from safetensors.torch import save_file

    model, tok = load(a.model, a.tokenizer)
    os.makedirs(a.out, exist_ok=True)
    # save_pretrained refuses a model loaded from GGUF ("quantized with gguf"): write the
    # dequantised f32 weights and the config by hand.
    state = model.state_dict()
    if getattr(model.config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)
    state = {k: v.detach().to(dtype=v.dtype).contiguous().clone() for k, v in state.items()}
    save_file(state, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    cfg["architectures"] = [type(model).__name__]
    cfg["dtype"] = "float32"
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    tdir = a.tokenizer or (DEFAULT_TOKENIZER if a.model.startswith("gguf:") else a.model)
    copied = []
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                 "special_tokens_map.json", "generation_config.json"):
        src = os.path.join(tdir, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(a.out, name))
            copied.append(name)
    if "tokenizer.json" not in copied:
        tok.save_pretrained(a.out)
    log(f"wrote {a.out}: {len(state)} tensors, {sum(v.numel() for v in state.values()) / 1e6:.1f}M params")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--model", default=DEFAULT_MODEL, help="HF model dir or gguf:PATH")
        p.add_argument("--tokenizer", help="tokenizer dir (default: the model dir, or "
                       f"{DEFAULT_TOKENIZER} for gguf:)")
        p.add_argument("--threads", type=int, default=int(os.environ.get("GAUNTLET_THREADS", "2")))
        p.add_argument("--device", default="cpu", help="cpu or cuda")
        p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])

    p = sp.add_parser("loss")
    common(p)
    p.add_argument("--input", required=True)
    p.add_argument("--ids", action="store_true", help="also print the token ids")
    p.add_argument("--logprobs", action="store_true", help="also print per-token log-probs")
    p.set_defaults(fn=cmd_loss)

    p = sp.add_parser("mc")
    common(p)
    p.add_argument("--data", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=20)
    p.add_argument("--repetition-penalty", type=float, default=1.1)
    p.set_defaults(fn=cmd_mc)

    p = sp.add_parser("bench")
    common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--score-batch", type=int, default=8)
    p.add_argument("--score-seq", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=64)
    p.set_defaults(fn=cmd_bench)

    p = sp.add_parser("bench-one", help=argparse.SUPPRESS)
    common(p)
    p.add_argument("--workload", choices=["matmul", "scoring", "generation"], required=True)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--matmul-n", type=int, default=2048)
    p.set_defaults(fn=cmd_bench_one)

    p = sp.add_parser("export")
    common(p)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_export)

    a = ap.parse_args()
    global DEVICE, DTYPE
    DEVICE, DTYPE = a.device, a.dtype
    a.fn(a)


if __name__ == "__main__":
    main()

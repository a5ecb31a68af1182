#!/usr/bin/env python3
"""A competition's evaluation run the reference's way, with transformers / PyTorch (f32, CPU).

    instruct8b.py --samples FILE.json [--model M] [--limit TASK=N ...] [--threads 2]

FILE.json is what `gauntlet data samples --competition INSTRUCT_8B --seed S` prints: every
task's prepared inputs. Each task runs exactly as the Python reference subnet
(macrocosm-os/finetuning, finetune/eval/method.py) runs it, one sample at a time:

  multiple_choice  one user turn through the chat template with the generation prompt;
                   generate(greedy, max_new_tokens=20, repetition_penalty=1.1); the first word
                   equal to a letter is the answer; raw = fraction wrong.
  reference        forward over chat(context, generation prompt) ++ reference; mean
                   cross-entropy over the reference tokens; raw = mean over samples.
  documents        the sanity check first (20 new tokens, min_new_tokens=20, from the first 100
                   tokens of documents 0 and 1); then every document tokenized with
                   padding="max_length", max_length=4096, truncation=True, one forward each,
                   cross-entropy over all 4095 positions (pad tokens counted, as the reference
                   does); the loss without the pads is reported too.
  if_eval          both prompts of each pair generated (greedy, max_new_tokens=200,
                   repetition_penalty=1.2). The rules are not re-implemented here: this task is
                   timed, and its duplicate-answer similarity (difflib, as the reference) shown.

--limit TASK=N runs only the first N samples of a task and also reports the time scaled to
the task's full count (the reference's time is a sum of independent per-sample runs).
Prints one JSON object on stdout; progress on stderr.
"""
import argparse
import difflib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import (  # noqa: E402
    chat_ids, greedy_config, load, log, mc_prompt, parse_letter, set_threads,
)

SEQUENCE_LENGTH = 4096
SANITY_PREFIX = 100
SANITY_NEW = 20


def generate(model, tok, ids, gc):
    import torch

    x = torch.tensor([ids], dtype=torch.long)
    with torch.inference_mode():
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gc)
    return out[0, len(ids):].tolist()


def mean_ce(model, ids, start):
    """Mean cross-entropy of tokens ids[start:] given what precedes them (start >= 1)."""
    import torch

    x = torch.tensor([ids], dtype=torch.long)
    with torch.inference_mode():
        logits = model(input_ids=x).logits[0, start - 1:-1].float()
        return torch.nn.functional.cross_entropy(logits, x[0, start:]).item()


def run_mc(model, tok, items):
    gc = greedy_config(tok, 20, 1.1)
    wrong = 0
    for i, it in enumerate(items, 1):
        new = generate(model, tok, chat_ids(tok, mc_prompt(it["question"], it["choices"])), gc)
        pred = parse_letter(tok.decode(new, skip_special_tokens=True))
        wrong += pred != it["answer"]
        if i % 25 == 0:
            log(f"  multiple choice {i}/{len(items)}")
    return wrong / len(items)


def run_reference(model, tok, samples):
    losses = []
    for i, s in enumerate(samples, 1):
        text = tok.apply_chat_template(s["messages"], tokenize=False, add_generation_prompt=True)
        context = tok(text, add_special_tokens=False).input_ids
        ref = tok(s["reference"], add_special_tokens=False).input_ids
        ids = (context + ref)[:SEQUENCE_LENGTH]
        if len(ids) > len(context):
            losses.append(mean_ce(model, ids, len(context)))
        if i % 50 == 0:
            log(f"  reference loss {i}/{len(samples)}")
    return sum(losses) / len(losses)


def run_documents(model, tok, docs):
    import torch

    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    tok.pad_token_id = pad
    encoded = [
        tok(d, max_length=SEQUENCE_LENGTH, padding="max_length", truncation=True).input_ids
        for d in docs
    ]
    # The sanity check on two prefixes.
    gc = greedy_config(tok, SANITY_NEW, 1.0, min_new_tokens=SANITY_NEW)
    for ids in encoded[:2]:
        generate(model, tok, ids[:SANITY_PREFIX], gc)
    padded, unpadded = [], []
    for i, ids in enumerate(encoded, 1):
        x = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            logits = model(input_ids=x).logits[0, :-1].float()
        ce = torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="none")
        padded.append(ce.mean().item())
        real = sum(1 for t in ids if t != pad)
        if real >= 2:
            unpadded.append(ce[: real - 1].mean().item())
        if i % 10 == 0:
            log(f"  documents {i}/{len(encoded)}")
    return sum(padded) / len(padded), sum(unpadded) / len(unpadded)


def run_if_eval(model, tok, pairs):
    gc = greedy_config(tok, 200, 1.2)
    duplicates = 0
    for i, p in enumerate(pairs, 1):
        r = [tok.decode(generate(model, tok, chat_ids(tok, q), gc), skip_special_tokens=True)
             for q in p["prompts"]]
        if difflib.SequenceMatcher(lambda x: x in " \t", r[0], r[1]).ratio() > 0.6:
            duplicates += 1
        log(f"  if_eval {i}/{len(pairs)}")
    return duplicates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", required=True)
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/gauntlet/smollm2/hf"))
    ap.add_argument("--tokenizer", default=None)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("GAUNTLET_THREADS", "2")))
    ap.add_argument("--limit", action="append", default=[], metavar="TASK=N")
    a = ap.parse_args()
    limits = {}
    for spec in a.limit:
        name, _, n = spec.partition("=")
        limits[name] = int(n)
    with open(a.samples, encoding="utf-8") as f:
        data = json.load(f)
    set_threads(a.threads)
    t_all = time.time()
    model, tok = load(a.model, a.tokenizer)
    out = {"competition": data["competition"], "seed": data["seed"], "tasks": [],
           "load_seconds": round(time.time() - t_all, 2)}
    for task in data["tasks"]:
        if task.get("status") != "ok":
            continue
        kind, samples = task["input"]["kind"], task["input"]["samples"]
        full = len(samples)
        samples = samples[: limits.get(task["name"], full)]
        log(f"{task['name']}: {len(samples)} of {full} samples")
        t0 = time.time()
        row = {"name": task["name"], "kind": kind, "samples": len(samples), "of": full}
        if kind == "multiple_choice":
            row["raw_score"] = run_mc(model, tok, samples)
        elif kind == "reference":
            row["raw_score"] = run_reference(model, tok, samples)
        elif kind == "documents":
            row["raw_score"], row["raw_score_without_pads"] = run_documents(model, tok, samples)
        elif kind == "if_eval":
            row["duplicate_pairs"] = run_if_eval(model, tok, samples)
        else:
            log(f"  skipped: kind {kind} is not timed here")
            continue
        row["seconds"] = round(time.time() - t0, 2)
        row["seconds_full"] = round(row["seconds"] * full / max(len(samples), 1), 2)
        out["tasks"].append(row)
        log(f"  {row}")
    out["seconds"] = round(time.time() - t_all, 2)
    out["seconds_full"] = round(out["load_seconds"] + sum(t["seconds_full"] for t in out["tasks"]), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

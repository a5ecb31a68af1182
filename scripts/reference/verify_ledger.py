#!/usr/bin/env python3
"""Verifies a Gauntlet ledger directory with only hashlib, json and bittensor_wallet.

Written from docs/LEDGER.md alone, as a third party would:

    python verify_ledger.py DIR [--validator SS58] [--commitment STRING]

checks every record of the ledger (the segments DIR/rounds/<sync block>/records.jsonl, rounds
in increasing sync block, or, where there is none, the single file DIR/ledger.jsonl): its
hash, its sr25519 signature by the validator's hotkey, the hash chain from zero; every published round under DIR/rounds/ (each
competition's items hash to its root; the round's commitment is the root of those roots), and
that every record's items_root is its round's committed root and its samples are the items.
--validator requires every record to be signed by that hotkey; --commitment (repeatable)
requires the round it names to match that on-chain string. Prints a JSON summary; on the
first failure prints the reason on stderr and exits 1.
"""

import base64
import hashlib
import json
import os
import struct
import sys

from bittensor_wallet import Keypair


def canonical(value):
    """The canonical bytes: sorted keys, no whitespace, UTF-8, floats as repr()."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data):
    return hashlib.sha256(data).digest()


def merkle_root(hashes):
    """Leaf sha256(0x00 || h); node sha256(0x01 || l || r); odd node promoted; empty: sha256("")."""
    if not hashes:
        return sha256(b"")
    level = [sha256(b"\x00" + h) for h in hashes]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 < len(level):
                nxt.append(sha256(b"\x01" + level[i] + level[i + 1]))
            else:
                nxt.append(level[i])
        level = nxt
    return level[0]


def item_hash(item):
    return sha256(canonical({"item": item["item"], "task": item["task"]}))


class Failure(Exception):
    pass


def read_rounds(root):
    """{sync_block: manifest}, {(sync_block, competition id): [items]}."""
    manifests, items = {}, {}
    rounds = os.path.join(root, "rounds")
    if not os.path.isdir(rounds):
        return manifests, items
    for name in sorted(os.listdir(rounds)):
        path = os.path.join(rounds, name, "round.json")
        if not os.path.isfile(path):
            continue  # a round whose items were not published (its records are still checked)
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        sync = manifest["sync_block"]
        pairs = []
        for comp in manifest["competitions"]:
            with open(os.path.join(rounds, name, comp["items"]), encoding="utf-8") as f:
                its = [json.loads(line) for line in f if line.strip()]
            root_hex = merkle_root([item_hash(it) for it in its]).hex()
            if root_hex != comp["root"]:
                raise Failure(f"round {sync} competition {comp['id']}: items hash to {root_hex}, round.json says {comp['root']}")
            items[(sync, comp["id"])] = its
            pairs.append((comp["id"], bytes.fromhex(root_hex)))
        pairs.sort()
        expected = f"gauntlet-items:1:{sync}:{merkle_root([r for _, r in pairs]).hex()}"
        if manifest["commitment"] != expected:
            raise Failure(f"round {sync}: commitment {manifest['commitment']!r}, the items give {expected!r}")
        manifests[sync] = manifest
    return manifests, items


def output_losses(output):
    """A sample's per-token losses: JSON numbers, or packed f32 (little-endian, base64)."""
    if "losses_f32" in output:
        raw = base64.b64decode(output["losses_f32"], validate=True)
        if len(raw) % 4:
            raise Failure(f"losses_f32: {len(raw)} bytes, not whole f32 values")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return output.get("losses")


def ledger_lines(root):
    """(file name, 1-based line, line) of every record, in chain order."""
    rounds = os.path.join(root, "rounds")
    segments = []
    if os.path.isdir(rounds):
        for name in os.listdir(rounds):
            path = os.path.join(rounds, name, "records.jsonl")
            if name.isdigit() and os.path.isfile(path):
                segments.append((int(name), f"rounds/{name}/records.jsonl", path))
    segments.sort()
    files = [(name, path) for _, name, path in segments] or [("ledger.jsonl", os.path.join(root, "ledger.jsonl"))]
    for name, path in files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield name, n, line


def verify(root, validator=None, commitments=()):
    manifests, items = read_rounds(root)
    for c in commitments:
        parts = c.split(":")
        sync = int(parts[2])
        if sync not in manifests:
            raise Failure(f"commitment {c!r}: no published round {sync}")
        if manifests[sync]["commitment"] != c:
            raise Failure(f"round {sync}: published commitment {manifests[sync]['commitment']!r} is not the on-chain {c!r}")
    prev = "00" * 32
    count = 0
    for name, n, line in ledger_lines(root):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise Failure(f"{name} line {n}: malformed: {e}")
        rec = entry["record"]
        where = f"{name} line {n}: round {rec['round']['sync_block']} competition {rec['competition']['id']} model uid {rec['model']['uid']}"
        data = canonical(rec)
        if hashlib.sha256(data).hexdigest() != entry["hash"]:
            raise Failure(f"{where}: field hash does not match the record")
        hotkey = rec["validator"]["hotkey"]
        if validator is not None and hotkey != validator:
            raise Failure(f"{where}: field validator.hotkey: {hotkey}, expected {validator}")
        key = Keypair(ss58_address=hotkey)
        if key.public_key.hex() != rec["validator"]["public_key"]:
            raise Failure(f"{where}: field validator.public_key is not {hotkey}'s")
        sig = bytes.fromhex(entry["signature"].removeprefix("0x"))
        if not key.verify(data, sig):
            raise Failure(f"{where}: field signature: not {hotkey}'s signature of this record")
        if rec["prev_hash"] != prev:
            raise Failure(f"{where}: field prev_hash: expected {prev}, found {rec['prev_hash']}")
        prev = entry["hash"]
        for s in rec["samples"]:
            losses = output_losses(s.get("output") or {})
            if losses:
                # In order, one addition at a time (not sum(): Python 3.12's is compensated).
                total = 0.0
                for x in losses:
                    total += x
                if s["score"] != total / len(losses):
                    raise Failure(f"{where}: sample {s['task']}#{s['index']}: field score: {s['score']} is not the mean of its losses, {total / len(losses)}")
        sync, comp = rec["round"]["sync_block"], rec["competition"]["id"]
        manifest = manifests.get(sync)
        if manifest is not None:
            roots = {c["id"]: c["root"] for c in manifest["competitions"]}
            if roots.get(comp) != rec["items_root"]:
                raise Failure(f"{where}: field items_root: {rec['items_root']} is not the committed {roots.get(comp)}")
            its = items[(sync, comp)]
            if rec["samples"]:
                if len(rec["samples"]) != len(its):
                    raise Failure(f"{where}: field samples: {len(rec['samples'])} samples for {len(its)} items")
                for s, it in zip(rec["samples"], its):
                    if (s["task"], s["index"]) != (it["task"], it["index"]) or s["item_hash"] != item_hash(it).hex():
                        raise Failure(f"{where}: sample {it['task']}#{it['index']}: field item_hash does not match the item")
        count += 1
    return {"records": count, "rounds": len(manifests), "head": prev}


def main(argv):
    args = list(argv)
    validator, commitments, root = None, [], None
    while args:
        a = args.pop(0)
        if a == "--validator":
            validator = args.pop(0)
        elif a == "--commitment":
            commitments.append(args.pop(0))
        else:
            root = a
    if root is None:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        summary = verify(root, validator, commitments)
    except (Failure, KeyError, ValueError, TypeError, OSError) as e:
        print(f"ledger verification failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Commit-reveal v4 reference: test vectors and decryption with the real bittensor-drand.

Run with the interpreter of <repo>/.venv-bt (scripts/reference/setup-bt-venv.sh):

    .venv-bt/bin/python scripts/reference/crv4.py vectors > subtensor/tests/data/crv4_vectors.json
    .venv-bt/bin/python scripts/reference/crv4.py decrypt BLOB_HEX   # JSON of the payload

`vectors` writes what Gauntlet's tests check its own code against:
  - commits: weights payloads SCALE-encoded here (the layout of the chain's and the package's
    `WeightsTlockPayload`) and encrypted by bittensor-drand to drand quicknet round 1000, whose
    signature is public (below), so Rust can decrypt them offline; the blob is the bare
    ciphertext, as `get_encrypted_commit_v2` returns it and the chain stores it
    (`encrypt_at_round` wraps it as SCALE `UserData {encrypted_data: Vec<u8>, reveal_round: u64}`);
  - schedules: reveal rounds bittensor-drand's `get_encrypted_commit_v2` computed for epoch
    states, with the wall-clock window the call ran in (the round depends on the time).
`decrypt` decrypts a commit (a bare ciphertext, as sent to the chain) with the round-1000
signature using bittensor-drand and decodes the payload here, independently of Gauntlet's
Rust decoder.
"""

import json
import sys
import time

import bittensor_drand

# drand quicknet (chain 52db9ba7…e971) round 1000, as its public API serves it; the same
# pulse is in subtensor's pallet-drand tests.
ROUND = 1000
SIGNATURE = (
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39"
)


def compact(n):
    """SCALE compact encoding of a non-negative integer."""
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    body = n.to_bytes((n.bit_length() + 7) // 8, "little")
    return bytes([((len(body) - 4) << 2) | 3]) + body


def encode_payload(hotkey, uids, values, version_key):
    """SCALE of WeightsTlockPayload {hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}."""
    out = compact(len(hotkey)) + hotkey
    for items in (uids, values):
        out += compact(len(items)) + b"".join(v.to_bytes(2, "little") for v in items)
    return out + version_key.to_bytes(8, "little")


def read_compact(data, at):
    mode = data[at] & 3
    if mode == 0:
        return data[at] >> 2, at + 1
    if mode == 1:
        return int.from_bytes(data[at : at + 2], "little") >> 2, at + 2
    if mode == 2:
        return int.from_bytes(data[at : at + 4], "little") >> 2, at + 4
    size = (data[at] >> 2) + 4
    return int.from_bytes(data[at + 1 : at + 1 + size], "little"), at + 1 + size


def decode_payload(data):
    n, at = read_compact(data, 0)
    hotkey, at = data[at : at + n], at + n
    vectors = []
    for _ in range(2):
        n, at = read_compact(data, at)
        vectors.append([int.from_bytes(data[at + 2 * i : at + 2 * i + 2], "little") for i in range(n)])
        at += 2 * n
    version_key = int.from_bytes(data[at : at + 8], "little")
    if at + 8 != len(data):
        raise ValueError(f"{len(data) - at - 8} trailing bytes after the payload")
    return {"hotkey": hotkey.hex(), "uids": vectors[0], "values": vectors[1], "version_key": version_key}


def unwrap_user_data(data, round_):
    """The ciphertext inside bittensor-drand's `UserData` wrapper, checking its round."""
    n, at = read_compact(data, 0)
    if data[at + n :] != round_.to_bytes(8, "little"):
        raise ValueError("UserData does not end with the reveal round")
    return data[at : at + n]


def wrap_user_data(blob, round_):
    return compact(len(blob)) + blob + round_.to_bytes(8, "little")


def commits():
    cases = [
        (bytes(range(32)), [0, 5, 300], [65535, 1200, 7], 4020),
        (bytes([7] * 32), [1], [65535], 0),
        (bytes([0xAB] * 32), list(range(70)), [65535 - i for i in range(70)], 2**63 + 5),
    ]
    out = []
    for hotkey, uids, values, version_key in cases:
        payload = encode_payload(hotkey, uids, values, version_key)
        wrapped, round_ = bittensor_drand.encrypt_at_round(payload, ROUND)
        assert round_ == ROUND
        assert bittensor_drand.decrypt_with_signature(wrapped, SIGNATURE) == payload
        blob = unwrap_user_data(bytes(wrapped), ROUND)
        # What the SDK sends has the same layout: same length for the same payload.
        v2, _ = bittensor_drand.get_encrypted_commit_v2(
            uids, values, version_key, 0, 0, 0, 100, 0, 1_000, 1, 12.0, hotkey
        )
        assert len(v2) == len(blob), (len(v2), len(blob))
        out.append(
            {
                "hotkey": hotkey.hex(),
                "uids": uids,
                "values": values,
                "version_key": version_key,
                "payload": payload.hex(),
                "blob": bytes(blob).hex(),
            }
        )
    return out


def modulo_state(netuid, tempo, block):
    """The stateful-model inputs equivalent to a runtime whose epochs fire at the blocks b
    with (b + netuid + 1) % (tempo + 1) == 0 (the shipped finney metadata's runtime)."""
    last = block
    while (last + netuid + 1) % (tempo + 1) != 0:
        last -= 1
    return {
        "last_epoch_block": last,
        "pending_epoch_at": 0,
        "subnet_epoch_index": (block + netuid + 1) // (tempo + 1),
        "tempo": tempo + 1,
        "blocks_since_last_step": block - last,
        "current_block": block,
    }


def legacy_first_reveal_block(netuid, tempo, block, period):
    """bittensor-drand 1.x `generate_commit`: the first block of the reveal epoch."""
    epoch = (block + netuid + 1) // (tempo + 1)
    return (epoch + period) * (tempo + 1) - (netuid + 1)


def schedules():
    stateful = [
        ("cycle_reset", dict(last_epoch_block=10, pending_epoch_at=0, subnet_epoch_index=0, tempo=50, blocks_since_last_step=0, current_block=10), 1, 12.0),
        ("pending_fires_before_auto", dict(last_epoch_block=80, pending_epoch_at=95, subnet_epoch_index=0, tempo=20, blocks_since_last_step=0, current_block=91), 1, 12.0),
        ("mid_epoch_two_periods", dict(last_epoch_block=5_199_900, pending_epoch_at=0, subnet_epoch_index=14_000, tempo=360, blocks_since_last_step=100, current_block=5_200_000), 2, 12.0),
        ("fast_blocks", dict(last_epoch_block=990, pending_epoch_at=0, subnet_epoch_index=99, tempo=10, blocks_since_last_step=9, current_block=999), 3, 0.25),
    ]
    modulo = [
        ("sn37_mid_epoch", 37, 360, 5_200_000, 1),
        ("sn37_two_periods", 37, 360, 5_200_123, 2),
        ("sn1_small_tempo", 1, 99, 1_000, 1),
        ("before_boundary", 37, 360, 5_199_643 - 1, 1),
    ]
    cases = [(name, state, period, bt, None) for name, state, period, bt in stateful]
    for name, netuid, tempo, block, period in modulo:
        legacy = {"netuid": netuid, "tempo": tempo, "first_reveal_block_sdk1": legacy_first_reveal_block(netuid, tempo, block, period)}
        cases.append((name, modulo_state(netuid, tempo, block), period, 12.0, legacy))
    out = []
    for name, state, period, block_time, legacy in cases:
        before = time.time()
        _, round_ = bittensor_drand.get_encrypted_commit_v2(
            uids=[0],
            weights=[65535],
            version_key=1,
            last_epoch_block=state["last_epoch_block"],
            pending_epoch_at=state["pending_epoch_at"],
            subnet_epoch_index=state["subnet_epoch_index"],
            tempo=state["tempo"],
            blocks_since_last_step=state["blocks_since_last_step"],
            current_block=state["current_block"],
            subnet_reveal_period_epochs=period,
            block_time=block_time,
            hotkey=bytes(32),
        )
        after = time.time()
        case = {"name": name, "state": state, "reveal_period_epochs": period, "block_time": block_time,
                "not_before": before, "not_after": after, "reveal_round": round_}
        if legacy:
            case["modulo"] = legacy
        out.append(case)
    return out


def main():
    if sys.argv[1:2] == ["vectors"]:
        json.dump(
            {
                "made_by": "scripts/reference/crv4.py vectors, bittensor-drand "
                + __import__("importlib.metadata").metadata.version("bittensor-drand"),
                "drand": {"round": ROUND, "signature": SIGNATURE},
                "commits": commits(),
                "schedules": schedules(),
            },
            sys.stdout,
            indent=1,
        )
        print()
    elif sys.argv[1:2] == ["decrypt"] and len(sys.argv) == 3:
        blob = bytes.fromhex(sys.argv[2])
        payload = bittensor_drand.decrypt_with_signature(wrap_user_data(blob, ROUND), SIGNATURE)
        print(json.dumps(decode_payload(bytes(payload))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

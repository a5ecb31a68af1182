//! Commit–reveal v4 against the real `bittensor-drand`: commits it encrypted
//! decrypt here, commits encrypted here decrypt there, and the reveal rounds it
//! computed for epoch states are the ones computed here. The vectors come from
//! `scripts/reference/crv4.py vectors` (bittensor-drand 2.0.0); decryption uses
//! drand quicknet's published signature of round 1000, so nothing needs a network.

use gauntlet_subtensor::schedule::{reveal_round, EpochState};
use gauntlet_subtensor::timelock::{self, WeightsPayload};
use serde_json::Value as Json;
use subxt::ext::codec::Encode;

use crate::bt_python;

fn vectors() -> Json {
    let text = include_str!("../data/crv4_vectors.json");
    serde_json::from_str(text).unwrap()
}

fn bytes(v: &Json) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn numbers<T: TryFrom<u64>>(v: &Json) -> Vec<T> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| T::try_from(n.as_u64().unwrap()).ok().unwrap())
        .collect()
}

/// The round-1000 signature the vectors carry.
pub fn signature() -> Vec<u8> {
    let v = vectors();
    assert_eq!(v["drand"]["round"], 1000);
    bytes(&v["drand"]["signature"])
}

fn payload_of(case: &Json) -> WeightsPayload {
    WeightsPayload {
        hotkey: bytes(&case["hotkey"]),
        uids: numbers(&case["uids"]),
        values: numbers(&case["values"]),
        version_key: case["version_key"].as_u64().unwrap(),
    }
}

#[test]
fn commits_bittensor_drand_encrypted_decrypt_to_their_payloads() {
    let v = vectors();
    let cases = v["commits"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let payload = payload_of(case);
        // The payload layout is the package's and the chain's.
        assert_eq!(payload.encode(), bytes(&case["payload"]));
        let decrypted = timelock::decrypt_weights(&bytes(&case["blob"]), &signature()).unwrap();
        assert_eq!(decrypted, payload);
    }
}

#[test]
fn reveal_rounds_are_the_ones_bittensor_drand_computes() {
    let v = vectors();
    for case in v["schedules"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let s = &case["state"];
        let field = |k: &str| s[k].as_u64().unwrap();
        let mut state = EpochState {
            last_epoch_block: field("last_epoch_block"),
            pending_epoch_at: field("pending_epoch_at"),
            subnet_epoch_index: field("subnet_epoch_index"),
            tempo: field("tempo"),
            blocks_since_last_step: field("blocks_since_last_step"),
            current_block: field("current_block"),
        };
        if let Some(modulo) = case.get("modulo") {
            // The state the package was given is the one derived here from the tempo.
            let (netuid, tempo) = (
                modulo["netuid"].as_u64().unwrap(),
                modulo["tempo"].as_u64().unwrap(),
            );
            let derived = EpochState::modulo(netuid as u16, tempo as u16, state.current_block);
            assert_eq!(derived, state, "{name}");
            state = derived;
            let reveal = state.first_reveal_block(case["reveal_period_epochs"].as_u64().unwrap());
            // bittensor-drand 1.x's formula, where the commit lands in the epoch of
            // the block it was made at.
            assert_eq!(
                reveal.unwrap(),
                modulo["first_reveal_block_sdk1"].as_u64().unwrap(),
                "{name}"
            );
        }
        let first = state
            .first_reveal_block(case["reveal_period_epochs"].as_u64().unwrap())
            .unwrap();
        let block_time = case["block_time"].as_f64().unwrap();
        let at = |t: &str| {
            reveal_round(
                case[t].as_f64().unwrap(),
                state.current_block,
                first,
                block_time,
            )
        };
        let theirs = case["reveal_round"].as_u64().unwrap();
        // The package read the clock somewhere inside this window.
        assert!(
            at("not_before") <= theirs && theirs <= at("not_after"),
            "{name}: {} ≤ {theirs} ≤ {}",
            at("not_before"),
            at("not_after")
        );
    }
}

#[test]
fn commits_encrypted_here_decrypt_with_bittensor_drand() {
    let Some(python) = bt_python::bt_python("bittensor_drand") else {
        return;
    };
    let payload = WeightsPayload {
        hotkey: vec![0x5a; 32],
        uids: vec![0, 1, 2, 300],
        values: vec![65535, 1, 0, 32768],
        version_key: 3_010,
    };
    let blob = timelock::encrypt_weights(&payload, 1_000).unwrap();
    let script = bt_python::repo().join("scripts/reference/crv4.py");
    let out = bt_python::run(
        &python,
        &[script.to_str().unwrap(), "decrypt", &hex::encode(&blob)],
        &[],
    );
    let decoded: Json = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(decoded["hotkey"], hex::encode([0x5a; 32]));
    assert_eq!(numbers::<u16>(&decoded["uids"]), payload.uids);
    assert_eq!(numbers::<u16>(&decoded["values"]), payload.values);
    assert_eq!(decoded["version_key"], 3_010);
}

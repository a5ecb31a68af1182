//! `Validator::run_round` against a loopback subtensor node serving the shipped
//! finney metadata: with commit–reveal off it sends a plain `set_weights`; with
//! it on, a timelocked commit that the real `bittensor-drand` decrypts to the
//! weights set, recorded in the validator's state as pending until the chain
//! has applied the weights.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../../chain/tests/support/bt_python.rs"]
mod bt_python;
#[path = "../../subtensor/tests/subtensor/double.rs"]
#[allow(dead_code)]
mod double;
#[path = "../../subtensor/tests/subtensor/events.rs"]
mod events;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gauntlet_chain::{CommitStatus, Hotkey};
use gauntlet_constants::{sync_block, Block, NetUid, Uid};
use gauntlet_hub::LocalHub;
use gauntlet_model::DeviceKind;
use gauntlet_subtensor::schedule::EpochState;
use gauntlet_subtensor::timelock::QUICKNET_GENESIS_SECS;
use gauntlet_subtensor::{SubtensorChain, SubtensorOptions};
use gauntlet_validator::testing::{data, hotkey, registry};
use gauntlet_validator::{State, Validator, ValidatorConfig};
use serde_json::Value as Json;
use subxt::dynamic::{storage, Value};
use subxt::ext::codec::{Decode, Encode};
use subxt::ext::frame_decode::extrinsics::decode_extrinsic;

use double::Double;

const NET: u16 = 37;
const BLOCK: u64 = 5_200_000;

/// Subnet 37: uid 0 the validator, uids 1 and 2 miners.
fn populate(double: &Double, validator: &Hotkey, commit_reveal: bool) {
    let s = &double.state;
    let accounts = [
        validator.public_key(),
        hotkey(1).public_key(),
        hotkey(2).public_key(),
    ];
    let per_subnet = |name: &'static str, value: Vec<u8>| {
        s.put(
            storage::<(u16,), Value>("SubtensorModule", name),
            (NET,),
            value,
        );
    };
    per_subnet("SubnetworkN", 3u16.encode());
    per_subnet("NetworksAdded", true.encode());
    for (uid, account) in accounts.iter().enumerate() {
        let uid = uid as u16;
        s.put(
            storage::<(u16, u16), Value>("SubtensorModule", "Keys"),
            (NET, uid),
            account.encode(),
        );
        s.put(
            storage::<(u16, [u8; 32]), Value>("SubtensorModule", "Uids"),
            (NET, *account),
            uid.encode(),
        );
    }
    per_subnet("ValidatorPermit", vec![true, false, false].encode());
    per_subnet("LastUpdate", vec![100u64, 50, 60].encode());
    per_subnet("WeightsSetRateLimit", 100u64.encode());
    per_subnet("WeightsVersionKey", 0u64.encode());
    per_subnet("CommitRevealWeightsEnabled", commit_reveal.encode());
    per_subnet("Tempo", 360u16.encode());
    per_subnet("RevealPeriodEpochs", 1u64.encode());
    s.put(
        storage::<(), Value>("SubtensorModule", "CommitRevealWeightsVersion"),
        (),
        4u16.encode(),
    );
}

/// A clock at which a commit sent at `BLOCK` is encrypted to drand round 1000.
fn clock_for_round_1000() -> SystemTime {
    let first = EpochState::modulo(NET, 360, BLOCK)
        .first_reveal_block(1)
        .unwrap();
    let to_go = (first + 3 - BLOCK) as f64 * 12.0;
    let round_1000 = (QUICKNET_GENESIS_SECS + 3_000) as f64;
    UNIX_EPOCH + Duration::from_secs_f64(round_1000 - to_go + 1.5)
}

/// A validator whose state already holds this sync block's rounds, with an
/// EMA that favours miner 1: `run_round` goes straight to the weights.
async fn validator(dir: &std::path::Path, double: &Double, key: Hotkey) -> Validator {
    validator_with(dir, double, key, true).await
}

/// A validator on the double; with `finished`, its state already holds this
/// sync block's rounds (and an EMA), so a round only sets weights.
async fn validator_with(
    dir: &std::path::Path,
    double: &Double,
    key: Hotkey,
    finished: bool,
) -> Validator {
    let options = SubtensorOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(10),
        retries: 0,
        ..SubtensorOptions::default()
    };
    let chain = SubtensorChain::connect(&double.url, options)
        .await
        .unwrap()
        .with_clock(clock_for_round_1000);
    let mut state = State::open(&dir.join("validator.sqlite")).unwrap();
    let registry = registry();
    let done = if finished {
        registry.active_at(Block(BLOCK))
    } else {
        Vec::new()
    };
    for active in done {
        let ema = BTreeMap::from([
            (hotkey(1).ss58(), (Uid(1), 0.9)),
            (hotkey(2).ss58(), (Uid(2), 0.3)),
        ]);
        let summary = gauntlet_validator::RoundSummary {
            models: Vec::new(),
            keep: Vec::new(),
            winner_score: None,
        };
        state
            .finish_round(
                sync_block(Block(BLOCK)),
                active.competition.id,
                Block(BLOCK),
                &summary,
                &ema,
            )
            .unwrap();
    }
    let config = ValidatorConfig {
        netuid: NetUid(NET),
        placement: DeviceKind::Cpu.into(),
        data: data(&dir.join("data")),
        sample_cap: None,
        eval_delay: None,
        version_key: 4_020,
        weights_interval: 0,
        isolation: gauntlet_validator::Isolation::InProcess,
        eval_timeout: None,
        gpus: Vec::new(),
        download_timeout: None,
        ledger_dir: None,
        publish_ledger: None,
        private_data: None,
    };
    let hub = Arc::new(LocalHub::open(dir.join("hub")).unwrap());
    Validator::new(Arc::new(chain), hub, key, state, registry, config)
}

/// The call name and argument bytes of a captured extrinsic.
fn call_of(double: &Double, bytes: &[u8]) -> (String, Vec<u8>) {
    let metadata = &double.state.metadata;
    let ext = decode_extrinsic(&mut &bytes[..], &**metadata, metadata.types()).unwrap();
    (
        ext.call_name().to_owned(),
        bytes[ext.call_data_args_range()].to_vec(),
    )
}

#[tokio::test]
async fn without_commit_reveal_the_round_sets_weights_directly() {
    let dir = tempfile::tempdir().unwrap();
    let double = Double::start(BLOCK).await;
    let me = hotkey(100);
    populate(&double, &me, false);
    let mut validator = validator(dir.path(), &double, me).await;
    let report = validator.run_round().await.unwrap();
    let outcome = report.weights.unwrap();
    assert!(outcome.set, "{}", outcome.note);
    assert_eq!(outcome.note, "set");
    assert!(outcome.commit.is_none());
    let submitted = double.submitted();
    assert_eq!(submitted.len(), 1);
    let (call, args) = call_of(&double, &submitted[0]);
    assert_eq!(call, "set_weights");
    let (netuid, uids, values, version_key) =
        <(u16, Vec<u16>, Vec<u16>, u64)>::decode(&mut &args[..]).unwrap();
    let sent: Vec<(u16, u16)> = uids.into_iter().zip(values).collect();
    assert_eq!((netuid, version_key), (NET, 4_020));
    assert_eq!(sent, outcome.u16_weights);
    assert!(validator.state().commits(10).unwrap().is_empty());
}

#[tokio::test]
async fn with_commit_reveal_the_round_commits_and_follows_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let double = Double::start(BLOCK).await;
    let me = hotkey(100);
    populate(&double, &me, true);
    let mut validator = validator(dir.path(), &double, me.clone()).await;
    let report = validator.run_round().await.unwrap();
    let outcome = report.weights.unwrap();
    assert_eq!(outcome.note, "committed");
    let commit = outcome.commit.clone().unwrap();
    assert_eq!(commit.reveal_round, 1_000);
    assert_eq!(commit.pairs().collect::<Vec<_>>(), outcome.u16_weights);

    // What the node received: a timelocked commit, no plain weights.
    let submitted = double.submitted();
    assert_eq!(submitted.len(), 1);
    let (call, args) = call_of(&double, &submitted[0]);
    assert_eq!(call, "commit_timelocked_weights");
    let (netuid, blob, round, version) =
        <(u16, Vec<u8>, u64, u16)>::decode(&mut &args[..]).unwrap();
    assert_eq!((netuid, round, version), (NET, 1_000, 4));
    assert_eq!(sp_crypto_hashing::blake2_256(&blob), commit.blob_hash);

    // The state records it as pending, and weights as committed, not set.
    let rows = validator.state().commits(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].status, &rows[0].commit),
        (CommitStatus::Pending, &commit)
    );
    assert_eq!(
        validator.state().weights_history(1).unwrap()[0].outcome,
        "committed"
    );

    // The real bittensor-drand decrypts it to the weights set.
    if let Some(python) = bt_python::bt_python("bittensor_drand") {
        let script = bt_python::repo().join("scripts/reference/crv4.py");
        let out = bt_python::run(
            &python,
            &[script.to_str().unwrap(), "decrypt", &hex::encode(&blob)],
            &[],
        );
        let payload: Json = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(payload["hotkey"], hex::encode(me.public_key()));
        let pairs: Vec<(u16, u16)> = payload["uids"]
            .as_array()
            .unwrap()
            .iter()
            .zip(payload["values"].as_array().unwrap())
            .map(|(u, v)| (u.as_u64().unwrap() as u16, v.as_u64().unwrap() as u16))
            .collect();
        assert_eq!(pairs, outcome.u16_weights);
        assert_eq!(payload["version_key"], 4_020);
    }

    // The chain reveals it: the pending commit is gone, the weights applied.
    double.state.put(
        storage::<(u16, u16), Value>("SubtensorModule", "Weights"),
        (NET, 0),
        outcome.u16_weights.encode(),
    );
    double
        .state
        .best
        .store(BLOCK + 400, std::sync::atomic::Ordering::SeqCst);
    let second = validator.run_round().await.unwrap().weights.unwrap();
    assert_eq!(second.note, "committed");
    let rows = validator.state().commits(10).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].status, CommitStatus::Revealed);
    assert_eq!(rows[1].checked_block, Some(Block(BLOCK + 400)));
    assert_eq!(rows[0].status, CommitStatus::Pending);
}

/// A round with work to do commits its items' root through subtensor's
/// `Commitments.set_commitment` (the same `Chain::commit` as a miner's)
/// before anything else, and the state records that the chain took it.
#[tokio::test]
async fn a_pending_round_commits_its_items_root_through_subtensor() {
    let dir = tempfile::tempdir().unwrap();
    let double = Double::start(BLOCK).await;
    let me = hotkey(100);
    populate(&double, &me, false);
    let mut validator = validator_with(dir.path(), &double, me, false).await;
    validator.run_round().await.unwrap();
    let row = validator
        .state()
        .item_commitment(sync_block(Block(BLOCK)))
        .unwrap()
        .expect("the round's items commitment");
    assert!(row.commitment.starts_with("gauntlet-items:1:"), "{row:?}");
    assert!(row.committed_block.is_some(), "{row:?}");
    let submitted = double.submitted();
    let (call, args) = call_of(&double, &submitted[0]);
    assert_eq!(call, "set_commitment");
    let text = String::from_utf8_lossy(&args);
    assert!(text.contains(&row.commitment), "{text}");
}

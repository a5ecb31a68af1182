//! End to end against the loopback node: reads decoded from storage the test
//! SCALE-encodes as the chain does, transactions signed, submitted, captured and
//! decoded, refusals, commit–reveal v4 (timelocked commits and their status), and
//! a stalled or vanished node.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gauntlet_chain::{
    ss58, Chain, ChainError, CommitStatus, Hotkey, WeightsCommit, WeightsSubmission,
};
use gauntlet_constants::{Block, NetUid, Uid};
use gauntlet_subtensor::schedule::EpochState;
use gauntlet_subtensor::timelock::{self, WeightsPayload, QUICKNET_GENESIS_SECS};
use gauntlet_subtensor::{Hyperparameters, SubtensorChain, SubtensorError, SubtensorOptions};
use subxt::dynamic::{storage, Value};
use subxt::ext::codec::{Decode, Encode};
use subxt::ext::frame_decode::extrinsics::decode_extrinsic;

use crate::double::{block_hash, Double, Outcome};

const NET: u16 = 37;

fn validator() -> Hotkey {
    Hotkey::from_seed([7; 32]).unwrap()
}

fn miner(i: u8) -> [u8; 32] {
    [i; 32]
}

/// `Registration { deposit: u64, block: u32, info: { fields: [Data] } }` with one
/// `Data` field: variant `index` and its payload.
fn registration(block: u32, index: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = 0u64.encode();
    out.extend(block.encode());
    out.push(0x04); // one field
    out.push(index);
    out.extend_from_slice(payload);
    out
}

/// A subnet of three neurons: uid 0 our validator, uids 1 and 2 miners.
fn populate(double: &Double) {
    let s = &double.state;
    let accounts = [validator().public_key(), miner(1), miner(2)];
    s.put(
        storage::<(u16,), u16>("SubtensorModule", "SubnetworkN"),
        (NET,),
        3u16.encode(),
    );
    s.put(
        storage::<(u16,), bool>("SubtensorModule", "NetworksAdded"),
        (NET,),
        true.encode(),
    );
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
        let stake = 1_000_000_000u64 * (u64::from(uid) + 1);
        s.put(
            storage::<([u8; 32], u16), Value>("SubtensorModule", "TotalHotkeyAlpha"),
            (*account, NET),
            stake.encode(),
        );
    }
    let vec_entry = |name: &'static str, value: Vec<u8>| {
        s.put(
            storage::<(u16,), Value>("SubtensorModule", name),
            (NET,),
            value,
        );
    };
    vec_entry("ValidatorPermit", vec![true, false, false].encode());
    vec_entry("LastUpdate", vec![100u64, 50, 60].encode());
    vec_entry("Incentive", vec![0u16, 65535, 32768].encode());
    vec_entry("Dividends", vec![65535u16, 0, 0].encode());
    vec_entry("Emission", vec![1_000u64, 2_000, 3_000].encode());
    vec_entry("WeightsSetRateLimit", 100u64.encode());
    vec_entry("WeightsVersionKey", 4_000u64.encode());
    vec_entry("CommitRevealWeightsEnabled", false.encode());
    vec_entry("Tempo", 360u16.encode());
    vec_entry("RevealPeriodEpochs", 1u64.encode());
    s.put(
        storage::<(), Value>("SubtensorModule", "CommitRevealWeightsVersion"),
        (),
        4u16.encode(),
    );
}

fn fast_options() -> SubtensorOptions {
    SubtensorOptions {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(400),
        attempt_timeout: Duration::from_secs(3),
        retries: 2,
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        wait_for_inclusion: true,
        block_time: Duration::from_secs(12),
    }
}

async fn setup() -> (Double, SubtensorChain) {
    let double = Double::start(1_000).await;
    populate(&double);
    let chain = SubtensorChain::connect(&double.url, fast_options())
        .await
        .unwrap();
    (double, chain)
}

/// The (pallet, call, argument bytes, signer) of a captured extrinsic.
fn decode(double: &Double, bytes: &[u8]) -> (String, String, Vec<u8>, Vec<u8>) {
    let metadata = &double.state.metadata;
    let ext = decode_extrinsic(&mut &bytes[..], &**metadata, metadata.types()).unwrap();
    let signer = ext.signature_payload().expect("signed").address_range();
    (
        ext.pallet_name().to_owned(),
        ext.call_name().to_owned(),
        bytes[ext.call_data_args_range()].to_vec(),
        bytes[signer].to_vec(),
    )
}

#[tokio::test]
async fn current_block_and_block_hashes() {
    let (_double, chain) = setup().await;
    assert_eq!(chain.current_block().await.unwrap(), Block(1_000));
    assert_eq!(chain.block_hash(Block(999)).await.unwrap(), block_hash(999));
    let err = chain.block_hash(Block(2_000)).await.unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::BlockNotFound {
                block: Block(2_000),
                current: Block(1_000)
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn metagraph_reads_every_neuron() {
    let (_double, chain) = setup().await;
    let m = chain.metagraph(NetUid(NET)).await.unwrap();
    assert_eq!((m.netuid, m.block), (NetUid(NET), Block(1_000)));
    assert_eq!(m.neurons.len(), 3);
    let v = &m.neurons[0];
    assert_eq!(v.uid, Uid(0));
    assert_eq!(v.hotkey, validator().ss58());
    assert_eq!(v.stake, 1_000_000_000);
    assert!(v.validator_permit);
    assert_eq!(
        (v.last_update, v.dividends, v.incentive, v.emission),
        (100, 1.0, 0.0, 1_000)
    );
    let m2 = &m.neurons[2];
    assert_eq!(m2.hotkey, ss58::encode(&miner(2)));
    assert_eq!(m2.stake, 3_000_000_000);
    assert!(!m2.validator_permit);
    assert!((m2.incentive - 32768.0 / 65535.0).abs() < 1e-12);
    assert_eq!(m2.emission, 3_000);

    let err = chain.metagraph(NetUid(99)).await.unwrap_err();
    assert!(
        matches!(err, ChainError::SubnetNotFound { netuid: NetUid(99) }),
        "{err:?}"
    );
}

#[tokio::test]
async fn weights_of_every_setter_are_read_by_uid() {
    let (double, chain) = setup().await;
    assert_eq!(chain.weights(NetUid(NET)).await.unwrap(), vec![]);
    let put = |uid: u16, pairs: Vec<(u16, u16)>| {
        double.state.put(
            storage::<(u16, u16), Value>("SubtensorModule", "Weights"),
            (NET, uid),
            pairs.encode(),
        );
    };
    put(2, vec![(1, 100), (2, 65_535)]);
    put(0, vec![(1, 65_535)]);
    put(1, vec![]);
    // Another subnet's weights are not this one's.
    double.state.put(
        storage::<(u16, u16), Value>("SubtensorModule", "Weights"),
        (NET + 1, 0u16),
        vec![(0u16, 1u16)].encode(),
    );
    assert_eq!(
        chain.weights(NetUid(NET)).await.unwrap(),
        vec![
            (Uid(0), vec![(Uid(1), 65_535)]),
            (Uid(2), vec![(Uid(1), 100), (Uid(2), 65_535)]),
        ]
    );
}

#[tokio::test]
async fn undecodable_storage_is_an_error_not_a_panic() {
    let (double, chain) = setup().await;
    // A Vec<bool> claiming 64 items but holding one byte.
    double.state.put(
        storage::<(u16,), Value>("SubtensorModule", "ValidatorPermit"),
        (NET,),
        vec![0xff, 1],
    );
    let err = chain.metagraph(NetUid(NET)).await.unwrap_err();
    assert!(matches!(err, ChainError::Decode { .. }), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn commitments_are_decoded_and_bad_records_skipped() {
    let (double, chain) = setup().await;
    let s = &double.state;
    let addr = || storage::<(u16, [u8; 32]), Value>("Commitments", "CommitmentOf");
    let text = "acme:tiny-llama:0123456789abcdef0123456789abcdef01234567:hash=:4";
    s.put(
        addr(),
        (NET, miner(1)),
        registration(900, text.len() as u8 + 1, text.as_bytes()),
    );
    s.put(addr(), (NET, miner(2)), registration(950, 3, &[0xff, 0xfe])); // Raw2, not UTF-8
    s.put(addr(), (NET, miner(3)), vec![1, 2, 3]); // undecodable
    s.put(addr(), (NET, miner(4)), registration(960, 131, &[0; 32])); // Sha256, not raw
    s.put(addr(), (NET + 1, miner(5)), registration(970, 3, b"ok")); // another subnet
    let records = chain.commitments(NetUid(NET)).await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].hotkey, ss58::encode(&miner(1)));
    assert_eq!(records[0].block, Block(900));
    assert_eq!(records[0].data, text);
}

#[tokio::test]
async fn set_weights_submits_a_signed_sorted_call() {
    let (double, chain) = setup().await;
    let weights = [(Uid(2), 100), (Uid(1), 65535)];
    let submitted = chain
        .set_weights(&validator(), NetUid(NET), &weights, 4_020)
        .await
        .unwrap();
    assert_eq!(submitted, WeightsSubmission::Set);
    let submitted = double.submitted();
    assert_eq!(submitted.len(), 1);
    let (pallet, call, args, signer) = decode(&double, &submitted[0]);
    assert_eq!(
        (pallet.as_str(), call.as_str()),
        ("SubtensorModule", "set_weights")
    );
    let mut expected = NET.encode();
    expected.extend(vec![1u16, 2].encode());
    expected.extend(vec![65535u16, 100].encode());
    expected.extend(4_020u64.encode());
    assert_eq!(args, expected);
    // MultiAddress::Id(account) of the validator's hotkey.
    assert_eq!(
        signer,
        [vec![0], validator().public_key().to_vec()].concat()
    );
    // The double included it in the next block.
    assert_eq!(chain.current_block().await.unwrap(), Block(1_001));
}

#[tokio::test]
async fn refusals_known_from_storage_send_nothing() {
    let (double, chain) = setup().await;
    let w = [(Uid(1), 65535)];
    let stranger = Hotkey::from_seed([9; 32]).unwrap();
    let err = chain
        .set_weights(&stranger, NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::NotRegistered { .. }), "{err:?}");
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 3_999)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::VersionKeyTooLow {
                given: 3_999,
                required: 4_000
            }
        ),
        "{err:?}"
    );
    let twice = [(Uid(1), 1), (Uid(1), 2)];
    let err = chain
        .set_weights(&validator(), NetUid(NET), &twice, 4_020)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::InvalidWeights { .. }), "{err:?}");
    double.state.put(
        storage::<(u16,), Value>("SubtensorModule", "LastUpdate"),
        (NET,),
        vec![950u64, 0, 0].encode(),
    );
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::RateLimited {
                last: Block(950),
                next_allowed: Block(1_050)
            }
        ),
        "{err:?}"
    );
    let err = chain.commit(&stranger, NetUid(NET), "x").await.unwrap_err();
    assert!(matches!(err, ChainError::NotRegistered { .. }), "{err:?}");
    let err = chain
        .commit(&validator(), NetUid(NET), &"x".repeat(129))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ChainError::CommitmentTooLong { len: 129, max: 128 }),
        "{err:?}"
    );
    assert!(double.submitted().is_empty());
}

#[tokio::test]
async fn refusals_by_the_runtime_and_the_pool_are_typed_and_final() {
    let (double, chain) = setup().await;
    let w = [(Uid(1), 65535)];
    *double.state.outcome.lock().unwrap() = Outcome::Failed("NeuronNoValidatorPermit");
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ChainError::NoValidatorPermit { .. }),
        "{err:?}"
    );

    *double.state.outcome.lock().unwrap() = Outcome::Failed("MaxWeightExceeded");
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::InvalidWeights { .. }), "{err:?}");

    *double.state.outcome.lock().unwrap() = Outcome::Invalid;
    let err = chain
        .commit(&validator(), NetUid(NET), "x")
        .await
        .unwrap_err();
    let ChainError::Rejected { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("Custom error: 6"), "{reason}");
    assert!(!err.is_transient());
    // Each refusal was final: one submission each, no retries.
    assert_eq!(double.submitted().len(), 3);
}

#[tokio::test]
async fn commit_publishes_raw_data() {
    let (double, chain) = setup().await;
    let text = "acme:tiny-llama:0123456789abcdef0123456789abcdef01234567:4";
    chain.commit(&validator(), NetUid(NET), text).await.unwrap();
    let submitted = double.submitted();
    let (pallet, call, args, _) = decode(&double, &submitted[0]);
    assert_eq!(
        (pallet.as_str(), call.as_str()),
        ("Commitments", "set_commitment")
    );
    let mut expected = NET.encode();
    expected.extend([0x04, text.len() as u8 + 1]);
    expected.extend(text.as_bytes());
    assert_eq!(args, expected);
}

#[tokio::test]
async fn hyperparameters_are_read_from_storage() {
    let (_double, chain) = setup().await;
    let params = chain.hyperparameters(NetUid(NET)).await.unwrap();
    assert_eq!(
        params,
        Hyperparameters {
            commit_reveal: false,
            reveal_period_epochs: 1,
            commit_reveal_version: 4,
            tempo: 360,
            weights_rate_limit: 100,
            weights_version_key: 4_000,
        }
    );
}

/// A clock at which a commit sent at block 1_000 of the populated subnet is
/// encrypted to drand round 1000, whose signature the vectors carry.
fn clock_for_round_1000() -> SystemTime {
    let first_reveal = EpochState::modulo(NET, 360, 1_000)
        .first_reveal_block(1)
        .unwrap();
    let seconds_to_go = (first_reveal + 3 - 1_000) as f64 * 12.0;
    let round_1000 = (QUICKNET_GENESIS_SECS + 3 * 1_000) as f64;
    UNIX_EPOCH + Duration::from_secs_f64(round_1000 - seconds_to_go + 1.5)
}

/// Turns commit–reveal on; returns a chain whose clock aims commits at round 1000.
async fn commit_reveal_setup() -> (Double, SubtensorChain) {
    let double = Double::start(1_000).await;
    populate(&double);
    double.state.put(
        storage::<(u16,), Value>("SubtensorModule", "CommitRevealWeightsEnabled"),
        (NET,),
        true.encode(),
    );
    let chain = SubtensorChain::connect(&double.url, fast_options())
        .await
        .unwrap()
        .with_clock(clock_for_round_1000);
    (double, chain)
}

/// The blob, round and version of a captured `commit_timelocked_weights`.
fn timelocked_args(double: &Double, extrinsic: &[u8]) -> (Vec<u8>, u64, u16) {
    let (pallet, call, args, signer) = decode(double, extrinsic);
    assert_eq!(
        (pallet.as_str(), call.as_str()),
        ("SubtensorModule", "commit_timelocked_weights")
    );
    assert_eq!(signer[1..], validator().public_key());
    let (netuid, blob, round, version) =
        <(u16, Vec<u8>, u64, u16) as Decode>::decode(&mut &args[..]).unwrap();
    assert_eq!(netuid, NET);
    (blob, round, version)
}

#[tokio::test]
async fn commit_reveal_sends_a_timelocked_commit_of_the_weights() {
    let (double, chain) = commit_reveal_setup().await;
    let me = validator();
    let submitted = chain
        .set_weights(&me, NetUid(NET), &[(Uid(2), 3), (Uid(1), 65535)], 4_020)
        .await
        .unwrap();
    let WeightsSubmission::Committed(commit) = submitted else {
        panic!("{submitted:?}")
    };
    let submitted = double.submitted();
    assert_eq!(submitted.len(), 1, "one commit, no set_weights");
    let (blob, round, version) = timelocked_args(&double, &submitted[0]);
    assert_eq!((round, version), (1_000, 4));
    assert_eq!(
        commit,
        WeightsCommit {
            uids: vec![1, 2],
            values: vec![65535, 3],
            version_key: 4_020,
            reveal_round: 1_000,
            commit_reveal_version: 4,
            block: Block(1_000),
            blob_hash: sp_crypto_hashing::blake2_256(&blob),
        }
    );
    let payload = timelock::decrypt_weights(&blob, &crate::crv4::signature()).unwrap();
    assert_eq!(
        payload,
        WeightsPayload {
            hotkey: me.public_key().to_vec(),
            uids: vec![1, 2],
            values: vec![65535, 3],
            version_key: 4_020,
        }
    );
}

#[tokio::test]
async fn a_commit_is_pending_until_the_chain_has_applied_its_weights() {
    let (double, chain) = commit_reveal_setup().await;
    let me = validator();
    let weights = [(Uid(1), 65535), (Uid(2), 3)];
    let WeightsSubmission::Committed(commit) = chain
        .set_weights(&me, NetUid(NET), &weights, 4_020)
        .await
        .unwrap()
    else {
        panic!("not committed")
    };
    let (blob, round, _) = timelocked_args(&double, &double.submitted()[0]);
    let s = &double.state;
    let pending = || storage::<(u16, u64), Value>("SubtensorModule", "TimelockedWeightCommits");
    let me_ss58 = me.ss58();
    let status = || chain.commit_status(&me_ss58, NetUid(NET), &commit);
    // The runtime keys it by the epoch it landed in; another hotkey's commit beside it.
    let entries = vec![
        (miner(1), 1_001u64, vec![1u8, 2, 3], round),
        (me.public_key(), 1_001u64, blob.clone(), round),
    ];
    s.put(pending(), (NET, 2), entries.encode());
    assert_eq!(status().await.unwrap(), CommitStatus::Pending);
    // Revealed: gone from the pending commits, the weights applied.
    s.storage
        .lock()
        .unwrap()
        .remove(&s.key(pending(), (NET, 2)));
    assert_eq!(status().await.unwrap(), CommitStatus::Dropped);
    let applied = storage::<(u16, u16), Value>("SubtensorModule", "Weights");
    s.put(
        applied.clone(),
        (NET, 0),
        vec![(1u16, 65535u16), (2, 3)].encode(),
    );
    assert_eq!(status().await.unwrap(), CommitStatus::Revealed);
    // Someone else's blob of the same weights is not ours.
    s.put(
        pending(),
        (NET, 2),
        vec![(me.public_key(), 1_001u64, vec![9u8; 300], round)].encode(),
    );
    assert_eq!(status().await.unwrap(), CommitStatus::Revealed);
    s.put(applied, (NET, 0), vec![(1u16, 65535u16)].encode());
    assert_eq!(status().await.unwrap(), CommitStatus::Dropped);
    let err = chain
        .commit_status("not an address", NetUid(NET), &commit)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::InvalidAddress { .. }), "{err:?}");
}

#[tokio::test]
async fn commit_reveal_versions_and_tempos_it_cannot_serve_send_nothing() {
    let (double, chain) = commit_reveal_setup().await;
    let w = [(Uid(1), 65535)];
    double.state.put(
        storage::<(), Value>("SubtensorModule", "CommitRevealWeightsVersion"),
        (),
        5u16.encode(),
    );
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    let ChainError::Unsupported { what } = &err else {
        panic!("{err:?}")
    };
    assert!(what.contains("version 5"), "{what}");
    assert!(!err.is_transient());
    double.state.put(
        storage::<(), Value>("SubtensorModule", "CommitRevealWeightsVersion"),
        (),
        4u16.encode(),
    );
    double.state.put(
        storage::<(u16,), Value>("SubtensorModule", "Tempo"),
        (NET,),
        0u16.encode(),
    );
    let err = chain
        .set_weights(&validator(), NetUid(NET), &w, 4_020)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Unsupported { .. }), "{err:?}");
    assert!(double.submitted().is_empty());
}

#[tokio::test]
async fn a_stalled_node_times_out_transiently() {
    let (double, chain) = setup().await;
    let calls_before = double.state.calls.lock().unwrap().len();
    double
        .state
        .stall
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let started = Instant::now();
    let err = chain.current_block().await.unwrap_err();
    let elapsed = started.elapsed();
    double
        .state
        .stall
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(err.is_transient(), "{err:?}");
    assert!(
        matches!(
            err,
            ChainError::Timeout { .. } | ChainError::Connection { .. }
        ),
        "{err:?}"
    );
    // Three attempts of at most ~0.4 s each plus backoff: far below a hang.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // 1 + 2 retries reached the node (the retries on fresh connections, which
    // stall at their first request).
    let attempts = double.state.calls.lock().unwrap().len() - calls_before;
    assert!(attempts >= 3, "{attempts} requests");
}

#[tokio::test]
async fn an_outage_is_transient_and_the_chain_reconnects() {
    let (double, chain) = setup().await;
    double.stop().await;
    let started = Instant::now();
    let err = chain.metagraph(NetUid(NET)).await.unwrap_err();
    assert!(matches!(err, ChainError::Connection { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));
    double.restart().await;
    assert_eq!(chain.current_block().await.unwrap(), Block(1_000));
}

#[tokio::test]
async fn connecting_to_nothing_fails_transiently_and_bad_urls_permanently() {
    // A port that was just free: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = SubtensorChain::connect(&format!("ws://127.0.0.1:{port}"), fast_options())
        .await
        .unwrap_err();
    assert!(matches!(err, SubtensorError::Connection { .. }), "{err:?}");
    assert!(err.is_transient());
    let err = SubtensorChain::connect("http://127.0.0.1:9944", fast_options())
        .await
        .unwrap_err();
    assert!(matches!(err, SubtensorError::BadEndpoint { .. }), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_retry_after_a_lost_status_finds_the_weights_applied() {
    let double = Double::start(1_000).await;
    populate(&double);
    let options = SubtensorOptions {
        attempt_timeout: Duration::from_secs(1),
        ..fast_options()
    };
    let chain = SubtensorChain::connect(&double.url, options).await.unwrap();
    // The runtime applies the weights (LastUpdate of uid 0 becomes the current
    // block) but the node never reports the block.
    let last_update = double.state.key(
        storage::<(u16,), Value>("SubtensorModule", "LastUpdate"),
        (NET,),
    );
    *double.state.outcome.lock().unwrap() =
        Outcome::Lost(vec![(last_update, vec![1_000u64, 50, 60].encode())]);
    chain
        .set_weights(&validator(), NetUid(NET), &[(Uid(1), 65535)], 4_020)
        .await
        .unwrap();
    // The retry saw the weights on chain and did not send them again (which the
    // rate limit would have refused).
    assert_eq!(double.count("author_submitAndWatchExtrinsic"), 1);
}

#[tokio::test]
async fn without_waiting_for_inclusion_the_pool_acceptance_is_enough() {
    let double = Double::start(1_000).await;
    populate(&double);
    let options = SubtensorOptions {
        wait_for_inclusion: false,
        ..fast_options()
    };
    let chain = SubtensorChain::connect(&double.url, options).await.unwrap();
    chain
        .commit(&validator(), NetUid(NET), "hello")
        .await
        .unwrap();
    assert_eq!(double.submitted().len(), 1);
    // Only `ready` was awaited: the block's events were never read.
    assert_eq!(double.count("chain_getBlock"), 0);
}

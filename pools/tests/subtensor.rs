//! Pools on subtensor against the loopback node (the shipped finney metadata):
//! the pool's account pays each period with one signed `Utility.batch_all` of
//! `Balances.transfer_keep_alive`, or, without its key, leaves the batch to
//! its owner; either way a period is paid once, found by the account's nonce.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../subtensor/tests/subtensor/double.rs"]
#[allow(dead_code)]
mod double;
#[path = "../../subtensor/tests/subtensor/events.rs"]
mod events;

use std::time::Duration;

use gauntlet_chain::{ChainError, Hotkey};
use gauntlet_pools::{
    settle, Entry, NewPool, PayoutStatus, PoolError, PoolStore, Rule, Standing, Standings,
    SubtensorTreasury, Tao, Treasury,
};
use gauntlet_subtensor::SubtensorOptions;
use subxt::dynamic::{storage, Value};
use subxt::ext::codec::Encode;
use subxt::ext::frame_decode::extrinsics::decode_extrinsic;

use double::Double;

const START: u64 = 1_000;
const PERIOD: u64 = 100;

fn funder() -> Hotkey {
    Hotkey::from_seed([42; 32]).unwrap()
}

fn miner(i: u8) -> Hotkey {
    Hotkey::from_seed([i; 32]).unwrap()
}

fn options() -> SubtensorOptions {
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

/// `System.Account(who) = AccountInfo { nonce, consumers, providers,
/// sufficients, data: { free, reserved, frozen, flags } }`.
fn set_account(double: &Double, who: &Hotkey, nonce: u32, free: u64) {
    double.state.put(
        storage::<([u8; 32],), Value>("System", "Account"),
        (who.public_key(),),
        (nonce, 0u32, 1u32, 0u32, (free, 0u64, 0u64, 0u128)).encode(),
    );
}

/// Three ranked models and a copy (unranked).
fn board(block: u64) -> Standings {
    let row = |i: u8, rank: Option<u32>| Standing {
        hotkey: miner(i).ss58(),
        uid: u16::from(i),
        rank,
    };
    Standings {
        block,
        rows: vec![
            row(1, Some(1)),
            row(2, Some(2)),
            row(3, Some(3)),
            row(4, None),
        ],
    }
}

fn new_pool() -> NewPool {
    NewPool {
        competition: 3,
        funder: funder().ss58(),
        funds: Tao::parse("1000").unwrap(),
        period_blocks: PERIOD,
        rule: Rule::ArithmeticDecrease,
        entry: Entry::Open,
        start_block: START,
    }
}

fn reserve() -> u64 {
    Tao::parse("0.01").unwrap().rao()
}

/// The treasury, on a thread of its own (it runs its own runtime).
async fn treasury(
    double: &Double,
    path: std::path::PathBuf,
    key: Option<Hotkey>,
) -> SubtensorTreasury {
    let url = double.url.clone();
    tokio::task::spawn_blocking(move || {
        SubtensorTreasury::connect(
            &url,
            options(),
            PoolStore::open(&path).unwrap(),
            key,
            reserve(),
        )
        .unwrap()
    })
    .await
    .unwrap()
}

/// Runs `f` off the async runtime (the treasury blocks on its own).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_is_paid_by_one_signed_batch_from_the_pool_account() {
    let double = Double::start(START).await;
    let thousand = Tao::parse("1000").unwrap().rao();
    set_account(&double, &funder(), 3, thousand + reserve());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pools.sqlite");
    let t = treasury(&double, path.clone(), Some(funder())).await;
    let (payouts, t) = blocking(move || {
        let mut store = PoolStore::open(&path).unwrap();
        let id = store.create(&t, &new_pool()).unwrap();
        // The pool is the funder's account, less the reserve.
        assert_eq!(t.balance(&funder().ss58()).unwrap(), thousand);
        let paid = settle(&mut store, &t, id, START + PERIOD, |end| {
            Ok(Some(board(end)))
        })
        .unwrap();
        (paid, t)
    })
    .await;
    assert_eq!(payouts.len(), 1);
    assert_eq!(payouts[0].status, PayoutStatus::Paid);
    let sum: u64 = payouts[0].payments.iter().map(|p| p.rao).sum();
    assert_eq!(sum, thousand, "exactly the pool's balance");
    // K = 3: 3/6, 2/6, 1/6 of the funds, in rank order; nothing to the copy.
    let rao: Vec<u64> = payouts[0].payments.iter().map(|p| p.rao).collect();
    // 10^12 rao: ⌊·3/6⌋ + remainder, ⌊·2/6⌋, ⌊·1/6⌋.
    assert_eq!(rao, vec![500_000_000_001, 333_333_333_333, 166_666_666_666]);
    assert_eq!(payouts[0].payments[0].hotkey, miner(1).ss58());
    assert!(rao[0] > rao[1] && rao[1] > rao[2]);

    // One extrinsic: Utility.batch_all signed by the pool's account, with
    // the three destinations and nothing for the copy.
    let sent = double.submitted();
    assert_eq!(sent.len(), 1);
    let metadata = &double.state.metadata;
    let ext = decode_extrinsic(&mut &sent[0][..], &**metadata, metadata.types()).unwrap();
    assert_eq!(
        (ext.pallet_name(), ext.call_name()),
        ("Utility", "batch_all")
    );
    let signer = &sent[0][ext.signature_payload().unwrap().address_range()];
    assert!(signer.ends_with(&funder().public_key()));
    let args = &sent[0][ext.call_data_args_range()];
    for i in 1..=3 {
        assert!(contains(args, &miner(i).public_key()), "miner {i} paid");
    }
    assert!(
        !contains(args, &miner(4).public_key()),
        "the copy is not paid"
    );

    // Settling again pays nothing more.
    let again = blocking(move || {
        let mut store = PoolStore::open(&dir.path().join("pools.sqlite")).unwrap();
        settle(&mut store, &t, 1, START + PERIOD + 50, |end| {
            Ok(Some(board(end)))
        })
        .unwrap()
    })
    .await;
    assert!(again.is_empty());
    assert_eq!(double.submitted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_key_the_batch_is_left_to_sign_and_recorded_once_it_lands() {
    let double = Double::start(START).await;
    let thousand = Tao::parse("1000").unwrap().rao();
    set_account(&double, &funder(), 7, thousand + reserve());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pools.sqlite");
    let t = treasury(&double, path.clone(), None).await;
    let (first, second, t) = blocking(move || {
        let mut store = PoolStore::open(&path).unwrap();
        let id = store.create(&t, &new_pool()).unwrap();
        let first = settle(&mut store, &t, id, START + PERIOD, |end| {
            Ok(Some(board(end)))
        });
        // Asked again before the owner signed: the same batch, same nonce.
        let second = settle(&mut store, &t, id, START + PERIOD, |end| {
            Ok(Some(board(end)))
        });
        (first, second, t)
    })
    .await;
    for r in [&first, &second] {
        assert!(
            matches!(
                r,
                Err(PoolError::Chain(ChainError::AwaitingSignature {
                    nonce: 7,
                    ..
                }))
            ),
            "{r:?}"
        );
    }
    let unsigned = t.unsigned();
    assert_eq!(unsigned.len(), 2);
    assert_eq!(unsigned[0].batch, unsigned[1].batch);
    assert_eq!(unsigned[0].batch.nonce, 7);
    let total: u64 = unsigned[0].batch.transfers.iter().map(|(_, r)| r).sum();
    assert_eq!(total, thousand);
    // Call data of Utility.batch_all with three calls.
    let utility = double
        .state
        .metadata
        .pallet_by_name("Utility")
        .unwrap()
        .call_index();
    let data = hex_decode(&unsigned[0].call_data);
    assert_eq!(data[0], utility);
    assert_eq!(data[2], 3 << 2);
    assert!(
        double.submitted().is_empty(),
        "nothing sent without the key"
    );

    // The owner signs and sends it: the account's nonce passes 7 (and its
    // balance drops). The next settle records the payout, pays nothing.
    set_account(&double, &funder(), 8, reserve());
    let paid = blocking(move || {
        let mut store = PoolStore::open(&dir.path().join("pools.sqlite")).unwrap();
        settle(&mut store, &t, 1, START + PERIOD, |end| {
            Ok(Some(board(end)))
        })
        .unwrap()
    })
    .await;
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].status, PayoutStatus::Paid);
    let sum: u64 = paid[0].payments.iter().map(|p| p.rao).sum();
    assert_eq!(sum, thousand);
    assert_eq!(paid[0].payments[0].rank, 1);
    assert!(double.submitted().is_empty());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hex_decode(s: &str) -> Vec<u8> {
    let s = s.trim_start_matches("0x");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

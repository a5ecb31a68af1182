//! Pools on a local chain: deposits, payouts by a leaderboard snapshot, funds
//! that stay without entrants, join-only pools, refusals, and a payout killed
//! between its transfer and its record (paid once, recorded once).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use gauntlet_chain::LocalChain;
use gauntlet_pools::{
    settle, Entry, NewPool, PayoutStatus, PoolError, PoolStore, Rule, Standing, Standings, Tao,
    RAO_PER_TAO,
};

const FUNDER: &str = "funder";

fn tao(t: &str) -> Tao {
    Tao::parse(t).unwrap()
}

fn new_pool(entry: Entry) -> NewPool {
    NewPool {
        competition: 3,
        funder: FUNDER.into(),
        funds: tao("1000"),
        period_blocks: 100,
        rule: Rule::ArithmeticDecrease,
        entry,
        start_block: 0,
    }
}

fn board(block: u64, ranked: &[&str], unranked: &[&str]) -> Standings {
    let mut rows: Vec<Standing> = ranked
        .iter()
        .enumerate()
        .map(|(i, h)| Standing {
            hotkey: (*h).into(),
            uid: i as u16,
            rank: Some(i as u32 + 1),
        })
        .collect();
    rows.extend(unranked.iter().enumerate().map(|(i, h)| Standing {
        hotkey: (*h).into(),
        uid: 100 + i as u16,
        rank: None,
    }));
    Standings { block, rows }
}

fn setup(dir: &Path) -> (LocalChain, PoolStore) {
    let chain = LocalChain::open(&dir.join("chain.sqlite")).unwrap();
    chain.fund(FUNDER, 5_000 * RAO_PER_TAO).unwrap();
    let store = PoolStore::open(&dir.join("pools.sqlite")).unwrap();
    (chain, store)
}

#[test]
fn a_period_pays_exactly_the_pool_by_rank_once() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let id = store.create(&chain, &new_pool(Entry::Open)).unwrap();
    assert_eq!(chain.balance("pool:1").unwrap(), 1_000 * RAO_PER_TAO);
    assert_eq!(chain.balance(FUNDER).unwrap(), 4_000 * RAO_PER_TAO);
    let b = board(105, &["a", "b", "c"], &["copy", "disqualified"]);
    // Before the period ends nothing happens.
    assert!(settle(&mut store, &chain, id, 99, |_| Ok(Some(b.clone())))
        .unwrap()
        .is_empty());
    let paid = settle(&mut store, &chain, id, 150, |end| {
        assert_eq!(end, 100);
        Ok(Some(b.clone()))
    })
    .unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].status, PayoutStatus::Paid);
    assert_eq!(paid[0].snapshot_block, 105);
    // 1000 TAO over 3: ⌊3/6⌋, ⌊2/6⌋, ⌊1/6⌋ of it, and the one rao the integer
    // divisions leave to rank 1.
    let got: Vec<(String, u64)> = paid[0]
        .payments
        .iter()
        .map(|p| (p.hotkey.clone(), p.rao))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), 500 * RAO_PER_TAO + 1),
            ("b".into(), 333_333_333_333),
            ("c".into(), 166_666_666_666),
        ]
    );
    let sum: u64 = paid[0].payments.iter().map(|p| p.rao).sum();
    assert_eq!(sum, 1_000 * RAO_PER_TAO);
    for (h, rao) in &got {
        assert_eq!(chain.balance(h).unwrap(), *rao);
    }
    assert_eq!(chain.balance("copy").unwrap(), 0);
    assert_eq!(chain.balance("disqualified").unwrap(), 0);
    assert_eq!(chain.balance("pool:1").unwrap(), 0);
    // Settling again pays nothing twice.
    assert!(settle(&mut store, &chain, id, 150, |_| Ok(Some(b.clone())))
        .unwrap()
        .is_empty());
    assert_eq!(store.payouts(id).unwrap().len(), 1);
}

#[test]
fn without_entrants_the_funds_stay_for_the_next_period() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let id = store.create(&chain, &new_pool(Entry::Open)).unwrap();
    let empty = board(100, &[], &["copy"]);
    let full = board(200, &["a"], &[]);
    let paid = settle(&mut store, &chain, id, 250, |end| {
        Ok(Some(if end == 100 {
            empty.clone()
        } else {
            full.clone()
        }))
    })
    .unwrap();
    let statuses: Vec<PayoutStatus> = paid.iter().map(|p| p.status).collect();
    assert_eq!(statuses, vec![PayoutStatus::NoEntrants, PayoutStatus::Paid]);
    assert_eq!(chain.balance("a").unwrap(), 1_000 * RAO_PER_TAO);
    // A deposit refills it; the next period pays it out.
    store.deposit(&chain, id, FUNDER, tao("10.5")).unwrap();
    assert_eq!(store.deposited(id).unwrap(), 1_010_500_000_000);
    let paid = settle(&mut store, &chain, id, 300, |_| Ok(Some(full.clone()))).unwrap();
    assert_eq!(paid[0].payments[0].rao, 10_500_000_000);
    // A period with an empty pool is recorded as such.
    let paid = settle(&mut store, &chain, id, 400, |_| Ok(Some(full.clone()))).unwrap();
    assert_eq!(paid[0].status, PayoutStatus::Empty);
}

#[test]
fn a_join_only_pool_pays_only_those_who_joined() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let id = store.create(&chain, &new_pool(Entry::Join)).unwrap();
    store.join(id, "c").unwrap();
    store.join(id, "a").unwrap();
    store.join(id, "a").unwrap();
    let b = board(100, &["a", "b", "c"], &[]);
    let paid = settle(&mut store, &chain, id, 100, |_| Ok(Some(b.clone()))).unwrap();
    let got: Vec<(u32, String)> = paid[0]
        .payments
        .iter()
        .map(|p| (p.rank, p.hotkey.clone()))
        .collect();
    assert_eq!(got, vec![(1, "a".into()), (2, "c".into())]);
    assert_eq!(chain.balance("b").unwrap(), 0);
}

#[test]
fn a_period_without_a_snapshot_waits_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let id = store.create(&chain, &new_pool(Entry::Open)).unwrap();
    assert!(settle(&mut store, &chain, id, 500, |_| Ok(None))
        .unwrap()
        .is_empty());
    assert_eq!(chain.balance("pool:1").unwrap(), 1_000 * RAO_PER_TAO);
}

#[test]
fn bad_pools_and_deposits_are_refused_and_move_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let mut zero_period = new_pool(Entry::Open);
    zero_period.period_blocks = 0;
    assert!(matches!(
        store.create(&chain, &zero_period),
        Err(PoolError::Invalid(_))
    ));
    let mut too_much = new_pool(Entry::Open);
    too_much.funds = tao("6000");
    assert!(matches!(
        store.create(&chain, &too_much),
        Err(PoolError::Chain(_))
    ));
    assert_eq!(chain.balance(FUNDER).unwrap(), 5_000 * RAO_PER_TAO);
    assert!(
        store.pools().unwrap().is_empty(),
        "a refused pool is not kept"
    );
    assert!(matches!(
        store.deposit(&chain, 42, FUNDER, tao("1")),
        Err(PoolError::UnknownPool(42))
    ));
    assert!(Tao::parse("0").is_err() && Tao::parse("-5").is_err());
}

/// The child half of the crash test: settles with the failpoint armed, which
/// aborts the process after the transfer and before the record.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("GAUNTLET_POOLS_CRASH_DIR") else {
        return;
    };
    let dir = Path::new(&dir);
    let chain = LocalChain::open(&dir.join("chain.sqlite")).unwrap();
    let mut store = PoolStore::open(&dir.join("pools.sqlite")).unwrap();
    let b = board(100, &["a", "b"], &[]);
    settle(&mut store, &chain, 1, 100, |_| Ok(Some(b.clone()))).unwrap();
    unreachable!("the failpoint aborts before this");
}

#[test]
fn a_payout_killed_between_transfer_and_record_is_paid_once() {
    let dir = tempfile::tempdir().unwrap();
    let (chain, mut store) = setup(dir.path());
    let id = store.create(&chain, &new_pool(Entry::Open)).unwrap();
    drop(store);
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture"])
        .env("GAUNTLET_POOLS_CRASH_DIR", dir.path())
        .env("GAUNTLET_FAILPOINT", "pool-after-transfer")
        .status()
        .unwrap();
    assert!(!status.success(), "the child was meant to abort");
    // The transfer happened; the record did not.
    assert_eq!(
        chain.balance("a").unwrap() + chain.balance("b").unwrap(),
        1_000 * RAO_PER_TAO
    );
    let mut store = PoolStore::open(&dir.path().join("pools.sqlite")).unwrap();
    assert!(store.payouts(id).unwrap().is_empty());
    // The next settle records what was paid and pays nothing more, though
    // the pool is empty since and the leaderboard has changed.
    let other = board(100, &["b", "a"], &[]);
    let paid = settle(&mut store, &chain, id, 100, |_| Ok(Some(other.clone()))).unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].status, PayoutStatus::Paid);
    assert_eq!(
        paid[0].payments.iter().map(|p| p.rao).sum::<u64>(),
        1_000 * RAO_PER_TAO
    );
    // Recorded as made: "a" ranked first when it was paid.
    assert_eq!(paid[0].payments[0].hotkey, "a");
    assert_eq!(chain.balance("a").unwrap(), 666_666_666_667);
    assert_eq!(chain.balance("pool:1").unwrap(), 0);
    // A later deposit stays for the next period.
    store.deposit(&chain, id, FUNDER, tao("50")).unwrap();
    assert!(
        settle(&mut store, &chain, id, 100, |_| Ok(Some(other.clone())))
            .unwrap()
            .is_empty()
    );
    assert_eq!(chain.balance("pool:1").unwrap(), 50 * RAO_PER_TAO);
    assert_eq!(store.payouts(id).unwrap().len(), 1);
}

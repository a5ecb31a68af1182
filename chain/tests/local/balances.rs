//! Balances and batches of transfers: all or nothing, each batch key paid once,
//! kept across reopening the file.

use gauntlet_chain::{BatchOutcome, ChainError, LocalChain, Transfer};

fn pay(dest: &str, rao: u64) -> Transfer {
    Transfer {
        dest: dest.into(),
        rao,
    }
}

#[test]
fn a_batch_moves_all_of_its_transfers_once_per_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chain.sqlite");
    let chain = LocalChain::open(&path).expect("open");
    assert_eq!(chain.balance("pool").expect("balance"), 0);
    assert_eq!(chain.fund("pool", 1_000).expect("fund"), 1_000);
    let batch = [pay("alice", 600), pay("bob", 300), pay("carol", 0)];
    assert!(matches!(
        chain.transfer_batch("p1:0", "pool", &batch).expect("pay"),
        BatchOutcome::Made(_)
    ));
    // The same key again moves nothing, even from another handle.
    let again = LocalChain::open(&path).expect("reopen");
    assert!(matches!(
        again.transfer_batch("p1:0", "pool", &batch).expect("pay"),
        BatchOutcome::AlreadyMade(_)
    ));
    assert_eq!(again.balance("pool").expect("pool"), 100);
    assert_eq!(again.balance("alice").expect("alice"), 600);
    assert_eq!(again.balance("bob").expect("bob"), 300);
    assert_eq!(again.balance("carol").expect("carol"), 0);
    assert_eq!(
        again.transfers_of("p1:0").expect("batch"),
        vec![pay("alice", 600), pay("bob", 300)]
    );
}

#[test]
fn a_batch_beyond_the_balance_moves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = LocalChain::open(&dir.path().join("chain.sqlite")).expect("open");
    chain.fund("pool", 500).expect("fund");
    let err = chain
        .transfer_batch("k", "pool", &[pay("alice", 300), pay("bob", 300)])
        .expect_err("too much");
    assert!(
        matches!(
            err,
            ChainError::InsufficientBalance {
                needed: 600,
                available: 500,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(chain.balance("pool").expect("pool"), 500);
    assert_eq!(chain.balance("alice").expect("alice"), 0);
    // The refused key was not used up.
    assert!(matches!(
        chain
            .transfer_batch("k", "pool", &[pay("alice", 500)])
            .expect("pay"),
        BatchOutcome::Made(_)
    ));
    let overflow = chain
        .transfer_batch("o", "alice", &[pay("x", u64::MAX), pay("y", 1)])
        .expect_err("overflow");
    assert!(
        matches!(overflow, ChainError::InvalidAmount { .. }),
        "{overflow}"
    );
    assert!(matches!(
        chain.fund("alice", 0).expect_err("zero"),
        ChainError::InvalidAmount { .. }
    ));
}

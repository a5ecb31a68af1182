//! Persistence, clocks, block hashes, registration and commitments that succeed.

use std::time::{SystemTime, UNIX_EPOCH};

use gauntlet_chain::{
    Chain, ChainError, ClockMode, CommitStatus, Genesis, LocalChain, SubnetParams, WeightsCommit,
    WeightsSubmission,
};
use gauntlet_constants::{Block, NetUid, Uid};

use crate::{hotkey, manual_chain, NET};

#[tokio::test]
async fn state_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = SubnetParams {
        tempo: 10,
        weights_version_key: 3010,
        ..SubnetParams::default()
    };
    let chain = manual_chain(dir.path(), &params);
    let (validator, miner) = (hotkey(1, 0), hotkey(1, 1));
    assert_eq!(
        chain.register(NET, &validator.ss58()).expect("register"),
        Uid(0)
    );
    assert_eq!(
        chain.register(NET, &miner.ss58()).expect("register"),
        Uid(1)
    );
    chain
        .add_stake(NET, &validator.ss58(), 5_000)
        .expect("stake");
    chain.advance(3).expect("advance");
    chain
        .commit(&miner, NET, "acme:model:abc:hash:1")
        .await
        .expect("commit");
    chain
        .set_weights(&validator, NET, &[(Uid(1), 65535)], 3010)
        .await
        .expect("weights");
    chain.advance(10).expect("advance");

    let before = chain.metagraph(NET).await.expect("metagraph");
    let commitments = chain.commitments(NET).await.expect("commitments");
    let hash = chain.block_hash(Block(7)).await.expect("hash");
    drop(chain);

    // `open` with a default (wall clock) genesis keeps the stored manual chain.
    let again = LocalChain::open(&dir.path().join("chain.db")).expect("reopen");
    assert_eq!(again.clock_mode(), ClockMode::Manual);
    assert_eq!(again.current_block().await.expect("block"), Block(13));
    assert_eq!(again.metagraph(NET).await.expect("metagraph"), before);
    assert_eq!(
        again.commitments(NET).await.expect("commitments"),
        commitments
    );
    assert_eq!(again.block_hash(Block(7)).await.expect("hash"), hash);
    assert_eq!(again.subnet_params(NET).expect("params"), params);
    let history = again
        .weights_history(NET, &validator.ss58())
        .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].block, history[0].version_key), (3, 3010));
    assert_eq!(history[0].weights, vec![(1, 65535)]);
    assert_eq!(again.epochs(NET).expect("epochs"), vec![Block(10)]);
    // The epoch at block 10 paid the miner and the validator.
    assert!(before.neurons[1].incentive > 0.99 && before.neurons[0].dividends > 0.99);
    assert!(before.neurons[0].validator_permit && !before.neurons[1].validator_permit);
}

#[test]
fn manual_clock_moves_only_forward_and_wall_clock_cannot_be_moved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manual = LocalChain::open_with(&dir.path().join("m.db"), &Genesis::manual(Block(500)))
        .expect("open");
    assert_eq!(manual.block().expect("block"), Block(500));
    assert_eq!(manual.advance(25).expect("advance"), Block(525));
    manual.set_block(Block(600)).expect("set");
    assert_eq!(manual.block().expect("block"), Block(600));
    assert!(matches!(
        manual.set_block(Block(599)),
        Err(ChainError::Clock { .. })
    ));

    let wall = LocalChain::open(&dir.path().join("w.db")).expect("open");
    assert_eq!(wall.clock_mode(), ClockMode::Wall);
    assert!(matches!(wall.advance(1), Err(ChainError::Clock { .. })));
    assert!(matches!(
        wall.set_block(Block(10)),
        Err(ChainError::Clock { .. })
    ));
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    u64::try_from(since.as_millis()).expect("ms")
}

#[test]
fn wall_clock_counts_twelve_second_blocks_since_genesis() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Genesis 10 blocks and a half ago.
    let genesis = Genesis {
        clock: ClockMode::Wall,
        start_block: Block(1_000),
        genesis_unix_ms: Some(now_ms() - 126_000),
    };
    let chain = LocalChain::open_with(&dir.path().join("c.db"), &genesis).expect("open");
    assert_eq!(chain.block().expect("block"), Block(1_010));
    // A second handle reads the same clock from the file.
    let other = LocalChain::open(&dir.path().join("c.db")).expect("open");
    assert_eq!(other.block().expect("block"), Block(1_010));

    let fresh = LocalChain::open(&dir.path().join("fresh.db")).expect("open");
    assert_eq!(fresh.block().expect("block"), Block(0));
}

#[test]
fn wall_clock_runs_due_epochs_when_the_subnet_is_next_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.db");
    let chain = LocalChain::open(&path).expect("open");
    let params = SubnetParams {
        tempo: 5,
        ..SubnetParams::default()
    };
    chain.create_subnet(NET, &params).expect("subnet");
    let (v, m) = (hotkey(2, 0), hotkey(2, 1));
    chain.register(NET, &v.ss58()).expect("register");
    chain.register(NET, &m.ss58()).expect("register");
    chain.add_stake(NET, &v.ss58(), 1).expect("stake");
    chain
        .set_weights_as(&v.ss58(), NET, &[Uid(1)], &[1], 0)
        .expect("weights");
    drop(chain);

    // Move genesis (and so the subnet's creation) 11 blocks into the past.
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    conn.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) - 132000 WHERE key = 'genesis_ms'",
        [],
    )
    .expect("shift genesis");
    drop(conn);

    let chain = LocalChain::open(&path).expect("reopen");
    assert_eq!(chain.block().expect("block"), Block(11));
    assert!(
        chain.epochs(NET).expect("epochs").is_empty(),
        "epochs run lazily"
    );
    let m = chain.read_metagraph(NET).expect("metagraph");
    assert_eq!(
        chain.epochs(NET).expect("epochs"),
        vec![Block(5), Block(10)]
    );
    assert!((m.neurons[1].incentive - 1.0).abs() < 1e-9);
    assert_eq!(m.block, Block(11));
}

#[tokio::test]
async fn block_hashes_agree_across_handles_and_differ_across_chains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.db");
    let a = LocalChain::open_with(&path, &Genesis::manual(Block(0))).expect("open");
    let b = LocalChain::open(&path).expect("open");
    a.advance(20).expect("advance");
    for block in [0, 1, 19, 20] {
        let ha = a.block_hash(Block(block)).await.expect("hash");
        assert_eq!(ha, b.block_hash(Block(block)).await.expect("hash"));
    }
    let h1 = a.block_hash(Block(1)).await.expect("hash");
    assert_ne!(h1, a.block_hash(Block(2)).await.expect("hash"));
    let future = b.block_hash(Block(21)).await;
    assert!(matches!(
        future,
        Err(ChainError::BlockNotFound {
            block: Block(21),
            current: Block(20)
        })
    ));
    let other =
        LocalChain::open_with(&dir.path().join("o.db"), &Genesis::manual(Block(5))).expect("open");
    assert_ne!(other.block_hash(Block(1)).await.expect("hash"), h1);
}

#[tokio::test]
async fn registration_is_ordered_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    for i in 0..5 {
        chain.advance(1).expect("advance");
        let uid = chain.register(NET, &hotkey(3, i).ss58()).expect("register");
        assert_eq!(uid, Uid(i));
    }
    assert_eq!(
        chain.register(NET, &hotkey(3, 2).ss58()).expect("again"),
        Uid(2)
    );
    let m = chain.metagraph(NET).await.expect("metagraph");
    assert_eq!(m.neurons.len(), 5);
    assert_eq!(m.netuid, NET);
    // Registration blocks are kept as last_update until weights are set.
    let updates: Vec<u64> = m.neurons.iter().map(|n| n.last_update).collect();
    assert_eq!(updates, [1, 2, 3, 4, 5]);
    assert_eq!(
        m.by_hotkey(&hotkey(3, 4).ss58()).map(|n| n.uid),
        Some(Uid(4))
    );
    // Another subnet numbers its own uids.
    chain
        .create_subnet(NetUid(1), &SubnetParams::default())
        .expect("subnet");
    assert_eq!(
        chain
            .register(NetUid(1), &hotkey(3, 4).ss58())
            .expect("register"),
        Uid(0)
    );
}

#[tokio::test]
async fn a_full_subnet_replaces_its_least_earning_non_immune_neuron() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = SubnetParams {
        max_uids: 2,
        immunity_period: 10,
        tempo: 0,
        ..SubnetParams::default()
    };
    let chain = manual_chain(dir.path(), &params);
    let (a, b, c) = (hotkey(4, 0), hotkey(4, 1), hotkey(4, 2));
    chain.register(NET, &a.ss58()).expect("register");
    chain.advance(1).expect("advance");
    chain.register(NET, &b.ss58()).expect("register");
    chain.commit(&b, NET, "b:b:0:h:1").await.expect("commit");
    chain.advance(4).expect("advance");
    assert!(matches!(
        chain.register(NET, &c.ss58()),
        Err(ChainError::SubnetFull { max_uids: 2, .. })
    ));
    // With no weights anywhere an epoch pays validators by stake: a earns, b does not,
    // so b goes although a is older.
    chain.add_stake(NET, &a.ss58(), 10).expect("stake");
    chain.run_epoch(NET).expect("epoch");
    chain.advance(6).expect("advance");
    assert_eq!(chain.register(NET, &c.ss58()).expect("register"), Uid(1));
    let m = chain.metagraph(NET).await.expect("metagraph");
    let hotkeys: Vec<String> = m.neurons.iter().map(|n| n.hotkey.clone()).collect();
    assert_eq!(hotkeys, [a.ss58(), c.ss58()]);
    assert!(m.neurons[0].emission > 0);
    assert_eq!((m.neurons[1].last_update, m.neurons[1].emission), (11, 0));
    assert!(chain
        .commitments(NET)
        .await
        .expect("commitments")
        .is_empty());
    // Among equals the oldest registration goes first.
    chain.advance(10).expect("advance");
    let d = hotkey(4, 3);
    chain.add_stake(NET, &c.ss58(), 10).expect("stake");
    chain.run_epoch(NET).expect("epoch");
    assert_eq!(chain.register(NET, &d.ss58()).expect("register"), Uid(0));
}

#[tokio::test]
async fn commitments_replace_the_previous_one_after_the_rate_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (m1, m2) = (hotkey(5, 0), hotkey(5, 1));
    chain.register(NET, &m1.ss58()).expect("register");
    chain.register(NET, &m2.ss58()).expect("register");
    chain.advance(1).expect("advance");
    chain.commit(&m1, NET, "first").await.expect("commit");
    chain.advance(1).expect("advance");
    chain
        .commit(&m2, NET, &"x".repeat(128))
        .await
        .expect("128 bytes fit");
    chain.advance(98).expect("advance");
    assert!(matches!(
        chain.commit(&m1, NET, "second").await,
        Err(ChainError::CommitmentRateLimited {
            last: Block(1),
            next_allowed: Block(101)
        })
    ));
    chain.advance(1).expect("advance");
    chain.commit(&m1, NET, "second").await.expect("commit");
    let records = chain.commitments(NET).await.expect("commitments");
    let view: Vec<(String, u64, &str)> = records
        .iter()
        .map(|r| (r.hotkey.clone(), r.block.0, r.data.as_str()))
        .collect();
    assert_eq!(
        view,
        [
            (m2.ss58(), 2, "x".repeat(128).as_str()),
            (m1.ss58(), 101, "second")
        ]
    );
}

#[test]
fn files_that_are_not_chains_are_refused_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).expect("write");
    let err = LocalChain::open(&garbage).expect_err("not a database");
    assert!(
        matches!(err, ChainError::Database(_)) && !err.is_transient(),
        "{err:?}"
    );

    // A chain written by a newer schema is not misread.
    let newer = dir.path().join("newer.db");
    drop(LocalChain::open(&newer).expect("create"));
    let conn = rusqlite::Connection::open(&newer).expect("sqlite");
    conn.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .expect("bump schema");
    drop(conn);
    let err = LocalChain::open(&newer).expect_err("newer schema");
    assert!(matches!(err, ChainError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("99"), "{err}");
}

#[tokio::test]
async fn weights_are_set_directly_and_a_commit_reads_as_revealed_only_when_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (validator, miner) = (hotkey(2, 0), hotkey(2, 1));
    chain.register(NET, &validator.ss58()).expect("register");
    chain.register(NET, &miner.ss58()).expect("register");
    chain
        .add_stake(NET, &validator.ss58(), 5_000)
        .expect("stake");
    chain.advance(5).expect("advance");
    let submitted = chain
        .set_weights(&validator, NET, &[(Uid(1), 65535)], 0)
        .await
        .expect("weights");
    assert_eq!(submitted, WeightsSubmission::Set);

    let commit = |values: Vec<u16>, block: u64| WeightsCommit {
        uids: vec![1],
        values,
        version_key: 0,
        reveal_round: 1,
        commit_reveal_version: 4,
        block: Block(block),
        blob_hash: [0; 32],
    };
    let status = |c: WeightsCommit| {
        let (chain, hotkey) = (&chain, validator.ss58());
        async move { chain.commit_status(&hotkey, NET, &c).await.expect("status") }
    };
    assert_eq!(status(commit(vec![65535], 5)).await, CommitStatus::Revealed);
    // Other weights, or weights set before the commit was made, are not its reveal.
    assert_eq!(status(commit(vec![7], 5)).await, CommitStatus::Dropped);
    assert_eq!(status(commit(vec![65535], 6)).await, CommitStatus::Dropped);
}

#[tokio::test]
async fn weights_of_every_setter_are_read_by_uid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (a, b, m) = (hotkey(3, 0), hotkey(3, 1), hotkey(3, 2));
    for k in [&a, &b, &m] {
        chain.register(NET, &k.ss58()).expect("register");
    }
    chain.add_stake(NET, &a.ss58(), 1).expect("stake");
    chain.add_stake(NET, &b.ss58(), 1).expect("stake");
    assert_eq!(chain.weights(NET).await.expect("weights"), vec![]);
    chain
        .set_weights_as(&b.ss58(), NET, &[Uid(1), Uid(2)], &[7, 9], 0)
        .expect("weights");
    chain
        .set_weights_as(&a.ss58(), NET, &[Uid(2)], &[1], 0)
        .expect("weights");
    let rows = chain.weights(NET).await.expect("weights");
    let values =
        |row: &(Uid, Vec<(Uid, u16)>)| row.1.iter().map(|(d, v)| (d.0, *v)).collect::<Vec<_>>();
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [Uid(0), Uid(1)]
    );
    assert_eq!(values(&rows[0]), [(2, 1)]);
    assert_eq!(values(&rows[1]), [(1, 7), (2, 9)]);
    assert!(matches!(
        chain.weights(NetUid(99)).await,
        Err(ChainError::SubnetNotFound { .. })
    ));
}

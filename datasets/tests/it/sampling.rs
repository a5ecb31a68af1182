//! Task samples drawn from small synthetic pools.

use gauntlet_competitions::{DatasetId, DatasetKwargs, IfEvalVersion};
use gauntlet_datasets::{
    task_samples, task_samples_from, DataCache, DatasetError, GoogleIfevalRow, McRow, Pools,
    ReasoningTrace, Samples, Seed, REASONING_SYSTEM_PROMPT,
};

fn kwargs(samples: u32) -> DatasetKwargs {
    DatasetKwargs {
        samples,
        if_eval_version: None,
    }
}

fn row(i: usize) -> McRow {
    // Every third row has a one-word correct answer (not usable for IF_EVAL).
    let answer = if i.is_multiple_of(3) {
        format!("single{i}")
    } else {
        format!("two words{i}")
    };
    McRow {
        question: format!("Question {i}?"),
        choices: vec![answer, "b".into(), "c".into(), "d".into()],
        answer: "A".into(),
    }
}

fn pools() -> Pools {
    Pools {
        mmlu: Some((0..90).map(row).collect()),
        words: Some(
            (0..60)
                .map(|i| format!("w{:02}{}", 59 - i, ["x", "a", "m"][i % 3]))
                .collect(),
        ),
        documents: Some((0..50).map(|i| format!("document {i}")).collect()),
        reasoning: Some(
            (0..30)
                .map(|i| ReasoningTrace {
                    problem: format!("p{i}"),
                    solution: format!("s{i}"),
                })
                .collect(),
        ),
        code: Some(
            (0..30)
                .map(|i| ReasoningTrace {
                    problem: format!("cp{i}"),
                    solution: format!("cs{i}"),
                })
                .collect(),
        ),
        google_ifeval: Some(
            (0..10)
                .map(|i| GoogleIfevalRow {
                    key: i,
                    prompt: format!("prompt {i}"),
                    instruction_id_list: vec!["punctuation:no_comma".into()],
                    kwargs: vec![Default::default()],
                })
                .collect(),
        ),
        ..Pools::default()
    }
}

fn draw(d: DatasetId, n: u32, seed: u64, label: &str) -> Samples {
    task_samples_from(&pools(), d, &kwargs(n), &Seed::from_u64(seed), label).unwrap()
}

#[test]
fn every_dataset_gives_exactly_the_requested_count() {
    for &d in DatasetId::ALL {
        let n = if d == DatasetId::GoogleIfeval { 10 } else { 7 };
        let data = draw(d, n, 1, d.name());
        assert_eq!(data.len(), n as usize, "{d}");
    }
}

#[test]
fn same_seed_same_samples_other_seed_other_samples() {
    for &d in DatasetId::ALL {
        let a = draw(d, 8, 11, "task");
        assert_eq!(a, draw(d, 8, 11, "task"), "{d}");
        assert_ne!(a, draw(d, 8, 12, "task"), "{d}");
    }
}

#[test]
fn labels_isolate_tasks() {
    let d = DatasetId::SyntheticMmlu;
    let seed = Seed::from_u64(5);
    let p = pools();
    let alone = task_samples_from(&p, d, &kwargs(9), &seed, "SYNTHETIC_MMLU").unwrap();
    // Drawing another task first changes nothing (no shared state) …
    let _ = task_samples_from(&p, DatasetId::IfEval, &kwargs(9), &seed, "IF_EVAL_V2").unwrap();
    assert_eq!(
        task_samples_from(&p, d, &kwargs(9), &seed, "SYNTHETIC_MMLU").unwrap(),
        alone
    );
    // … and another label draws differently from the same pool.
    assert_ne!(
        task_samples_from(&p, d, &kwargs(9), &seed, "OTHER").unwrap(),
        alone
    );
}

#[test]
fn word_sorting_follows_the_reference_format() {
    let Samples::Reference(samples) = draw(DatasetId::WordSorting, 200, 3, "WORD_SORTING") else {
        panic!("wrong kind");
    };
    let mut counts = std::collections::BTreeSet::new();
    for s in &samples {
        assert_eq!(s.messages.len(), 1, "no system turn");
        let user = &s.messages[0].content;
        let body = user
            .strip_prefix("Sort the following words alphabetically: ")
            .and_then(|b| b.strip_suffix(". "))
            .unwrap();
        let words: Vec<&str> = body.split(' ').collect();
        assert!((2..=20).contains(&words.len()), "{user}");
        counts.insert(words.len());
        let mut sorted = words.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), words.len(), "drawn without replacement");
        assert_eq!(s.reference, sorted.join(" "));
    }
    assert!(counts.contains(&2) && counts.contains(&20), "{counts:?}");
}

#[test]
fn if_eval_pairs_chain_rows_with_multi_word_answers() {
    let Samples::IfEval(pairs) = draw(DatasetId::IfEval, 20, 4, "IF_EVAL_V2") else {
        panic!("wrong kind");
    };
    // The row a prompt asks about (`Question {i}?` is unique in the pool).
    let row_of = |prompt: &str| -> usize {
        let found: Vec<usize> = (0..90)
            .filter(|i| prompt.contains(&format!("Question {i}?")))
            .collect();
        assert_eq!(found.len(), 1, "{prompt}");
        found[0]
    };
    for w in pairs.windows(2) {
        assert_eq!(
            row_of(&w[0].prompts[1]),
            row_of(&w[1].prompts[0]),
            "row i+1 of pair i is row i+1 of pair i+1"
        );
    }
    for p in &pairs {
        let (a, b) = (row_of(&p.prompts[0]), row_of(&p.prompts[1]));
        assert_ne!(a, b);
        for r in [a, b] {
            assert!(!r.is_multiple_of(3), "row {r} has a one-word answer");
        }
    }
    let kw = DatasetKwargs {
        samples: 0,
        if_eval_version: Some(IfEvalVersion::V2),
    };
    let none =
        task_samples_from(&pools(), DatasetId::IfEval, &kw, &Seed::from_u64(1), "x").unwrap();
    assert!(none.is_empty());
}

#[test]
fn reasoning_samples_carry_the_system_prompt() {
    for (d, prefix) in [
        (DatasetId::Synthetic1Sft, "p"),
        (DatasetId::CodeforcesCots, "cp"),
    ] {
        let Samples::Reference(s) = draw(d, 5, 6, d.name()) else {
            panic!("wrong kind")
        };
        for x in &s {
            assert_eq!(x.messages[0].role, "system");
            assert_eq!(x.messages[0].content, REASONING_SYSTEM_PROMPT);
            let user = &x.messages[1].content;
            assert!(user.starts_with(prefix));
            assert_eq!(x.reference[prefix.len()..], user[prefix.len()..]);
        }
    }
}

#[test]
fn too_few_rows_and_missing_pools_are_errors() {
    let p = pools();
    let seed = Seed::from_u64(1);
    let err = task_samples_from(&p, DatasetId::Fineweb, &kwargs(51), &seed, "F").unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::TooFewRows {
                available: 50,
                requested: 51,
                ..
            }
        ),
        "{err}"
    );
    // 90 rows, 60 with two-word answers: 60 pairs need 61 rows.
    let err = task_samples_from(&p, DatasetId::IfEval, &kwargs(60), &seed, "I").unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::TooFewRows {
                available: 60,
                requested: 61,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        task_samples_from(&p, DatasetId::IfEval, &kwargs(59), &seed, "I")
            .unwrap()
            .len(),
        59
    );

    let small = Pools {
        words: Some(vec!["abc".into(); 19]),
        ..Pools::default()
    };
    let err =
        task_samples_from(&small, DatasetId::WordSorting, &kwargs(1), &seed, "W").unwrap_err();
    assert!(matches!(err, DatasetError::TooFewRows { .. }), "{err}");

    let err = task_samples_from(
        &Pools::default(),
        DatasetId::SyntheticMmlu,
        &kwargs(1),
        &seed,
        "M",
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("run `gauntlet data fetch`"),
        "{err}"
    );

    let empty = tempfile::tempdir().unwrap();
    let err = task_samples(
        &DataCache::new(empty.path()),
        DatasetId::Fineweb,
        &kwargs(1),
        &seed,
        "F",
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::Missing {
                dataset: DatasetId::Fineweb,
                ..
            }
        ),
        "{err}"
    );
    let err = task_samples(
        &DataCache::new(empty.path()),
        DatasetId::GoogleIfeval,
        &kwargs(1),
        &seed,
        "G",
    )
    .unwrap_err();
    assert!(err.to_string().contains("google/IFEval"), "{err}");
}

#[test]
fn samples_serialise_for_inspection() {
    let json = serde_json::to_value(draw(DatasetId::WordSorting, 1, 1, "W")).unwrap();
    assert_eq!(json["kind"], "reference");
    let turns = json["samples"][0]["messages"].as_array().unwrap();
    assert_eq!(turns.len(), 1, "word sorting has no system turn: {turns:?}");
    assert_eq!(turns[0]["role"], "user");
    assert!(turns[0]["content"].as_str().unwrap().starts_with("Sort"));
    assert!(json["samples"][0]["reference"].is_string());
}

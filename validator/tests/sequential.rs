//! The sequential test (a competition's `early_stop`) in a validator round:
//! the benchmark runs first and in full, a clearly beaten model's remaining
//! tasks are not run, it cannot win, and two validators stop it at the same
//! task with the same scores and weights.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gauntlet_competitions::Registry;
use gauntlet_ledger::{LedgerRecord, SignedRecord};
use gauntlet_model::config::Architecture;
use gauntlet_model::testing::TinySpec;
use gauntlet_validator::audit::early_stop;
use gauntlet_validator::testing::{hotkey, World, COMPETITION, COMPETITION_TOML, SCHEDULE_TOML};

/// TINY with word sorting first (weight 0.9), multiple choice second (0.1)
/// and the sequential test at 99 %.
fn sequential_registry() -> Registry {
    let (head, tasks) = COMPETITION_TOML
        .split_once("[[task_sets.tasks]]")
        .expect("TINY has tasks");
    let (mc, ws) = tasks
        .split_once("[[task_sets.tasks]]")
        .expect("TINY has two tasks");
    let tiny = format!(
        "{}[[task_sets.tasks]]{}[[task_sets.tasks]]{}",
        head.replace("weight_norm = {", "early_stop = 0.99\nweight_norm = {"),
        ws.replace("weight = 0.5", "weight = 0.9"),
        mc.replace("weight = 0.5", "weight = 0.1"),
    );
    Registry::from_toml(&[("tiny.toml", &tiny)], ("schedule.toml", SCHEDULE_TOML)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clearly_beaten_model_is_stopped_at_the_same_task_by_every_validator() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let (v1, v2) = (hotkey(100), hotkey(101));
    world.add_validator(&v1);
    world.add_validator(&v2);
    let good = world.model("good", 1);
    // Sure of the wrong tokens: word-sorting losses far above the ceiling.
    let mut spec = TinySpec::new(Architecture::Llama);
    spec.seed = 2;
    spec.logit_scale = 60.0;
    let loud = world.model_with("loud", &spec);
    let uid_good = world.push(&hotkey(1), &good, "alice/tiny").await;
    world.chain.advance(1).unwrap();
    let uid_loud = world.push(&hotkey(2), &loud, "bob/tiny").await;
    world.chain.advance(20).unwrap();

    let registry = sequential_registry();
    let mut first = world.validator_with(v1, "v1.sqlite", registry.clone());
    let mut second = world.validator_with(v2, "v2.sqlite", registry);
    let r1 = first.run_round().await.unwrap();
    let r2 = second.run_round().await.unwrap();
    let models = &r1.competitions[0].1;
    let model = |uid: u16| models.iter().find(|m| m.uid == uid).unwrap();
    // The benchmark (earliest commit; no incentive yet) ran in full and wins.
    assert!(model(uid_good).score.is_finite(), "{models:?}");
    assert_eq!(model(uid_good).round_weight, 1.0);
    // The loud model is beaten after word sorting: multiple choice never ran.
    assert!(model(uid_loud).score.is_infinite(), "{models:?}");
    assert_eq!(model(uid_loud).verdict, "evaluated");
    let evals = first
        .state()
        .evaluations_of_competition(COMPETITION, 1)
        .unwrap();
    let tasks_of = |uid: u16| {
        evals
            .iter()
            .find(|e| e.uid == uid)
            .map(|e| e.tasks.clone())
            .unwrap()
    };
    let loud_tasks = tasks_of(uid_loud);
    assert_eq!(loud_tasks[0]["name"], "WORD_SORTING");
    assert_eq!(loud_tasks[0]["status"], "ok");
    assert_eq!(loud_tasks[1]["name"], "SYNTHETIC_MMLU");
    assert_eq!(loud_tasks[1]["status"], "stopped", "{loud_tasks}");
    let reason = loud_tasks[1]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("uid {uid_good}")), "{reason}");
    assert_eq!(loud_tasks[1]["samples"], 0);
    // Only word sorting's samples were scored.
    let loud_eval = evals.iter().find(|e| e.uid == uid_loud).unwrap();
    let good_eval = evals.iter().find(|e| e.uid == uid_good).unwrap();
    assert!(loud_eval.samples < good_eval.samples, "{evals:?}");
    assert!(tasks_of(uid_good)
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "ok"));
    // The second validator stops it at the same task, with the same scores
    // and weights.
    let scores = |r: &gauntlet_validator::RoundReport| -> Vec<(u16, String)> {
        r.competitions[0]
            .1
            .iter()
            .map(|m| (m.uid, format!("{:?}", m.score)))
            .collect()
    };
    assert_eq!(scores(&r1), scores(&r2));
    assert_eq!(
        r1.weights.as_ref().map(|w| w.weights.clone()),
        r2.weights.as_ref().map(|w| w.weights.clone())
    );
    let second_evals = second
        .state()
        .evaluations_of_competition(COMPETITION, 1)
        .unwrap();
    let second_loud = second_evals.iter().find(|e| e.uid == uid_loud).unwrap();
    assert_eq!(second_loud.tasks, loud_tasks);

    // The signed ledger says which benchmark each model was tested against
    // and which task was stopped; the audit replays both decisions from it.
    let records: Vec<LedgerRecord> = first
        .state()
        .ledger_lines()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(n, l)| SignedRecord::from_line(l, "state", n + 1).unwrap().record)
        .collect();
    let record = |uid: u16| records.iter().find(|r| r.model.uid == uid).unwrap();
    assert_eq!(record(uid_loud).benchmark, Some(uid_good));
    assert_eq!(record(uid_good).benchmark, None);
    assert_eq!(record(uid_loud).tasks[1].status.as_deref(), Some("stopped"));
    let registry = sequential_registry();
    let all: Vec<&LedgerRecord> = records.iter().collect();
    assert_eq!(early_stop::check(&all, &registry), Ok(1));

    // A validator claiming it ran the loud model to the end is caught, as is
    // one stopping the benchmark or naming no benchmark for a stop.
    let tampered = |edit: &dyn Fn(&mut Vec<LedgerRecord>)| {
        let mut copy = records.clone();
        edit(&mut copy);
        let refs: Vec<&LedgerRecord> = copy.iter().collect();
        early_stop::check(&refs, &registry).unwrap_err().to_string()
    };
    let loud_at = records
        .iter()
        .position(|r| r.model.uid == uid_loud)
        .unwrap();
    let good_at = records
        .iter()
        .position(|r| r.model.uid == uid_good)
        .unwrap();
    let ran_on = tampered(&|r| r[loud_at].tasks[1].status = Some("ok".into()));
    assert!(
        ran_on.contains("task SYNTHETIC_MMLU: field status: run, but the sequential test stops"),
        "{ran_on}"
    );
    assert!(
        ran_on.contains(&format!("model uid {uid_loud}")),
        "{ran_on}"
    );
    let stopped_bench = tampered(&|r| r[good_at].tasks[1].status = Some("stopped".into()));
    assert!(
        stopped_bench.contains("the benchmark itself was stopped"),
        "{stopped_bench}"
    );
    let unnamed = tampered(&|r| r[loud_at].benchmark = None);
    assert!(unnamed.contains("names no benchmark"), "{unnamed}");
    // Another model stopped without naming the benchmark the round's other
    // records name is caught too.
    let mut silent = records[loud_at].clone();
    silent.model.uid = 10;
    silent.benchmark = None;
    let sunk = tampered(&|r| r.push(silent.clone()));
    assert!(
        sunk.contains("model uid 10") && sunk.contains("does not name the round's benchmark"),
        "{sunk}"
    );
    // The benchmark stopped after its first task, where the test would not
    // stop it: another model tested against it must not be stopped either.
    let mut fake = records[good_at].clone();
    fake.model.uid = 9;
    fake.benchmark = Some(uid_good);
    fake.tasks[1].status = Some("stopped".into());
    let early = tampered(&|r| r.push(fake.clone()));
    assert!(
        early.contains("model uid 9") && early.contains("does not stop the model here"),
        "{early}"
    );
}

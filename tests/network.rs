//! The subnet commands end to end through the `gauntlet` binary on tiny
//! models: `eval --competition` is deterministic, `competitions` lists the
//! schedule, and a validator killed with SIGKILL mid-round resumes without
//! redoing finished evaluations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gauntlet_chain::Wallet;
use gauntlet_validator::testing::{self, World, NETUID};
use gauntlet_validator::State;

fn gauntlet(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .env("GAUNTLET_CACHE", cache)
        .output()
        .expect("run gauntlet")
}

/// A definitions directory running TINY with `word_samples` word-sorting samples.
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

/// `gauntlet validator run --once` on the world in `dir` (chain, hub and data
/// cache of [`World`]) with the hotkey `wallet/h` of `wallets` and the state
/// file `state`.
fn validator_command(
    dir: &Path,
    wallets: &Path,
    wallet: &str,
    state: &Path,
    defs: &str,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    c.args([
        "validator",
        "run",
        "--once",
        "--chain",
        "local",
        "--chain-db",
    ])
    .arg(dir.join("chain.sqlite"))
    .args([
        "--netuid",
        &NETUID.0.to_string(),
        "--hub",
        "local",
        "--hub-dir",
    ])
    .arg(dir.join("hub"))
    .args(["--wallet", wallet, "--hotkey", "h", "--wallet-dir"])
    .arg(wallets)
    .arg("--state")
    .arg(state)
    .args(["--defs", defs])
    .env("GAUNTLET_CACHE", dir.join("data"));
    c
}

/// Three miners with tiny models of these seeds, one block apart, then 20
/// blocks so that all are old enough to evaluate.
async fn push_three(world: &World, seeds: [u64; 3]) {
    for (i, seed) in seeds.iter().enumerate() {
        let m = world.model(&format!("m{i}"), *seed);
        world
            .push(&testing::hotkey(i as u8 + 1), &m, &format!("miner{i}/tiny"))
            .await;
        world.chain.advance(1).unwrap();
    }
    world.chain.advance(20).unwrap();
}

#[test]
fn competitions_lists_the_schedule_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let o = gauntlet(&["competitions", "--json"], tmp.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["competitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"INSTRUCT_8B"));
    assert_eq!(v["schedule"][1]["start_block"], 4_675_163);
}

#[test]
fn eval_competition_is_byte_identical_across_runs_and_seed_dependent() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let model = world.model("m", 3);
    let defs = defs(&tmp.path().join("defs"), 6);
    let cache = tmp.path().join("data");
    let run = |seed: &str| {
        let o = gauntlet(
            &[
                "eval",
                "--model",
                &model.to_string_lossy(),
                "--competition",
                "TINY",
                "--defs",
                &defs,
                "--seed",
                seed,
                "--json",
            ],
            &cache,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let a = run("7");
    let b = run("7");
    assert_eq!(a, b, "same seed, byte-identical JSON");
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["competition"], "TINY");
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    for t in tasks {
        assert!(t["raw_score"].as_f64().unwrap().is_finite(), "{t}");
        for field in ["name", "normalized", "weight", "samples"] {
            assert!(!t[field].is_null(), "{field} in {t}");
        }
    }
    assert_ne!(run("8"), a, "another seed draws other samples");
}

#[test]
fn eval_competition_drops_a_task_without_data_and_renormalises() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let model = world.model("m", 3);
    std::fs::remove_file(tmp.path().join("data/words/american-english")).unwrap();
    let defs = defs(&tmp.path().join("defs"), 4);
    let o = gauntlet(
        &[
            "eval",
            "--model",
            &model.to_string_lossy(),
            "--competition",
            "TINY",
            "--defs",
            &defs,
            "--seed",
            "1",
            "--json",
        ],
        &tmp.path().join("data"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ws = &v["tasks"][1];
    assert_eq!(ws["status"], "dropped");
    assert_eq!(v["tasks"][0]["effective_weight"], 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_killed_mid_round_resumes_without_redoing_work() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let wallets = tmp.path().join("wallets");
    let (validator, _) = Wallet::create(&wallets, "v", "h", false).unwrap();
    world.add_validator(&validator);
    push_three(&world, [11, 12, 13]).await;
    // Enough samples that one model takes a noticeable time.
    let defs = defs(&tmp.path().join("defs"), 400);
    let state = tmp.path().join("state.sqlite");
    let cmd = || validator_command(tmp.path(), &wallets, "v", &state, &defs);
    let mut child = cmd()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) as soon as one evaluation is saved.
    let start = Instant::now();
    let saved = loop {
        let n = State::open(&state)
            .ok()
            .and_then(|s| s.evaluation_count().ok())
            .unwrap_or(0);
        if n >= 1 {
            break n;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no evaluation saved in time"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the validator exited before saving an evaluation"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(saved < 3, "killed mid-round");
    let before = State::open(&state).unwrap().evaluation_count().unwrap();

    let o = cmd().output().unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("not redone"),
        "finished evaluations are read back: {log}"
    );
    let after = State::open(&state).unwrap();
    assert_eq!(after.evaluation_count().unwrap(), 3);
    assert!(before >= 1);
    let history = after.weights_history(1).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].outcome, "set");
}

/// The acceptance run of INSTRUCT_8B on SmolLM2 (capped samples so CI stays
/// fast): all four tasks finite, two runs byte-identical. Gated on the model
/// and the fetched datasets (`.ci/run` provides both).
#[test]
fn smollm2_instruct_8b_is_deterministic_with_all_tasks_finite() {
    let Some(model) = std::env::var_os("GAUNTLET_SMOLLM2_DIR") else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and SmolLM2 (GAUNTLET_SMOLLM2_DIR) is missing");
        }
        eprintln!("skipped: GAUNTLET_SMOLLM2_DIR not set");
        return;
    };
    let cache = gauntlet_datasets::DataCache::from_env();
    if !cache.path("mmlu/mmlu.jsonl").is_file() || !cache.path("words/american-english").is_file() {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and a dataset (gauntlet data fetch) is missing");
        }
        eprintln!("skipped: datasets not fetched (gauntlet data fetch)");
        return;
    }
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .args(["eval", "--model"])
            .arg(&model)
            .args([
                "--competition",
                "INSTRUCT_8B",
                "--seed",
                "7",
                "--samples",
                "6",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let a = run();
    assert_eq!(a, run(), "byte-identical JSON");
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4, "{v}");
    for t in tasks {
        assert_eq!(t["status"], "ok", "{t}");
        assert!(t["raw_score"].as_f64().unwrap().is_finite(), "{t}");
    }
}

/// `gauntlet miner eval` compares a model with the current best: given as a
/// directory, or found on the chain (the top earner after a validator round
/// and an epoch), downloaded from the hub and evaluated on the same samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miner_eval_compares_with_the_current_best() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let validator = testing::hotkey(100);
    world.add_validator(&validator);
    let a = world.model("a", 21);
    let b = world.model("b", 22);
    let uid_a = world.push(&testing::hotkey(1), &a, "alice/tiny").await;
    world.chain.advance(1).unwrap();
    let uid_b = world.push(&testing::hotkey(2), &b, "bob/tiny").await;
    world.chain.advance(20).unwrap();
    let report = world
        .validator(validator, "v.sqlite")
        .run_round()
        .await
        .unwrap();
    let weights = report.weights.unwrap();
    assert!(weights.set, "{}", weights.note);
    world.chain.run_epoch(NETUID).unwrap();
    let winner = weights.weights[0].0;
    assert!(winner == uid_a || winner == uid_b);

    let defs = defs(&tmp.path().join("defs"), 4);
    let cache = tmp.path().join("data");
    let mine = world.model("mine", 23);
    let chain_db = tmp.path().join("chain.sqlite");
    let hub_dir = tmp.path().join("hub");
    let common = |extra: &[&str]| -> serde_json::Value {
        let mut args: Vec<String> = [
            "miner",
            "eval",
            "--model",
            &mine.to_string_lossy(),
            "--competition",
            "TINY",
            "--defs",
            &defs,
            "--seed",
            "5",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = gauntlet(&refs, &cache);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };

    // Alone: no comparison.
    let alone = common(&[]);
    assert!(alone["best"].is_null());
    assert!(alone["score"].as_f64().unwrap().is_finite());

    // Against a directory committed at a given block.
    let v = common(&["--against", &a.to_string_lossy(), "--against-block", "0"]);
    let (mine_score, best_score) = (
        v["score"].as_f64().unwrap(),
        v["best"]["score"].as_f64().unwrap(),
    );
    assert_eq!(
        mine_score,
        alone["score"].as_f64().unwrap(),
        "same samples, same score"
    );
    let eps = v["epsilon"].as_f64().unwrap();
    assert!(
        (0.0..=0.005).contains(&eps),
        "TINY's epsilon decays from 0.005: {eps}"
    );
    let to_beat = v["score_to_beat"].as_f64().unwrap();
    assert!((to_beat - best_score * (1.0 - eps)).abs() < 1e-12);
    assert_eq!(v["beats_best"].as_bool().unwrap(), mine_score < to_beat);
    // Beside the verdict, how clear the difference is: the paired bootstrap
    // interval of the score difference on the same samples.
    let ci = &v["vs_best"];
    let (low, mean, high) = (
        ci["low"].as_f64().unwrap(),
        ci["mean_diff"].as_f64().unwrap(),
        ci["high"].as_f64().unwrap(),
    );
    assert!(low <= mean && mean <= high, "{ci}");
    assert!(ci["samples"].as_u64().unwrap() > 0);

    // Found on the chain: the round's winner, fetched from the hub.
    let v = common(&[
        "--best-from-chain",
        "--chain",
        "local",
        "--chain-db",
        &chain_db.to_string_lossy(),
        "--netuid",
        &NETUID.0.to_string(),
        "--hub",
        "local",
        "--hub-dir",
        &hub_dir.to_string_lossy(),
    ]);
    let source = v["best"]["source"].as_str().unwrap();
    assert!(source.starts_with(&format!("uid {winner}:")), "{source}");
    assert!(v["beats_best"].is_boolean());
}

/// `eval --chain-seed` draws the samples a validator draws at that block:
/// the seed is the sha256 of the chain's hash of the sync block.
#[test]
fn eval_with_chain_seed_uses_the_sync_block_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    world.chain.advance(500).unwrap();
    let model = world.model("m", 3);
    let defs = defs(&tmp.path().join("defs"), 3);
    let chain_db = tmp.path().join("chain.sqlite");
    let o = gauntlet(
        &[
            "eval",
            "--model",
            &model.to_string_lossy(),
            "--competition",
            "TINY",
            "--defs",
            &defs,
            "--chain-seed",
            "--chain",
            "local",
            "--chain-db",
            &chain_db.to_string_lossy(),
            "--json",
        ],
        &tmp.path().join("data"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let block = world.chain.block().unwrap();
    let sync = gauntlet_constants::sync_block(block);
    let want = gauntlet_datasets::Seed::from_block_hash(&world.chain.hash_of(sync).unwrap());
    assert_eq!(v["seed"], want.hex());
    assert_eq!(v["seed_source"]["chain_hash"], sync.0);
    assert_eq!(v["block"], block.0);
}

/// `gauntlet data samples` prints what every task is given: deterministic for
/// a seed, different for another, capped by `--samples`.
#[test]
fn data_samples_shows_each_task_input_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let _world = World::new(tmp.path());
    let defs = defs(&tmp.path().join("defs"), 5);
    let cache = tmp.path().join("data");
    let run = |seed: &str| {
        let o = gauntlet(
            &[
                "data",
                "samples",
                "--competition",
                "TINY",
                "--defs",
                &defs,
                "--seed",
                seed,
                "--samples",
                "2",
            ],
            &cache,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let a = run("1");
    assert_eq!(a, run("1"));
    assert_ne!(a, run("2"));
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["name"], "SYNTHETIC_MMLU");
    assert_eq!(tasks[0]["input"]["kind"], "multiple_choice");
    assert_eq!(tasks[1]["input"]["kind"], "reference");
    for t in tasks {
        assert_eq!(t["status"], "ok", "{t}");
        assert_eq!(
            t["input"]["samples"].as_array().unwrap().len(),
            2,
            "capped: {t}"
        );
    }
    let ws = &tasks[1]["input"]["samples"][0];
    let user = ws["messages"][0]["content"].as_str().unwrap();
    let words: Vec<&str> = user
        .trim_start_matches("Sort the following words alphabetically: ")
        .trim_end_matches(". ")
        .split(' ')
        .collect();
    let mut sorted = words.clone();
    sorted.sort();
    assert_eq!(
        ws["reference"],
        sorted.join(" "),
        "the reference is the words sorted"
    );
}

/// Two validators started at once on the same local chain and block, each
/// with its own state file: both finish, both set weights, and the weights
/// are identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_validators_in_parallel_set_identical_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let wallets = tmp.path().join("wallets");
    for name in ["v1", "v2"] {
        let (key, _) = Wallet::create(&wallets, name, "h", false).unwrap();
        world.add_validator(&key);
    }
    push_three(&world, [31, 32, 33]).await;
    let defs = defs(&tmp.path().join("defs"), 6);
    let spawn = |name: &str| {
        validator_command(
            tmp.path(),
            &wallets,
            name,
            &tmp.path().join(format!("{name}.sqlite")),
            &defs,
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn("v1"), spawn("v2"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let history = |name: &str| {
        State::open(&tmp.path().join(format!("{name}.sqlite")))
            .unwrap()
            .weights_history(1)
            .unwrap()
    };
    let (h1, h2) = (history("v1"), history("v2"));
    assert_eq!(h1.len(), 1);
    assert_eq!(h1[0].outcome, "set");
    assert_eq!(h2[0].outcome, "set");
    assert_eq!(
        h1[0].weights, h2[0].weights,
        "same chain, same block: identical weights"
    );
    let total: f64 = h1[0].weights.iter().map(|(_, w, _)| w).sum();
    assert!((total - 1.0).abs() < 1e-9);

    // An observer reads the leaderboard and the weight history.
    let state = tmp.path().join("v1.sqlite");
    let status_json = |state: &Path| -> serde_json::Value {
        let o = gauntlet(
            &[
                "validator",
                "status",
                "--state",
                &state.to_string_lossy(),
                "--json",
            ],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = status_json(&state);
    let board = &v["leaderboards"][0];
    assert_eq!(board["competition_id"], testing::COMPETITION.0);
    let rows = board["models"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let winners: Vec<&serde_json::Value> =
        rows.iter().filter(|m| m["round_weight"] == 1.0).collect();
    assert_eq!(winners.len(), 1, "winner takes all: {rows:?}");
    assert_eq!(winners[0]["win_rate"], 1.0);
    // Beside each loser's win rate: its paired bootstrap interval against
    // the winner (score difference, same samples), the same on both
    // validators; the winner has none.
    assert!(winners[0].get("vs_winner").is_none(), "{rows:?}");
    let losers: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|m| m["round_weight"] == 0.0 && m["score"].is_f64())
        .collect();
    assert!(!losers.is_empty(), "{rows:?}");
    for m in &losers {
        let ci = &m["vs_winner"];
        let (low, mean, high) = (
            ci["low"].as_f64().unwrap(),
            ci["mean_diff"].as_f64().unwrap(),
            ci["high"].as_f64().unwrap(),
        );
        // (A loser may score below the winner: within the older
        // commit's epsilon advantage, the winner still wins.)
        assert!(low <= mean && mean <= high, "{ci}");
        assert_eq!(ci["level"], 0.95);
    }
    let other = status_json(&tmp.path().join("v2.sqlite"));
    let intervals = |rows: &serde_json::Value| -> Vec<(u64, serde_json::Value)> {
        let mut v: Vec<(u64, serde_json::Value)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["uid"].as_u64().unwrap(), m["vs_winner"].clone()))
            .collect();
        v.sort_by_key(|(u, _)| *u);
        v
    };
    assert_eq!(
        intervals(&board["models"]),
        intervals(&other["leaderboards"][0]["models"])
    );
    let ema_total: f64 = board["ema"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!(
        (ema_total - 1.0).abs() < 1e-9,
        "the first round starts the EMA"
    );
    assert_eq!(v["weights"][0]["outcome"], "set");
    let text = gauntlet(
        &["validator", "status", "--state", &state.to_string_lossy()],
        tmp.path(),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("win rate") && text.contains("vs winner"),
        "{text}"
    );
    assert!(text.contains("winner"), "{text}");
}

/// A competition with a fixed tokenizer scores every model through it: it is
/// read from `<cache>/tokenizers/<repo>/`, a broken one is an error naming its
/// file, and a missing one (with no Hub to fetch it from) says where to put it.
#[test]
fn a_fixed_tokenizer_is_used_and_its_absence_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let model = world.model("m", 3);
    let dir = tmp.path().join("defs");
    std::fs::create_dir_all(&dir).unwrap();
    let fixed = testing::COMPETITION_TOML
        .replace(
            "tokenizer = \"own\"",
            "tokenizer = { fixed = \"test/tok\" }",
        )
        .replace(
            "dataset_kwargs = { samples = 4 }",
            "dataset_kwargs = { samples = 3 }",
        );
    std::fs::write(dir.join("tiny.toml"), fixed).unwrap();
    std::fs::write(dir.join("schedule.toml"), testing::SCHEDULE_TOML).unwrap();
    let cache = tmp.path().join("data");
    let eval = || {
        Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .args([
                "eval",
                "--model",
                &model.to_string_lossy(),
                "--competition",
                "TINY",
                "--defs",
            ])
            .arg(&dir)
            .args(["--seed", "3", "--json"])
            .env("GAUNTLET_CACHE", &cache)
            .env("HF_ENDPOINT", "http://127.0.0.1:1")
            .output()
            .unwrap()
    };
    let o = eval();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("fixed tokenizer test/tok") && err.contains("tokenizers/test/tok"),
        "{err}"
    );

    let tok = cache.join("tokenizers/test/tok");
    std::fs::create_dir_all(&tok).unwrap();
    std::fs::write(tok.join("tokenizer.json"), "{ not json").unwrap();
    let o = eval();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tokenizers/test/tok/tokenizer.json"),
        "the fixed one is read: {err}"
    );

    for f in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(model.join(f), tok.join(f)).unwrap();
    }
    // The model's own tokenizer is ignored: breaking it changes nothing.
    std::fs::write(model.join("tokenizer.json"), "{ broken").unwrap();
    let o = eval();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for t in v["tasks"].as_array().unwrap() {
        assert_eq!(t["status"], "ok", "{t}");
    }
}

//! The validator's sandbox through the `gauntlet` binary: a validator killed
//! (SIGKILL) twice while the same model is in progress judges it `crashed`
//! on its third start, and its evaluating child dies with it each time; a
//! full disk (a small tmpfs mounted over the model cache) makes the
//! competition wait and records no miner verdict.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gauntlet_chain::Wallet;
use gauntlet_validator::testing::{self, World, NETUID};
use gauntlet_validator::State;

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

/// The arguments of `gauntlet validator run --once` on the world in `dir`
/// with the hotkey `v/h` of `wallets` and the state file `state`.
fn run_args(dir: &Path, wallets: &Path, state: &Path, defs: &str) -> Vec<String> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    [
        "validator",
        "run",
        "--once",
        "--chain",
        "local",
        "--chain-db",
        &s(&dir.join("chain.sqlite")),
        "--netuid",
        &NETUID.0.to_string(),
        "--hub",
        "local",
        "--hub-dir",
        &s(&dir.join("hub")),
        "--wallet",
        "v",
        "--hotkey",
        "h",
        "--wallet-dir",
        &s(wallets),
        "--state",
        &s(state),
        "--defs",
        defs,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// A world with a registered validator `v/h` and one miner's tiny model,
/// old enough to evaluate; returns the wallets' directory.
async fn world_with_one_model(dir: &Path) -> (World, std::path::PathBuf) {
    let world = World::new(dir);
    let wallets = dir.join("wallets");
    let (validator, _) = Wallet::create(&wallets, "v", "h", false).unwrap();
    world.add_validator(&validator);
    let m = world.model("m", 5);
    world.push(&testing::hotkey(1), &m, "miner/tiny").await;
    world.chain.advance(20).unwrap();
    (world, wallets)
}

/// Whether a sandboxed evaluation started by validator `pid` still runs
/// (its job file lives in `gauntlet-sandbox-<pid>-<n>`).
fn sandbox_alive(pid: u32) -> bool {
    let needle = format!("gauntlet-sandbox-{pid}-");
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(&needle))
            .unwrap_or(false)
    })
}

/// Waits until the state at `state` holds a mark with `starts` starts while
/// `child` runs, then kills `child` with SIGKILL and checks that its
/// evaluating process died with it.
fn kill_when_marked(mut child: Child, state: &Path, starts: u32) {
    let start = Instant::now();
    loop {
        let marks = State::open(state)
            .ok()
            .and_then(|s| s.markers().ok())
            .unwrap_or_default();
        if marks.iter().any(|m| m.starts == starts) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no evaluation in progress in time"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the validator exited before the evaluation started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while sandbox_alive(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the evaluating child outlived its validator"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_validator_died_on_twice_is_judged_crashed_on_the_third_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (world, wallets) = world_with_one_model(tmp.path()).await;
    // Enough samples that the evaluation lasts well past the kill.
    let defs = defs(&tmp.path().join("defs"), 2000);
    let state = tmp.path().join("state.sqlite");
    let args = run_args(&world.dir, &wallets, &state, &defs);
    let cmd = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
        c.args(&args).env("GAUNTLET_CACHE", world.dir.join("data"));
        c
    };
    for starts in 1..=2 {
        let child = cmd()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill_when_marked(child, &state, starts);
        assert_eq!(State::open(&state).unwrap().evaluation_count().unwrap(), 0);
    }

    let start = Instant::now();
    let o = cmd().output().unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    // Skipped, not evaluated again: far quicker than an evaluation.
    assert!(start.elapsed() < Duration::from_secs(60), "{log}");
    let s = State::open(&state).unwrap();
    let models = s.models().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0].verdict, "crashed", "{models:?}");
    let reason = models[0].reason.clone().unwrap_or_default();
    assert!(reason.contains("stopped 2 times"), "{reason}");
    assert!(s.markers().unwrap().is_empty(), "the mark is cleared");
    assert_eq!(s.evaluation_count().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_records_no_miner_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let (world, wallets) = world_with_one_model(tmp.path()).await;
    let defs = defs(&tmp.path().join("defs"), 4);
    let state = tmp.path().join("state.sqlite");
    // The local hub's download cache (the push filled it: the tmpfs hides
    // that copy, so the validator must copy the revision again).
    let cache = world.dir.join("hub/.downloads");
    std::fs::create_dir_all(&cache).unwrap();
    // A 16 KiB tmpfs over the model cache, in a mount namespace of the run's
    // own (`unshare`: no root needed where user namespaces are allowed):
    // the tiny model (about 100 KB) cannot fit.
    let script = format!(
        "mount -t tmpfs -o size=16k tmpfs '{}' && exec \"$0\" \"$@\"",
        cache.display()
    );
    let o = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script, env!("CARGO_BIN_EXE_gauntlet")])
        .args(run_args(&world.dir, &wallets, &state, &defs))
        .args(["--cache-reserve-mib", "0", "--json"])
        .env("GAUNTLET_CACHE", world.dir.join("data"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{log}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let waiting = report["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{report}");
    assert_eq!(waiting[0]["kind"], "disk", "{report}");

    let s = State::open(&state).unwrap();
    let rejected: Vec<_> = s
        .models()
        .unwrap()
        .into_iter()
        .filter(|m| m.verdict != "evaluated")
        .collect();
    assert!(rejected.is_empty(), "a miner was blamed: {rejected:?}");
    assert_eq!(s.evaluation_count().unwrap(), 0);
    let waits = s.waits().unwrap();
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].kind, "disk");

    // The disk freed (no tmpfs this time), the same round scores the model.
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(run_args(&world.dir, &wallets, &state, &defs))
        .env("GAUNTLET_CACHE", world.dir.join("data"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = State::open(&state).unwrap();
    assert_eq!(s.evaluation_count().unwrap(), 1);
    assert_eq!(s.models().unwrap()[0].verdict, "evaluated");
}

//! The hostile corpus on a local network: every kind of
//! `gauntlet_validator::testing::hostile` staged with `gauntlet miner push
//! --skip-check` beside two honest models, then one `gauntlet validator run
//! --once` with its sandbox. The round must finish in bounded time and
//! memory, give every hostile model its named verdict, score the honest ones
//! and give them all the weight. The figures it prints (wall time, the peak
//! resident memory of the largest process) are the ones docs/RELIABILITY.md
//! states.
//!
//! Alone in its file: the peak memory is read from `getrusage` of this
//! process's children, which no other test may share.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gauntlet_chain::{Chain, Wallet};
use gauntlet_validator::testing::{self, hostile, hostile::Kind, World, NETUID};
use gauntlet_validator::State;

/// The sandbox's address-space limit in the run, MiB.
const MEMORY_LIMIT_MIB: u64 = 2048;
/// The bound on each round's wall time.
const ROUND_BOUND: Duration = Duration::from_secs(600);

/// A definitions directory running TINY.
fn defs(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tiny.toml"), testing::COMPETITION_TOML).unwrap();
    std::fs::write(dir.join("schedule.toml"), testing::SCHEDULE_TOML).unwrap();
    dir.to_string_lossy().into_owned()
}

/// `gauntlet ARGS` with the world's chain, hub and data cache.
fn gauntlet(world: &World, wallets: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    c.args(args)
        .args(["--chain", "local", "--chain-db"])
        .arg(world.dir.join("chain.sqlite"))
        .args([
            "--netuid",
            &NETUID.0.to_string(),
            "--hub",
            "local",
            "--hub-dir",
        ])
        .arg(world.dir.join("hub"))
        .arg("--wallet-dir")
        .arg(wallets)
        .env("GAUNTLET_CACHE", world.dir.join("data"));
    c
}

/// Registers a miner wallet `name` and pushes `model` with `--skip-check`;
/// returns its uid.
fn push(world: &World, wallets: &Path, defs: &str, name: &str, model: &Path) -> u16 {
    let (hotkey, _) = Wallet::create(wallets, name, "h", false).unwrap();
    let uid = world.chain.register(NETUID, &hotkey.ss58()).unwrap();
    let out = gauntlet(
        world,
        wallets,
        &["miner", "push", "--skip-check", "--competition", "TINY"],
    )
    .args(["--defs", defs, "--wallet", name, "--hotkey", "h", "--model"])
    .arg(model)
    .args(["--repo", &format!("{name}/model")])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "push of {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    world.chain.advance(1).unwrap();
    uid.0
}

/// The peak resident memory (`VmHWM`) of process `pid`, KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `(max RSS in KiB, user + system CPU seconds)` of this process's waited-for
/// children so far.
fn children_usage() -> (i64, f64) {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert_eq!(rc, 0);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (u.ru_maxrss, secs(u.ru_utime) + secs(u.ru_stime))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_corpus_gets_named_verdicts_and_the_honest_models_all_the_weight() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let wallets = tmp.path().join("wallets");
    let defs = defs(&tmp.path().join("defs"));
    let (validator, _) = Wallet::create(&wallets, "v", "h", false).unwrap();
    world.add_validator(&validator);

    // The honest models first: a round queues at most 16 new models (the
    // reference's rule), so the last hostile kinds wait for the next round.
    let honest: Vec<u16> = [(1u64, "honest-a"), (2, "honest-b")]
        .iter()
        .map(|(seed, name)| {
            let dir = world.model(name, *seed);
            push(&world, &wallets, &defs, name, &dir)
        })
        .collect();
    let mut hostile_uids = Vec::new();
    for kind in Kind::ALL {
        let dir = tmp.path().join("hostile").join(kind.name());
        let outside = tmp.path().join("outside").join(kind.name());
        hostile::write(kind, &dir, &outside, hostile::Sizes::THROUGH_A_HUB).unwrap();
        hostile_uids.push((kind, push(&world, &wallets, &defs, kind.name(), &dir)));
    }
    world.chain.advance(20).unwrap();

    let state = tmp.path().join("validator.sqlite");
    let before = children_usage();
    let mut rounds = Vec::new();
    for round in 0..2 {
        if round > 0 {
            // The next sync block: a new round for the models left over.
            world
                .chain
                .advance(gauntlet_constants::SYNC_BLOCK_CADENCE)
                .unwrap();
        }
        let mut child = gauntlet(&world, &wallets, &["validator", "run", "--once"])
            .args(["--defs", &defs, "--wallet", "v", "--hotkey", "h", "--state"])
            .arg(&state)
            .args(["--memory-limit-mib", &MEMORY_LIMIT_MIB.to_string()])
            .args(["--eval-timeout", "120"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        let start = Instant::now();
        let mut own_peak_kib = 0u64;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            own_peak_kib = own_peak_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
            assert!(start.elapsed() < ROUND_BOUND, "the round overran its bound");
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = start.elapsed();
        let log = log.join().unwrap();
        assert!(status.success(), "round {round} failed: {log}");
        rounds.push((took, own_peak_kib));
    }
    let after = children_usage();
    for (n, (took, own)) in rounds.iter().enumerate() {
        eprintln!(
            "corpus round {n}: wall {:.1} s, validator process peak RSS {} MiB",
            took.as_secs_f64(),
            own / 1024
        );
    }
    eprintln!(
        "corpus: {} hostile + {} honest models in two rounds, CPU {:.1} s, \
         peak RSS of the largest process (validator or child) {} MiB \
         (children's address-space limit {MEMORY_LIMIT_MIB} MiB)",
        Kind::ALL.len(),
        honest.len(),
        after.1 - before.1,
        after.0 / 1024,
    );
    // Every hostile allocation was refused or confined to a child under
    // its limit; the validator itself stayed small.
    assert!(
        (after.0 as u64) / 1024 < MEMORY_LIMIT_MIB,
        "peak RSS {} KiB",
        after.0
    );
    for (_, own) in &rounds {
        assert!(*own < 512 * 1024, "the validator's own peak: {own} KiB");
    }

    let models = State::open(&state).unwrap().models().unwrap();
    for (kind, uid) in &hostile_uids {
        let row = models
            .iter()
            .find(|m| m.uid.0 == *uid)
            .unwrap_or_else(|| panic!("{}: no verdict", kind.name()));
        let (label, fragment) = kind.expected();
        let reason = row.reason.clone().unwrap_or_default();
        assert_eq!(row.verdict, label, "{}: {reason}", kind.name());
        assert!(
            reason.contains(fragment),
            "{}: {fragment:?} not in {reason:?}",
            kind.name()
        );
    }
    for uid in &honest {
        let row = models.iter().find(|m| m.uid.0 == *uid).unwrap();
        assert_eq!(row.verdict, "evaluated", "{:?}", row.reason);
    }

    let setter = world
        .chain
        .metagraph(NETUID)
        .await
        .unwrap()
        .by_hotkey(&validator.ss58())
        .unwrap()
        .uid;
    let weights = world
        .chain
        .read_weights(NETUID)
        .unwrap()
        .into_iter()
        .filter(|(uid, _)| *uid == setter)
        .collect::<Vec<_>>();
    let (_, set) = weights.first().expect("the validator set weights");
    let total: u64 = set.iter().map(|(_, w)| u64::from(*w)).sum();
    let on_honest: u64 = set
        .iter()
        .filter(|(uid, _)| honest.contains(&uid.0))
        .map(|(_, w)| u64::from(*w))
        .sum();
    assert!(total > 0, "{set:?}");
    assert_eq!(on_honest, total, "weight on a hostile model: {set:?}");
}

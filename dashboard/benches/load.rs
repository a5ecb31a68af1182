//! The dashboard under load: 200 concurrent page loads against a validator
//! state of 1,000 rounds and 256 models, on whatever cores the machine has.
//! Prints a table of latency percentiles per page and for the mix.
//!
//! `cargo bench -p gauntlet-dashboard --bench load` (the state is built once
//! on tmpfs where there is one and kept under `target/` for later runs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gauntlet_chain::{Genesis, Hotkey, LocalChain, SubnetParams};
use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId, NetUid, Uid};
use gauntlet_dashboard::{HubLinks, Sources};
use gauntlet_validator::state::ModelKey;
use gauntlet_validator::suite::TaskDetail;
use gauntlet_validator::{State, Verdict};
use serde_json::json;

const MODELS: u16 = 256;
const ROUNDS: u64 = 1_000;
/// Models evaluated per round (the kept ones plus newcomers, rotating).
const PER_ROUND: u16 = 16;
const SAMPLES: usize = 40;
const CONCURRENT: usize = 200;
const NETUID: NetUid = NetUid(1);
const COMPETITION: CompetitionId = CompetitionId(3); // INSTRUCT_8B
const START: u64 = 4_700_000;
const CADENCE: u64 = 360;
const TASKS: [&str; 4] = ["SYNTHETIC_MMLU", "WORD_SORTING", "FINEWEB", "IF_EVAL_V2"];

fn key(uid: u16) -> ModelKey {
    let mut seed = [7u8; 32];
    seed[..2].copy_from_slice(&uid.to_le_bytes());
    ModelKey {
        hotkey: Hotkey::from_seed(seed).unwrap().ss58(),
        commitment: format!(
            "miner{uid}:model-{uid}:{:040x}:{}=:3",
            u128::from(uid) * 7919,
            "A".repeat(43)
        ),
    }
}

/// Builds the state and chain in `dir` (fast on tmpfs: no fsync cost).
fn build(dir: &Path) {
    let chain =
        LocalChain::open_with(&dir.join("chain.sqlite"), &Genesis::manual(Block(START))).unwrap();
    chain
        .create_subnet(NETUID, &SubnetParams::default())
        .unwrap();
    let validator = Hotkey::from_seed([250; 32]).unwrap().ss58();
    chain.register(NETUID, &validator).unwrap();
    chain
        .add_stake(NETUID, &validator, 1_000_000_000_000)
        .unwrap();
    for uid in 1..MODELS {
        chain.register(NETUID, &key(uid).hotkey).unwrap();
    }
    let mut state = State::open(&dir.join("validator.sqlite")).unwrap();
    for uid in 1..MODELS {
        let k = key(uid);
        state
            .record_model(
                &k,
                Uid(uid),
                Some(COMPETITION),
                Block(START),
                Some("aGFzaA=="),
                &Verdict::Evaluated,
                Block(START),
            )
            .unwrap();
    }
    for round in 0..ROUNDS {
        let sync = Block(START + round * CADENCE);
        chain.set_block(sync).unwrap();
        state
            .record_metagraph(&chain.read_metagraph(NETUID).unwrap())
            .unwrap();
        let mut models = Vec::new();
        for i in 0..PER_ROUND {
            let uid = 1 + ((round as u16).wrapping_mul(3).wrapping_add(i * 13)) % (MODELS - 1);
            let k = key(uid);
            let score = 0.5 + f64::from(uid % 50) / 100.0 + (round % 7) as f64 / 1000.0;
            let tasks: Vec<_> = TASKS
                .iter()
                .map(|t| json!({"name": t, "raw_score": score, "normalized": score, "weight": 0.25, "effective_weight": 0.25, "samples": SAMPLES, "status": "ran"}))
                .collect();
            let details: Vec<TaskDetail> = TASKS
                .iter()
                .map(|t| TaskDetail {
                    name: (*t).to_string(),
                    per_sample: (0..SAMPLES / 4).map(|s| Some(s as f64 / 10.0)).collect(),
                    outputs: Vec::new(),
                })
                .collect();
            let eval = gauntlet_validator::state::Evaluation {
                key: k.clone(),
                uid: Uid(uid),
                commit_block: Block(START),
                score,
                verdict: Verdict::Evaluated,
                tasks: json!(tasks),
            };
            state
                .save_evaluation(sync, COMPETITION, &eval, &details)
                .unwrap();
            models.push(json!({"uid": uid, "hotkey": k.hotkey, "model": format!("miner{uid}/model-{uid}@00000000"), "score": score, "win_rate": 1.0 / f64::from(i + 1), "round_weight": if i == 0 { 1.0 } else { 0.0 }, "verdict": "evaluated", "reason": null, "copy_of": null}));
        }
        let winner = models[0]["uid"].as_u64().unwrap() as u16;
        let ema = [(key(winner).hotkey, (Uid(winner), 1.0))]
            .into_iter()
            .collect();
        state
            .finish_round(
                sync,
                COMPETITION,
                sync,
                &serde_json::from_value::<gauntlet_validator::RoundSummary>(
                    json!({"models": models, "keep": [], "winner_score": null}),
                )
                .unwrap(),
                &ema,
            )
            .unwrap();
        state
            .record_weights(Block(sync.0 + 10), &[(Uid(winner), 1.0, u16::MAX)], "set")
            .unwrap();
        if round % 20 == 0 {
            state.snapshot_leaderboards(sync, 7_200).unwrap();
        }
    }
}

fn fixture() -> PathBuf {
    let keep = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench-dashboard")
        .join(format!("{MODELS}x{ROUNDS}x{PER_ROUND}x{SAMPLES}"));
    if keep.join("done").is_file() {
        // A state kept by an older build: bring it to this build's schema.
        checkpoint(&keep.join("validator.sqlite"));
        return keep;
    }
    let scratch_root = Path::new("/dev/shm");
    let scratch = tempfile::tempdir_in(if scratch_root.is_dir() {
        scratch_root
    } else {
        Path::new("/tmp")
    })
    .unwrap();
    let t = Instant::now();
    eprintln!("building a state of {ROUNDS} rounds and {MODELS} models …");
    build(scratch.path());
    std::fs::create_dir_all(&keep).unwrap();
    for f in ["chain.sqlite", "validator.sqlite"] {
        // Fold the WAL into the file before copying it.
        checkpoint(&scratch.path().join(f));
        std::fs::copy(scratch.path().join(f), keep.join(f)).unwrap();
    }
    std::fs::write(keep.join("done"), b"").unwrap();
    eprintln!("built in {:.0} s", t.elapsed().as_secs_f64());
    keep
}

/// Opens and closes each file through the state/chain APIs so SQLite folds its
/// WAL in (the last connection to close checkpoints).
fn checkpoint(path: &Path) {
    if path.ends_with("validator.sqlite") {
        drop(State::open(path).unwrap());
    } else {
        drop(LocalChain::open(path).unwrap());
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let dir = fixture();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sources = Sources {
            state: dir.join("validator.sqlite"),
            chain: Arc::new(LocalChain::open(&dir.join("chain.sqlite")).unwrap()),
            netuid: NETUID,
            registry: Registry::builtin().unwrap(),
            pools: None,
            hub: HubLinks::None,
            ledger: None,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(gauntlet_dashboard::serve(listener, sources));
        let k = key(5);
        let model = format!(
            "/model?hotkey={}&commitment={}",
            k.hotkey,
            k.commitment.replace(':', "%3A").replace('=', "%3D")
        );
        let pages: Vec<(&str, String)> = vec![
            ("overview", "/".into()),
            ("leaderboard", "/competitions/3".into()),
            ("plot: scores", "/plots/3/scores.svg".into()),
            ("plot: incentive", "/plots/3/incentive.svg".into()),
            ("model", model),
            ("validators", "/validators".into()),
            ("api leaderboard", "/api/competitions/3/leaderboard".into()),
        ];
        let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENT).build().unwrap();
        // Warm up (and check every page answers).
        for (name, path) in &pages {
            let r = client.get(format!("{base}{path}")).send().await.unwrap();
            assert!(r.status().is_success(), "{name}: {}", r.status());
            r.bytes().await.unwrap();
        }
        println!("dashboard load: {CONCURRENT} concurrent page loads, state of {ROUNDS} rounds x {MODELS} models ({PER_ROUND} evaluated per round, {SAMPLES} samples each), {} cores", std::thread::available_parallelism().map_or(1, |n| n.get()));
        println!("{:<18} {:>8} {:>8} {:>8} {:>8} {:>10}", "page", "p50 ms", "p90 ms", "p99 ms", "max ms", "wall ms");
        let mut all = Vec::new();
        let burst = |name: String, paths: Vec<String>| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let t = Instant::now();
                let tasks: Vec<_> = paths
                    .into_iter()
                    .map(|p| {
                        let client = client.clone();
                        let url = format!("{base}{p}");
                        tokio::spawn(async move {
                            let t = Instant::now();
                            let r = client.get(url).send().await.unwrap();
                            assert!(r.status().is_success());
                            r.bytes().await.unwrap();
                            t.elapsed()
                        })
                    })
                    .collect();
                let mut times = Vec::new();
                for task in tasks {
                    times.push(task.await.unwrap());
                }
                let wall = t.elapsed();
                times.sort();
                println!(
                    "{:<18} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>10.1}",
                    name,
                    percentile(&times, 0.5).as_secs_f64() * 1e3,
                    percentile(&times, 0.9).as_secs_f64() * 1e3,
                    percentile(&times, 0.99).as_secs_f64() * 1e3,
                    times.last().unwrap().as_secs_f64() * 1e3,
                    wall.as_secs_f64() * 1e3
                );
                times
            }
        };
        for (name, path) in &pages {
            burst((*name).to_string(), vec![path.clone(); CONCURRENT]).await;
        }
        for _ in 0..3 {
            let mix: Vec<String> = (0..CONCURRENT).map(|i| pages[i % pages.len()].1.clone()).collect();
            all.extend(burst("mix".into(), mix).await);
        }
        all.sort();
        println!("mix, 3 bursts: p99 {:.1} ms", percentile(&all, 0.99).as_secs_f64() * 1e3);
    });
}

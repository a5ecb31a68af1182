//! `gauntlet validator run|status`, and the hidden `evaluate-one` that runs
//! one model in the sandbox.

pub(crate) mod sandbox;
mod status;

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
    /// Show the validator's state: models, verdicts, weight history, weights
    /// commits, evaluations in progress and competitions waiting.
    Status(status::StatusArgs),
    /// Check, load and evaluate one model as a sandboxed child of `validator
    /// run` (prints one JSON line per phase on stdout).
    #[command(hide = true)]
    EvaluateOne(sandbox::EvaluateOneArgs),
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
    /// Where the rounds' items and the signed ledger are published (default:
    /// `<state stem>-ledger/` beside the state file); `gauntlet audit
    /// --ledger` reads it.
    #[arg(long)]
    ledger_dir: Option<PathBuf>,
    /// Publish the ledger directory to the hub as this repository
    /// (`namespace/name`; a dataset repository on the Hugging Face Hub) after
    /// each competition's round; `gauntlet audit --ledger-repo` reads it from
    /// there.
    #[arg(long)]
    publish_ledger: Option<String>,
    /// Add private items to every round from this directory, laid out like
    /// the data cache with each dataset in its own file format; a round's
    /// private items are committed with the rest, revealed when the round's
    /// items are published, and never used again (docs/LEDGER.md).
    #[arg(long)]
    private_data: Option<PathBuf>,
    /// Private samples added to each task per round (with --private-data).
    #[arg(long, default_value_t = 10, requires = "private_data")]
    private_samples: u32,
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
    /// Sandbox limits, cache budget and deadlines.
    #[command(flatten)]
    sandbox: sandbox::SandboxArgs,
    /// Print each round's report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn state_path(p: &Option<PathBuf>) -> PathBuf {
    p.clone().unwrap_or_else(|| home().join("validator.sqlite"))
}

/// The ledger directory: the one given, else `<state stem>-ledger/` beside
/// the state file (`validator-ledger/` for `validator.sqlite`), so validators
/// whose state files share a directory never share a ledger.
pub(crate) fn ledger_dir(given: &Option<PathBuf>, state: &std::path::Path) -> PathBuf {
    given.clone().unwrap_or_else(|| {
        let stem = state
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "validator".to_string());
        state.with_file_name(format!("{stem}-ledger"))
    })
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
        Command::Status(a) => status::status(a),
        Command::EvaluateOne(a) => sandbox::evaluate_one(a),
    }
}

async fn run_loop(args: RunArgs) -> Result<()> {
    let data = DataCache::from_env();
    let chain = args.chain.connect().await?;
    let hub = args
        .hub
        .open_with_budget(data.path("models"), args.sandbox.cache_budget())?;
    let ledgers = args.hub.open_ledgers(data.path("ledgers"))?;
    let hotkey = args.wallet.load()?;
    let path = state_path(&args.state);
    let state = State::open(&path).with_context(|| format!("opening {}", path.display()))?;
    for m in state.markers()? {
        tracing::warn!(
            uid_hotkey = %m.key.hotkey,
            starts = m.starts,
            "the validator stopped while this model was being evaluated"
        );
    }
    let (major, minor, patch) = PROTOCOL_VERSION;
    let placement = args.runtime.placement();
    let config = ValidatorConfig {
        netuid: args.chain.netuid(),
        placement,
        data,
        sample_cap: args.samples,
        eval_delay: args.eval_delay,
        version_key: version_key(major, minor, patch),
        weights_interval: args.weights_interval,
        isolation: args.sandbox.isolation(placement.device)?,
        eval_timeout: args.sandbox.eval_timeout.map(Duration::from_secs),
        gpus: args.sandbox.gpus.clone(),
        download_timeout: args.sandbox.download_timeout.map(Duration::from_secs),
        ledger_dir: Some(ledger_dir(&args.ledger_dir, &path)),
        publish_ledger: args
            .publish_ledger
            .as_deref()
            .map(|r| super::backends::repo_arg("--publish-ledger", r))
            .transpose()?,
        private_data: match &args.private_data {
            Some(dir) if !dir.is_dir() => {
                anyhow::bail!("--private-data {}: not a directory", dir.display())
            }
            Some(dir) => Some(gauntlet_validator::private::PrivateData {
                dir: dir.clone(),
                per_task: args.private_samples,
            }),
            None => None,
        },
    };
    tracing::info!(hotkey = %hotkey.ss58(), state = %path.display(), isolation = ?config.isolation, "validator starting");
    let mut validator = Validator::new(
        chain,
        hub,
        hotkey,
        state,
        registry(args.defs.as_deref())?,
        config,
    )
    .with_ledger_hub(ledgers);
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
                for w in &report.waiting {
                    tracing::error!(competition = %w.competition, reason = %w.reason, "competition waits on the validator's own fault");
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::ledger_dir;

    #[test]
    fn each_state_file_gets_its_own_ledger_beside_it() {
        let a = ledger_dir(&None, Path::new("/srv/v/v1.sqlite"));
        let b = ledger_dir(&None, Path::new("/srv/v/v2.sqlite"));
        assert_eq!(a, PathBuf::from("/srv/v/v1-ledger"));
        assert_ne!(a, b);
        let given = Some(PathBuf::from("/pub/ledger"));
        assert_eq!(
            ledger_dir(&given, Path::new("/srv/v/v1.sqlite")),
            PathBuf::from("/pub/ledger")
        );
    }
}

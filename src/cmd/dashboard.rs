//! `gauntlet dashboard`: the web dashboard over a validator's state, the
//! chain and the funding pools (docs/DASHBOARD.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use gauntlet_dashboard::{HubLinks, PoolSource, Sources};
use gauntlet_pools::{PoolStore, SubtensorTreasury, Tao};
use gauntlet_validator::State;

use super::backends::{home, ChainArgs, ChainKind, HubKind};
use super::competitions::registry;

/// Arguments of `gauntlet dashboard`.
#[derive(clap::Args)]
pub struct Args {
    /// The address to serve on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The validator's state (default `$GAUNTLET_HOME/validator.sqlite`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// The validator's ledger directory, for the prompts on model pages
    /// (default: `validator run`'s, `<state stem>-ledger` beside the state,
    /// else the demo's `ledger` beside it, whichever exists).
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// The pools file (default `$GAUNTLET_HOME/pools.sqlite`).
    #[arg(long)]
    pools: Option<PathBuf>,
    /// Subtensor: TAO each pool's account keeps for fees and its existential
    /// deposit, left out of the balance shown (as `gauntlet pool --reserve`).
    #[arg(long, default_value = "0.01")]
    reserve: String,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Where models link to: `hf` links each to its Hugging Face page
    /// (`HF_ENDPOINT`, default https://huggingface.co); `local` shows no link.
    #[arg(long, value_enum, default_value_t)]
    hub: HubKind,
    #[command(flatten)]
    chain: ChainArgs,
}

/// Runs the subcommand until interrupted.
pub fn run(args: Args) -> Result<()> {
    let registry = registry(args.defs.as_deref())?;
    let state = args
        .state
        .clone()
        .unwrap_or_else(|| home().join("validator.sqlite"));
    if state.is_file() {
        // Bring an older state to this build's schema once; requests then
        // read it read-only.
        State::open(&state).with_context(|| format!("opening {}", state.display()))?;
    } else {
        tracing::warn!(
            state = %state.display(),
            "no validator state yet: pages fill in once a validator runs"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let chain = args.chain.connect().await?;
        let pools_path = args
            .pools
            .clone()
            .unwrap_or_else(|| home().join("pools.sqlite"));
        let pools = match args.chain.chain {
            ChainKind::Local => Some(PoolSource {
                path: pools_path,
                treasury: Arc::new(args.chain.local()?),
            }),
            ChainKind::Subtensor if pools_path.is_file() => {
                let reserve = Tao::parse(&args.reserve).context("--reserve")?.rao();
                let store = PoolStore::open(&pools_path)
                    .with_context(|| format!("opening {}", pools_path.display()))?;
                // Read-only: no coldkey, so the dashboard can never sign.
                let treasury = SubtensorTreasury::attach(
                    &args.chain.endpoint,
                    Default::default(),
                    store,
                    None,
                    reserve,
                )
                .await
                .with_context(|| {
                    format!("connecting to subtensor at {}", args.chain.endpoint)
                })?;
                Some(PoolSource {
                    path: pools_path,
                    treasury: Arc::new(treasury),
                })
            }
            ChainKind::Subtensor => {
                tracing::warn!(
                    pools = %pools_path.display(),
                    "no pools file: the pools page stays empty until the dashboard is restarted after `gauntlet pool create`"
                );
                None
            }
        };
        let hub = match args.hub {
            HubKind::Local => HubLinks::None,
            HubKind::Hf => HubLinks::Web(
                std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into()),
            ),
        };
        // `validator run`'s default (`<state stem>-ledger`), else the demo's
        // (`ledger` beside the state).
        let ledger = args.ledger.clone().or_else(|| {
            let run = super::validator::ledger_dir(&None, &state);
            let demo = state.parent()?.join("ledger");
            [run, demo].into_iter().find(|d| d.is_dir())
        });
        let sources = Sources {
            ledger,
            state,
            chain,
            netuid: args.chain.netuid(),
            registry,
            pools,
            hub,
        };
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        eprintln!("dashboard on http://{addr}/ (Ctrl-C to stop)");
        gauntlet_dashboard::serve(listener, sources)
            .await
            .context("serving the dashboard")
    })
}

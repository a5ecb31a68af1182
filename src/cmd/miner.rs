//! `gauntlet miner check|eval|push`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_competitions::{Competition, Registry};
use gauntlet_datasets::DataCache;
use gauntlet_model::constraints;
use gauntlet_validator::checks::model_constraints;

use super::backends::{ChainArgs, HubArgs, WalletArgs};
use super::competitions::registry;
use super::print_json;

/// `gauntlet miner …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check a model against every constraint of a competition.
    Check(CheckArgs),
    /// Evaluate a model locally exactly as validators do and compare it with
    /// the current best (`--against DIR` or `--best-from-chain`).
    Eval(crate::cmd::miner_eval::Args),
    /// Upload a model, commit it on chain, and verify both.
    Push(PushArgs),
}

/// Arguments of `gauntlet miner check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// The competition (id or name).
    #[arg(long)]
    competition: String,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `gauntlet miner push`.
#[derive(clap::Args)]
pub struct PushArgs {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// The hub repository, `namespace/name`.
    #[arg(long)]
    repo: String,
    /// The competition (id or name).
    #[arg(long)]
    competition: String,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    defs: Option<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    hub: HubArgs,
    #[command(flatten)]
    wallet: WalletArgs,
    /// Push even when the model breaks a constraint or cannot be checked at
    /// all (the problems are printed as warnings): any directory is published.
    #[arg(long)]
    skip_check: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn find<'a>(registry: &'a Registry, key: &str) -> Result<&'a Competition> {
    registry
        .find(key)
        .ok_or_else(|| anyhow!("unknown competition {key:?} (see `gauntlet competitions`)"))
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Check(a) => {
            let registry = registry(a.defs.as_deref())?;
            let c = find(&registry, &a.competition)?;
            let report = constraints::check(&a.model, &model_constraints(&c.constraints))
                .with_context(|| format!("checking {}", a.model.display()))?;
            super::check::print_report(&report, a.json, Some(&c.name))
        }
        Command::Eval(a) => crate::cmd::miner_eval::run(a),
        Command::Push(a) => push(a),
    }
}

fn push(a: PushArgs) -> Result<()> {
    let registry = registry(a.defs.as_deref())?;
    let c = find(&registry, &a.competition)?;
    let checked = constraints::check(&a.model, &model_constraints(&c.constraints))
        .with_context(|| format!("checking {}", a.model.display()));
    let problems: Vec<String> = match &checked {
        Err(e) => vec![format!("{e:#}")],
        Ok(report) => report.violations.iter().map(|v| v.reason.clone()).collect(),
    };
    if !problems.is_empty() {
        if a.skip_check {
            // Publishing anything at all is the point of --skip-check (a
            // local network staging hostile repos): the problems are printed.
            for p in &problems {
                tracing::warn!(competition = %c.name, problem = %p, "the check fails; pushing anyway (--skip-check)");
            }
        } else {
            bail!(
                "the model breaks {}'s constraints: {}",
                c.name,
                problems.join("; ")
            );
        }
    }
    let (ns, name) = super::backends::repo_arg("--repo", &a.repo)?;
    let (ns, name) = (ns.as_str(), name.as_str());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let data = DataCache::from_env();
        let chain = a.chain.connect().await?;
        let hub = a.hub.open(data.path("models"))?;
        let hotkey = a.wallet.load()?;
        if a.skip_check {
            let target = gauntlet_miner::Target {
                namespace: ns,
                name,
                competition: c.id,
            };
            gauntlet_miner::push_as_is(
                hub.as_ref(),
                chain.as_ref(),
                &hotkey,
                a.chain.netuid(),
                &a.model,
                target,
            )
            .await
        } else {
            gauntlet_miner::push(
                hub.as_ref(),
                chain.as_ref(),
                &hotkey,
                a.chain.netuid(),
                &a.model,
                ns,
                name,
                c.id,
                c.constraints.max_repo_bytes,
            )
            .await
        }
        .context("push failed")
    })?;
    if a.json {
        print_json(&report)
    } else {
        println!("pushed {}@{}", report.repo, report.commit);
        println!("commitment {} (block {})", report.commitment, report.block);
        Ok(())
    }
}

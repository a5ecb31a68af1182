//! `gauntlet eval`: run one eval task on a data file (`--task … --data …`) or
//! a whole competition (`--competition …`) on a model.

pub mod competition;
mod task;

use std::path::PathBuf;

use anyhow::{bail, Result};

pub use competition::SuiteArgs;

/// Arguments of `gauntlet eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// Run one task on `--data`.
    #[arg(long, value_enum, conflicts_with = "competition", requires = "data")]
    task: Option<task::Task>,
    /// The task's data (JSONL; see `--task`).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    suite: SuiteArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Generate every multiple-choice item to its full length instead of
    /// stopping once the answer is settled (same results, slower; `--task
    /// multiple-choice` only: competitions always stop early).
    #[arg(long, requires = "task")]
    no_early_stop: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    match (&args.task, &args.suite.competition) {
        (Some(_), _) => task::run(args),
        (None, Some(_)) => competition::run(&args.model, &args.suite, args.json),
        (None, None) => bail!("give --competition ID, or --task NAME with --data FILE"),
    }
}

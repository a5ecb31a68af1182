//! `gauntlet eval`: run one eval task on a data file (`--task … --data …`) or
//! a whole competition (`--competition …`) on a model.

pub mod backend;
pub mod competition;
mod task;

use std::path::PathBuf;

use anyhow::{bail, Result};
use gauntlet_evals::EvalMethod;

pub use backend::RemoteArgs;
pub use competition::SuiteArgs;

/// Arguments of `gauntlet eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory, or an OpenAI-compatible endpoint as
    /// `openai:BASE_URL#MODEL` (e.g. openai:http://127.0.0.1:8000/v1#smollm2).
    #[arg(long)]
    model: String,
    /// Run one eval method on `--data`: multiple-choice,
    /// multiple-choice-likelihood, reference-loss, text-loss, google-ifeval.
    #[arg(long, value_parser = task::parse_task, conflicts_with = "competition", requires = "data")]
    task: Option<EvalMethod>,
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
    /// The endpoint's options (`--model openai:…`).
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    match (&args.task, &args.suite.competition) {
        (Some(_), _) => task::run(args),
        (None, Some(_)) => competition::run(&args.model, &args.suite, &args.remote, args.json),
        (None, None) => bail!("give --competition ID, or --task NAME with --data FILE"),
    }
}

//! `gauntlet eval`: run one eval task on a model and print its score.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use gauntlet_evals::multiple_choice::{self, McItem, McOptions};
use gauntlet_model::Model;
use serde::Serialize;

use super::{print_json, DeviceArg};
use crate::input::read_jsonl;
use crate::progress::bar;

/// Tasks runnable on a data file.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Task {
    /// Multiple choice by greedy generation (REFERENCE §2).
    MultipleChoice,
}

/// Arguments of `gauntlet eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// The task to run.
    #[arg(long, value_enum)]
    task: Task,
    /// The task's data (JSONL).
    #[arg(long)]
    data: PathBuf,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Prompts generated together.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Generate every item to its full length instead of stopping once the
    /// answer is settled (same results, slower; for verification).
    #[arg(long)]
    no_early_stop: bool,
    /// Where to run.
    #[arg(long, value_enum, default_value_t)]
    device: DeviceArg,
}

#[derive(Serialize)]
struct Output<'a> {
    task: &'static str,
    raw_score: f64,
    n: usize,
    seconds: f64,
    items: &'a [multiple_choice::McItemResult],
}

fn validate(items: &[McItem], path: &std::path::Path) -> Result<()> {
    for (i, it) in items.iter().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        if it.question.trim().is_empty() {
            bail!("{at}: `question` is empty");
        }
        if !(2..=26).contains(&it.choices.len()) {
            bail!(
                "{at}: `choices` must hold 2 to 26 entries, found {}",
                it.choices.len()
            );
        }
        let ok = (0..it.choices.len())
            .any(|k| multiple_choice::letter(k).to_string() == it.answer.trim());
        if !ok {
            bail!(
                "{at}: `answer` {:?} is not one of the letters A..{}",
                it.answer,
                multiple_choice::letter(it.choices.len() - 1)
            );
        }
    }
    Ok(())
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let Task::MultipleChoice = args.task;
    let items: Vec<McItem> = read_jsonl(&args.data)?;
    validate(&items, &args.data)?;
    let mut model = Model::load(&args.model, args.device.into())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let pb = bar(items.len() as u64, "questions");
    let start = Instant::now();
    let opts = McOptions {
        batch_size: args.batch_size,
        early_stop: !args.no_early_stop,
    };
    let result = multiple_choice::evaluate(&mut model, &items, opts, &mut |n| pb.inc(n as u64))
        .context("multiple-choice eval failed")?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        print_json(&Output {
            task: "multiple-choice",
            raw_score: result.raw_score,
            n: result.n,
            seconds,
            items: &result.items,
        })?;
    } else {
        let correct = result.items.iter().filter(|r| r.correct).count();
        let unanswered = result.items.iter().filter(|r| r.pred.is_none()).count();
        println!("task        multiple-choice");
        println!("items       {}", result.n);
        println!(
            "correct     {correct} ({:.1} %)",
            100.0 * correct as f64 / result.n as f64
        );
        println!("no answer   {unanswered}");
        println!(
            "raw score   {:.4}  (fraction wrong; lower is better)",
            result.raw_score
        );
        println!("seconds     {seconds:.1}");
    }
    Ok(())
}

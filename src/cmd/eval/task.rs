//! `gauntlet eval --task NAME --data FILE`: one eval task on a data file.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use gauntlet_evals::likelihood::MultipleChoiceLikelihood;
use gauntlet_evals::multiple_choice::{self, McItem, McOptions};
use gauntlet_evals::tasks::{reference_loss, LossOptions, ReferencePrompt, TextLoss};
use gauntlet_evals::{ChatMessage, Eval};
use gauntlet_model::Model;
use serde::{Deserialize, Serialize};

use super::Args;
use crate::cmd::print_json;
use crate::input::read_jsonl;
use crate::progress::bar;

/// Tasks runnable on a data file.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Task {
    /// Multiple choice by greedy generation; lines `{"question", "choices", "answer"}`.
    MultipleChoice,
    /// Multiple choice by the log-likelihood of each letter (no generation); same lines.
    MultipleChoiceLikelihood,
    /// Mean loss over reference answers; lines `{"system"?, "prompt", "reference"}`.
    ReferenceLoss,
    /// Mean per-document loss after the sanity guard on the first two
    /// documents, as validators run it; lines `{"text"}`.
    TextLoss,
    /// Google's IFEval; lines `{"key", "prompt", "instruction_id_list", "kwargs"}`.
    GoogleIfeval,
}

#[derive(Serialize)]
struct McOutput<'a> {
    task: &'static str,
    raw_score: f64,
    n: usize,
    seconds: f64,
    items: &'a [multiple_choice::McItemResult],
}

#[derive(Serialize)]
struct LossOutput<'a> {
    task: &'static str,
    raw_score: f64,
    n: usize,
    seconds: f64,
    per_sample: &'a [Option<f64>],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceLine {
    #[serde(default)]
    system: Option<String>,
    prompt: String,
    reference: String,
}

#[derive(Deserialize)]
struct TextLine {
    text: String,
}

fn validate(items: &[McItem], path: &Path) -> Result<()> {
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

/// Runs `--task` on `--data`.
pub fn run(args: Args) -> Result<()> {
    let (Some(task), Some(data)) = (args.task, args.data.as_deref()) else {
        bail!("--task needs --data FILE");
    };
    let load = |args: &Args| {
        Model::load(&args.model, args.suite.runtime.placement())
            .with_context(|| format!("loading model {}", args.model.display()))
    };
    match task {
        Task::MultipleChoice => {
            let items: Vec<McItem> = read_jsonl(data)?;
            validate(&items, data)?;
            let mut model = load(&args)?;
            multiple_choice_run(&args, &mut model, &items)
        }
        Task::MultipleChoiceLikelihood => {
            let items: Vec<McItem> = read_jsonl(data)?;
            validate(&items, data)?;
            let mut model = load(&args)?;
            likelihood_run(&args, &mut model, &items)
        }
        Task::ReferenceLoss => {
            let lines: Vec<ReferenceLine> = read_jsonl(data)?;
            let prompts: Vec<ReferencePrompt> = lines
                .into_iter()
                .map(|l| {
                    let mut messages = Vec::new();
                    if let Some(s) = l.system {
                        messages.push(ChatMessage::system(s));
                    }
                    messages.push(ChatMessage::user(l.prompt));
                    ReferencePrompt {
                        messages,
                        reference: l.reference,
                    }
                })
                .collect();
            let mut model = load(&args)?;
            let pb = bar(prompts.len() as u64, "samples");
            let start = Instant::now();
            let r = reference_loss(&mut model, &prompts, LossOptions::default(), &mut |n| {
                pb.inc(n as u64)
            })
            .context("reference-loss eval failed")?;
            pb.finish_and_clear();
            print_loss(&args, "reference-loss", r.raw_score, &r.per_sample, start)
        }
        Task::TextLoss => {
            let lines: Vec<TextLine> = read_jsonl(data)?;
            let docs: Vec<String> = lines.into_iter().map(|l| l.text).collect();
            let mut model = load(&args)?;
            let pb = bar(docs.len() as u64, "documents");
            let start = Instant::now();
            // As validators run it: the sanity guard on the first two
            // documents, then every document's loss.
            let r = TextLoss::default()
                .evaluate(&mut model, &docs, &mut |n| pb.inc(n as u64))
                .context("text-loss eval failed")?;
            pb.finish_and_clear();
            print_loss(&args, "text-loss", r.raw_score, &r.per_sample, start)
        }
        Task::GoogleIfeval => google_ifeval_file(&args, data),
    }
}

fn print_loss(
    args: &Args,
    task: &'static str,
    raw_score: f64,
    per_sample: &[Option<f64>],
    start: Instant,
) -> Result<()> {
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        return print_json(&LossOutput {
            task,
            raw_score,
            n: per_sample.len(),
            seconds,
            per_sample,
        });
    }
    println!("task        {task}");
    println!("samples     {}", per_sample.len());
    println!("raw score   {raw_score:.4}  (mean loss in nats; lower is better)");
    println!("seconds     {seconds:.1}");
    Ok(())
}

fn likelihood_run(args: &Args, model: &mut Model, items: &[McItem]) -> Result<()> {
    let pb = bar(items.len() as u64, "questions");
    let start = Instant::now();
    let eval = MultipleChoiceLikelihood {
        batch_size: args.suite.batch_size,
    };
    let results = eval
        .items(model, items, &mut |n| pb.inc(n as u64))
        .context("multiple-choice (likelihood) eval failed")?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let correct = results.iter().filter(|r| r.correct).count();
    let raw_score = (results.len() - correct) as f64 / results.len() as f64;
    if args.json {
        return print_json(&serde_json::json!({
            "task": "multiple-choice-likelihood",
            "raw_score": raw_score,
            "n": results.len(),
            "seconds": seconds,
            "items": results,
        }));
    }
    println!("task        multiple-choice-likelihood");
    println!("items       {}", results.len());
    println!(
        "correct     {correct} ({:.1} %)",
        100.0 * correct as f64 / results.len() as f64
    );
    println!("raw score   {raw_score:.4}  (fraction wrong; lower is better)");
    println!("seconds     {seconds:.1}");
    Ok(())
}

fn multiple_choice_run(args: &Args, model: &mut Model, items: &[McItem]) -> Result<()> {
    let pb = bar(items.len() as u64, "questions");
    let start = Instant::now();
    let opts = McOptions {
        batch_size: args.suite.batch_size,
        early_stop: !args.no_early_stop,
    };
    let result = multiple_choice::evaluate(model, items, opts, &mut |n| pb.inc(n as u64))
        .context("multiple-choice eval failed")?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        return print_json(&McOutput {
            task: "multiple-choice",
            raw_score: result.raw_score,
            n: result.n,
            seconds,
            items: &result.items,
        });
    }
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
    Ok(())
}

/// `gauntlet eval --task google-ifeval --data FILE`: Google's IFEval
/// prompts (`input_data.jsonl` of the `google/IFEval` dataset).
pub fn google_ifeval_file(args: &Args, data: &Path) -> Result<()> {
    use gauntlet_evals::google_ifeval::{evaluate, read_jsonl, IfevalOptions};
    let prompts = read_jsonl(data).with_context(|| format!("reading {}", data.display()))?;
    let prompts = match args.suite.samples {
        Some(n) => prompts.into_iter().take(n as usize).collect(),
        None => prompts,
    };
    let mut model = Model::load(&args.model, args.suite.runtime.placement())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let pb = bar(prompts.len() as u64, "prompts");
    let start = Instant::now();
    let opts = IfevalOptions {
        batch_size: args.suite.batch_size,
        ..IfevalOptions::default()
    };
    let result = evaluate(&mut model, &prompts, &opts, &mut |n| pb.inc(n as u64))
        .context("IFEval failed")?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        return print_json(&serde_json::json!({
            "task": "google-ifeval",
            "raw_score": result.raw_score,
            "n": prompts.len(),
            "seconds": seconds,
            "prompt_strict": result.score.prompt_strict,
            "prompt_loose": result.score.prompt_loose,
            "instruction_strict": result.score.instruction_strict,
            "instruction_loose": result.score.instruction_loose,
            "responses": result.responses,
        }));
    }
    println!("task                 google-ifeval");
    println!("prompts              {}", prompts.len());
    println!("prompt strict        {:.4}", result.score.prompt_strict);
    println!("prompt loose         {:.4}", result.score.prompt_loose);
    println!(
        "instruction strict   {:.4}",
        result.score.instruction_strict
    );
    println!("instruction loose    {:.4}", result.score.instruction_loose);
    println!(
        "raw score            {:.4}  (1 - prompt strict; lower is better)",
        result.raw_score
    );
    println!("seconds              {seconds:.1}");
    Ok(())
}

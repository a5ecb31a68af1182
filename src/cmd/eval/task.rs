//! `gauntlet eval --task NAME --data FILE`: one eval method, from the method
//! table, on a data file.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use gauntlet_evals::multiple_choice::{self, McItem};
use gauntlet_evals::tasks::ReferencePrompt;
use gauntlet_evals::{ChatMessage, EvalMethod, EvalOptions, SampleKind, Samples};
use serde::Deserialize;
use serde_json::{json, Value};

use super::backend::open;
use super::Args;
use crate::cmd::print_json;
use crate::input::read_jsonl;
use crate::progress::bar;

/// Parses `--task`: a method's name, with `-` or `_`.
pub fn parse_task(name: &str) -> Result<EvalMethod, String> {
    EvalMethod::from_cli_name(name).ok_or_else(|| {
        let known: Vec<String> = EvalMethod::ALL.iter().map(|m| m.cli_name()).collect();
        format!("unknown task {name:?} (known: {})", known.join(", "))
    })
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

/// Reads `path` as samples of `kind`; at most `cap` of them.
fn read_samples(kind: SampleKind, path: &Path, cap: Option<u32>) -> Result<Samples> {
    let take = |n: usize| cap.map_or(n, |c| n.min(c as usize));
    Ok(match kind {
        SampleKind::MultipleChoice => {
            let mut items: Vec<McItem> = read_jsonl(path)?;
            items.truncate(take(items.len()));
            validate(&items, path)?;
            Samples::MultipleChoice(items)
        }
        SampleKind::Reference => {
            let lines: Vec<ReferenceLine> = read_jsonl(path)?;
            Samples::Reference(
                lines
                    .into_iter()
                    .take(take(usize::MAX))
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
                    .collect(),
            )
        }
        SampleKind::Documents => {
            let lines: Vec<TextLine> = read_jsonl(path)?;
            Samples::Documents(
                lines
                    .into_iter()
                    .take(take(usize::MAX))
                    .map(|l| l.text)
                    .collect(),
            )
        }
        SampleKind::GoogleIfeval => {
            let prompts = gauntlet_evals::google_ifeval::read_jsonl(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Samples::GoogleIfeval(prompts.into_iter().take(take(usize::MAX)).collect())
        }
        SampleKind::IfEval => {
            bail!("the synthetic IFEval's rules are drawn from a seed: run it with --competition")
        }
    })
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
    let (Some(method), Some(data)) = (args.task, args.data.as_deref()) else {
        bail!("--task needs --data FILE");
    };
    let samples = read_samples(method.sample_kind(), data, args.suite.samples)?;
    let seed = args.suite.seed.unwrap_or(0);
    let mut backend = open(
        &args.model,
        &args.remote,
        None,
        args.suite.runtime.placement(),
        seed,
    )?;
    let eval = method.eval(&EvalOptions {
        batch_size: args.suite.batch_size,
        early_stop: !args.no_early_stop,
        ..EvalOptions::default()
    });
    let pb = bar(eval.work(&samples) as u64, &method.cli_name());
    let start = Instant::now();
    let score = backend
        .with(|b| eval.run(b, &samples, &mut |n| pb.inc(n as u64)))
        .with_context(|| format!("{} eval failed", method.cli_name()))?;
    pb.finish_and_clear();
    backend.log_requests();
    let seconds = start.elapsed().as_secs_f64();
    let usage = backend.usage();
    if args.json {
        // No timings: the same inputs print the same bytes.
        let mut out = json!({
            "task": method.cli_name(),
            "raw_score": score.raw_score,
            "n": score.samples,
            "per_sample": score.per_sample,
        });
        if let (Value::Object(out), Value::Object(report)) = (&mut out, score.report) {
            out.extend(report);
        }
        if usage.requests > 0 {
            out["usage"] = serde_json::to_value(usage)?;
        }
        return print_json(&out);
    }
    println!("task        {}", method.cli_name());
    println!("samples     {}", score.samples);
    println!(
        "raw score   {:.4}  (a loss; lower is better)",
        score.raw_score
    );
    println!("seconds     {seconds:.1}");
    if usage.requests > 0 {
        println!(
            "usage       {} requests, {} prompt + {} completion tokens, ${:.4}",
            usage.requests,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.cost_usd()
        );
    }
    Ok(())
}

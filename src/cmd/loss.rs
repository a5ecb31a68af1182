//! `gauntlet loss`: the mean next-token negative log-likelihood of each text.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use gauntlet_evals::ScoreRequest;
use gauntlet_model::{Model, ModelError};
use serde::{Deserialize, Serialize};

use super::{print_json, RuntimeArgs};
use crate::input::read_jsonl;
use crate::progress::bar;

/// Arguments of `gauntlet loss`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// JSONL file with one `{"text": …}` (or pre-tokenised `{"ids": [...]}`)
    /// per line.
    #[arg(long)]
    input: PathBuf,
    /// Print one JSON object per input line on stdout.
    #[arg(long)]
    json: bool,
    /// Add every token's log-probability (`"logprobs"`, positions 1..n) to
    /// the JSON output, for comparisons with other runtimes.
    #[arg(long, requires = "json")]
    per_token: bool,
    /// Device and precision.
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    ids: Option<Vec<u32>>,
}

/// One output line.
#[derive(Serialize)]
struct LossLine {
    tokens: usize,
    mean_nll: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated_from: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<Vec<f32>>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let lines: Vec<Line> = read_jsonl(&args.input)?;
    for (i, l) in lines.iter().enumerate() {
        match (&l.text, &l.ids) {
            (Some(t), None) if !t.is_empty() => {}
            (None, Some(ids)) if !ids.is_empty() => {}
            (Some(_), None) => bail!("{}:{}: `text` is empty", args.input.display(), i + 1),
            (None, Some(_)) => bail!("{}:{}: `ids` is empty", args.input.display(), i + 1),
            _ => bail!(
                "{}:{}: give exactly one of `text` and `ids`",
                args.input.display(),
                i + 1
            ),
        }
    }
    let model = Model::load(&args.model, args.runtime.placement())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let max = gauntlet_evals::LanguageModel::max_context(&model);
    let mut requests = Vec::with_capacity(lines.len());
    let mut truncated = vec![None; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        let mut ids = match (&l.text, &l.ids) {
            (Some(text), _) => model.tokenizer().encode(text, true)?,
            (None, Some(ids)) => ids.clone(),
            (None, None) => Vec::new(),
        };
        if ids.len() > max {
            tracing::warn!(
                line = i + 1,
                tokens = ids.len(),
                max,
                "text longer than the model's context: truncated"
            );
            truncated[i] = Some(ids.len());
            ids.truncate(max);
        }
        requests.push(ScoreRequest::full(ids));
    }
    let total: usize = requests.iter().map(|r| r.tokens.len()).sum();
    let pb = bar(total as u64, "scoring");
    let mut logps: Vec<Vec<f32>> = Vec::with_capacity(requests.len());
    let mut start = 0;
    while start < requests.len() {
        let mut end = start;
        let mut tokens = 0;
        while end < requests.len()
            && (end == start
                || tokens + requests[end].tokens.len() <= 4 * gauntlet_model::score::PACK_TOKENS)
        {
            tokens += requests[end].tokens.len();
            end += 1;
        }
        let out = model.score(&requests[start..end]).map_err(|e| match e {
            ModelError::NonFinite { what } => anyhow::anyhow!(
                "the model produced NaN/inf ({what}) on lines {}..={} of {}: refusing to report a loss",
                start + 1,
                end,
                args.input.display()
            ),
            e => e.into(),
        })?;
        logps.extend(out);
        pb.inc(tokens as u64);
        start = end;
    }
    pb.finish_and_clear();
    let results: Vec<LossLine> = requests
        .iter()
        .zip(&logps)
        .zip(truncated)
        .map(|((r, lp), truncated_from)| LossLine {
            tokens: r.tokens.len(),
            mean_nll: (!lp.is_empty())
                .then(|| -lp.iter().map(|&x| x as f64).sum::<f64>() / lp.len() as f64),
            truncated_from,
            logprobs: args.per_token.then(|| lp.clone()),
        })
        .collect();
    if args.json {
        for r in &results {
            print_json(r)?;
        }
    } else {
        println!("{:>6} {:>8} {:>10}", "line", "tokens", "mean_nll");
        for (i, r) in results.iter().enumerate() {
            let nll = r.mean_nll.map_or("-".to_string(), |x| format!("{x:.4}"));
            let note = r
                .truncated_from
                .map_or(String::new(), |n| format!("  (truncated from {n})"));
            println!("{:>6} {:>8} {:>10}{note}", i + 1, r.tokens, nll);
        }
    }
    Ok(())
}

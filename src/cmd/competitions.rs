//! `gauntlet competitions`: the schedule by block and every competition's
//! constraints and tasks.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_competitions::{Competition, Epsilon, Normalization, Registry, TokenizerPolicy};
use serde_json::{json, Value};

use super::print_json;

/// Arguments of `gauntlet competitions`.
#[derive(clap::Args)]
pub struct Args {
    /// Extra competition definitions (a directory of TOML files, see
    /// docs/COMPETITIONS.md) on top of the builtin ones.
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Print the registry as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Loads the builtin registry, plus a directory of definitions when given.
pub fn registry(defs: Option<&std::path::Path>) -> Result<Registry> {
    match defs {
        Some(dir) => Registry::load_dir(dir)
            .with_context(|| format!("loading competitions from {}", dir.display())),
        None => Registry::builtin().context("loading the builtin competitions"),
    }
}

fn epsilon(e: &Epsilon) -> String {
    match e {
        Epsilon::Fixed(v) => format!("fixed {v}"),
        Epsilon::LinearDecay { start, end, blocks } => {
            format!("linear {start} → {end} over {blocks} blocks")
        }
    }
}

fn tokenizer(t: &TokenizerPolicy) -> String {
    match t {
        TokenizerPolicy::Own => "own".into(),
        TokenizerPolicy::Fixed(repo) => format!("fixed {repo}"),
    }
}

fn competition_json(c: &Competition) -> Value {
    let k = &c.constraints;
    json!({
        "id": c.id.0,
        "name": c.name,
        "description": c.description,
        "retired": c.retired,
        "source": c.source,
        "constraints": {
            "max_params": k.max_params,
            "min_params": k.min_params,
            "sequence_length": k.sequence_length,
            "architectures": k.architectures,
            "tokenizer": tokenizer(&k.tokenizer),
            "eval_block_delay": k.eval_block_delay,
            "max_repo_bytes": k.max_repo_bytes,
            "epsilon": epsilon(&k.epsilon),
        },
        "task_sets": c.task_sets.iter().map(|s| json!({
            "version": s.version,
            "tasks": s.tasks.iter().map(|t| json!({
                "name": t.name,
                "method": t.method.name(),
                "dataset": t.dataset.name(),
                "samples": t.dataset_kwargs.samples,
                "weight": t.weight,
                "normalization": match t.normalization {
                    Normalization::None => json!(null),
                    Normalization::InverseExponential { ceiling } => json!({"inverse_exponential": ceiling}),
                },
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let registry = registry(args.defs.as_deref())?;
    let name = |id| {
        registry
            .get(id)
            .map(|c: &Competition| c.name.clone())
            .unwrap_or_else(|| format!("#{}", id.0))
    };
    if args.json {
        let schedule: Vec<Value> = registry
            .schedule()
            .iter()
            .map(|e| {
                json!({
                    "start_block": e.start_block.0,
                    "competitions": e.competitions.iter().map(|s| json!({
                        "id": s.id.0, "name": name(s.id), "reward_share": s.reward_share, "task_set": s.task_set,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let competitions: Vec<Value> = registry
            .competitions()
            .iter()
            .map(competition_json)
            .collect();
        return print_json(&json!({"schedule": schedule, "competitions": competitions}));
    }
    println!("Schedule ({}):", registry.schedule_source());
    for e in registry.schedule() {
        let shares: Vec<String> = e
            .competitions
            .iter()
            .map(|s| {
                format!(
                    "{} {:.0} % (tasks v{})",
                    name(s.id),
                    s.reward_share * 100.0,
                    s.task_set
                )
            })
            .collect();
        println!(
            "  from block {:>10}  {}",
            e.start_block.0,
            shares.join(", ")
        );
    }
    for c in registry.competitions() {
        let k = &c.constraints;
        println!();
        println!(
            "{} (id {}){}: {}",
            c.name,
            c.id.0,
            if c.retired { ", retired" } else { "" },
            c.description
        );
        println!(
            "  params {:.2e}..={:.2e}, sequence {}, tokenizer {}, eval delay {} blocks, repo ≤ {:.1} GiB",
            k.min_params as f64,
            k.max_params as f64,
            k.sequence_length,
            tokenizer(&k.tokenizer),
            k.eval_block_delay,
            k.max_repo_bytes as f64 / f64::from(1u32 << 30)
        );
        println!("  epsilon {}", epsilon(&k.epsilon));
        println!("  architectures {}", k.architectures.join(", "));
        for s in &c.task_sets {
            println!("  task set v{}:", s.version);
            for t in &s.tasks {
                println!(
                    "    {:<16} {:<16} {:<16} {:>5} samples  weight {:.2}",
                    t.name,
                    t.method.name(),
                    t.dataset.name(),
                    t.dataset_kwargs.samples,
                    t.weight
                );
            }
        }
    }
    Ok(())
}

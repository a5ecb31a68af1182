//! `gauntlet competitions`: the schedule by block and every competition's
//! constraints and tasks.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_competitions::describe::{self, epsilon, tokenizer};
use gauntlet_competitions::{Competition, Registry};

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
        return print_json(&describe::registry(&registry));
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

//! `gauntlet data fetch`: download, check and cache the datasets;
//! `gauntlet data samples`: show exactly what a competition's tasks would be
//! given at a seed.

use anyhow::{bail, Result};
use gauntlet_datasets::{fetch, DataCache, FetchEvent, SourceId};
use gauntlet_validator::suite::prepare;

use super::eval::competition::resolve;
use super::eval::SuiteArgs;
use super::print_json;
use crate::progress::bar;

/// `gauntlet data …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Fetch sources into the cache (`$GAUNTLET_CACHE`, default
    /// `~/.cache/gauntlet`), checking every sha256; cached files are kept.
    Fetch {
        /// Sources to fetch (default: every dataset source; `smollm2`, the
        /// demo's model, only when named); see `--list`.
        sources: Vec<String>,
        /// List the sources and exit.
        #[arg(long)]
        list: bool,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print, as JSON, every task's prepared inputs (prompts, references,
    /// documents, IFEval rules) for a competition at a seed: what every model
    /// of that round is scored on.
    Samples {
        #[command(flatten)]
        suite: SuiteArgs,
    },
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Fetch {
            sources,
            list,
            json,
        } => fetch_sources(sources, list, json),
        Command::Samples { suite } => samples(&suite),
    }
}

fn samples(args: &SuiteArgs) -> Result<()> {
    let resolved = resolve(args)?;
    let active = resolved.active()?;
    let tasks = prepare(
        &active,
        &DataCache::from_env(),
        &resolved.seed,
        args.samples,
    );
    let tasks: Vec<serde_json::Value> = tasks
        .iter()
        .map(|p| {
            let mut v = match &p.input {
                Ok(input) => serde_json::json!({"status": "ok", "input": input}),
                Err(why) => serde_json::json!(why),
            };
            v["name"] = p.name.clone().into();
            v["method"] = p.task.method.name().into();
            v["dataset"] = p.task.dataset.name().into();
            v
        })
        .collect();
    print_json(&serde_json::json!({
        "competition": active.competition.name,
        "block": resolved.block.0,
        "seed": resolved.seed.hex(),
        "seed_source": resolved.seed_source,
        "tasks": tasks,
    }))
}

fn fetch_sources(sources: Vec<String>, list: bool, json: bool) -> Result<()> {
    if list {
        for s in SourceId::ALL {
            println!("{s}");
        }
        return Ok(());
    }
    let which: Vec<SourceId> = if sources.is_empty() {
        SourceId::ALL
            .iter()
            .copied()
            .filter(|s| *s != SourceId::Smollm2)
            .collect()
    } else {
        sources
            .iter()
            .map(|s| {
                SourceId::from_name(s).ok_or_else(|| {
                    anyhow::anyhow!("unknown source {s:?}; `gauntlet data fetch --list` lists them")
                })
            })
            .collect::<Result<_>>()?
    };
    let cache = DataCache::from_env();
    let mut pb = None;
    let report = fetch(&cache, &which, &mut |e| match e {
        FetchEvent::Download {
            source,
            total: Some(total),
            ..
        } => {
            pb = Some(bar(total, source.name()));
        }
        FetchEvent::Progress { done, .. } => {
            if let Some(p) = &pb {
                p.set_position(done)
            }
        }
        FetchEvent::Finished { source, status } => {
            if let Some(p) = pb.take() {
                p.finish_and_clear()
            }
            tracing::info!(%source, ?status, "done");
        }
        _ => {}
    })?;
    if json {
        print_json(&report)?;
    } else {
        for s in &report.sources {
            println!(
                "{:<28} {:?}{}",
                s.source.name(),
                s.status,
                s.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
        }
        println!("cache: {}", cache.root.display());
    }
    if !report.ok() {
        bail!("{} source(s) failed", report.failures().count());
    }
    Ok(())
}

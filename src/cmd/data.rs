//! `gauntlet data fetch`: download, check and cache the datasets.

use anyhow::{bail, Result};
use gauntlet_datasets::{fetch, DataCache, FetchEvent, SourceId};

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
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    let Command::Fetch {
        sources,
        list,
        json,
    } = cmd;
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

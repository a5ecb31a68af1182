//! `gauntlet leaderboard`: a competition's periodic leaderboard snapshot from
//! a validator's state, as a table, JSON or a Parquet file.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_constants::{Block, CompetitionId};
use gauntlet_validator::state::LeaderboardSnapshot;
use gauntlet_validator::State;

use super::backends::home;
use super::competitions::registry;
use super::print_json;

/// Arguments of `gauntlet leaderboard`.
#[derive(clap::Args)]
pub struct Args {
    /// The competition (id or name).
    #[arg(long)]
    competition: String,
    /// The snapshot in force at this block (the latest taken at or before
    /// it); the latest of all by default.
    #[arg(long)]
    at: Option<u64>,
    /// The validator's state (default `$GAUNTLET_HOME/validator.sqlite`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Print the snapshot as JSON on stdout.
    #[arg(long, conflicts_with = "parquet")]
    json: bool,
    /// Write the snapshot's rows to this Parquet file.
    #[arg(long)]
    parquet: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let registry = registry(args.defs.as_deref())?;
    let competition = registry.find(&args.competition).with_context(|| {
        format!(
            "unknown competition {:?} (see `gauntlet competitions`)",
            args.competition
        )
    })?;
    let path = args
        .state
        .clone()
        .unwrap_or_else(|| home().join("validator.sqlite"));
    anyhow::ensure!(path.is_file(), "no validator state at {}", path.display());
    let state = State::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let id = CompetitionId(competition.id.0);
    let snapshot = state
        .leaderboard_at(id, args.at.map(Block))?
        .with_context(|| {
            format!(
                "no leaderboard snapshot of {} in {}{} (a validator takes one per period after a round)",
                competition.name,
                path.display(),
                args.at.map_or(String::new(), |b| format!(" at or before block {b}"))
            )
        })?;
    if let Some(file) = &args.parquet {
        super::parquet::write_leaderboard(file, &snapshot)
            .with_context(|| format!("writing {}", file.display()))?;
        eprintln!("{} rows written to {}", snapshot.rows.len(), file.display());
        return Ok(());
    }
    if args.json {
        return print_json(&snapshot);
    }
    print_table(&competition.name, &snapshot);
    Ok(())
}

fn print_table(name: &str, s: &LeaderboardSnapshot) {
    println!(
        "{name}: snapshot at block {} (period {} of {} blocks), round of sync block {}",
        s.block, s.period, s.period_blocks, s.sync_block
    );
    println!(
        "{:>4}  {:>3}  {:<34}  {:>8}  {:>8}  {:>6}  verdict",
        "rank", "uid", "model", "score", "win rate", "ema"
    );
    for r in &s.rows {
        println!(
            "{:>4}  {:>3}  {:<34}  {:>8}  {:>8.2}  {:>6.3}  {}",
            r.rank.map_or("-".into(), |k| k.to_string()),
            r.uid,
            super::printable(&r.model)
                .chars()
                .take(34)
                .collect::<String>(),
            r.score.map_or("inf".into(), |v| format!("{v:.4}")),
            r.win_rate,
            r.ema,
            super::printable(&r.verdict)
        );
    }
}

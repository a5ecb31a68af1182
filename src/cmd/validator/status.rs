//! `gauntlet validator status`: the validator's state for a person (or, with
//! `--json`, a script). Everything a miner wrote — commitments, and reasons
//! quoting their files — is printed with control characters escaped, so a
//! commitment cannot rewrite the operator's terminal.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_validator::{RoundModel, State};

use super::state_path;
use crate::cmd::print_json;

/// Arguments of `gauntlet validator status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The validator's state file (default `$GAUNTLET_HOME/validator.sqlite`).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Weight sets (and weights commits) shown.
    #[arg(long, default_value_t = 5)]
    history: usize,
    /// Print as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// The first `max` characters of `text`, made [`printable`](crate::cmd::printable).
pub fn printable(text: &str, max: usize) -> String {
    crate::cmd::printable(&text.chars().take(max).collect::<String>())
}

/// Prints the state.
pub fn status(args: StatusArgs) -> Result<()> {
    let path = state_path(&args.state);
    anyhow::ensure!(path.is_file(), "no validator state at {}", path.display());
    let state = State::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let models = state.models()?;
    let rounds = state.last_rounds()?;
    let mut emas = Vec::with_capacity(rounds.len());
    for (id, _, _) in &rounds {
        emas.push(state.ema(*id)?);
    }
    let history = state.weights_history(args.history)?;
    let commits = state.commits(args.history)?;
    let markers = state.markers()?;
    let waits = state.waits()?;
    if args.json {
        let history: Vec<_> = history
            .iter()
            .map(|h| serde_json::json!({"block": h.block.0, "weights": h.weights, "outcome": h.outcome}))
            .collect();
        let leaderboards: Vec<_> = rounds
            .iter()
            .zip(&emas)
            .map(|((id, sync, summary), ema)| {
                let ema: std::collections::BTreeMap<String, f64> = ema
                    .values()
                    .map(|(uid, v)| (uid.0.to_string(), *v))
                    .collect();
                serde_json::json!({
                    "competition_id": id.0, "sync_block": sync.0,
                    "models": summary.models, "ema": ema,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "models": models, "leaderboards": leaderboards, "weights": history,
            "commits": commits, "in_progress": markers, "waiting": waits,
        }));
    }
    for w in &waits {
        println!(
            "competition {} WAITS since block {} ({}): {}",
            w.competition.0,
            w.block.0,
            w.kind,
            printable(&w.reason, 300)
        );
    }
    for m in &markers {
        println!(
            "in progress: competition {} hotkey {} {} (started {} time(s), last at block {})",
            m.competition.0,
            printable(&m.key.hotkey, 48),
            printable(&m.key.commitment, 64),
            m.starts,
            m.last_block.0
        );
    }
    for ((id, sync, summary), ema) in rounds.iter().zip(&emas) {
        println!("competition {} — last round at sync block {}", id.0, sync.0);
        println!(
            "{:>3}  {:<34}  {:>8}  {:>8}  {:>6}  {:<30}  verdict",
            "uid", "model", "score", "win rate", "ema", "vs winner (95 % interval)"
        );
        let mut rows: Vec<&RoundModel> = summary.models.iter().collect();
        rows.sort_by(|a, b| b.win_rate.total_cmp(&a.win_rate));
        for m in rows {
            let ema_value = ema
                .values()
                .find(|(u, _)| u.0 == m.uid)
                .map_or(0.0, |(_, v)| *v);
            let score = if m.score.is_finite() {
                format!("{:.4}", m.score)
            } else {
                "inf".to_string()
            };
            let vs_winner = match &m.vs_winner {
                Some(ci) => format!("{:+.4} [{:+.4}, {:+.4}]", ci.mean_diff, ci.low, ci.high),
                None if m.round_weight > 0.0 => "winner".to_string(),
                None => "-".to_string(),
            };
            println!(
                "{:>3}  {:<34}  {:>8}  {:>8.2}  {:>6.3}  {:<30}  {}",
                m.uid,
                printable(&m.model, 34),
                score,
                m.win_rate,
                ema_value,
                vs_winner,
                printable(&m.verdict, 20)
            );
        }
        println!();
    }
    println!(
        "{:>3}  {:<48}  {:>10}  {:<20}  reason",
        "uid", "commitment", "block", "verdict"
    );
    for m in &models {
        println!(
            "{:>3}  {:<48}  {:>10}  {:<20}  {}",
            m.uid.0,
            printable(&m.key.commitment, 48),
            m.commit_block.0,
            printable(&m.verdict, 20),
            printable(m.reason.as_deref().unwrap_or(""), 300)
        );
    }
    for h in &history {
        let w: Vec<String> = h
            .weights
            .iter()
            .map(|(u, f, _)| format!("{u}:{f:.3}"))
            .collect();
        println!("block {}: {} ({})", h.block.0, w.join(" "), h.outcome);
    }
    for c in &commits {
        let w: Vec<String> = c.commit.pairs().map(|(u, v)| format!("{u}:{v}")).collect();
        let checked = c
            .checked_block
            .map_or(String::new(), |b| format!(", checked at block {}", b.0));
        println!(
            "commit at block {} for drand round {}: {} ({}{checked})",
            c.commit.block.0,
            c.commit.reveal_round,
            w.join(" "),
            c.status.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[2Jb\n", 100), "a\\u{1b}[2Jb\\u{a}");
        assert_eq!(printable("x\u{202e}y", 100), "x\\u{202e}y");
        assert_eq!(printable("ümlaut", 3), "üml");
    }
}

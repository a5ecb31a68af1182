//! A competition's page: its leaderboard, plots and snapshots.

use maud::{html, Markup};

use super::{layout, model_href, percent, score, short_key, verdict};
use crate::api::Leaderboard;

/// Renders a competition's page.
pub fn competition(b: &Leaderboard, fingerprint: &str) -> Markup {
    let id = b.competition_id;
    let body = html! {
        h1 { (b.name) " leaderboard" }
        p.muted {
            @match b.sync_block {
                Some(s) => { "The round of sync block " (s) ", ranked by win rate, then score, then the earlier commitment." }
                None => { "No round of this competition has finished on this validator yet." }
            }
        }
        div.scroll { table #leaderboard {
            tr {
                th.num { "rank" } th.num { "uid" } th { "hotkey" } th { "model" } th.num { "score" }
                @for t in &b.task_names { th.num { (t) } }
                th.num { "win rate" } th.num title="score minus the winner's on the same samples, with its 95 % paired bootstrap interval" { "vs winner" } th.num { "weight" } th.num { "incentive" } th.num { "EMA share" }
                th { "verdict" } th { "reason" } th.num { "copy of" }
            }
            @for e in &b.rows {
                @let r = &e.row;
                tr {
                    td.num { (r.rank.map_or("–".to_string(), |k| k.to_string())) }
                    td.num { (r.uid) }
                    td { (short_key(&r.hotkey)) }
                    td {
                        @match &e.commitment {
                            Some(c) => { a.model href=(model_href(&r.hotkey, c)) { (r.model) } }
                            None => { (r.model) }
                        }
                        @if let Some(url) = &e.repo_url {
                            " " a href=(url) rel="noopener noreferrer" { "hub" }
                        }
                    }
                    td.num { (score(r.score)) }
                    @for t in &b.task_names {
                        td.num { (score(e.tasks.get(t).copied().flatten())) }
                    }
                    td.num { (percent(r.win_rate)) }
                    td.num.interval {
                        @match &r.vs_winner {
                            Some(ci) => {
                                (format!("{:+.4}", ci.mean_diff)) " "
                                span.muted { (format!("[{:+.4}, {:+.4}]", ci.low, ci.high)) }
                            }
                            None => { @if r.rank == Some(1) { "winner" } @else { "–" } }
                        }
                    }
                    td.num { (percent(e.weight)) }
                    td.num { (percent(e.incentive)) }
                    td.num { (percent(r.ema)) }
                    td { (verdict(&r.verdict)) }
                    td.reason { (r.reason.as_deref().unwrap_or("")) }
                    td.num { (r.copy_of.map(|u| u.to_string()).unwrap_or_default()) }
                }
            }
        } }
        h2 { "Over rounds" }
        div.plots {
            img src={ "/plots/" (id) "/scores.svg" } alt="score by round";
            img src={ "/plots/" (id) "/weights.svg" } alt="weights by block";
            img src={ "/plots/" (id) "/incentive.svg" } alt="incentive by block";
        }
        h2 { "Periodic snapshots" }
        @if b.snapshots.is_empty() {
            p.muted { "None taken yet." }
        } @else {
            table {
                tr { th.num { "period" } th.num { "blocks" } th.num { "taken at" } th.num { "round" } }
                @for s in &b.snapshots {
                    tr { td.num { (s.period) } td.num { (s.period_blocks) } td.num { (s.block) } td.num { (s.sync_block) } }
                }
            }
            p.muted { "As JSON or Parquet: " code { "gauntlet leaderboard --competition " (id) " --json" } }
        }
    };
    layout(
        &format!("{} leaderboard", b.name),
        Some(b.block),
        fingerprint,
        body,
    )
}

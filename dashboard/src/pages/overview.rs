//! The front page: schedule and competitions.

use maud::{html, Markup};

use super::{layout, model_href, percent, short_key, verdict};
use crate::api::Overview;

/// Renders the front page.
pub fn overview(o: &Overview, fingerprint: &str) -> Markup {
    let body = html! {
        h1 { "Competitions on subnet " (o.netuid) }
        h2 { "Schedule" }
        table {
            tr { th.num { "from block" } th { "competitions (reward share, task set)" } th {} }
            @for e in &o.schedule {
                tr {
                    td.num { (e.start_block) }
                    td {
                        @for (i, s) in e.competitions.iter().enumerate() {
                            @if i > 0 { ", " }
                            a href={ "/competitions/" (s.id) } { (s.name) }
                            " " (percent(s.reward_share)) " (v" (s.task_set) ")"
                        }
                    }
                    td { @if e.current { span.badge.active { "now" } } }
                }
            }
        }
        @for c in &o.competitions {
            @let d = &c.definition;
            @let id = d["id"].as_u64().unwrap_or_default();
            div.card {
                h2 {
                    a href={ "/competitions/" (id) } { (d["name"].as_str().unwrap_or("?")) }
                    " "
                    @if c.active {
                        span.badge.active { "active · " (percent(c.reward_share)) " of rewards" }
                    } @else if d["retired"].as_bool() == Some(true) {
                        span.badge { "retired" }
                    } @else {
                        span.badge { "not running now" }
                    }
                }
                p { (d["description"].as_str().unwrap_or("")) }
                p.muted {
                    @match c.last_round {
                        Some(b) => { "Last round on this validator: sync block " (b) "." }
                        None => { "No round finished on this validator yet." }
                    }
                }
                @let k = &d["constraints"];
                table {
                    tr { th { "constraint" } th { "value" } }
                    @for (name, v) in k.as_object().into_iter().flatten() {
                        tr { td { (name) } td.mono { (v) } }
                    }
                }
                @for set in d["task_sets"].as_array().into_iter().flatten() {
                    table {
                        tr {
                            th { "task (set v" (set["version"]) ")" } th { "method" } th { "dataset" }
                            th.num { "samples" } th.num { "weight" }
                        }
                        @for t in set["tasks"].as_array().into_iter().flatten() {
                            tr {
                                td { (t["name"].as_str().unwrap_or("")) }
                                td { (t["method"].as_str().unwrap_or("")) }
                                td { (t["dataset"].as_str().unwrap_or("")) }
                                td.num { (t["samples"]) }
                                td.num { (t["weight"]) }
                            }
                        }
                    }
                }
            }
        }
        @if !o.unplaced.is_empty() {
            h2 { "Commitments in no competition" }
            table #unplaced {
                tr { th.num { "uid" } th { "hotkey" } th { "commitment" } th.num { "block" } th { "verdict" } th { "reason" } }
                @for u in &o.unplaced {
                    tr {
                        td.num { (u.uid) }
                        td { (short_key(&u.hotkey)) }
                        td.mono { a href=(model_href(&u.hotkey, &u.commitment)) { (u.commitment) } }
                        td.num { (u.commit_block) }
                        td { (verdict(&u.verdict)) }
                        td { (u.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    };
    layout("Competitions", Some(o.block), fingerprint, body)
}

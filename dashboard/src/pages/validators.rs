//! The validators page.

use maud::{html, Markup};

use super::{layout, percent, short_key};
use crate::api::Validators;

/// Renders the validators page.
pub fn validators(v: &Validators, fingerprint: &str) -> Markup {
    let body = html! {
        h1 { "Validators" }
        table #validators {
            tr {
                th.num { "uid" } th { "hotkey" } th.num { "stake (rao)" } th { "permit" }
                th.num { "last update" } th.num { "dividends" } th.num { "uids weighted" } th.num { "agreement" }
            }
            @for x in &v.validators {
                tr {
                    td.num { (x.uid) }
                    td { (short_key(&x.hotkey)) }
                    td.num { (x.stake) }
                    td { @if x.validator_permit { "yes" } @else { "no" } }
                    td.num { (x.last_update) }
                    td.num { (percent(x.dividends)) }
                    td.num { (x.weighted_uids) }
                    td.num { (x.agreement.map_or_else(|| "–".to_string(), |a| format!("{a:.3}"))) }
                }
            }
        }
        p.muted { "Agreement: the cosine similarity of a validator's weights with the stake-weighted mean of every validator's weights on chain." }
        h2 { "This validator's last rounds" }
        @if v.rounds.is_empty() { p.muted { "None yet." } }
        @else {
            table {
                tr { th { "competition" } th.num { "sync block" } th.num { "models" } }
                @for r in &v.rounds {
                    tr {
                        td { a href={ "/competitions/" (r.competition_id) } { (r.name) } }
                        td.num { (r.sync_block) }
                        td.num { (r.models) }
                    }
                }
            }
        }
        h2 { "This validator's weights" }
        @if v.weights.is_empty() { p.muted { "None set yet." } }
        @else {
            table {
                tr { th.num { "block" } th { "outcome" } th { "weights (uid: share)" } }
                @for w in &v.weights {
                    tr {
                        td.num { (w.block.0) }
                        td { (w.outcome) }
                        td {
                            @for (uid, f, _) in &w.weights {
                                @if *f > 0.0 { span.badge { (uid) ": " (percent(*f)) } " " }
                            }
                        }
                    }
                }
            }
        }
        @if !v.commits.is_empty() {
            h2 { "Timelocked commits" }
            table {
                tr { th.num { "block" } th.num { "reveal round" } th { "status" } }
                @for c in &v.commits {
                    tr {
                        td.num { (c.commit.block.0) }
                        td.num { (c.commit.reveal_round) }
                        td { (format!("{:?}", c.status).to_lowercase()) }
                    }
                }
            }
        }
    };
    layout("Validators", Some(v.block), fingerprint, body)
}

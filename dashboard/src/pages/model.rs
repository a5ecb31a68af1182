//! A model's page: commitment, hash, verdict, evaluations and samples.

use maud::{html, Markup};

use super::{layout, model_href, score, verdict};
use crate::api::{ModelPage, SamplesPage};

/// Renders a model's page with one evaluation's samples.
pub fn model(m: &ModelPage, samples: Option<&SamplesPage>, fingerprint: &str) -> Markup {
    let href = model_href(&m.hotkey, &m.commitment);
    let body = html! {
        h1 { "Model " span.mono { (m.label) } }
        table {
            tr { th { "hotkey" } td.mono { (m.hotkey) } }
            tr { th { "uid" } td { (m.uid) } }
            tr { th { "commitment" } td.mono { (m.commitment) } }
            tr { th { "committed at block" } td { (m.commit_block) } }
            tr {
                th { "competition" }
                td { @if let Some(c) = m.competition_id { a href={ "/competitions/" (c) } { (c) } } }
            }
            tr { th { "repo hash" } td.mono { (m.repo_hash.as_deref().unwrap_or("not verified")) } }
            tr { th { "verdict" } td { (verdict(&m.verdict)) " " (m.reason.as_deref().unwrap_or("")) } }
            @if let Some(c) = m.copy_of { tr { th { "copy of uid" } td { (c) } } }
            @if let Some(url) = &m.repo_url { tr { th { "hub" } td { a href=(url) rel="noopener noreferrer" { (url) } } } }
        }
        h2 { "Evaluations" }
        @if m.evaluations.is_empty() {
            p.muted { "Not evaluated yet." }
        } @else {
            table #evaluations {
                tr { th.num { "round" } th.num { "competition" } th.num { "score" } th { "verdict" } th { "tasks" } th.num { "samples" } }
                @for e in &m.evaluations {
                    tr {
                        td.num { (e.sync_block) }
                        td.num { (e.competition_id) }
                        td.num { (score(e.score)) }
                        td { (verdict(&e.verdict)) }
                        td {
                            @for t in e.tasks.as_array().into_iter().flatten() {
                                span.badge { (t["name"].as_str().unwrap_or("?")) " " (score(t["raw_score"].as_f64())) } " "
                            }
                        }
                        td.num {
                            a href={ (href) "&sync=" (e.sync_block) "&competition=" (e.competition_id) "#samples" } { (e.samples) }
                        }
                    }
                }
            }
        }
        @if let Some(s) = samples {
            h2 #samples { "Samples of the round of sync block " (s.sync_block) }
            p.muted { "Per-sample scores as the validator recorded them, the item the model was given (from the round's published items) and what it produced (from the signed ledger)." }
            table.samples {
                tr { th { "task" } th.num { "sample" } th { "prompt" } th { "output" } th.num { "score" } }
                @for x in &s.samples {
                    tr {
                        td { (x.task) }
                        td.num { (x.index) }
                        td.text { (x.prompt_text().unwrap_or_else(|| "—".into())) }
                        td.text { (x.output_text().unwrap_or_else(|| "—".into())) }
                        td.num { (x.score.map_or_else(|| "skipped".to_string(), |v| format!("{v:.6}"))) }
                    }
                }
            }
            @let pages = (s.total as usize).div_ceil(s.per_page.max(1));
            nav.pages {
                "page " (s.page + 1) " of " (pages.max(1)) " · "
                @if s.page > 0 {
                    a href={ (href) "&sync=" (s.sync_block) "&competition=" (s.competition_id) "&page=" (s.page - 1) "#samples" } { "previous" }
                }
                @if s.page + 1 < pages {
                    a href={ (href) "&sync=" (s.sync_block) "&competition=" (s.competition_id) "&page=" (s.page + 1) "#samples" } { "next" }
                }
            }
        }
    };
    layout(&format!("Model {}", m.label), None, fingerprint, body)
}

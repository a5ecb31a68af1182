//! The HTML pages, rendered with `maud` (every interpolated string is
//! escaped: hotkeys, repo names, reasons and commitments are a miner's text).

mod competition;
mod model;
mod overview;
mod pools;
mod validators;

use maud::{html, Markup, DOCTYPE};

pub use competition::competition;
pub use model::model;
pub use overview::overview;
pub use pools::pools;
pub use validators::validators;

/// The page frame: navigation, the block, the refresh script.
pub fn layout(title: &str, block: Option<u64>, fingerprint: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Gauntlet" }
                link rel="stylesheet" href="/static/style.css";
            }
            body data-fingerprint=(fingerprint) {
                header {
                    a.brand href="/" { "Gauntlet" }
                    a href="/" { "Competitions" }
                    a href="/validators" { "Validators" }
                    a href="/pools" { "Pools" }
                    span.block {
                        @if let Some(b) = block { "block " (b) }
                        " " span #live {}
                    }
                }
                main { (body) }
                footer { "The data of every page is JSON under " code { "/api/" } " (docs/DASHBOARD.md)." }
                script src="/static/refresh.js" {}
            }
        }
    }
}

/// An error page.
pub fn error(status: u16, message: &str) -> Markup {
    layout(
        "Error",
        None,
        "",
        html! { h1 { "Error " (status) } p { (message) } },
    )
}

/// A fraction as a percentage with one decimal.
pub(crate) fn percent(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// A score (a loss) with four decimals, or `inf`.
pub(crate) fn score(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "inf".into(), |v| format!("{v:.4}"))
}

/// A hotkey cut to its first and last characters, with the whole in the title.
pub(crate) fn short_key(key: &str) -> Markup {
    let chars: Vec<char> = key.chars().collect();
    let short = if chars.len() > 14 {
        format!(
            "{}…{}",
            chars[..6].iter().collect::<String>(),
            chars[chars.len() - 6..].iter().collect::<String>()
        )
    } else {
        key.to_string()
    };
    html! { span.mono.key title=(key) { (short) } }
}

/// The link to a model's page.
pub(crate) fn model_href(hotkey: &str, commitment: &str) -> String {
    format!(
        "/model?hotkey={}&commitment={}",
        urlencode(hotkey),
        urlencode(commitment)
    )
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A verdict as a badge.
pub(crate) fn verdict(label: &str) -> Markup {
    let class = match label {
        "evaluated" | "disqualified" | "copy" => label,
        _ => "failed",
    };
    html! { span.badge.(class) { (label) } }
}

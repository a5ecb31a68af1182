//! Reference entrants: API-hosted models a competition file lists beside
//! the miners' (`[[references]]`). They are evaluated on the same items and
//! shown on the leaderboard marked as references; they never receive weight.

use std::path::PathBuf;

use crate::error::CompetitionError;
use crate::raw::ReferenceTable;

/// One API-hosted entrant.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceEntrant {
    /// Its name on the leaderboard, unique within the competition.
    pub name: String,
    /// The endpoint and model: `openai:BASE_URL#MODEL`.
    pub model: String,
    /// The environment variable holding its API key, if it needs one.
    pub api_key_env: Option<String>,
    /// A model directory whose chat template renders chat prompts for
    /// log-prob scoring (relative paths are relative to the working
    /// directory).
    pub chat_template: Option<PathBuf>,
    /// The server's API dialect (`gauntlet`, `vllm`, `llama-cpp`, `openai`);
    /// `openai` when absent.
    pub dialect: String,
    /// US dollars per million prompt and generated tokens, for the accounting.
    pub prices: Option<(f64, f64)>,
}

/// Validates the `[[references]]` of file `f`.
pub(crate) fn references(
    tables: Vec<ReferenceTable>,
    f: &str,
) -> Result<Vec<ReferenceEntrant>, CompetitionError> {
    let mut out: Vec<ReferenceEntrant> = Vec::with_capacity(tables.len());
    for (i, t) in tables.into_iter().enumerate() {
        let bad = |field: &str, msg: &str| {
            CompetitionError::invalid(f, format!("references[{i}].{field}"), msg.to_string())
        };
        let name = t.name.trim().to_owned();
        if name.is_empty() {
            return Err(bad("name", "must be non-empty"));
        }
        if out.iter().any(|r| r.name.eq_ignore_ascii_case(&name)) {
            return Err(bad("name", "is used by another reference"));
        }
        let Some(rest) = t.model.strip_prefix("openai:") else {
            return Err(bad("model", "must be openai:BASE_URL#MODEL"));
        };
        if !rest.contains('#') || !(rest.starts_with("http://") || rest.starts_with("https://")) {
            return Err(bad("model", "must be openai:BASE_URL#MODEL"));
        }
        let dialect = t.dialect.unwrap_or_else(|| "openai".into());
        if !["gauntlet", "vllm", "llama-cpp", "openai"].contains(&dialect.as_str()) {
            return Err(bad(
                "dialect",
                "must be gauntlet, vllm, llama-cpp or openai",
            ));
        }
        let prices = match (t.price_prompt, t.price_completion) {
            (None, None) => None,
            (p, c) => {
                let (p, c) = (p.unwrap_or(0.0), c.unwrap_or(0.0));
                if !(p.is_finite() && c.is_finite() && p >= 0.0 && c >= 0.0) {
                    return Err(bad("price_prompt", "prices must be finite and ≥ 0"));
                }
                Some((p, c))
            }
        };
        out.push(ReferenceEntrant {
            name,
            model: t.model,
            api_key_env: t.api_key_env,
            chat_template: t.chat_template.map(PathBuf::from),
            dialect,
            prices,
        });
    }
    Ok(out)
}

//! Reading JSONL inputs with errors that name the file, the line and the field.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

/// Parses every line of `path` as a `T`; an empty or malformed line is an error.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            bail!(
                "{}:{n}: empty line (every line must be one JSON object)",
                path.display()
            );
        }
        let v: T = serde_json::from_str(line)
            .with_context(|| format!("{}:{n}: malformed line", path.display()))?;
        out.push(v);
    }
    if out.is_empty() {
        bail!("{}: no input lines", path.display());
    }
    Ok(out)
}

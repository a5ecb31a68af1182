//! Google's IFEval prompts (`input_data.jsonl`, 541 rows, Apache-2.0; from
//! the `google/IFEval` dataset on the Hugging Face Hub — no package registry
//! ships it, so the user places it in the cache or points
//! `GAUNTLET_IFEVAL_FILE` at it).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::jsonl::read_jsonl;
use crate::DatasetError;

/// One IFEval prompt with its instructions and their arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoogleIfevalRow {
    /// The row's key.
    pub key: u64,
    /// The prompt.
    pub prompt: String,
    /// Instruction ids, e.g. `punctuation:no_comma`.
    pub instruction_id_list: Vec<String>,
    /// One argument object per instruction (possibly empty).
    pub kwargs: Vec<Map<String, Value>>,
}

/// Reads `input_data.jsonl`; the instruction and kwargs lists must have the
/// same length.
pub fn read_google_ifeval(path: &Path) -> Result<Vec<GoogleIfevalRow>, DatasetError> {
    read_jsonl(path)?
        .iter()
        .map(|rec| {
            let instruction_id_list = rec.str_list("instruction_id_list")?;
            let kwargs = rec
                .array("kwargs")?
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok(m.clone()),
                    Value::Null => Ok(Map::new()),
                    other => Err(rec.bad(
                        "kwargs",
                        format!("element {i}: expected an object, got {other}"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if kwargs.len() != instruction_id_list.len() {
                return Err(rec.bad(
                    "kwargs",
                    format!(
                        "{} entries for {} instructions",
                        kwargs.len(),
                        instruction_id_list.len()
                    ),
                ));
            }
            Ok(GoogleIfevalRow {
                key: rec.u64("key")?,
                prompt: rec.str("prompt")?.to_string(),
                instruction_id_list,
                kwargs,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_checks_lengths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("input_data.jsonl");
        std::fs::write(
            &p,
            r#"{"key": 7, "prompt": "p", "instruction_id_list": ["a:b", "c:d"], "kwargs": [{}, {"n": 3}]}"#,
        )
        .unwrap();
        let rows = read_google_ifeval(&p).unwrap();
        assert_eq!(rows[0].key, 7);
        assert_eq!(rows[0].kwargs[1]["n"], 3);
        std::fs::write(
            &p,
            r#"{"key": 7, "prompt": "p", "instruction_id_list": ["a:b"], "kwargs": []}"#,
        )
        .unwrap();
        assert!(read_google_ifeval(&p)
            .unwrap_err()
            .to_string()
            .contains("0 entries for 1 instructions"));
        std::fs::write(
            &p,
            r#"{"key": -1, "prompt": "p", "instruction_id_list": [], "kwargs": []}"#,
        )
        .unwrap();
        assert!(read_google_ifeval(&p)
            .unwrap_err()
            .to_string()
            .contains("field `key`"));
    }

    /// The real file of the shared data folder, when this checkout has it.
    #[test]
    fn reads_the_shared_file_when_present() {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ifeval/input_data.jsonl");
        if !p.exists() {
            eprintln!("skipped: {} absent", p.display());
            return;
        }
        let rows = read_google_ifeval(&p).unwrap();
        assert_eq!(rows.len(), 541);
        assert!(rows.iter().all(|r| !r.instruction_id_list.is_empty()));
    }
}

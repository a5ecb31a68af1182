//! Parquet shards of the Hugging Face Hub datasets, read eagerly with polars
//! (only the columns a pool needs). Rows with a null in a needed column are
//! skipped; a missing column or a column of the wrong type is an error
//! naming the file and the column.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::mmlu::{check_row, McRow, LETTERS};
use super::reasoning::ReasoningTrace;
use crate::DatasetError;

/// SYNTHETIC-1 task types the reference keeps.
pub const SYNTHETIC_1_TASK_TYPES: [&str; 2] = ["verifiable_math", "code_output_prediction"];

fn err(path: &Path, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::Parquet {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Reads the named columns of a parquet file.
pub fn read_columns(path: &Path, columns: &[&str]) -> Result<DataFrame, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| err(path, e))?;
    for c in columns {
        if !schema.contains(c) {
            let have: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
            return Err(err(
                path,
                format!("no column `{c}` (columns: {})", have.join(", ")),
            ));
        }
    }
    reader
        .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
        .finish()
        .map_err(|e| err(path, e))
}

/// A string column as options (null ⇒ `None`).
pub fn string_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
) -> Result<Vec<Option<String>>, DatasetError> {
    let col = df.column(name).map_err(|e| err(path, e))?;
    let ca = col.str().map_err(|_| {
        err(
            path,
            format!("column `{name}`: expected strings, got {}", col.dtype()),
        )
    })?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

fn string_list_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
) -> Result<Vec<Option<Vec<String>>>, DatasetError> {
    let col = df.column(name).map_err(|e| err(path, e))?;
    let bad = || {
        err(
            path,
            format!(
                "column `{name}`: expected lists of strings, got {}",
                col.dtype()
            ),
        )
    };
    let ca = col.list().map_err(|_| bad())?;
    (0..ca.len())
        .map(|i| {
            let row = ca.get_as_series(i);
            row.map(|s| {
                let strs = s.str().map_err(|_| bad())?;
                Ok(strs
                    .iter()
                    .map(|v| v.unwrap_or_default().to_string())
                    .collect())
            })
            .transpose()
        })
        .collect()
}

/// One row's chat: `(role, content)` pairs; `None` for a null row.
type Conversation = Option<Vec<(String, String)>>;

/// `messages` as `(role, content)` lists.
fn messages_column(df: &DataFrame, path: &Path) -> Result<Vec<Conversation>, DatasetError> {
    let col = df.column("messages").map_err(|e| err(path, e))?;
    let bad = || {
        err(
            path,
            format!(
                "column `messages`: expected lists of {{role, content}}, got {}",
                col.dtype()
            ),
        )
    };
    let ca = col.list().map_err(|_| bad())?;
    (0..ca.len())
        .map(|i| {
            let row = ca.get_as_series(i);
            row.map(|s| {
                let st = s.struct_().map_err(|_| bad())?;
                let field = |n: &str| -> Result<Vec<String>, DatasetError> {
                    let f = st.field_by_name(n).map_err(|_| bad())?;
                    let strs = f.str().map_err(|_| bad())?;
                    Ok(strs
                        .iter()
                        .map(|v| v.unwrap_or_default().to_string())
                        .collect())
                };
                Ok(field("role")?.into_iter().zip(field("content")?).collect())
            })
            .transpose()
        })
        .collect()
}

/// FineWeb-edu documents (`text`).
pub fn read_hub_documents(path: &Path) -> Result<Vec<String>, DatasetError> {
    let df = read_columns(path, &["text"])?;
    Ok(string_column(&df, path, "text")?
        .into_iter()
        .flatten()
        .collect())
}

/// SYNTHETIC-1-SFT rows of the kept task types: problem = the first user
/// message, solution = the first assistant message.
pub fn read_hub_synthetic1(path: &Path) -> Result<Vec<ReasoningTrace>, DatasetError> {
    let df = read_columns(path, &["messages", "task_type"])?;
    let types = string_column(&df, path, "task_type")?;
    let messages = messages_column(&df, path)?;
    let mut out = Vec::new();
    for (t, m) in types.into_iter().zip(messages) {
        let (Some(t), Some(m)) = (t, m) else { continue };
        if !SYNTHETIC_1_TASK_TYPES.contains(&t.as_str()) {
            continue;
        }
        let first = |role: &str| m.iter().find(|(r, _)| r == role).map(|(_, c)| c.clone());
        if let (Some(problem), Some(solution)) = (first("user"), first("assistant")) {
            out.push(ReasoningTrace { problem, solution });
        }
    }
    Ok(out)
}

/// codeforces-cots rows: problem = `prompt`, solution = `generation`.
pub fn read_hub_codeforces(path: &Path) -> Result<Vec<ReasoningTrace>, DatasetError> {
    let df = read_columns(path, &["prompt", "generation"])?;
    let prompts = string_column(&df, path, "prompt")?;
    let generations = string_column(&df, path, "generation")?;
    Ok(prompts
        .into_iter()
        .zip(generations)
        .filter_map(|(p, g)| {
            Some(ReasoningTrace {
                problem: p?,
                solution: g?,
            })
        })
        .collect())
}

/// `cais/mmlu` rows: `question`, `choices` (4 strings), `answer` (0–3).
pub fn read_hub_mmlu(path: &Path) -> Result<Vec<McRow>, DatasetError> {
    let df = read_columns(path, &["question", "choices", "answer"])?;
    let questions = string_column(&df, path, "question")?;
    let choices = string_list_column(&df, path, "choices")?;
    let answer_col = df.column("answer").map_err(|e| err(path, e))?;
    let answers = answer_col.cast(&DataType::Int64).map_err(|_| {
        err(
            path,
            format!(
                "column `answer`: expected integers, got {}",
                answer_col.dtype()
            ),
        )
    })?;
    let answers = answers.i64().map_err(|e| err(path, e))?;
    let mut out = Vec::new();
    for (row, ((q, c), a)) in questions
        .into_iter()
        .zip(choices)
        .zip(answers.iter())
        .enumerate()
    {
        let (Some(question), Some(choices), Some(a)) = (q, c, a) else {
            continue;
        };
        let letter = usize::try_from(a)
            .ok()
            .and_then(|i| LETTERS.get(i))
            .ok_or_else(|| {
                DatasetError::bad_field(path, row + 1, "answer", format!("expected 0–3, got {a}"))
            })?;
        let r = McRow {
            question,
            choices,
            answer: letter.to_string(),
        };
        check_row(&r, path, row + 1)?;
        out.push(r);
    }
    Ok(out)
}

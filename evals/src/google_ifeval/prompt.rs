//! IFEval prompts and the dataset's JSON-lines format
//! (`{"key", "prompt", "instruction_id_list", "kwargs"}` per line).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::IfevalError;
use super::instruction::Instruction;

/// One IFEval prompt with its verifiable instructions. Deserialising one
/// (a job's or a published item's JSON) validates every instruction as the
/// dataset's parser does ([`Instruction::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedPrompt")]
pub struct IfevalPrompt {
    /// The dataset's key.
    pub key: i64,
    /// The request put to the model as one user turn.
    pub prompt: String,
    /// The instructions the response must follow.
    pub instructions: Vec<Instruction>,
}

/// An [`IfevalPrompt`] as deserialised, before its instructions are checked.
#[derive(Deserialize)]
struct UncheckedPrompt {
    key: i64,
    prompt: String,
    instructions: Vec<Instruction>,
}

impl TryFrom<UncheckedPrompt> for IfevalPrompt {
    type Error = IfevalError;

    fn try_from(raw: UncheckedPrompt) -> Result<Self, IfevalError> {
        for instruction in &raw.instructions {
            instruction.validate()?;
        }
        Ok(Self {
            key: raw.key,
            prompt: raw.prompt,
            instructions: raw.instructions,
        })
    }
}

impl IfevalPrompt {
    /// Parses one dataset row.
    pub fn from_json(row: &Value) -> Result<Self, IfevalError> {
        let bad = |reason: &str| IfevalError::BadRow {
            line: 0,
            reason: reason.to_owned(),
        };
        let key = row
            .get("key")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("\"key\" must be an integer"))?;
        let prompt = row
            .get("prompt")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("\"prompt\" must be a string"))?
            .to_owned();
        let ids = row
            .get("instruction_id_list")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("\"instruction_id_list\" must be a list"))?;
        let kwargs = row
            .get("kwargs")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("\"kwargs\" must be a list"))?;
        if ids.len() != kwargs.len() {
            return Err(bad(
                "\"instruction_id_list\" and \"kwargs\" differ in length",
            ));
        }
        let empty = serde_json::Map::new();
        let instructions = ids
            .iter()
            .zip(kwargs)
            .map(|(id, kw)| {
                let id = id
                    .as_str()
                    .ok_or_else(|| bad("instruction ids must be strings"))?;
                let kw = match kw {
                    Value::Object(m) => m,
                    Value::Null => &empty,
                    _ => return Err(bad("each kwargs entry must be an object")),
                };
                Instruction::parse(id, kw)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            key,
            prompt,
            instructions,
        })
    }
}

/// Parses the dataset's JSON lines (blank lines are skipped); an error names
/// its 1-based line.
pub fn parse_jsonl(text: &str) -> Result<Vec<IfevalPrompt>, IfevalError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at_line = |e: IfevalError| match e {
            IfevalError::BadRow { reason, .. } => IfevalError::BadRow {
                line: i + 1,
                reason,
            },
            other => IfevalError::Row {
                line: i + 1,
                source: Box::new(other),
            },
        };
        let row: Value = serde_json::from_str(line).map_err(|e| IfevalError::BadRow {
            line: i + 1,
            reason: format!("not JSON: {e}"),
        })?;
        out.push(IfevalPrompt::from_json(&row).map_err(at_line)?);
    }
    Ok(out)
}

/// Reads and parses a JSON-lines file such as the `google/IFEval`
/// dataset's `ifeval_input_data.jsonl`.
pub fn read_jsonl(path: &Path) -> Result<Vec<IfevalPrompt>, IfevalError> {
    let text = std::fs::read_to_string(path).map_err(|source| IfevalError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_jsonl(&text)
}

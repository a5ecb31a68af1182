//! One evaluation's samples as an observer reads them: each sample's score
//! (the validator's state), the item the model was given (the round's
//! published items, when the dashboard knows the ledger directory) and what
//! the model produced (the signed ledger record, which the state keeps).
//!
//! Everything here is what a miner's model wrote or what a dataset holds:
//! pages render it as text (maud escapes it), never as markup.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// Bytes of a round's items file read at most.
const MAX_ITEMS_BYTES: u64 = 1 << 30;
/// Characters of a prompt or an output shown in a table cell.
const CELL_CHARS: usize = 400;

/// One sample of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleView {
    /// The task.
    pub task: String,
    /// The sample's index in the task's draw.
    pub index: u64,
    /// Its score; `None` for a sample that could not be scored.
    pub score: Option<f64>,
    /// The item the model was given, as published with the round; `None`
    /// when the dashboard has no ledger directory or the round is not in it.
    pub item: Option<Value>,
    /// What the model produced, as the signed ledger record holds it
    /// (`{"text"}`, `{"texts"}`, `{"losses"}` or `{"choice_logprobs"}`);
    /// `None` when the record kept none.
    pub output: Option<Value>,
}

impl SampleView {
    /// The item's prompt as text, shortened for a table cell.
    pub fn prompt_text(&self) -> Option<String> {
        self.item.as_ref().map(|i| shorten(&prompt_of(i)))
    }

    /// The output as text, shortened for a table cell: the text itself, the
    /// texts joined, or a summary of the numbers.
    pub fn output_text(&self) -> Option<String> {
        self.output.as_ref().map(|o| shorten(&describe_output(o)))
    }
}

/// Each `(task, index)`'s item from the round's items file
/// (`<ledger>/rounds/<sync>/items-<competition>.jsonl`), for `wanted` only.
/// A missing or unreadable file gives none: prompts are then not shown.
pub(crate) fn items(
    ledger: &Path,
    sync: u64,
    competition: u16,
    wanted: &[(String, u64)],
) -> BTreeMap<(String, u64), Value> {
    let path = ledger
        .join("rounds")
        .join(sync.to_string())
        .join(format!("items-{competition}.jsonl"));
    let mut text = String::new();
    let read =
        std::fs::File::open(&path).and_then(|f| f.take(MAX_ITEMS_BYTES).read_to_string(&mut text));
    if let Err(e) = read {
        tracing::debug!(path = %path.display(), error = %e, "no published items");
        return BTreeMap::new();
    }
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(task), Some(index)) = (v["task"].as_str(), v["index"].as_u64()) else {
            continue;
        };
        let key = (task.to_string(), index);
        if wanted.contains(&key) {
            out.insert(key, v["item"].clone());
        }
    }
    out
}

/// Each `(task, index)`'s output from a signed ledger line, for `wanted`.
pub(crate) fn outputs(line: &str, wanted: &[(String, u64)]) -> BTreeMap<(String, u64), Value> {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for s in v["record"]["samples"].as_array().into_iter().flatten() {
        let (Some(task), Some(index)) = (s["task"].as_str(), s["index"].as_u64()) else {
            continue;
        };
        let key = (task.to_string(), index);
        if !s["output"].is_null() && wanted.contains(&key) {
            out.insert(key, s["output"].clone());
        }
    }
    out
}

/// The text a model was prompted with: the item's question, prompt(s),
/// text or chat messages when it has one of those fields, else its JSON.
fn prompt_of(item: &Value) -> String {
    if let Some(s) = item.as_str() {
        return s.to_string();
    }
    for field in ["question", "prompt", "text", "context"] {
        if let Some(s) = item[field].as_str() {
            return s.to_string();
        }
    }
    if let Some(messages) = item["messages"].as_array() {
        let turns: Vec<String> = messages
            .iter()
            .filter_map(|m| {
                let content = m["content"].as_str()?;
                Some(match m["role"].as_str() {
                    Some(role) => format!("{role}: {content}"),
                    None => content.to_string(),
                })
            })
            .collect();
        if !turns.is_empty() {
            return turns.join("\n");
        }
    }
    if let Some(prompts) = item["prompts"].as_array() {
        let texts: Vec<&str> = prompts.iter().filter_map(Value::as_str).collect();
        if !texts.is_empty() {
            return texts.join(" ‖ ");
        }
    }
    item.to_string()
}

/// An output as a person reads it.
fn describe_output(output: &Value) -> String {
    if let Some(t) = output["text"].as_str() {
        return t.to_string();
    }
    if let Some(ts) = output["texts"].as_array() {
        return ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" ‖ ");
    }
    if let Some(l) = output["losses"].as_array() {
        let xs: Vec<f64> = l.iter().filter_map(Value::as_f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        return format!("{} token losses, mean {mean:.4} nats", xs.len());
    }
    if let Some(l) = output["choice_logprobs"].as_array() {
        let xs: Vec<String> = l
            .iter()
            .filter_map(Value::as_f64)
            .map(|x| format!("{x:.3}"))
            .collect();
        return format!("choice log-probabilities {}", xs.join(", "));
    }
    output.to_string()
}

/// At most [`CELL_CHARS`] characters, with an ellipsis when cut.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompts_and_outputs_read_as_text() {
        assert_eq!(
            prompt_of(&json!({"question": "2+2?", "answer": "B"})),
            "2+2?"
        );
        assert_eq!(prompt_of(&json!({"prompts": ["a", "b"]})), "a ‖ b");
        assert_eq!(
            prompt_of(&json!({"messages": [{"role": "user", "content": "Sort: b a"}]})),
            "user: Sort: b a"
        );
        assert_eq!(
            prompt_of(&json!("Melbourne's weather")),
            "Melbourne's weather"
        );
        assert_eq!(prompt_of(&json!({"x": 1})), "{\"x\":1}");
        assert_eq!(describe_output(&json!({"text": "B"})), "B");
        assert_eq!(describe_output(&json!({"texts": ["x", "y"]})), "x ‖ y");
        assert_eq!(
            describe_output(&json!({"losses": [1.0, 2.0]})),
            "2 token losses, mean 1.5000 nats"
        );
        assert_eq!(
            describe_output(&json!({"choice_logprobs": [-0.5, -2.0]})),
            "choice log-probabilities -0.500, -2.000"
        );
        let long = "é".repeat(CELL_CHARS + 5);
        assert_eq!(shorten(&long).chars().count(), CELL_CHARS + 1);
    }

    #[test]
    fn items_and_outputs_are_found_by_task_and_index() {
        let tmp = tempfile::tempdir().expect("tmp");
        let round = tmp.path().join("rounds/100");
        std::fs::create_dir_all(&round).expect("dir");
        std::fs::write(
            round.join("items-7.jsonl"),
            "{\"index\":0,\"item\":{\"question\":\"q0\"},\"task\":\"MC\"}\n\
             not json\n\
             {\"index\":1,\"item\":{\"question\":\"q1\"},\"task\":\"MC\"}\n",
        )
        .expect("items");
        let wanted = vec![("MC".to_string(), 1)];
        let got = items(tmp.path(), 100, 7, &wanted);
        assert_eq!(got.len(), 1);
        assert_eq!(got[&("MC".to_string(), 1)]["question"], "q1");
        assert!(items(tmp.path(), 101, 7, &wanted).is_empty());
        let line = json!({"record": {"samples": [
            {"task": "MC", "index": 0, "output": {"text": "A"}},
            {"task": "MC", "index": 1, "output": {"text": "<b>B</b>"}},
        ]}})
        .to_string();
        let got = outputs(&line, &wanted);
        assert_eq!(got[&("MC".to_string(), 1)], json!({"text": "<b>B</b>"}));
        assert!(outputs("garbage", &wanted).is_empty());
    }
}

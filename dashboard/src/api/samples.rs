//! One evaluation's samples as an observer reads them: each sample's score
//! (the validator's state), the item the model was given (the round's
//! published items, when the dashboard knows the ledger directory) and what
//! the model produced (the signed ledger record, which the state keeps).
//!
//! Everything here is what a miner's model wrote or what a dataset holds:
//! pages render it as text (maud escapes it), never as markup.

use std::collections::BTreeMap;
use std::path::Path;

use gauntlet_ledger::{LedgerDir, Output, SignedRecord};
use serde::Serialize;
use serde_json::Value;
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

/// Each `(task, index)`'s item of a published round (`gauntlet-ledger`'s
/// ledger directory), for `wanted` only. A round not published there, or
/// unreadable, gives none: prompts are then not shown.
pub(crate) fn items(
    ledger: &Path,
    sync: u64,
    competition: u16,
    wanted: &[(String, u64)],
) -> BTreeMap<(String, u64), Value> {
    let set = match LedgerDir::new(ledger).read_round_items(sync, competition) {
        Ok(Some(set)) => set,
        Ok(None) => return BTreeMap::new(),
        Err(e) => {
            tracing::warn!(ledger = %ledger.display(), sync, error = %e, "unreadable published items");
            return BTreeMap::new();
        }
    };
    set.items
        .into_iter()
        .map(|i| ((i.task, i.index), i.item))
        .filter(|(key, _)| wanted.contains(key))
        .collect()
}

/// Each `(task, index)`'s output from a signed ledger line, for `wanted`.
pub(crate) fn outputs(line: &str, wanted: &[(String, u64)]) -> BTreeMap<(String, u64), Value> {
    let Ok(signed) = SignedRecord::from_line(line, "validator state", 1) else {
        return BTreeMap::new();
    };
    signed
        .record
        .samples
        .into_iter()
        .filter_map(|s| {
            let key = (s.task, s.index);
            // Observers read losses as numbers, whichever form the ledger packs them in.
            let output = match s.output? {
                Output::LossesF32(l) => Output::Losses(l),
                other => other,
            };
            let output = serde_json::to_value(output).ok()?;
            wanted.contains(&key).then_some((key, output))
        })
        .collect()
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
    use gauntlet_ledger::testing::record_for;
    use gauntlet_ledger::{Digest, Item, ItemSet, KeypairSigner, Output};
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
        let dir = LedgerDir::new(tmp.path());
        let items = ItemSet {
            items: (0..2)
                .map(|i| Item {
                    task: "MC".into(),
                    index: i,
                    item: json!({ "question": format!("q{i}") }),
                    private: false,
                })
                .collect(),
        };
        dir.write_round(100, &[(7, "c".into(), items.clone())])
            .expect("round");
        let wanted = vec![("MC".to_string(), 1)];
        let got = super::items(tmp.path(), 100, 7, &wanted);
        assert_eq!(got.len(), 1);
        assert_eq!(got[&("MC".to_string(), 1)]["question"], "q1");
        assert!(super::items(tmp.path(), 101, 7, &wanted).is_empty());

        let mut record = record_for(&items, 1, &[1.25, 1.0], Digest::ZERO);
        record.samples[0].output = Some(Output::LossesF32(vec![1.0, 1.5]));
        record.samples[1].output = Some(Output::Text("<b>B</b>".into()));
        let signer = KeypairSigner::from_seed(&[5; 32]).expect("key");
        let line = SignedRecord::sign(record, &signer).expect("sign").to_line();
        let got = outputs(&line, &wanted);
        assert_eq!(got.len(), 1);
        assert_eq!(got[&("MC".to_string(), 1)], json!({"text": "<b>B</b>"}));
        // Packed losses reach observers as numbers.
        let both = vec![("MC".to_string(), 0), ("MC".to_string(), 1)];
        let got = outputs(&line, &both);
        assert_eq!(got[&("MC".to_string(), 0)], json!({"losses": [1.0, 1.5]}));
        assert!(outputs("garbage", &wanted).is_empty());
    }
}

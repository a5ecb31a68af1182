//! Evaluation items: their canonical encoding and hash, and a round's item set.
//!
//! An item is one sample a task asks every model (a question with its choices and answer, a
//! text to score, an instruction with its checks). Its canonical bytes are the canonical JSON
//! of `{"item": <the item's own fields>, "task": <the task's name>}`, and its hash is the
//! SHA-256 of those bytes. A round's items, in order (tasks in the competition's order, each
//! task's items in draw order), are its [`ItemSet`]; their Merkle root is what the validator
//! commits on chain before evaluating.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::to_canonical;
use crate::digest::Digest;
use crate::error::LedgerError;
use crate::merkle;

/// One evaluation item of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The task's name, as the competition names it.
    pub task: String,
    /// The item's position in the task's draw.
    pub index: u64,
    /// The item's own fields, as the task's file format has them.
    pub item: Value,
    /// Whether it came from the validator's private pool (`validator run
    /// --private-data`) rather than the public draw from the round's seed.
    /// Not part of the canonical bytes: the hash is the content's alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

impl Item {
    /// The canonical bytes: canonical JSON of `{"item": fields, "task": name}`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        map.insert("item".into(), self.item.clone());
        map.insert("task".into(), Value::String(self.task.clone()));
        to_canonical(&Value::Object(map))
    }

    /// The item hash: SHA-256 of the canonical bytes.
    pub fn hash(&self) -> Digest {
        Digest::of(&self.canonical_bytes())
    }
}

/// A round's items, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemSet {
    /// The items.
    pub items: Vec<Item>,
}

impl ItemSet {
    /// The item hashes, in order.
    pub fn hashes(&self) -> Vec<Digest> {
        self.items.iter().map(Item::hash).collect()
    }

    /// The Merkle root of the item hashes.
    pub fn root(&self) -> Digest {
        merkle::root(&self.hashes())
    }

    /// The items as JSON Lines, one canonical item per line.
    pub fn to_jsonl(&self) -> Result<String, LedgerError> {
        let mut out = String::new();
        for item in &self.items {
            let bytes = crate::canonical::to_canonical_of(item).map_err(LedgerError::encode)?;
            out.push_str(&String::from_utf8_lossy(&bytes));
            out.push('\n');
        }
        Ok(out)
    }

    /// Reads items from JSON Lines (blank lines skipped); `source` names the file in errors.
    pub fn from_jsonl(text: &str, source: &str) -> Result<ItemSet, LedgerError> {
        let mut items = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let item: Item = serde_json::from_str(line).map_err(|e| LedgerError::Malformed {
                source_name: source.to_string(),
                line: n + 1,
                reason: e.to_string(),
            })?;
            items.push(item);
        }
        Ok(ItemSet { items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(task: &str, index: u64, q: &str) -> Item {
        Item {
            task: task.into(),
            index,
            item: json!({"question": q, "choices": ["a", "b"], "answer": "B"}),
            private: false,
        }
    }

    #[test]
    fn canonical_bytes_are_stated_form() {
        let it = item("mmlu", 3, "Why?");
        assert_eq!(
            String::from_utf8(it.canonical_bytes()).expect("utf8"),
            r#"{"item":{"answer":"B","choices":["a","b"],"question":"Why?"},"task":"mmlu"}"#
        );
        // The index is a position, not content: the same question hashes the same.
        assert_eq!(it.hash(), item("mmlu", 9, "Why?").hash());
        assert_ne!(it.hash(), item("arc", 3, "Why?").hash());
        // Private or public, the same content hashes the same.
        let private = Item {
            private: true,
            ..it.clone()
        };
        assert_eq!(private.hash(), it.hash());
    }

    #[test]
    fn jsonl_round_trips_and_keeps_root() {
        let set = ItemSet {
            items: vec![
                item("a", 0, "x"),
                item("a", 1, "y"),
                Item {
                    private: true,
                    ..item("b", 0, "z")
                },
            ],
        };
        let text = set.to_jsonl().expect("encode");
        assert!(text
            .lines()
            .nth(2)
            .is_some_and(|l| l.contains("\"private\":true")));
        assert!(!text.lines().next().is_some_and(|l| l.contains("private")));
        let back = ItemSet::from_jsonl(&text, "items.jsonl").expect("decode");
        assert_eq!(back, set);
        assert_eq!(back.root(), set.root());
    }

    #[test]
    fn truncated_items_file_is_an_error() {
        let set = ItemSet {
            items: vec![item("a", 0, "x"), item("a", 1, "y")],
        };
        let text = set.to_jsonl().expect("encode");
        let cut = &text[..text.len() - 10];
        let err = ItemSet::from_jsonl(cut, "items.jsonl").expect_err("truncated");
        assert!(err.to_string().contains("items.jsonl line 2"), "{err}");
    }
}

//! What the validator hands a sandboxed evaluation and what comes back: a
//! [`Job`] (JSON in a file the child reads) and [`ChildLine`]s, one JSON
//! object per line on the child's stdout.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gauntlet_competitions::Definitions;
use gauntlet_evals::SampleOutput;
use serde::{Deserialize, Serialize};

use crate::fault::Fault;
use crate::suite::early_stop::Benchmark;
use crate::suite::TaskDetail;
use crate::verdict::Verdict;

/// One model to check, load and evaluate, with everything the evaluating
/// process needs to draw the same samples as the validator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The downloaded, hash-verified revision.
    pub model_dir: PathBuf,
    /// The competition's fixed tokenizer, when it has one.
    pub tokenizer_dir: Option<PathBuf>,
    /// The competition definitions the validator runs.
    pub definitions: Definitions,
    /// The competition.
    pub competition: u16,
    /// The block whose schedule entry picks the task set.
    pub block: u64,
    /// The round's seed, hex.
    pub seed: String,
    /// The cap on every task's samples, if any.
    pub sample_cap: Option<u32>,
    /// The datasets' root directory.
    pub data_root: PathBuf,
    /// `cpu` or `cuda`.
    pub device: String,
    /// `f32`, `bf16` or `f16`; `None` takes the device's default.
    pub precision: Option<String>,
    /// Only these samples, by task (`task → indices of the draw`, scored in
    /// that order); other tasks are not run. `None`: the whole suite. For
    /// re-running a ledger's samples (`gauntlet audit --replay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<BTreeMap<String, Vec<u64>>>,
    /// Private items appended after each named task's public draw, in order
    /// (`validator run --private-data`; an auditor's re-run puts back the
    /// ones a ledger published). Each is one sample as the suite serialises it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub private: BTreeMap<String, Vec<serde_json::Value>>,
    /// The sequential test's benchmark (a competition's `early_stop`):
    /// the remaining tasks are not run once the model is clearly beaten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<Benchmark>,
    /// A file the child's allocator writes to when an allocation fails, so
    /// the parent knows an abort was a lack of memory (not a crash) without
    /// trusting anything the model could print.
    pub oom_marker: Option<PathBuf>,
}

/// One line of the child's stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "snake_case")]
pub enum ChildLine {
    /// Every check passed: the model is within the competition's limits, so
    /// running out of memory from here on is the validator's problem.
    Checked,
    /// The end, with the outcome.
    Done {
        /// What happened.
        outcome: ChildOutcome,
    },
}

/// How a sandboxed evaluation ended, as the evaluating process saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChildOutcome {
    /// The suite ran.
    Evaluated {
        /// The competition score; `None` for +inf.
        score: Option<f64>,
        /// The task outcomes.
        tasks: serde_json::Value,
        /// Per-sample scores of each task.
        details: Vec<SampleScores>,
        /// Prompts longer than the model's context (each a per-sample
        /// outcome: an empty completion).
        overlong_prompts: u64,
    },
    /// The model was rejected: its verdict.
    Rejected {
        /// Why.
        verdict: Verdict,
    },
    /// The validator's own problem: no verdict.
    Fault {
        /// What failed.
        fault: Fault,
    },
}

/// One task's per-sample scores (the wire twin of [`TaskDetail`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleScores {
    /// The task's name.
    pub name: String,
    /// One score per sample (`None`: skipped, or +inf).
    pub per_sample: Vec<Option<f64>>,
    /// What the model produced on each sample (empty when none was kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Option<SampleOutput>>,
}

impl From<&TaskDetail> for SampleScores {
    fn from(d: &TaskDetail) -> Self {
        SampleScores {
            name: d.name.clone(),
            per_sample: d
                .per_sample
                .iter()
                .map(|s| s.filter(|x| x.is_finite()))
                .collect(),
            outputs: d.outputs.clone(),
        }
    }
}

impl From<SampleScores> for TaskDetail {
    fn from(s: SampleScores) -> Self {
        TaskDetail {
            name: s.name,
            per_sample: s.per_sample,
            outputs: s.outputs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_tagged_json() {
        let line = ChildLine::Done {
            outcome: ChildOutcome::Rejected {
                verdict: Verdict::TimedOut { seconds: 3 },
            },
        };
        let json = serde_json::to_string(&line).expect("json");
        assert_eq!(
            json,
            r#"{"line":"done","outcome":{"outcome":"rejected","verdict":{"kind":"timed_out","seconds":3}}}"#
        );
        assert_eq!(
            serde_json::from_str::<ChildLine>(&json).expect("parse"),
            line
        );
        assert_eq!(
            serde_json::to_string(&ChildLine::Checked).expect("json"),
            r#"{"line":"checked"}"#
        );
    }
}

//! Worked solutions for the reference-loss reasoning tasks, offline: GSM8K
//! train (as shipped in dolma's `code_reasoning_ablations_gsm8k_code.jsonl`,
//! fields `question`, `answer`, `python`).
//!
//! - SYNTHETIC_1_SFT stand-in ([`read_gsm8k_traces`]): problem = the question,
//!   solution = the step-by-step answer ending `#### N`, with GSM8K's
//!   calculator annotations `<<48/2=24>>` removed (they are tool markup, not
//!   prose a model would write).
//! - CODEFORCES_COTS stand-in ([`read_gsm8k_code_traces`]): codeforces-cots
//!   pairs a problem with a reasoning trace that ends in a program. The
//!   closest honest match here is the same word problem, asking for a Python
//!   `solution()` function, with the step-by-step reasoning followed by the
//!   program of the `python` field in a fenced block. These are grade-school
//!   problems, far easier than Codeforces; the pool exists so the task runs
//!   offline, not as a measure of competitive-programming skill.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::jsonl::read_jsonl;
use crate::DatasetError;

/// A problem and its worked solution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReasoningTrace {
    /// The problem, as the user turn.
    pub problem: String,
    /// The worked solution ending in the final answer (the reference).
    pub solution: String,
}

/// The instruction appended to a problem in the code stand-in.
pub const CODE_INSTRUCTION: &str =
    "Write a Python function `solution()` that computes the answer and returns it.";

/// Removes GSM8K calculator annotations `<<…>>`.
pub fn strip_calculator(answer: &str) -> String {
    let mut out = String::with_capacity(answer.len());
    let mut rest = answer;
    while let Some(i) = rest.find("<<") {
        out.push_str(&rest[..i]);
        match rest[i..].find(">>") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// GSM8K as problem/solution pairs (SYNTHETIC_1_SFT stand-in).
pub fn read_gsm8k_traces(path: &Path) -> Result<Vec<ReasoningTrace>, DatasetError> {
    read_jsonl(path)?
        .iter()
        .map(|rec| {
            let answer = rec.str("answer")?;
            if !answer.contains("####") {
                return Err(rec.bad("answer", "no final `#### answer` line"));
            }
            Ok(ReasoningTrace {
                problem: rec.str("question")?.trim().to_string(),
                solution: strip_calculator(answer).trim().to_string(),
            })
        })
        .collect()
}

/// GSM8K with Python programs (CODEFORCES_COTS stand-in, see the module docs).
pub fn read_gsm8k_code_traces(path: &Path) -> Result<Vec<ReasoningTrace>, DatasetError> {
    read_jsonl(path)?
        .iter()
        .map(|rec| {
            let question = rec.str("question")?.trim();
            let steps = strip_calculator(rec.str("answer")?);
            let steps = steps.split("####").next().unwrap_or("").trim();
            let program = rec.str("python")?.trim();
            if program.is_empty() {
                return Err(rec.bad("python", "empty program"));
            }
            Ok(ReasoningTrace {
                problem: format!("{question}\n\n{CODE_INSTRUCTION}"),
                solution: format!("{steps}\n\n```python\n{program}\n```"),
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const LINE: &str = r#"{"question": "Natalia sold 48 clips in April and half as many in May. How many in total?", "answer": "In May: 48/2 = <<48/2=24>>24.\nTotal: 48+24 = <<48+24=72>>72.\n#### 72", "python": "def solution():\n    return 48 + 48 / 2"}"#;

    #[test]
    fn builds_both_stand_ins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.jsonl");
        std::fs::write(&p, LINE).unwrap();
        let t = &read_gsm8k_traces(&p).unwrap()[0];
        assert!(t.problem.starts_with("Natalia"));
        assert_eq!(
            t.solution,
            "In May: 48/2 = 24.\nTotal: 48+24 = 72.\n#### 72"
        );
        let c = &read_gsm8k_code_traces(&p).unwrap()[0];
        assert!(c.problem.ends_with(CODE_INSTRUCTION));
        assert_eq!(
            c.solution,
            "In May: 48/2 = 24.\nTotal: 48+24 = 72.\n\n```python\ndef solution():\n    return 48 + 48 / 2\n```"
        );
    }

    #[test]
    fn bad_rows_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.jsonl");
        std::fs::write(
            &p,
            r##"{"question": "q", "answer": "no marker", "python": "x"}"##,
        )
        .unwrap();
        assert!(read_gsm8k_traces(&p)
            .unwrap_err()
            .to_string()
            .contains("field `answer`"));
        std::fs::write(&p, "{\"question\": \"q\", \"answer\": \"#### 1\"}").unwrap();
        assert!(read_gsm8k_code_traces(&p)
            .unwrap_err()
            .to_string()
            .ends_with("missing field `python`"));
        assert_eq!(strip_calculator("a <<b"), "a <<b");
    }
}

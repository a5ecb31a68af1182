//! Multiple choice by log-likelihood (the lm-eval-harness way), an option
//! beside the reference's generation method: the same prompt (one user turn
//! `{question}\nA. …`, rendered with the chat template and generation
//! prompt), then the model's log-probability of each choice letter as the
//! first token of its answer; the most likely letter is the prediction (ties
//! go to the earlier letter). Raw score = fraction wrong, as for generation.
//!
//! Nothing is generated, so the method costs one forward pass per question
//! and cannot be gamed by output formatting; it measures what the model
//! knows rather than whether it answers in the expected format.

use serde::Serialize;

use crate::backend::{scorer, Backend, Capability};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore, SampleOutput};
use crate::model::ChatMessage;
use crate::multiple_choice::{letter, prompt, McItem};

/// The method's name.
const NAME: &str = "multiple_choice_likelihood";

/// Multiple choice by log-likelihood as an [`Eval`]; per-sample scores are
/// 0 (right) or 1 (wrong). The backend batches the questions its own way.
#[derive(Debug, Clone, Copy, Default)]
pub struct MultipleChoiceLikelihood;

/// One question's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LikelihoodItem {
    /// The most likely letter.
    pub pred: String,
    /// Log-probability of each choice's letter, in choice order.
    pub logprobs: Vec<f32>,
    /// Whether `pred` is the answer.
    pub correct: bool,
}

impl MultipleChoiceLikelihood {
    /// Scores every item and returns each one's outcome, in input order.
    pub fn items(
        &self,
        model: &mut dyn Backend,
        items: &[McItem],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<LikelihoodItem>, EvalError> {
        if items.is_empty() {
            return Err(EvalError::Empty);
        }
        let most = items.iter().map(|i| i.choices.len()).max().unwrap_or(0);
        if most == 0 {
            return Err(EvalError::InvalidSample("a question has no choices".into()));
        }
        // Each letter as the start of an answer.
        let letters: Vec<String> = (0..most).map(|i| letter(i).to_string()).collect();
        let contexts: Vec<Vec<ChatMessage>> = items
            .iter()
            .map(|it| vec![ChatMessage::user(prompt(it))])
            .collect();
        let scores = scorer(model, NAME)?
            .choice_logprobs(&contexts, &letters, progress)
            .map_err(EvalError::Model)?;
        if scores.len() != items.len() {
            return Err(EvalError::Model(
                format!("{} scores for {} questions", scores.len(), items.len()).into(),
            ));
        }
        Ok(items
            .iter()
            .zip(scores)
            .map(|(it, all)| {
                let logprobs: Vec<f32> = all.into_iter().take(it.choices.len()).collect();
                let pred = letter(argmax(&logprobs)).to_string();
                LikelihoodItem {
                    correct: pred == it.answer.trim(),
                    pred,
                    logprobs,
                }
            })
            .collect())
    }
}

impl Eval for MultipleChoiceLikelihood {
    type Sample = McItem;
    const NAME: &'static str = NAME;

    fn configure(_: &EvalOptions) -> Self {
        Self
    }

    fn needs(&self) -> &'static [Capability] {
        &[Capability::ChatLogprobs]
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[McItem],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let items = self.items(model, samples, progress)?;
        Ok(EvalScore::mean_of(
            items
                .iter()
                .map(|i| Some(if i.correct { 0.0 } else { 1.0 }))
                .collect(),
        )?
        .with_outputs(
            items
                .iter()
                .map(|i| Some(SampleOutput::ChoiceLogprobs(i.logprobs.clone())))
                .collect(),
        )
        .with_report(serde_json::json!({ "items": items })))
    }
}

/// Index of the largest value; the first on ties, 0 for an empty slice.
fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_prefers_the_first_on_ties() {
        assert_eq!(argmax(&[0.0, 1.0, 1.0]), 1);
        assert_eq!(argmax(&[-1.0, -3.0]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}

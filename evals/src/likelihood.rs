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

use crate::error::EvalError;
use crate::eval::{Eval, EvalScore};
use crate::model::{continuation_logprobs, ChatMessage, LanguageModel};
use crate::multiple_choice::{letter, prompt, McItem};

/// Multiple choice by log-likelihood as an [`Eval`]; per-sample scores are
/// 0 (right) or 1 (wrong).
#[derive(Debug, Clone, Copy)]
pub struct MultipleChoiceLikelihood {
    /// Questions scored per call to the model.
    pub batch_size: usize,
}

impl Default for MultipleChoiceLikelihood {
    fn default() -> Self {
        Self { batch_size: 16 }
    }
}

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
        model: &mut dyn LanguageModel,
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
        // Each letter's tokens as the start of an answer.
        let letters = (0..most)
            .map(|i| model.encode(&letter(i).to_string(), false))
            .collect::<Result<Vec<_>, _>>()
            .map_err(EvalError::Model)?;
        let single: Option<Vec<u32>> = letters
            .iter()
            .map(|t| (t.len() == 1).then(|| t[0]))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for chunk in items.chunks(crate::model::batch_size(model, self.batch_size)) {
            let prompts = chunk
                .iter()
                .map(|it| model.encode_chat(&[ChatMessage::user(prompt(it))], true))
                .collect::<Result<Vec<_>, _>>()
                .map_err(EvalError::Model)?;
            let scores = match &single {
                // Every letter is one token: one pass per prompt.
                Some(ids) => model
                    .next_token_logprobs(&prompts, ids)
                    .map_err(EvalError::Model)?,
                // Multi-token letters: score each continuation in full.
                None => {
                    continuation_logprobs(model, &prompts, &letters).map_err(EvalError::Model)?
                }
            };
            for (it, all) in chunk.iter().zip(scores) {
                let logprobs: Vec<f32> = all.into_iter().take(it.choices.len()).collect();
                let best = argmax(&logprobs);
                let pred = letter(best).to_string();
                out.push(LikelihoodItem {
                    correct: pred == it.answer.trim(),
                    pred,
                    logprobs,
                });
            }
            progress(chunk.len());
        }
        Ok(out)
    }
}

impl Eval for MultipleChoiceLikelihood {
    type Sample = McItem;

    fn evaluate(
        &self,
        model: &mut dyn LanguageModel,
        samples: &[McItem],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let items = self.items(model, samples, progress)?;
        EvalScore::mean_of(
            items
                .iter()
                .map(|i| Some(if i.correct { 0.0 } else { 1.0 }))
                .collect(),
        )
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

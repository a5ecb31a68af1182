//! Reference loss (REFERENCE §2): the prompt is rendered with the model's chat
//! template and generation prompt, the reference answer follows it, and the
//! score is the mean cross-entropy over the reference tokens only. Word
//! sorting and reasoning traces are both scored this way.
//!
//! Only the reference positions go through the lm-head
//! ([`ScoreRequest::score_from`]); the prompt is context.

use super::loss::{finish, mean_nlls, LossOptions, LossResult};
use crate::error::EvalError;
use crate::eval::{Eval, EvalScore};
use crate::model::{ChatMessage, LanguageModel, ScoreRequest};

/// One sample: the conversation before the answer and the reference answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReferencePrompt {
    /// The turns before the answer (an optional system turn and a user turn).
    pub messages: Vec<ChatMessage>,
    /// The answer whose tokens are scored.
    pub reference: String,
}

/// Reference loss as an [`Eval`]: per-sample scores are each sample's mean
/// NLL over its reference tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReferenceLoss(pub LossOptions);

impl Eval for ReferenceLoss {
    type Sample = ReferencePrompt;

    fn evaluate(
        &self,
        model: &mut dyn LanguageModel,
        samples: &[ReferencePrompt],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let r = reference_loss(model, samples, self.0, progress)?;
        Ok(r.into_score())
    }
}

/// Scores every sample; a sample whose reference is truncated away entirely
/// by `opts.max_tokens` is skipped (logged) rather than scored on nothing.
pub fn reference_loss(
    model: &mut dyn LanguageModel,
    samples: &[ReferencePrompt],
    opts: LossOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<LossResult, EvalError> {
    if samples.is_empty() {
        return Err(EvalError::Empty);
    }
    let max = opts.max_tokens.min(model.max_context()).max(2);
    let mut requests = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let mut tokens = model
            .encode_chat(&s.messages, true)
            .map_err(EvalError::Model)?;
        let context = tokens.len();
        let reference = model
            .encode(&s.reference, false)
            .map_err(EvalError::Model)?;
        tokens.extend(reference);
        if tokens.len() > max {
            tracing::warn!(
                sample = i,
                tokens = tokens.len(),
                max,
                "reference sample truncated"
            );
            tokens.truncate(max);
        }
        // An empty reference or one cut off entirely scores nothing: the
        // request then asks for no position and the sample is skipped.
        let score_from = context.max(1).min(tokens.len());
        requests.push(ScoreRequest { tokens, score_from });
    }
    let (per_sample, scored) = mean_nlls(model, &requests, opts.batch_tokens, progress)?;
    finish(per_sample, scored)
}

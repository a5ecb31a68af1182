//! Reference loss (REFERENCE §2): the prompt is rendered with the model's chat
//! template and generation prompt, the reference answer follows it, and the
//! score is the mean cross-entropy over the reference tokens only. Word
//! sorting and reasoning traces are both scored this way.
//!
//! Only the reference tokens are scored; the prompt is context (the local
//! runtime skips the lm-head there).

use super::loss::{finish, logprobs, LossOptions, LossResult};
use crate::backend::{Backend, Capability, ScoreInput};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore};
use crate::model::ChatMessage;

/// The method's name.
const NAME: &str = "reference_loss";

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
    const NAME: &'static str = NAME;

    fn configure(opts: &EvalOptions) -> Self {
        ReferenceLoss(LossOptions {
            max_tokens: opts.max_tokens,
        })
    }

    fn needs(&self) -> &'static [Capability] {
        &[Capability::ChatLogprobs]
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[ReferencePrompt],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let r = reference_loss(model, samples, self.0, progress)?;
        Ok(r.into_score())
    }
}

/// Scores every sample; a sample whose reference is truncated away entirely
/// by `opts.max_tokens` is skipped rather than scored on nothing.
pub fn reference_loss(
    model: &mut dyn Backend,
    samples: &[ReferencePrompt],
    opts: LossOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<LossResult, EvalError> {
    if samples.is_empty() {
        return Err(EvalError::Empty);
    }
    let inputs: Vec<ScoreInput> = samples
        .iter()
        .map(|s| ScoreInput {
            context: Some(s.messages.clone()),
            text: s.reference.clone(),
            max_tokens: opts.max_tokens,
        })
        .collect();
    finish(logprobs(model, NAME, &inputs, progress)?)
}

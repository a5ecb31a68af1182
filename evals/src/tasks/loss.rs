//! Shared machinery of the loss tasks: scoring every input through the
//! backend's [`Score`](crate::backend::Score) capability and averaging
//! negative log-likelihoods.

use crate::backend::{scorer, Backend, ScoreInput};
use crate::error::EvalError;

/// How loss tasks cut their inputs.
#[derive(Debug, Clone, Copy)]
pub struct LossOptions {
    /// Longest sequence scored, in tokens (the competition's sequence length,
    /// capped by the model's context); longer ones are truncated.
    pub max_tokens: usize,
}

impl Default for LossOptions {
    fn default() -> Self {
        Self { max_tokens: 4096 }
    }
}

/// The outcome of a loss task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LossResult {
    /// Mean over samples of each sample's mean NLL (nats per token).
    pub raw_score: f64,
    /// Each sample's mean NLL, in input order; `None` for a sample with no
    /// scored token (skipped, e.g. truncated away).
    pub per_sample: Vec<Option<f64>>,
    /// Tokens scored in all.
    pub scored_tokens: usize,
    /// Each sample's per-token losses (negated log-probabilities), in input
    /// order: the outputs the ledger keeps.
    #[serde(skip)]
    pub token_losses: Vec<Vec<f32>>,
}

impl LossResult {
    /// The [`EvalScore`](crate::EvalScore) of this result.
    pub fn into_score(self) -> crate::EvalScore {
        let report = serde_json::json!({ "scored_tokens": self.scored_tokens });
        crate::EvalScore {
            raw_score: self.raw_score,
            samples: self.per_sample.len(),
            per_sample: self.per_sample,
            report,
            outputs: self
                .token_losses
                .into_iter()
                .map(|l| Some(crate::SampleOutput::Losses(l)))
                .collect(),
        }
    }
}

/// Scores `inputs` and returns each one's per-token log-probabilities.
pub(crate) fn logprobs(
    model: &mut dyn Backend,
    eval: &str,
    inputs: &[ScoreInput],
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<f32>>, EvalError> {
    let lps = scorer(model, eval)?
        .logprobs(inputs, progress)
        .map_err(EvalError::Model)?;
    if lps.len() != inputs.len() {
        return Err(EvalError::Model(
            format!("{} results for {} inputs", lps.len(), inputs.len()).into(),
        ));
    }
    Ok(lps)
}

/// Mean of per-token losses, added one by one in order in f64 (what a
/// ledger reader recomputes from the losses it is given); `None` when empty.
fn mean_loss(losses: &[f32]) -> Option<f64> {
    if losses.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    for &l in losses {
        sum += f64::from(l);
    }
    Some(sum / losses.len() as f64)
}

/// Builds a [`LossResult`] from each sample's per-token log-probabilities:
/// its losses are their negations, its score their mean (`None` when it has
/// no scored token), the raw score the mean of the samples that have one; no
/// such sample is [`EvalError::Empty`].
pub(crate) fn finish(logprobs: Vec<Vec<f32>>) -> Result<LossResult, EvalError> {
    let scored_tokens = logprobs.iter().map(Vec::len).sum();
    let token_losses: Vec<Vec<f32>> = logprobs
        .into_iter()
        .map(|lp| lp.into_iter().map(|l| -l).collect())
        .collect();
    let s = crate::EvalScore::mean_of(token_losses.iter().map(|l| mean_loss(l)).collect())?;
    Ok(LossResult {
        raw_score: s.raw_score,
        per_sample: s.per_sample,
        scored_tokens,
        token_losses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_loss_adds_in_order_in_f64() {
        assert_eq!(mean_loss(&[]), None);
        let m = mean_loss(&[1.0, 2.0, 3.0]).expect("non-empty");
        assert!((m - 2.0).abs() < 1e-12);
        // In order, as a ledger reader adds them: (1e8 + 1) − 1e8 = 1 in f64.
        assert_eq!(mean_loss(&[1e8, 1.0, -1e8]), Some(1.0 / 3.0));
    }

    #[test]
    fn finish_skips_empty_samples() {
        let r = finish(vec![vec![-1.0], vec![], vec![-3.0, -3.0]]).expect("some losses");
        assert!((r.raw_score - 2.0).abs() < 1e-12);
        assert_eq!(r.per_sample, vec![Some(1.0), None, Some(3.0)]);
        assert_eq!(r.scored_tokens, 3);
        assert_eq!(r.token_losses, vec![vec![1.0], vec![], vec![3.0, 3.0]]);
        let score = r.into_score();
        assert_eq!(score.outputs.len(), 3);
        assert_eq!(
            score.outputs[2],
            Some(crate::SampleOutput::Losses(vec![3.0, 3.0]))
        );
        assert!(matches!(finish(vec![vec![]]), Err(EvalError::Empty)));
    }
}

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
        }
    }
}

/// Scores `inputs` and returns each one's mean NLL (`None` when it has no
/// scored token) and the number of tokens scored.
pub(crate) fn mean_nlls(
    model: &mut dyn Backend,
    eval: &str,
    inputs: &[ScoreInput],
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<Option<f64>>, usize), EvalError> {
    let lps = scorer(model, eval)?
        .logprobs(inputs, progress)
        .map_err(EvalError::Model)?;
    if lps.len() != inputs.len() {
        return Err(EvalError::Model(
            format!("{} results for {} inputs", lps.len(), inputs.len()).into(),
        ));
    }
    let scored = lps.iter().map(Vec::len).sum();
    Ok((lps.iter().map(|lp| mean_nll(lp)).collect(), scored))
}

/// Mean negative log-probability, accumulated in f64; `None` when empty.
pub(crate) fn mean_nll(logprobs: &[f32]) -> Option<f64> {
    if logprobs.is_empty() {
        return None;
    }
    let sum: f64 = logprobs.iter().map(|&l| -f64::from(l)).sum();
    Some(sum / logprobs.len() as f64)
}

/// Builds a [`LossResult`] from per-sample losses: the raw score is the mean
/// of the samples that have one; no such sample is [`EvalError::Empty`].
pub(crate) fn finish(
    per_sample: Vec<Option<f64>>,
    scored_tokens: usize,
) -> Result<LossResult, EvalError> {
    let s = crate::EvalScore::mean_of(per_sample)?;
    Ok(LossResult {
        raw_score: s.raw_score,
        per_sample: s.per_sample,
        scored_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_nll_is_negated_mean() {
        assert_eq!(mean_nll(&[]), None);
        let m = mean_nll(&[-1.0, -2.0, -3.0]).expect("non-empty");
        assert!((m - 2.0).abs() < 1e-12);
    }

    #[test]
    fn finish_skips_empty_samples() {
        let r = finish(vec![Some(1.0), None, Some(3.0)], 7).expect("some losses");
        assert!((r.raw_score - 2.0).abs() < 1e-12);
        assert_eq!(r.scored_tokens, 7);
        assert!(matches!(finish(vec![None], 0), Err(EvalError::Empty)));
    }
}

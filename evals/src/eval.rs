//! The eval-method trait: prepared samples in, one raw score out.
//!
//! Every method — multiple choice (by generation or by log-likelihood),
//! reference loss, text loss, the synthetic IFEval and Google's IFEval — is
//! one small implementation of [`Eval`]. Samples arrive prepared (drawn by
//! `gauntlet-datasets` from a round's seed), so an implementation only runs
//! the model and scores; it never draws randomness and never panics on what
//! the model does.
//!
//! # Example
//! ```
//! use gauntlet_evals::{Eval, EvalError, EvalScore, LanguageModel};
//!
//! /// Scores each text by its length in tokens (a toy "loss").
//! struct Length;
//!
//! impl Eval for Length {
//!     type Sample = String;
//!     fn evaluate(
//!         &self,
//!         model: &mut dyn LanguageModel,
//!         samples: &[String],
//!         progress: &mut dyn FnMut(usize),
//!     ) -> Result<EvalScore, EvalError> {
//!         let mut per_sample = Vec::new();
//!         for s in samples {
//!             let n = model.encode(s, false).map_err(EvalError::Model)?.len();
//!             per_sample.push(Some(n as f64));
//!             progress(1);
//!         }
//!         EvalScore::mean_of(per_sample)
//!     }
//! }
//! ```

use crate::error::EvalError;
use crate::model::LanguageModel;

/// What an eval method returns for one task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalScore {
    /// The task's raw score: a loss, lower is better.
    pub raw_score: f64,
    /// Samples evaluated (pairs for the synthetic IFEval).
    pub samples: usize,
    /// One score per scored unit in input order (`None`: skipped), kept by
    /// the validator as per-sample scores.
    pub per_sample: Vec<Option<f64>>,
}

impl EvalScore {
    /// Raw score = the mean of the per-sample scores that exist; none at
    /// all is [`EvalError::Empty`].
    pub fn mean_of(per_sample: Vec<Option<f64>>) -> Result<EvalScore, EvalError> {
        let scored: Vec<f64> = per_sample.iter().flatten().copied().collect();
        if scored.is_empty() {
            return Err(EvalError::Empty);
        }
        Ok(EvalScore {
            raw_score: scored.iter().sum::<f64>() / scored.len() as f64,
            samples: per_sample.len(),
            per_sample,
        })
    }
}

/// One eval method.
pub trait Eval {
    /// One prepared sample.
    type Sample;

    /// Units of work `samples` will report through `progress` (one per
    /// sample unless the method says otherwise).
    fn work(&self, samples: &[Self::Sample]) -> usize {
        samples.len()
    }

    /// Scores `samples` on `model`, telling `progress` how many units finished.
    fn evaluate(
        &self,
        model: &mut dyn LanguageModel,
        samples: &[Self::Sample],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError>;
}

//! The eval-method trait: prepared samples in, one raw score out.
//!
//! Every method — multiple choice (by generation or by log-likelihood),
//! reference loss, text loss, the synthetic IFEval and Google's IFEval — is
//! one small implementation of [`Eval`]. Samples arrive prepared (drawn by
//! `gauntlet-datasets` from a round's seed), so an implementation only runs
//! the model and scores; it never draws randomness and never panics on what
//! the model does. It says which [capabilities](crate::backend) it needs, and
//! [`AnyEval::run`] checks them before any work starts.
//!
//! # Example
//! ```
//! use gauntlet_evals::backend::{self, Backend, Capability};
//! use gauntlet_evals::{Eval, EvalError, EvalOptions, EvalScore};
//!
//! /// Scores each text by its length in tokens (a toy "loss").
//! struct Length;
//!
//! impl Eval for Length {
//!     type Sample = String;
//!     const NAME: &'static str = "length";
//!     fn configure(_: &EvalOptions) -> Self { Length }
//!     fn needs(&self) -> &'static [Capability] { &[Capability::Tokenize] }
//!     fn evaluate(
//!         &self,
//!         model: &mut dyn Backend,
//!         samples: &[String],
//!         progress: &mut dyn FnMut(usize),
//!     ) -> Result<EvalScore, EvalError> {
//!         let tokenizer = backend::tokenizer(model, Self::NAME)?;
//!         let mut per_sample = Vec::new();
//!         for s in samples {
//!             let n = tokenizer.tokenize(s, false).map_err(EvalError::Model)?.len();
//!             per_sample.push(Some(n as f64));
//!             progress(1);
//!         }
//!         EvalScore::mean_of(per_sample)
//!     }
//! }
//! ```

use serde::Serialize;

use crate::backend::{require, Backend, Capability};
use crate::error::EvalError;
use crate::samples::{SampleKind, SampleSet, Samples};

/// What an eval method returns for one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalScore {
    /// The task's raw score: a loss, lower is better.
    pub raw_score: f64,
    /// Samples evaluated (pairs for the synthetic IFEval).
    pub samples: usize,
    /// One score per scored unit in input order (`None`: skipped), kept by
    /// the validator as per-sample scores.
    pub per_sample: Vec<Option<f64>>,
    /// The method's own per-item account (answers, responses, accuracies)
    /// for `gauntlet eval --task --json`; a JSON object, or null.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub report: serde_json::Value,
    /// What the model produced on each sample, in input order (one per
    /// `per_sample` entry; empty when the method keeps none). The validator
    /// writes them into its ledger; `report` already shows them to `eval`.
    #[serde(skip)]
    pub outputs: Vec<Option<SampleOutput>>,
}

/// A model's output on one sample: what a third party needs to check the
/// sample's score without running the model.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleOutput {
    /// One generated text (multiple choice by generation, Google's IFEval).
    Text(String),
    /// Several generated texts, one per prompt of the sample (the synthetic
    /// IFEval's pair).
    Texts(Vec<String>),
    /// Per-token losses (negative log-probabilities, nats) of the scored
    /// tokens, as the runtime computed them (f32).
    Losses(Vec<f32>),
    /// The log-probability of each choice's letter (multiple choice by
    /// log-likelihood).
    ChoiceLogprobs(Vec<f32>),
}

impl SampleOutput {
    /// Whether every number in it is finite (texts always are). A loss or
    /// log-probability of NaN or ±inf cannot be written as JSON, so such an
    /// output is not kept (the sample's score says what happened).
    pub fn is_finite(&self) -> bool {
        match self {
            SampleOutput::Text(_) | SampleOutput::Texts(_) => true,
            SampleOutput::Losses(v) | SampleOutput::ChoiceLogprobs(v) => {
                v.iter().all(|x| x.is_finite())
            }
        }
    }
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
            report: serde_json::Value::Null,
            outputs: Vec::new(),
        })
    }

    /// The same score with `outputs` attached (one per sample).
    pub fn with_outputs(mut self, outputs: Vec<Option<SampleOutput>>) -> Self {
        self.outputs = outputs;
        self
    }

    /// The same score with `report` attached.
    pub fn with_report(mut self, report: impl Serialize) -> Self {
        self.report = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
        self
    }
}

/// How a method is configured by whoever runs it (the suite, `eval --task`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Prompts a generating method hands the backend together.
    pub batch_size: usize,
    /// Stop multiple-choice generations once their answer is settled (the
    /// results are the same).
    pub early_stop: bool,
    /// Longest sequence a loss method scores, in tokens (the competition's
    /// sequence length; the backend caps it by its context).
    pub max_tokens: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            batch_size: 16,
            early_stop: true,
            max_tokens: 4096,
        }
    }
}

/// One eval method.
pub trait Eval {
    /// One prepared sample.
    type Sample: SampleSet;

    /// The method's name in messages (its definition-file name).
    const NAME: &'static str;

    /// The method as `opts` configure it.
    fn configure(opts: &EvalOptions) -> Self
    where
        Self: Sized;

    /// The capabilities it needs from a backend.
    fn needs(&self) -> &'static [Capability];

    /// Units of work `samples` will report through `progress` (one per
    /// sample unless the method says otherwise).
    fn work(&self, samples: &[Self::Sample]) -> usize {
        samples.len()
    }

    /// Scores `samples` on `model`, telling `progress` how many units finished.
    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[Self::Sample],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError>;
}

/// An eval method with its sample type erased: what the method table hands
/// out ([`EvalMethod::eval`](crate::EvalMethod::eval)).
pub trait AnyEval {
    /// The method's name.
    fn name(&self) -> &'static str;

    /// The kind of sample it takes.
    fn sample_kind(&self) -> SampleKind;

    /// The capabilities it needs.
    fn needs(&self) -> &'static [Capability];

    /// Units of work of `samples` (0 when they are of the wrong kind).
    fn work(&self, samples: &Samples) -> usize;

    /// Checks the backend's capabilities and the samples' kind, then scores.
    fn run(
        &self,
        model: &mut dyn Backend,
        samples: &Samples,
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError>;
}

impl<E: Eval> AnyEval for E {
    fn name(&self) -> &'static str {
        E::NAME
    }

    fn sample_kind(&self) -> SampleKind {
        E::Sample::KIND
    }

    fn needs(&self) -> &'static [Capability] {
        Eval::needs(self)
    }

    fn work(&self, samples: &Samples) -> usize {
        E::Sample::slice(samples).map_or(0, |s| Eval::work(self, s))
    }

    fn run(
        &self,
        model: &mut dyn Backend,
        samples: &Samples,
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let typed = E::Sample::slice(samples).ok_or_else(|| {
            EvalError::InvalidSample(format!(
                "{} takes {:?} samples, not {:?}",
                E::NAME,
                E::Sample::KIND,
                samples.kind()
            ))
        })?;
        require(model, E::NAME, Eval::needs(self))?;
        self.evaluate(model, typed, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::SampleOutput;

    #[test]
    fn an_output_with_a_non_finite_number_is_not_finite() {
        assert!(SampleOutput::Text("x".into()).is_finite());
        assert!(SampleOutput::Losses(vec![0.5, 2.0]).is_finite());
        assert!(!SampleOutput::Losses(vec![0.5, f32::NAN]).is_finite());
        assert!(!SampleOutput::ChoiceLogprobs(vec![f32::NEG_INFINITY]).is_finite());
    }
}

//! The error of an eval run: the model's own failure, or nothing to score.

use crate::backend::Capability;
use crate::model::ModelError;

/// Why an eval method produced no score. The suite runner turns any of
/// these into raw = +inf for the task (a miner's fault is a value, not a
/// crash); the other tasks still run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The model failed to tokenize, render, score or generate (NaN logits
    /// included).
    #[error("model failed: {0}")]
    Model(#[source] ModelError),
    /// The task has no items, or none left that can be scored.
    #[error("no items to evaluate")]
    Empty,
    /// The model's output is degenerate (the text-loss sanity guard).
    #[error("degenerate output: {0}")]
    Degenerate(String),
    /// A sample cannot be evaluated as given (malformed task data).
    #[error("invalid sample: {0}")]
    InvalidSample(String),
    /// The eval needs a capability the backend lacks; raised before any
    /// work starts.
    #[error("{eval} needs {}, which {backend} does not offer", capability.describe())]
    Unsupported {
        /// The eval method's name.
        eval: String,
        /// What it needs.
        capability: Capability,
        /// The backend, described.
        backend: String,
    },
}

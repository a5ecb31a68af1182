//! The chain's error type: one umbrella enum over the operations of this crate.

use crate::commitment::CommitmentError;

/// An error of a chain operation (today: parsing commitments and running an epoch).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A commitment string failed validation; the source says why.
    #[error("invalid commitment")]
    Commitment(#[from] CommitmentError),
    /// The inputs of a Yuma epoch disagree on the number of neurons.
    #[error("epoch input {what} has length {found}, expected {expected}")]
    EpochShape {
        /// Which input (`validator_permit`, `weights`, `bonds[3]`, …).
        what: String,
        /// The length required (the exact length, or the most allowed for matrix rows).
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A Yuma epoch input holds a negative or non-finite number.
    #[error("epoch input {what}[{index}] = {value} is negative or not finite")]
    EpochValue {
        /// Which input (`stake`, `weights[2]`, `bonds[0]`).
        what: String,
        /// The position inside that vector.
        index: usize,
        /// The offending value.
        value: f64,
    },
}

impl ChainError {
    /// Whether retrying the same operation could succeed.
    ///
    /// Every error of the pure cores is permanent; the network backends of a later
    /// stage add transient variants (timeouts, dropped connections).
    pub fn is_transient(&self) -> bool {
        match self {
            ChainError::Commitment(_)
            | ChainError::EpochShape { .. }
            | ChainError::EpochValue { .. } => false,
        }
    }
}

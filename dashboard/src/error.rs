//! What can go wrong serving a page: the dashboard's sources failing (the
//! validator state, the chain, the pools), or a page that does not exist.

use gauntlet_chain::ChainError;
use gauntlet_pools::PoolError;
use gauntlet_validator::state::StateError;

/// An error of the dashboard (never a panic: every page answers).
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The validator state could not be read.
    #[error("validator state: {0}")]
    State(#[from] StateError),
    /// The chain could not be read.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The pools could not be read.
    #[error("pools: {0}")]
    Pools(#[from] PoolError),
    /// No such competition, model or page.
    #[error("not found: {0}")]
    NotFound(String),
    /// A blocking read did not finish (the task panicked or was cancelled).
    #[error("internal: {0}")]
    Internal(String),
}

impl DashboardError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Chain(_) => 503,
            _ => 500,
        }
    }
}

//! Errors of the pools crate.

use gauntlet_chain::ChainError;

/// What can go wrong with a pool.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// An amount of TAO that cannot be used.
    #[error("amount {text:?}: {reason}")]
    Amount {
        /// The text given.
        text: String,
        /// Why it was refused.
        reason: String,
    },
    /// No pool has this id.
    #[error("no pool {0}")]
    UnknownPool(i64),
    /// A pool's parameters cannot work (a period of 0 blocks, …).
    #[error("invalid pool: {0}")]
    Invalid(String),
    /// The pools file.
    #[error("pools database")]
    Database(#[from] rusqlite::Error),
    /// The pools file holds malformed JSON.
    #[error("pools database holds malformed JSON")]
    Json(#[from] serde_json::Error),
    /// The pools file was written by a newer build.
    #[error("pools database schema {found} is newer than this build's {expected}")]
    Schema {
        /// The file's version.
        found: i64,
        /// This build's version.
        expected: i64,
    },
    /// The chain refused or failed a transfer.
    #[error("chain")]
    Chain(#[from] ChainError),
    /// Reading the competition's leaderboard failed.
    #[error("leaderboard: {0}")]
    Leaderboard(String),
}

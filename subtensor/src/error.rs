//! The error type of the subtensor backend, with the transient/permanent split the
//! retry loop and callers rely on.

use std::time::Duration;

use gauntlet_chain::ChainError;

/// An error talking to a subtensor node.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubtensorError {
    /// The endpoint is not a `ws://` or `wss://` URL.
    #[error("invalid endpoint {url:?}: {reason}")]
    BadEndpoint {
        /// The endpoint as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// An attempt ran past its deadline (a stalled node or network).
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// What was being done.
        operation: &'static str,
        /// The deadline of one attempt.
        after: Duration,
    },
    /// The connection failed or dropped: no answer came back.
    #[error("{operation}: connection to the node failed: {detail}")]
    Connection {
        /// What was being done.
        operation: &'static str,
        /// The transport's message.
        detail: String,
    },
    /// The node is overloaded and asked to try again later.
    #[error("{operation}: the node is busy: {detail}")]
    Busy {
        /// What was being done.
        operation: &'static str,
        /// The node's message.
        detail: String,
    },
    /// The node answered, but the request failed for a reason retrying won't fix
    /// (bad data, an unknown storage entry or call, a JSON-RPC error).
    #[error("{operation} failed: {detail}")]
    Node {
        /// What was being done.
        operation: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A value read from the chain could not be decoded.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// Which value.
        what: String,
        /// The decoder's message.
        detail: String,
    },
    /// The chain refused a transaction: invalid in the pool or failed in its block
    /// (not registered, rate limited, commit-reveal mismatch, …).
    #[error("the chain refused {call}: {reason}")]
    Refused {
        /// `Pallet.call`.
        call: String,
        /// The pool's or the runtime's reason, e.g. `SubtensorModule.SettingWeightsTooFast`.
        reason: String,
    },
    /// The node dropped a transaction from its pool before it reached a block
    /// (pool full, replaced); sending it again may succeed.
    #[error("the node dropped {call}: {reason}")]
    Dropped {
        /// `Pallet.call`.
        call: String,
        /// What the node said.
        reason: String,
    },
    /// An outcome in the chain's own vocabulary: a refusal the caller can act on
    /// (not registered, rate limited, version key too low, commitment too long, …).
    #[error(transparent)]
    Chain(ChainError),
}

impl SubtensorError {
    /// Whether retrying the same operation later could succeed: timeouts, dropped
    /// connections, a busy node and transactions the pool dropped. Refusals, bad
    /// input and undecodable data are permanent.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SubtensorError::Timeout { .. }
                | SubtensorError::Connection { .. }
                | SubtensorError::Busy { .. }
                | SubtensorError::Dropped { .. }
        ) || matches!(self, SubtensorError::Chain(e) if e.is_transient())
    }

    /// The error in the vocabulary of [`gauntlet_chain::Chain`]; `endpoint` names the
    /// node in connection errors.
    pub fn into_chain_error(self, endpoint: &str) -> ChainError {
        let connection = |reason: String| ChainError::Connection {
            endpoint: endpoint.to_owned(),
            reason,
        };
        match self {
            // Not transient: the URL itself is wrong.
            SubtensorError::BadEndpoint { url, reason } => ChainError::Decode {
                what: format!("endpoint {url:?}"),
                reason,
            },
            SubtensorError::Timeout { operation, after } => ChainError::Timeout {
                what: operation.to_owned(),
                secs: after.as_secs_f64().ceil() as u64,
            },
            SubtensorError::Connection { operation, detail } => {
                connection(format!("{operation}: {detail}"))
            }
            SubtensorError::Busy { operation, detail } => {
                connection(format!("{operation}: node busy: {detail}"))
            }
            SubtensorError::Dropped { call, reason } => {
                connection(format!("the node dropped {call}: {reason}"))
            }
            SubtensorError::Node { operation, detail } => ChainError::Rejected {
                reason: format!("{operation}: {detail}"),
            },
            SubtensorError::Decode { what, detail } => ChainError::Decode {
                what,
                reason: detail,
            },
            SubtensorError::Refused { call, reason } => ChainError::Rejected {
                reason: format!("{call}: {reason}"),
            },
            SubtensorError::Chain(e) => e,
        }
    }
}

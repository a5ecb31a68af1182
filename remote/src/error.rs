//! The crate's error type. No variant ever holds the API key: requests are
//! described by their URL and path only.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong talking to an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The model spec is not `openai:BASE_URL#MODEL`.
    #[error("invalid model spec {spec:?}: {reason}")]
    InvalidSpec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The environment variable that should hold the API key is unset.
    #[error("the API key variable {var} is not set")]
    MissingKey {
        /// The variable's name.
        var: String,
    },
    /// No answer: the server is down or unreachable.
    #[error("{url}: no answer: {reason}")]
    Unreachable {
        /// The request's URL.
        url: String,
        /// What the client saw.
        reason: String,
    },
    /// The server took longer than the per-request timeout.
    #[error("{url}: no answer within {after:?}")]
    Timeout {
        /// The request's URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The answer is not what the API defines (not JSON, missing fields).
    #[error("{url}: malformed answer: {reason}")]
    Malformed {
        /// The request's URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server answered as another model than the one asked for.
    #[error("asked for model {asked:?}, the server answered as {answered:?}")]
    WrongModel {
        /// The model asked for.
        asked: String,
        /// The model the answer names.
        answered: String,
    },
    /// The server's endpoint lists models, and not this one.
    #[error("the endpoint serves {served:?}, not {asked:?}")]
    UnknownModel {
        /// The model asked for.
        asked: String,
        /// The models it lists.
        served: Vec<String>,
    },
    /// Fewer log-probabilities came back than the prompt has tokens.
    #[error("{url}: {logprobs} log-probs for {tokens} prompt tokens")]
    MissingLogprobs {
        /// The request's URL.
        url: String,
        /// Log-probabilities returned.
        logprobs: usize,
        /// Tokens they should cover.
        tokens: usize,
    },
    /// The capability is not available on this endpoint.
    #[error("{0}")]
    Unsupported(String),
    /// The response cache failed.
    #[error("response cache {}: {source}", path.display())]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The client could not start (its runtime or TLS).
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

impl RemoteError {
    /// Whether another attempt may succeed (no answer, a timeout, 408, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            RemoteError::Unreachable { .. } | RemoteError::Timeout { .. } => true,
            RemoteError::Status { status, .. } => {
                *status == 408 || *status == 429 || (500..600).contains(status)
            }
            _ => false,
        }
    }
}

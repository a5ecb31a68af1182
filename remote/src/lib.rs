//! Gauntlet's eval capabilities on an OpenAI-compatible endpoint.
//!
//! [`Remote`] implements [`gauntlet_evals::backend::Backend`]: generation
//! through chat completions (and completions for raw text), prompt
//! log-probabilities through the completions endpoint with `echo` and
//! `logprobs` where the server returns them (probed on connect), no
//! tokenisation. Requests run concurrently under a limit, with a per-request
//! timeout and retries on 429/5xx that honour `Retry-After`
//! ([`gauntlet_retry`]); answers are checked (the model name, the choices,
//! one log-prob per prompt token) and cached in SQLite by the request's hash,
//! so a re-run costs nothing and answers the same. Greedy decoding always
//! (temperature 0) with a fixed seed. The API key comes from the caller and
//! appears in no log, error or cache entry.
//!
//! ```no_run
//! use gauntlet_remote::{Endpoint, Remote, RemoteOptions};
//! let endpoint = Endpoint::parse("openai:http://127.0.0.1:8000/v1#smollm2").unwrap()?;
//! let remote = Remote::connect(endpoint, RemoteOptions::default())?;
//! assert!(remote.offers_logprobs());
//! # Ok::<(), gauntlet_remote::RemoteError>(())
//! ```

mod backend;
mod cache;
mod endpoint;
mod error;
mod http;
mod openai;

pub use backend::{ChatRender, Remote};
pub use cache::Cache;
pub use endpoint::{api_key_from_env, Dialect, Endpoint, Prices, RemoteOptions, SCHEME};
pub use error::RemoteError;
pub use gauntlet_retry::RetryPolicy;

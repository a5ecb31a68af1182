//! Where the endpoint is and how to talk to it: `openai:BASE_URL#MODEL`,
//! the API dialect, prices, limits.

use std::path::PathBuf;
use std::time::Duration;

use gauntlet_retry::RetryPolicy;

use crate::RemoteError;

/// The prefix of a remote model spec.
pub const SCHEME: &str = "openai:";

/// An OpenAI-compatible endpoint and the model asked for there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The API's base URL, ending before `/chat/completions` (e.g.
    /// `http://127.0.0.1:8000/v1`), without a trailing `/`.
    pub base_url: String,
    /// The model's name at the endpoint.
    pub model: String,
}

impl Endpoint {
    /// Parses `openai:BASE_URL#MODEL`; `None` when `spec` does not start with
    /// `openai:` (a local model directory).
    pub fn parse(spec: &str) -> Option<Result<Endpoint, RemoteError>> {
        let rest = spec.strip_prefix(SCHEME)?;
        let bad = |reason: &str| RemoteError::InvalidSpec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        Some((|| {
            let (url, model) = rest
                .rsplit_once('#')
                .ok_or_else(|| bad("expected openai:BASE_URL#MODEL"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad("the base URL must start with http:// or https://"));
            }
            if model.trim().is_empty() {
                return Err(bad("the model name after # is empty"));
            }
            if url.contains('@') {
                return Err(bad(
                    "put the API key in an environment variable, not in the URL",
                ));
            }
            Ok(Endpoint {
                base_url: url.trim_end_matches('/').to_string(),
                model: model.trim().to_string(),
            })
        })())
    }

    /// The spec back (`openai:BASE_URL#MODEL`).
    pub fn spec(&self) -> String {
        format!("{SCHEME}{}#{}", self.base_url, self.model)
    }
}

/// Which extensions of the OpenAI API the server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `gauntlet serve`: `repetition_penalty`, `ignore_eos`, and prompt
    /// log-probabilities with `max_tokens: 0` (nothing generated).
    #[default]
    Gauntlet,
    /// vLLM: `repetition_penalty`, `ignore_eos`.
    Vllm,
    /// llama-cpp-python's server: `repeat_penalty` (sent always: its default
    /// is not 1); echoed offsets that skip special tokens.
    LlamaCpp,
    /// OpenAI itself: no extension (a repetition penalty cannot be asked for).
    OpenAi,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 4] = [
        Dialect::Gauntlet,
        Dialect::Vllm,
        Dialect::LlamaCpp,
        Dialect::OpenAi,
    ];

    /// Its name on the command line and in competition files.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Gauntlet => "gauntlet",
            Dialect::Vllm => "vllm",
            Dialect::LlamaCpp => "llama-cpp",
            Dialect::OpenAi => "openai",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Dialect> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// Prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prices {
    /// Per million prompt tokens.
    pub prompt: f64,
    /// Per million generated tokens.
    pub completion: f64,
}

/// How the client behaves. Its `Debug` shows whether a key is set, never
/// the key.
#[derive(Clone)]
pub struct RemoteOptions {
    /// The API key, read from an environment variable by the caller (never
    /// logged, never in errors or the cache).
    pub api_key: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Limit of one request, from sending to the end of the answer.
    pub timeout: Duration,
    /// Retries of 429, 5xx, timeouts and refused connections.
    pub retry: RetryPolicy,
    /// The response cache; `None` for none.
    pub cache: Option<PathBuf>,
    /// Prices, for the cost in the accounting.
    pub prices: Option<Prices>,
    /// The seed sent with every request (servers that take one).
    pub seed: u64,
    /// The server's extensions.
    pub dialect: Dialect,
}

impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "[set]"))
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("cache", &self.cache)
            .field("prices", &self.prices)
            .field("seed", &self.seed)
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl Default for RemoteOptions {
    /// 8 requests at once, 120 s each, the default retry policy, no cache.
    fn default() -> Self {
        Self {
            api_key: None,
            concurrency: 8,
            timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            cache: None,
            prices: None,
            seed: 0,
            dialect: Dialect::default(),
        }
    }
}

/// Reads the API key from the environment variable `var`.
pub fn api_key_from_env(var: &str) -> Result<String, RemoteError> {
    match std::env::var(var) {
        Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_string()),
        _ => Err(RemoteError::MissingKey {
            var: var.to_string(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert!(Endpoint::parse("/models/smol").is_none());
        let e = Endpoint::parse("openai:http://127.0.0.1:8000/v1/#smol")
            .unwrap()
            .unwrap();
        assert_eq!(e.base_url, "http://127.0.0.1:8000/v1");
        assert_eq!(e.model, "smol");
        let e = Endpoint::parse("openai:https://api.example/v1#gpt-x")
            .unwrap()
            .unwrap();
        assert_eq!(e.spec(), "openai:https://api.example/v1#gpt-x");
        for bad in [
            "openai:http://x/v1",
            "openai:ftp://x#m",
            "openai:http://x#",
            "openai:http://k@x#m",
        ] {
            assert!(Endpoint::parse(bad).unwrap().is_err(), "{bad}");
        }
    }
}

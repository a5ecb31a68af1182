//! HTTP plumbing for the Hugging Face Hub: one client, the token, retries with backoff,
//! and the mapping from HTTP answers to [`HubError`]s.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::status_is_transient;
use crate::HubError;

/// How often and how patiently to retry transient failures: the workspace's
/// one retry policy ([`gauntlet_retry`]).
pub use gauntlet_retry::RetryPolicy;

/// A failed attempt: the error and, for 429/503, how long the server asked us to wait.
pub(crate) type Failure = (HubError, Option<Duration>);

/// Which kind of repository a hub handle addresses: the Hub keeps models
/// and datasets apart (`/api/models/…` and `/api/datasets/…`, `/{repo}/…`
/// and `/datasets/{repo}/…`), and one name can be both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepoKind {
    /// Model repositories (miners' models).
    #[default]
    Model,
    /// Dataset repositories (published ledgers).
    Dataset,
}

impl RepoKind {
    /// The `type` the repository API takes (`model`, `dataset`).
    pub fn name(self) -> &'static str {
        match self {
            RepoKind::Model => "model",
            RepoKind::Dataset => "dataset",
        }
    }
}

/// The hub's HTTP client: endpoint, optional token, retry policy, and the
/// kind of repository addressed.
#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) endpoint: String,
    pub(crate) token: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) kind: RepoKind,
}

/// Time limit for one API call (JSON in, JSON out); file transfers have none, only the
/// client's read timeout between two chunks.
const API_TIMEOUT: Duration = Duration::from_secs(300);

impl Http {
    /// `endpoint + path` (`path` starts with `/` and is already percent-encoded).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint)
    }

    /// The repository API's URL for `repo` (`namespace/name`) and `rest`
    /// (starting with `/`): `/api/models/{repo}{rest}` or
    /// `/api/datasets/{repo}{rest}`.
    pub(crate) fn api(&self, repo: &str, rest: &str) -> String {
        let kind = match self.kind {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        };
        self.url(&format!("/api/{kind}/{repo}{rest}"))
    }

    /// A URL under the repository's own path (`resolve`, the git LFS API):
    /// `/{repo}{rest}`, or `/datasets/{repo}{rest}` for a dataset (`rest`
    /// follows the name directly: `/resolve/…`, `.git/…`).
    pub(crate) fn repo_url(&self, repo: &str, rest: &str) -> String {
        match self.kind {
            RepoKind::Model => self.url(&format!("/{repo}{rest}")),
            RepoKind::Dataset => self.url(&format!("/datasets/{repo}{rest}")),
        }
    }

    /// A request to the hub itself, carrying the token when there is one.
    pub(crate) fn hub(&self, method: Method, url: &str) -> RequestBuilder {
        let rb = self.client.request(method, url);
        match &self.token {
            Some(token) => rb.bearer_auth(token),
            None => rb,
        }
    }

    /// A request to a URL the hub handed out (LFS storage): never carries the token.
    pub(crate) fn external(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// One attempt: sends the request and turns an unsuccessful answer into an error.
    pub(crate) async fn send_once(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Response, Failure> {
        match request.send().await {
            Ok(resp) if resp.status().is_success() => Ok(resp),
            Ok(resp) => Err(status_error(what, resp).await),
            Err(e) => Err((network_error(e), None)),
        }
    }

    /// Sends the request built by `make` until it succeeds, retrying transient failures
    /// by the retry policy. `what` names the object for "not found" messages.
    pub(crate) async fn send<F>(&self, what: &str, make: F) -> Result<Response, HubError>
    where
        F: Fn() -> Result<RequestBuilder, HubError>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (err, wait) = match self.send_once(what, make()?).await {
                Ok(resp) => return Ok(resp),
                Err(failure) => failure,
            };
            self.pause_or_fail(attempt, err, wait).await?;
        }
    }

    /// After failed attempt `attempt`: sleeps before the next one, or returns the error
    /// when it is not transient or the attempts are spent.
    pub(crate) async fn pause_or_fail(
        &self,
        attempt: u32,
        err: HubError,
        wait: Option<Duration>,
    ) -> Result<(), HubError> {
        let Some(delay) = self.retry.delay(attempt, err.is_transient(), wait) else {
            return Err(err);
        };
        tracing::warn!(error = %err, attempt, ?delay, "transient hub error, retrying");
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Sends an API request (with retries) and parses its JSON answer.
    pub(crate) async fn json<T, F>(&self, what: &str, make: F) -> Result<T, HubError>
    where
        T: DeserializeOwned,
        F: Fn() -> Result<RequestBuilder, HubError>,
    {
        let resp = self
            .send(what, || make().map(|rb| rb.timeout(API_TIMEOUT)))
            .await?;
        let url = clean_url(resp.url().as_str());
        let body = resp.bytes().await.map_err(network_error)?;
        serde_json::from_slice(&body).map_err(|e| HubError::Protocol {
            url,
            message: format!("malformed JSON: {e}"),
        })
    }
}

/// A URL without its query string (presigned storage URLs carry credentials there).
pub(crate) fn clean_url(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_owned()
}

/// Maps a client error: a request that could not be built is a configuration error;
/// every other one is network-level (no answer, or the answer broke off): transient.
pub(crate) fn network_error(e: reqwest::Error) -> HubError {
    if e.is_builder() {
        return HubError::Config(e.to_string());
    }
    let url = e.url().map(|u| clean_url(u.as_str())).unwrap_or_default();
    HubError::Network {
        url,
        source: Box::new(e.without_url()),
    }
}

/// Turns an unsuccessful answer into a typed error, with the server's message.
async fn status_error(what: &str, resp: Response) -> Failure {
    let status = resp.status();
    let url = clean_url(resp.url().as_str());
    let wait = retry_after(&resp);
    let header_message = resp
        .headers()
        .get("x-error-message")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.bytes().await.unwrap_or_default();
    let message = header_message.unwrap_or_else(|| body_message(&body));
    let err = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => HubError::Unauthorized {
            status: status.as_u16(),
            url,
            message,
        },
        StatusCode::NOT_FOUND => HubError::NotFound {
            what: what.to_owned(),
            message,
        },
        _ => HubError::Http {
            status: status.as_u16(),
            url,
            message,
        },
    };
    let wait = wait.filter(|_| status_is_transient(status.as_u16()));
    (err, wait)
}

/// The `error` field of a JSON error body, or the start of a text body.
fn body_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        return parsed.error;
    }
    let text = String::from_utf8_lossy(body);
    text.trim().chars().take(300).collect()
}

/// A `Retry-After` header given in seconds.
fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(reqwest::header::RETRY_AFTER)?;
    gauntlet_retry::retry_after(value.to_str().ok()?)
}

/// Percent-encodes a `/`-separated path segment by segment (RFC 3986 unreserved
/// characters stay as they are).
pub(crate) fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        for b in segment.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(encode_path("config.json"), "config.json");
        assert_eq!(encode_path("a dir/b+c#?.bin"), "a%20dir/b%2Bc%23%3F.bin");
        assert_eq!(encode_path("ü"), "%C3%BC");
    }

    #[test]
    fn urls_lose_their_query() {
        assert_eq!(
            clean_url("https://s3.example/obj?X-Amz-Signature=secret"),
            "https://s3.example/obj"
        );
    }

    #[test]
    fn error_bodies_yield_messages() {
        assert_eq!(
            body_message(br#"{"error":"Repository not found"}"#),
            "Repository not found"
        );
        assert_eq!(body_message(b"  plain text\n"), "plain text");
    }
}

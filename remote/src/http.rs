//! One request to the endpoint: the API key as a bearer token, the
//! per-request timeout, retries through `gauntlet-retry`, errors classified
//! and free of the key, answers cached once checked.

use std::time::Duration;

use gauntlet_retry::{retry, retry_after, Failure, RetryPolicy};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::cache::Cache;
use crate::RemoteError;

/// The HTTP side of a [`Remote`](crate::Remote).
pub(crate) struct Http {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    timeout: Duration,
    retry: RetryPolicy,
    cache: Option<Cache>,
}

/// An answer and whether it came from the cache.
pub(crate) struct Answer {
    /// The server's JSON.
    pub body: Value,
    /// Served from the cache.
    pub cached: bool,
}

impl Http {
    pub(crate) fn new(
        base_url: &str,
        api_key: Option<String>,
        timeout: Duration,
        retry: RetryPolicy,
        cache: Option<Cache>,
    ) -> Result<Http, RemoteError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| RemoteError::Client(e.to_string()))?;
        Ok(Http {
            client,
            base_url: base_url.to_string(),
            api_key,
            timeout,
            retry,
            cache,
        })
    }

    /// `base_url + path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends `body` to `path` (GET when `None`), from the cache when it holds
    /// the answer; `check` validates an answer before it is stored.
    pub(crate) async fn call<T>(
        &self,
        path: &str,
        body: Option<&Value>,
        check: impl Fn(&Value) -> Result<T, RemoteError>,
    ) -> Result<(T, Answer), RemoteError> {
        let url = self.url(path);
        let key = Cache::key(&url, body);
        if let Some(cache) = &self.cache {
            if let Some(stored) = cache.get(&key)? {
                if let Ok(value) = check(&stored) {
                    return Ok((
                        value,
                        Answer {
                            body: stored,
                            cached: true,
                        },
                    ));
                }
            }
        }
        let fresh = retry(&self.retry, path, || self.once(&url, body)).await?;
        let value = check(&fresh)?;
        if let Some(cache) = &self.cache {
            cache.put(&key, &url, &fresh)?;
        }
        Ok((
            value,
            Answer {
                body: fresh,
                cached: false,
            },
        ))
    }

    /// One attempt.
    async fn once(&self, url: &str, body: Option<&Value>) -> Result<Value, Failure<RemoteError>> {
        let method = if body.is_some() {
            Method::POST
        } else {
            Method::GET
        };
        let mut rb = self.client.request(method, url).timeout(self.timeout);
        if let Some(key) = &self.api_key {
            rb = rb.bearer_auth(key);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.map_err(|e| self.network(url, e))?;
        let status = resp.status();
        let wait = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let bytes = resp.bytes().await.map_err(|e| self.network(url, e))?;
        if !status.is_success() {
            let error = RemoteError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                message: self.redact(message(&bytes)),
            };
            let transient = error.is_transient();
            let wait = wait.filter(|_| status == StatusCode::TOO_MANY_REQUESTS || transient);
            return Err(Failure {
                error,
                transient,
                wait,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::permanent(RemoteError::Malformed {
                url: url.to_string(),
                reason: format!("not JSON: {e}"),
            })
        })
    }

    /// `text` with the API key, should a server echo it, blotted out.
    fn redact(&self, text: String) -> String {
        match &self.api_key {
            Some(key) if !key.is_empty() && text.contains(key.as_str()) => {
                text.replace(key.as_str(), "[redacted]")
            }
            _ => text,
        }
    }

    /// A request that got no (complete) answer: transient.
    fn network(&self, url: &str, e: reqwest::Error) -> Failure<RemoteError> {
        let error = if e.is_timeout() {
            RemoteError::Timeout {
                url: url.to_string(),
                after: self.timeout,
            }
        } else {
            // `without_url`: the URL is named once, by us; the error's own
            // chain never holds headers, so never the key.
            RemoteError::Unreachable {
                url: url.to_string(),
                reason: self.redact(chain(&e.without_url())),
            }
        };
        Failure::transient(error, None)
    }
}

/// An error and its sources, one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The message of an error answer: OpenAI's `error.message`, else the start
/// of the body.
fn message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(m) = v
            .pointer("/error/message")
            .or_else(|| v.get("error"))
            .or_else(|| v.get("detail"))
            .and_then(Value::as_str)
        {
            return m.chars().take(300).collect();
        }
    }
    String::from_utf8_lossy(body)
        .trim()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_the_body() {
        assert_eq!(
            message(br#"{"error":{"message":"slow down"}}"#),
            "slow down"
        );
        assert_eq!(message(br#"{"detail":"bad"}"#), "bad");
        assert_eq!(message(b" oops \n"), "oops");
    }
}

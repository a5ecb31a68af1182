//! Retrying transient failures: exponential backoff with jitter, honouring
//! a server's `Retry-After`, within a fixed number of attempts.
//!
//! The caller classifies each failure ([`Failure`]): transient or not, and
//! the wait the server asked for. [`retry`] is the loop; [`RetryPolicy`]
//! says how long to wait ([`RetryPolicy::delay`]).
//!
//! ```
//! use std::time::Duration;
//! use gauntlet_retry::{retry, Failure, RetryPolicy};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let policy = RetryPolicy { max_attempts: 3, initial_backoff: Duration::from_millis(1),
//!                            max_backoff: Duration::from_millis(5) };
//! let mut calls = 0;
//! let out: Result<u32, &str> = retry(&policy, "example", || {
//!     calls += 1;
//!     let n = calls;
//!     async move { if n < 3 { Err(Failure::transient("busy", None)) } else { Ok(n) } }
//! }).await;
//! assert_eq!(out, Ok(3));
//! # });
//! ```

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub initial_backoff: Duration,
    /// Longest wait between two attempts (also caps a server's `Retry-After`).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, waiting 0.5 s, 1 s, 2 s, 4 s (plus up to 25 % jitter).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based), with jitter so that
    /// many clients failing together do not retry together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
        let base = self
            .initial_backoff
            .saturating_mul(doubling)
            .min(self.max_backoff);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }

    /// After failed attempt `attempt` (1-based): the wait before the next one,
    /// or `None` when the failure is not transient or the attempts are spent.
    /// A server's wait is honoured, capped at `max_backoff`.
    pub fn delay(
        &self,
        attempt: u32,
        transient: bool,
        server_wait: Option<Duration>,
    ) -> Option<Duration> {
        if !transient || attempt >= self.max_attempts {
            return None;
        }
        Some(
            server_wait
                .map(|w| w.min(self.max_backoff))
                .unwrap_or_else(|| self.backoff(attempt)),
        )
    }
}

/// A failed attempt as the caller classifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure<E> {
    /// The error (returned when no attempt is left).
    pub error: E,
    /// Whether another attempt may succeed.
    pub transient: bool,
    /// How long the server asked to wait (`Retry-After`), if it did.
    pub wait: Option<Duration>,
}

impl<E> Failure<E> {
    /// A failure worth retrying, after `wait` when the server named one.
    pub fn transient(error: E, wait: Option<Duration>) -> Self {
        Self {
            error,
            transient: true,
            wait,
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(error: E) -> Self {
        Self {
            error,
            transient: false,
            wait: None,
        }
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or `policy`'s attempts
/// are spent; sleeps between attempts as [`RetryPolicy::delay`] says. `what`
/// names the operation in the log line of each retry.
pub async fn retry<T, E, F, Fut>(policy: &RetryPolicy, what: &str, mut attempt: F) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure<E>>>,
{
    let mut n = 0;
    loop {
        n += 1;
        let failure = match attempt().await {
            Ok(value) => return Ok(value),
            Err(f) => f,
        };
        match policy.delay(n, failure.transient, failure.wait) {
            None => return Err(failure.error),
            Some(delay) => {
                tracing::warn!(error = %failure.error, attempt = n, ?delay, "{what}: transient failure, retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The value of a `Retry-After` header: a number of seconds (HTTP dates are
/// not honoured; the backoff applies instead).
pub fn retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let within = |d: Duration, lo: u64| {
            d >= Duration::from_millis(lo) && d <= Duration::from_millis(lo * 5 / 4)
        };
        let p = policy();
        assert!(within(p.backoff(1), 100));
        assert!(within(p.backoff(2), 200));
        assert!(within(p.backoff(3), 400));
        assert!(within(p.backoff(9), 1000));
        assert!(within(p.backoff(40), 1000));
    }

    #[test]
    fn delay_honours_the_server_and_the_attempt_budget() {
        let p = policy();
        assert_eq!(p.delay(1, false, None), None);
        assert_eq!(p.delay(10, true, None), None);
        assert_eq!(
            p.delay(1, true, Some(Duration::from_millis(7))),
            Some(Duration::from_millis(7))
        );
        assert_eq!(
            p.delay(1, true, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after("-1"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_last_attempt_and_not_on_permanent_errors() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..policy()
        };
        let mut calls = 0;
        let out: Result<(), String> = retry(&p, "t", || {
            calls += 1;
            async { Err(Failure::transient("busy".to_string(), None)) }
        })
        .await;
        assert_eq!(out, Err("busy".into()));
        assert_eq!(calls, 3);
        let mut calls = 0;
        let out: Result<(), String> = retry(&p, "t", || {
            calls += 1;
            async { Err(Failure::permanent("no".to_string())) }
        })
        .await;
        assert_eq!(out, Err("no".into()));
        assert_eq!(calls, 1);
    }
}

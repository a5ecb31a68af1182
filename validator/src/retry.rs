//! The validator's one retry loop: an operation tried again with doubling
//! waits while its error is transient (the error types say which are, with
//! their `is_transient()`).

use std::future::Future;
use std::time::Duration;

/// How many times and how patiently to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub first_wait: Duration,
}

impl Backoff {
    /// `attempts` attempts, waiting `first_wait`, then twice that, ….
    pub const fn new(attempts: u32, first_wait: Duration) -> Self {
        Backoff {
            attempts,
            first_wait,
        }
    }
}

/// Runs `op` until it succeeds, fails with an error `transient` calls
/// permanent, or the attempts are spent; logs each retry with `what`.
pub async fn retry<T, E, F, Fut>(
    backoff: Backoff,
    what: &str,
    transient: impl Fn(&E) -> bool,
    mut op: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut wait = backoff.first_wait;
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if transient(&e) && attempt < backoff.attempts => {
                tracing::warn!(attempt, error = %e, "{what} failed; retrying");
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn transient_errors_are_retried_until_the_attempts_are_spent() {
        let calls = Cell::new(0);
        let b = Backoff::new(3, Duration::from_millis(1));
        let r: Result<(), String> = block_on(retry(
            b,
            "op",
            |_| true,
            || {
                calls.set(calls.get() + 1);
                async { Err("busy".to_string()) }
            },
        ));
        assert!(r.is_err());
        assert_eq!(calls.get(), 3);
        calls.set(0);
        let r: Result<(), String> = block_on(retry(
            b,
            "op",
            |_| false,
            || {
                calls.set(calls.get() + 1);
                async { Err("refused".to_string()) }
            },
        ));
        assert!(r.is_err());
        assert_eq!(calls.get(), 1, "permanent errors are not retried");
        calls.set(0);
        let r: Result<u32, String> = block_on(retry(
            b,
            "op",
            |_| true,
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 2 {
                        Err("busy".into())
                    } else {
                        Ok(n)
                    }
                }
            },
        ));
        assert_eq!(r, Ok(2));
    }
}

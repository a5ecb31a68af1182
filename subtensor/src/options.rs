//! Connection options: timeouts, retries and how long to wait for a transaction.

use std::time::Duration;

/// How [`SubtensorChain`](crate::SubtensorChain) talks to its node.
///
/// Every operation (a read, or a transaction from signing to inclusion) runs in
/// attempts; an attempt that fails transiently (timeout, dropped connection, busy
/// node) is retried after an exponentially growing pause, reconnecting first if the
/// connection is gone. Refusals and bad data are never retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubtensorOptions {
    /// Deadline to open the WebSocket (TCP connect plus handshake).
    pub connect_timeout: Duration,
    /// Deadline of a single JSON-RPC request.
    pub request_timeout: Duration,
    /// Deadline of one whole attempt of an operation (a metagraph read makes several
    /// requests; a transaction waits for its block within this too).
    pub attempt_timeout: Duration,
    /// Extra attempts after a transient failure (0 = try once).
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff_initial: Duration,
    /// The longest pause between attempts.
    pub backoff_max: Duration,
    /// Wait until a transaction is in a block and check that it succeeded (its
    /// `ExtrinsicFailed` event becomes [`SubtensorError::Refused`](crate::SubtensorError::Refused));
    /// if false, return once the pool accepted it.
    pub wait_for_inclusion: bool,
    /// How long a block takes (12 s on finney; fast-block test chains use
    /// 250 ms): turns the blocks until a commit's reveal into a drand round.
    pub block_time: Duration,
}

impl Default for SubtensorOptions {
    /// 10 s to connect, 30 s per request, 120 s per attempt (blocks are 12 s), 3
    /// retries from 1 s backing off to 16 s, waiting for inclusion, 12 s blocks.
    fn default() -> Self {
        SubtensorOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(120),
            retries: 3,
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(16),
            wait_for_inclusion: true,
            block_time: Duration::from_secs(gauntlet_constants::BLOCK_TIME_SECS),
        }
    }
}

impl SubtensorOptions {
    /// The pause before retry number `retry` (0-based): `backoff_initial · 2^retry`,
    /// capped at `backoff_max`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.backoff_initial
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let options = SubtensorOptions {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            ..SubtensorOptions::default()
        };
        let pauses: Vec<u128> = (0..5).map(|r| options.backoff(r).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 500, 500]);
        // No overflow for absurd retry counts.
        assert_eq!(options.backoff(1000), Duration::from_millis(500));
    }
}

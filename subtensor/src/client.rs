//! [`SubtensorChain`]: the connection to a node, (re)connecting on demand, and the
//! attempt loop every operation runs in (deadline, retries with backoff, the
//! transient/permanent verdict).

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use subxt::backend::{BlockRef, LegacyBackend};
use subxt::client::OnlineClientAtBlock;
use subxt::config::RpcConfigFor;
use subxt::rpcs::{LegacyRpcMethods, RpcClient};
use subxt::{OnlineClient, SubstrateConfig};

use crate::transport::{self, AttemptLog, Fault, ObservedClient};
use crate::{metadata, SubtensorError, SubtensorOptions};

/// One live connection: the observed JSON-RPC client and the subxt views over it.
#[derive(Clone)]
pub(crate) struct Connection {
    rpc: ObservedClient,
    /// subxt's client (legacy RPC backend: every subtensor node serves it).
    pub(crate) client: OnlineClient<SubstrateConfig>,
    /// Raw legacy RPC methods, for what subxt does not wrap (best header, batches).
    pub(crate) legacy: LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>,
}

impl Connection {
    /// A client at the node's best block, and that block's number.
    pub(crate) async fn at_best(
        &self,
    ) -> Result<(OnlineClientAtBlock<SubstrateConfig>, u64), SubtensorError> {
        let hash = self
            .legacy
            .chain_get_block_hash(None)
            .await
            .map_err(|e| node("read the best block", e))?
            .ok_or_else(|| SubtensorError::Node {
                operation: "read the best block",
                detail: "the node has no best block".into(),
            })?;
        let at = self
            .client
            .at_block(BlockRef::from_hash(hash))
            .await
            .map_err(|e| node("open the best block", e))?;
        let number = at.block_number();
        Ok((at, number))
    }
}

/// A generic failure of `operation`; the attempt loop refines it with what the
/// transport saw (a dropped connection becomes transient).
pub(crate) fn node(operation: &'static str, e: impl std::fmt::Display) -> SubtensorError {
    SubtensorError::Node {
        operation,
        detail: e.to_string(),
    }
}

/// [`Chain`](gauntlet_chain::Chain) on a Bittensor subtensor node, through subxt's
/// dynamic API over a WebSocket JSON-RPC connection.
///
/// Cheap to share (`Arc<SubtensorChain>`): operations may run concurrently on the
/// one connection, which is reopened when it drops.
pub struct SubtensorChain {
    endpoint: String,
    options: SubtensorOptions,
    /// Shared across reconnections, so live metadata is downloaded once per runtime.
    config: SubstrateConfig,
    connection: tokio::sync::Mutex<Option<Connection>>,
    /// Wall-clock time, for the drand round of a commit (replaceable in tests).
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

impl std::fmt::Debug for SubtensorChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubtensorChain")
            .field("endpoint", &self.endpoint)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SubtensorChain {
    /// Connects to the node at `url` (`ws://` or `wss://`), retrying transient
    /// failures as `options` say, and checks that its runtime has every call and
    /// storage entry this crate uses.
    pub async fn connect(url: &str, options: SubtensorOptions) -> Result<Self, SubtensorError> {
        let chain = SubtensorChain {
            endpoint: url.to_owned(),
            options,
            config: SubstrateConfig::new(),
            connection: tokio::sync::Mutex::new(None),
            clock: Arc::new(SystemTime::now),
        };
        chain
            .run("connect", |conn| async move {
                let (at, _) = conn.at_best().await?;
                metadata::check_metadata(&at.metadata()).map_err(|e| SubtensorError::Node {
                    operation: "connect",
                    detail: format!("the node's runtime does not fit this client: {e}"),
                })
            })
            .await?;
        Ok(chain)
    }

    /// Replaces the wall clock that the drand round of a weights commit is
    /// computed from (the system clock by default): for tests and replays, which
    /// need a commit to a round whose published signature they hold.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The time now, by this chain's clock.
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// The endpoint this chain talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The options it runs with.
    pub fn options(&self) -> &SubtensorOptions {
        &self.options
    }

    /// The live connection, opened (again) if there is none or it dropped.
    async fn connection(&self) -> Result<Connection, SubtensorError> {
        let mut slot = self.connection.lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| c.rpc.is_connected()) {
            return Ok(conn.clone());
        }
        *slot = None;
        let rpc = transport::connect(&self.endpoint, &self.options).await?;
        let rpc_client = RpcClient::new(rpc.clone());
        let backend = LegacyBackend::builder().build(rpc_client.clone());
        let client = OnlineClient::from_backend_with_config(self.config.clone(), Arc::new(backend))
            .await
            .map_err(|e| node("connect", e))?;
        let conn = Connection {
            rpc,
            client,
            legacy: LegacyRpcMethods::new(rpc_client),
        };
        tracing::debug!(endpoint = %self.endpoint, "connected to subtensor");
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn drop_connection(&self) {
        *self.connection.lock().await = None;
    }

    /// Runs `op` in attempts: each on a live connection, within the attempt
    /// deadline; transient failures are retried after a backoff (reconnecting), the
    /// rest returned at once.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        operation: &'static str,
        op: F,
    ) -> Result<T, SubtensorError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, SubtensorError>>,
    {
        let mut retry = 0;
        loop {
            let log = Arc::new(AttemptLog::default());
            let attempt = async {
                let conn = self.connection().await?;
                op(conn).await
            };
            let outcome = tokio::time::timeout(
                self.options.attempt_timeout,
                transport::observe(log.clone(), attempt),
            )
            .await;
            let error = match outcome {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) => refine(e, log.fault(), operation),
                Err(_) => SubtensorError::Timeout {
                    operation,
                    after: self.options.attempt_timeout,
                },
            };
            if !error.is_transient() || retry >= self.options.retries {
                return Err(error);
            }
            let pause = self.options.backoff(retry);
            tracing::warn!(
                endpoint = %self.endpoint,
                %error,
                retry = retry + 1,
                of = self.options.retries,
                ?pause,
                "subtensor {operation} failed; retrying"
            );
            // A stalled or dropped connection is replaced on the next attempt.
            if matches!(
                error,
                SubtensorError::Timeout { .. } | SubtensorError::Connection { .. }
            ) {
                self.drop_connection().await;
            }
            tokio::time::sleep(pause).await;
            retry += 1;
        }
    }
}

/// Turns a generic failure into what the transport saw underneath it.
fn refine(error: SubtensorError, fault: Option<Fault>, operation: &'static str) -> SubtensorError {
    let SubtensorError::Node { .. } = error else {
        return error;
    };
    match fault {
        Some(Fault::Transport(detail)) => SubtensorError::Connection { operation, detail },
        Some(Fault::Busy(detail)) => SubtensorError::Busy { operation, detail },
        Some(Fault::Rpc { method, message }) if method.starts_with("author_") => {
            SubtensorError::Refused {
                call: operation.to_owned(),
                reason: message,
            }
        }
        _ => error,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn transport_faults_make_generic_failures_transient() {
        let generic = || node("metagraph", "backend error");
        assert!(!generic().is_transient());
        let dropped = refine(
            generic(),
            Some(Fault::Transport("closed".into())),
            "metagraph",
        );
        assert!(
            matches!(dropped, SubtensorError::Connection { .. }),
            "{dropped:?}"
        );
        assert!(dropped.is_transient());
        let busy = refine(generic(), Some(Fault::Busy("later".into())), "metagraph");
        assert!(busy.is_transient());
        let refused = refine(
            generic(),
            Some(Fault::Rpc {
                method: "author_submitAndWatchExtrinsic".into(),
                message: "Invalid Transaction (Custom error: 6)".into(),
            }),
            "set_weights",
        );
        assert!(
            matches!(refused, SubtensorError::Refused { .. }),
            "{refused:?}"
        );
        assert!(!refused.is_transient());
        // A JSON-RPC error on a read stays a permanent node failure.
        let read = refine(
            generic(),
            Some(Fault::Rpc {
                method: "state_getStorage".into(),
                message: "State already discarded".into(),
            }),
            "metagraph",
        );
        assert!(matches!(read, SubtensorError::Node { .. }));
        // Specific errors are kept as they are.
        let decode = SubtensorError::Decode {
            what: "x".into(),
            detail: "y".into(),
        };
        let kept = refine(decode, Some(Fault::Transport("closed".into())), "metagraph");
        assert!(matches!(kept, SubtensorError::Decode { .. }));
    }
}

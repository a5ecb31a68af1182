//! The JSON-RPC connection: a jsonrpsee WebSocket client with connect and request
//! timeouts, wrapped so that each attempt of an operation learns whether the
//! transport failed under it (subxt's own errors flatten that into strings).
//!
//! Every request and subscription item passes through [`ObservedClient`], which
//! records the first transport failure (or "node busy" answer) in the attempt's
//! task-local [`AttemptLog`]. The retry loop reads the log to tell a dropped
//! connection (transient) from a node that answered with an error (permanent).

use std::future::Future;
use std::sync::{Arc, Mutex};

use subxt::ext::futures::StreamExt;
use subxt::ext::jsonrpsee::client_transport::ws::{Url, WsTransportClientBuilder};
use subxt::ext::jsonrpsee::core::client::Client;
use subxt::rpcs::client::{RawRpcFuture, RawRpcSubscription, RawValue, RpcClientT};

use crate::{SubtensorError, SubtensorOptions};

/// JSON-RPC error code of a server that is overloaded ("try again later").
const SERVER_BUSY: i32 = -32009;
/// Substrate's "Immediately Dropped": the transaction pool is full.
const POOL_FULL: i32 = 1016;
/// Largest response accepted; finney's metadata is ~0.3 MiB (0.6 MiB as hex).
const MAX_RESPONSE_BYTES: u32 = 64 * 1024 * 1024;

tokio::task_local! {
    static ATTEMPT: Arc<AttemptLog>;
}

/// What went wrong underneath one attempt, as seen at the JSON-RPC layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No answer: connection refused, dropped, or a request timed out.
    Transport(String),
    /// The node answered that it is overloaded.
    Busy(String),
    /// The node answered `method` with a JSON-RPC error.
    Rpc {
        /// The method called.
        method: String,
        /// The error's message and data.
        message: String,
    },
}

/// The faults seen during one attempt; the first transport fault wins.
#[derive(Debug, Default)]
pub(crate) struct AttemptLog {
    fault: Mutex<Option<Fault>>,
}

impl AttemptLog {
    fn record(&self, fault: Fault) {
        let Ok(mut slot) = self.fault.lock() else {
            return;
        };
        let replace = match (&*slot, &fault) {
            (None, _) => true,
            (Some(Fault::Transport(_)), _) => false,
            (Some(_), Fault::Transport(_)) => true,
            _ => false,
        };
        if replace {
            *slot = Some(fault);
        }
    }

    /// The fault recorded, if any.
    pub(crate) fn fault(&self) -> Option<Fault> {
        self.fault.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Runs `fut` with `log` as the attempt log of every RPC call it makes.
pub(crate) async fn observe<F: Future>(log: Arc<AttemptLog>, fut: F) -> F::Output {
    ATTEMPT.scope(log, fut).await
}

fn record(method: &str, error: &subxt::rpcs::Error) {
    let fault = match error {
        subxt::rpcs::Error::Client(e) => Fault::Transport(format!("{method}: {e}")),
        subxt::rpcs::Error::DisconnectedWillReconnect(e) => {
            Fault::Transport(format!("{method}: {e}"))
        }
        subxt::rpcs::Error::User(e) if e.code == SERVER_BUSY || e.code == POOL_FULL => {
            Fault::Busy(format!("{method}: {}", e.message))
        }
        subxt::rpcs::Error::User(e) => Fault::Rpc {
            method: method.to_owned(),
            message: match &e.data {
                Some(data) => format!("{} ({})", e.message, data.get()),
                None => e.message.clone(),
            },
        },
        _ => return,
    };
    // Outside an attempt (never in this crate) there is nowhere to record.
    let _ = ATTEMPT.try_with(|log| log.record(fault));
}

/// A jsonrpsee client whose failures are recorded in the current attempt's log.
#[derive(Clone)]
pub(crate) struct ObservedClient {
    inner: Arc<Client>,
}

impl ObservedClient {
    /// Whether the WebSocket is still up (a dropped jsonrpsee client never recovers).
    pub(crate) fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }
}

impl RpcClientT for ObservedClient {
    fn request_raw<'a>(
        &'a self,
        method: &'a str,
        params: Option<Box<RawValue>>,
    ) -> RawRpcFuture<'a, Box<RawValue>> {
        Box::pin(async move {
            let result = self.inner.request_raw(method, params).await;
            if let Err(e) = &result {
                record(method, e);
            }
            result
        })
    }

    fn subscribe_raw<'a>(
        &'a self,
        sub: &'a str,
        params: Option<Box<RawValue>>,
        unsub: &'a str,
    ) -> RawRpcFuture<'a, RawRpcSubscription> {
        Box::pin(async move {
            let subscription = self.inner.subscribe_raw(sub, params, unsub).await;
            match subscription {
                Err(e) => {
                    record(sub, &e);
                    Err(e)
                }
                Ok(RawRpcSubscription { stream, id }) => {
                    let method = sub.to_owned();
                    let stream = stream
                        .map(move |item| {
                            if let Err(e) = &item {
                                record(&method, e);
                            }
                            item
                        })
                        .boxed();
                    Ok(RawRpcSubscription { stream, id })
                }
            }
        })
    }
}

/// Opens a WebSocket JSON-RPC connection to `url` within the options' timeouts.
pub(crate) async fn connect(
    url: &str,
    options: &SubtensorOptions,
) -> Result<ObservedClient, SubtensorError> {
    let bad = |reason: String| SubtensorError::BadEndpoint {
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(bad(format!(
            "scheme {:?} is not ws or wss",
            parsed.scheme()
        )));
    }
    let (sender, receiver) = WsTransportClientBuilder::default()
        .connection_timeout(options.connect_timeout)
        .max_response_size(MAX_RESPONSE_BYTES)
        .build(parsed)
        .await
        .map_err(|e| SubtensorError::Connection {
            operation: "connect",
            detail: e.to_string(),
        })?;
    let client = Client::builder()
        .request_timeout(options.request_timeout)
        .max_buffer_capacity_per_subscription(4096)
        .build_with_tokio(sender, receiver);
    Ok(ObservedClient {
        inner: Arc::new(client),
    })
}

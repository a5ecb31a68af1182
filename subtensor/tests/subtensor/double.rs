//! A loopback subtensor node: a real JSON-RPC-over-WebSocket server (jsonrpsee)
//! serving the legacy RPC methods subxt uses, from an in-memory storage map, the
//! shipped finney metadata and a counter for the best block. It captures submitted
//! extrinsics, puts each in the next block with the events the test asks for, and
//! can stall or go down to exercise timeouts and reconnection.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gauntlet_subtensor::{finney_metadata, offline_client, FINNEY_METADATA};
use jsonrpsee::server::{RpcModule, Server, ServerHandle, SubscriptionMessage};
use jsonrpsee::types::ErrorObjectOwned;
use serde_json::{json, Value as Json};
use subxt::client::OfflineClientAtBlock;
use subxt::ext::codec::{Compact, Encode};
use subxt::storage::Address;
use subxt::{ArcMetadata, SubstrateConfig};

/// How the next submitted transaction fares.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Included; `System.ExtrinsicSuccess`.
    Success,
    /// Included; `System.ExtrinsicFailed` with this `SubtensorModule` error.
    Failed(&'static str),
    /// Refused by the pool with a JSON-RPC error (code 1010), never included.
    Invalid,
    /// Applied (these storage writes happen) but its status after `ready` never
    /// arrives: the client cannot tell whether it landed.
    Lost(Vec<(Vec<u8>, Vec<u8>)>),
}

/// The node's state, shared with the RPC handlers.
pub struct State {
    pub metadata: ArcMetadata,
    pub best: AtomicU64,
    pub storage: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    pub submitted: Mutex<Vec<Vec<u8>>>,
    /// The extrinsics of each block number that has any.
    bodies: Mutex<BTreeMap<u64, Vec<Vec<u8>>>>,
    pub outcome: Mutex<Outcome>,
    /// When set, every request hangs (a stalled node).
    pub stall: AtomicBool,
    /// Every method called, in order.
    pub calls: Mutex<Vec<String>>,
}

pub const SPEC_VERSION: u32 = 365;
pub const TX_VERSION: u32 = 1;

/// The hash of block `n`: recognisable and invertible.
pub fn block_hash(n: u64) -> [u8; 32] {
    let mut hash = [0xb1; 32];
    hash[24..].copy_from_slice(&n.to_be_bytes());
    hash
}

fn number_of(hash: &[u8]) -> Option<u64> {
    let bytes: [u8; 32] = hash.try_into().ok()?;
    (bytes[..24] == [0xb1; 24])
        .then(|| u64::from_be_bytes(bytes[24..].try_into().unwrap_or_default()))
}

pub fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

fn unhex(s: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| invalid("bad hex"))
}

fn invalid(message: &str) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(-32602, message.to_owned(), None::<()>)
}

fn header(n: u64) -> Json {
    json!({
        "parentHash": hex(&block_hash(n.saturating_sub(1))),
        "number": format!("0x{n:x}"),
        "stateRoot": hex(&[0; 32]),
        "extrinsicsRoot": hex(&[0; 32]),
        "digest": { "logs": [] },
    })
}

impl State {
    /// Writes `value` under the storage key of `addr(keys)`.
    pub fn put<A: Address>(&self, addr: A, keys: A::KeyParts, value: Vec<u8>) {
        let key = self.key(addr, keys);
        self.storage.lock().unwrap().insert(key, value);
    }

    /// The storage key of `addr(keys)` under the shipped metadata.
    pub fn key<A: Address>(&self, addr: A, keys: A::KeyParts) -> Vec<u8> {
        let client = self.offline();
        let storage = client.storage();
        storage.entry(addr).unwrap().fetch_key(keys).unwrap()
    }

    pub fn offline(&self) -> OfflineClientAtBlock<SubstrateConfig> {
        offline_client(self.metadata.clone()).unwrap()
    }

    fn state_call(&self, method: &str, data: &[u8]) -> Result<Vec<u8>, ErrorObjectOwned> {
        Ok(match method {
            "Core_version" => (
                "node-subtensor".to_owned(),
                "node-subtensor".to_owned(),
                1u32,
                SPEC_VERSION,
                1u32,
                Vec::<([u8; 8], u32)>::new(),
                TX_VERSION,
                1u8,
            )
                .encode(),
            "Metadata_metadata_versions" => vec![14u32, 15, 16].encode(),
            "Metadata_metadata_at_version" if data == 16u32.encode() => {
                let mut out = vec![1u8]; // Some(
                Compact(FINNEY_METADATA.len() as u32).encode_to(&mut out);
                out.extend_from_slice(FINNEY_METADATA);
                out
            }
            "Metadata_metadata_at_version" => vec![0u8], // None
            "AccountNonceApi_account_nonce" => 5u32.encode(),
            other => return Err(invalid(&format!("runtime call {other} not served"))),
        })
    }

    /// Puts `extrinsic` into the next block and records its events.
    fn include(&self, extrinsic: Vec<u8>, outcome: &Outcome) -> u64 {
        let block = self.best.load(Ordering::SeqCst) + 1;
        self.bodies.lock().unwrap().insert(block, vec![extrinsic]);
        let events = crate::events::encode(&self.metadata, outcome);
        let key = self.key(
            subxt::dynamic::storage::<(), subxt::dynamic::Value>("System", "Events"),
            (),
        );
        self.storage.lock().unwrap().insert(key, events);
        self.best.store(block, Ordering::SeqCst);
        block
    }
}

/// A running loopback node.
pub struct Double {
    pub url: String,
    pub state: Arc<State>,
    addr: SocketAddr,
    handle: Mutex<Option<ServerHandle>>,
}

impl Double {
    /// Starts a node at best block `best` with empty storage.
    pub async fn start(best: u64) -> Double {
        let state = Arc::new(State {
            metadata: finney_metadata().unwrap(),
            best: AtomicU64::new(best),
            storage: Mutex::new(BTreeMap::new()),
            submitted: Mutex::new(Vec::new()),
            bodies: Mutex::new(BTreeMap::new()),
            outcome: Mutex::new(Outcome::Success),
            stall: AtomicBool::new(false),
            calls: Mutex::new(Vec::new()),
        });
        let (addr, handle) = serve(state.clone(), "127.0.0.1:0".parse().unwrap()).await;
        Double {
            url: format!("ws://{addr}"),
            state,
            addr,
            handle: Mutex::new(Some(handle)),
        }
    }

    /// Takes the node down: the listener closes and open connections drop.
    pub async fn stop(&self) {
        let handle = self.handle.lock().unwrap().take();
        if let Some(handle) = handle {
            handle.stop().unwrap();
            handle.stopped().await;
        }
    }

    /// Brings the node back on the same address.
    pub async fn restart(&self) {
        let (_, handle) = serve(self.state.clone(), self.addr).await;
        *self.handle.lock().unwrap() = Some(handle);
    }

    /// The extrinsics submitted so far.
    pub fn submitted(&self) -> Vec<Vec<u8>> {
        self.state.submitted.lock().unwrap().clone()
    }

    /// How many times `method` was called.
    pub fn count(&self, method: &str) -> usize {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|m| *m == method)
            .count()
    }
}

async fn serve(state: Arc<State>, addr: SocketAddr) -> (SocketAddr, ServerHandle) {
    let server = Server::builder().build(addr).await.unwrap();
    let addr = server.local_addr().unwrap();
    (addr, server.start(module(state)))
}

/// Hangs while the node is stalled, and logs the call.
async fn enter(state: &State, method: &str) {
    state.calls.lock().unwrap().push(method.to_owned());
    while state.stall.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

macro_rules! method {
    ($module:ident, $name:literal, |$params:ident, $state:ident| $body:expr) => {
        $module
            .register_async_method($name, |$params, $state, _| async move {
                enter(&$state, $name).await;
                let result: Result<Json, ErrorObjectOwned> = $body;
                result
            })
            .unwrap();
    };
}

fn module(state: Arc<State>) -> RpcModule<State> {
    let mut m = RpcModule::from_arc(state);
    method!(m, "chain_getBlockHash", |params, state| {
        let n: Option<u64> = params.sequence().optional_next()?;
        let best = state.best.load(Ordering::SeqCst);
        let n = n.unwrap_or(best);
        Ok(if n <= best {
            json!(hex(&block_hash(n)))
        } else {
            Json::Null
        })
    });
    method!(m, "chain_getHeader", |params, state| {
        let hash: Option<String> = params.sequence().optional_next()?;
        let best = state.best.load(Ordering::SeqCst);
        let n = match hash {
            None => Some(best),
            Some(h) => number_of(&unhex(&h)?).filter(|&n| n <= best),
        };
        Ok(n.map_or(Json::Null, header))
    });
    method!(m, "chain_getFinalizedHead", |_params, state| {
        Ok(json!(hex(&block_hash(state.best.load(Ordering::SeqCst)))))
    });
    method!(m, "chain_getBlock", |params, state| {
        let hash: String = params.sequence().next()?;
        let Some(n) = number_of(&unhex(&hash)?) else {
            return Ok(Json::Null);
        };
        let body = state
            .bodies
            .lock()
            .unwrap()
            .get(&n)
            .cloned()
            .unwrap_or_default();
        let extrinsics: Vec<String> = body.iter().map(|x| hex(x)).collect();
        Ok(
            json!({ "block": { "header": header(n), "extrinsics": extrinsics }, "justifications": null }),
        )
    });
    method!(m, "state_call", |params, state| {
        let mut seq = params.sequence();
        let (method, data): (String, String) = (seq.next()?, seq.next()?);
        Ok(json!(hex(&state.state_call(&method, &unhex(&data)?)?)))
    });
    method!(m, "state_getStorage", |params, state| {
        let key: String = params.sequence().next()?;
        let value = state.storage.lock().unwrap().get(&unhex(&key)?).cloned();
        Ok(value.map_or(Json::Null, |v| json!(hex(&v))))
    });
    method!(m, "state_getKeysPaged", |params, state| {
        let mut seq = params.sequence();
        let prefix = unhex(&seq.next::<String>()?)?;
        let count: usize = seq.next()?;
        let start = seq
            .optional_next::<String>()?
            .map(|s| unhex(&s))
            .transpose()?;
        let storage = state.storage.lock().unwrap();
        let keys: Vec<String> = storage
            .keys()
            .filter(|k| k.starts_with(&prefix) && start.as_ref().is_none_or(|s| *k > s))
            .take(count)
            .map(|k| hex(k))
            .collect();
        Ok(json!(keys))
    });
    method!(m, "state_queryStorageAt", |params, state| {
        let mut seq = params.sequence();
        let keys: Vec<String> = seq.next()?;
        let storage = state.storage.lock().unwrap();
        let changes = keys
            .iter()
            .map(|k| Ok(json!([k, storage.get(&unhex(k)?).map(|v| hex(v))])))
            .collect::<Result<Vec<Json>, ErrorObjectOwned>>()?;
        let best = state.best.load(Ordering::SeqCst);
        Ok(json!([{ "block": hex(&block_hash(best)), "changes": changes }]))
    });
    method!(m, "system_chain", |_params, _state| Ok(json!(
        "Bittensor (loopback double)"
    )));
    method!(m, "system_properties", |_params, _state| {
        Ok(json!({ "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" }))
    });
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |params, pending, state, _| async move {
            enter(&state, "author_submitAndWatchExtrinsic").await;
            let Ok(extrinsic) = params
                .one::<String>()
                .map_err(|_| ())
                .and_then(|x| unhex(&x).map_err(|_| ()))
            else {
                pending.reject(invalid("bad extrinsic")).await;
                return;
            };
            state.submitted.lock().unwrap().push(extrinsic.clone());
            let outcome = state.outcome.lock().unwrap().clone();
            if let Outcome::Invalid = outcome {
                let error =
                    ErrorObjectOwned::owned(1010, "Invalid Transaction", Some("Custom error: 6"));
                pending.reject(error).await;
                return;
            }
            let Ok(sink) = pending.accept().await else {
                return;
            };
            let send = |status: Json| {
                let sink = sink.clone();
                async move {
                    let message = SubscriptionMessage::from(
                        serde_json::value::to_raw_value(&status).unwrap(),
                    );
                    let _ = sink.send(message).await;
                }
            };
            send(json!("ready")).await;
            if let Outcome::Lost(writes) = outcome {
                state.storage.lock().unwrap().extend(writes);
                sink.closed().await;
                return;
            }
            let block = state.include(extrinsic, &outcome);
            send(json!({ "inBlock": hex(&block_hash(block)) })).await;
            // Keep the subscription open until the client unwatches it.
            sink.closed().await;
        },
    )
    .unwrap();
    m
}

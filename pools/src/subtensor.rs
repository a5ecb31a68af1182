//! Pools on subtensor: the pool is an account of the funder's (a coldkey kept
//! for the pool), whatever it holds less a reserve for fees and the existential
//! deposit is the pool's balance, and each period's payout is one
//! `Utility.batch_all` of `Balances.transfer_keep_alive` that the funder signs:
//! given the account's key it signs and sends the batch; without it the batch
//! is kept (call data and the nonce to sign it with, [`SubtensorTreasury::unsigned`])
//! for the funder to sign, and [`Treasury::pay`] answers
//! [`ChainError::AwaitingSignature`].
//!
//! Exactly once: before a batch is sent or printed, it is recorded in the pools
//! file with the nonce of its signature. A transaction with a given nonce lands
//! at most once, so the account's nonce passing it means the batch was made —
//! the pool account must sign nothing else while a payout is pending.
//!
//! The treasury is `Send + Sync`: a command drives it with a runtime of its
//! own ([`SubtensorTreasury::connect`]); a server such as the dashboard
//! attaches it to its own runtime ([`SubtensorTreasury::attach`]) and calls it
//! from blocking tasks.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use gauntlet_chain::{BatchOutcome, ChainError, Hotkey, Transfer};
use gauntlet_constants::Block;
use gauntlet_subtensor::transfers::Payment;
use gauntlet_subtensor::{SubtensorChain, SubtensorError, SubtensorOptions};
use tokio::runtime::{Handle, Runtime};

use crate::{Pool, PoolError, PoolStore, SignedBatch, Treasury};

/// A batch waiting for its owner's signature, as `pool settle` prints it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unsigned {
    /// The batch as recorded (key, account, nonce, transfers).
    #[serde(flatten)]
    pub batch: SignedBatch,
    /// `Utility.batch_all` of the transfers, SCALE-encoded call data (hex).
    pub call_data: String,
}

/// What runs the treasury's requests to the node.
enum Driver {
    /// A runtime of the treasury's own (a command's).
    Owned(Runtime),
    /// The caller's runtime; the treasury is called from its blocking tasks.
    Shared(Handle),
}

impl Driver {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Driver::Owned(runtime) => runtime.block_on(future),
            Driver::Shared(handle) => handle.block_on(future),
        }
    }
}

/// The subtensor side of pools.
pub struct SubtensorTreasury {
    chain: SubtensorChain,
    /// The node's address, named in errors.
    endpoint: String,
    driver: Driver,
    /// A second connection to the pools file, for the batches.
    batches: Mutex<PoolStore>,
    coldkey: Option<Hotkey>,
    reserve: u64,
    unsigned: Mutex<Vec<Unsigned>>,
}

/// Locks `mutex`, taking its value even if another thread panicked holding it
/// (the pools file and a list of batches stay consistent across a panic).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pool_error(e: PoolError) -> ChainError {
    ChainError::Rejected {
        reason: format!("pools file: {e}"),
    }
}

impl SubtensorTreasury {
    /// Connects to `endpoint`; `batches` is the pools file, `coldkey` the
    /// pool account's key when this run signs, `reserve` the rao the account
    /// keeps for fees and its existential deposit.
    pub fn connect(
        endpoint: &str,
        options: SubtensorOptions,
        batches: PoolStore,
        coldkey: Option<Hotkey>,
        reserve: u64,
    ) -> Result<Self, PoolError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| {
                PoolError::Chain(ChainError::Task {
                    reason: format!("starting a runtime: {e}"),
                })
            })?;
        let chain = runtime
            .block_on(SubtensorChain::connect(endpoint, options))
            .map_err(|e| e.into_chain_error(endpoint))?;
        Ok(Self::new(
            chain,
            endpoint,
            Driver::Owned(runtime),
            batches,
            coldkey,
            reserve,
        ))
    }

    /// Connects to `endpoint` on the runtime this is awaited on, as
    /// [`connect`](Self::connect) otherwise does. The treasury's methods block
    /// on that runtime: call them from its blocking tasks
    /// (`tokio::task::spawn_blocking`), never from its worker threads.
    pub async fn attach(
        endpoint: &str,
        options: SubtensorOptions,
        batches: PoolStore,
        coldkey: Option<Hotkey>,
        reserve: u64,
    ) -> Result<Self, PoolError> {
        let chain = SubtensorChain::connect(endpoint, options)
            .await
            .map_err(|e| e.into_chain_error(endpoint))?;
        Ok(Self::new(
            chain,
            endpoint,
            Driver::Shared(Handle::current()),
            batches,
            coldkey,
            reserve,
        ))
    }

    fn new(
        chain: SubtensorChain,
        endpoint: &str,
        driver: Driver,
        batches: PoolStore,
        coldkey: Option<Hotkey>,
        reserve: u64,
    ) -> Self {
        Self {
            chain,
            endpoint: endpoint.to_owned(),
            driver,
            batches: Mutex::new(batches),
            coldkey,
            reserve,
            unsigned: Mutex::new(Vec::new()),
        }
    }

    fn chain_error(&self, e: SubtensorError) -> ChainError {
        e.into_chain_error(&self.endpoint)
    }

    /// The batches this run prepared and could not sign.
    pub fn unsigned(&self) -> Vec<Unsigned> {
        lock(&self.unsigned).clone()
    }

    fn nonce(&self, account: &str) -> Result<u64, ChainError> {
        self.driver
            .block_on(self.chain.account(account))
            .map(|a| a.nonce)
            .map_err(|e| self.chain_error(e))
    }

    fn landed(&self, batch: &SignedBatch) -> Result<bool, ChainError> {
        Ok(self.nonce(&batch.account)? > batch.nonce)
    }
}

fn payments(batch: &SignedBatch) -> Vec<Payment> {
    batch
        .transfers
        .iter()
        .map(|(dest, rao)| Payment {
            dest: dest.clone(),
            rao: *rao,
        })
        .collect()
}

impl Treasury for SubtensorTreasury {
    fn account_of(&self, pool: &Pool) -> String {
        pool.funder.clone()
    }

    fn balance(&self, account: &str) -> Result<u64, ChainError> {
        let state = self
            .driver
            .block_on(self.chain.account(account))
            .map_err(|e| self.chain_error(e))?;
        Ok(state.free.saturating_sub(self.reserve))
    }

    fn pay(
        &self,
        key: &str,
        source: &str,
        transfers: &[Transfer],
    ) -> Result<BatchOutcome, ChainError> {
        let block = Block(self.block()?);
        // A deposit into the pool's own account: the funds are already there.
        if transfers.iter().all(|t| t.dest == source) {
            let needed: u64 = transfers.iter().map(|t| t.rao).sum();
            let available = self.balance(source)?;
            if available < needed {
                return Err(ChainError::InsufficientBalance {
                    account: source.to_owned(),
                    needed,
                    available,
                });
            }
            return Ok(BatchOutcome::Made(block));
        }
        let batch = lock(&self.batches)
            .put_signed_batch(&SignedBatch {
                key: key.to_owned(),
                account: source.to_owned(),
                nonce: self.nonce(source)?,
                transfers: transfers.iter().map(|t| (t.dest.clone(), t.rao)).collect(),
            })
            .map_err(pool_error)?;
        if self.landed(&batch)? {
            return Ok(BatchOutcome::AlreadyMade(block));
        }
        match &self.coldkey {
            Some(coldkey) if coldkey.ss58() == batch.account => {
                match self
                    .driver
                    .block_on(self.chain.pay(coldkey, batch.nonce, &payments(&batch)))
                {
                    Ok(()) => Ok(BatchOutcome::Made(block)),
                    // Refused by the pool or failed in its block: nothing moved
                    // (batch_all is all or nothing), so the record goes and the
                    // next run plans afresh with a fresh nonce.
                    Err(e @ SubtensorError::Refused { .. }) => {
                        lock(&self.batches)
                            .drop_signed_batch(key)
                            .map_err(pool_error)?;
                        Err(self.chain_error(e))
                    }
                    Err(e) => Err(self.chain_error(e)),
                }
            }
            Some(coldkey) => Err(ChainError::Rejected {
                reason: format!(
                    "the coldkey given is {}, but pool account is {}",
                    coldkey.ss58(),
                    batch.account
                ),
            }),
            None => {
                let data = self
                    .driver
                    .block_on(self.chain.transfer_batch_call_data(&payments(&batch)))
                    .map_err(|e| self.chain_error(e))?;
                let nonce = batch.nonce;
                lock(&self.unsigned).push(Unsigned {
                    batch,
                    call_data: format!("0x{}", hex::encode(&data)),
                });
                Err(ChainError::AwaitingSignature {
                    account: source.to_owned(),
                    nonce,
                })
            }
        }
    }

    fn made(&self, key: &str) -> Result<Vec<Transfer>, ChainError> {
        let Some(batch) = lock(&self.batches).signed_batch(key).map_err(pool_error)? else {
            return Ok(Vec::new());
        };
        if !self.landed(&batch)? {
            return Ok(Vec::new());
        }
        Ok(batch
            .transfers
            .into_iter()
            .map(|(dest, rao)| Transfer { dest, rao })
            .collect())
    }

    fn block(&self) -> Result<u64, ChainError> {
        use gauntlet_chain::Chain as _;
        self.driver
            .block_on(self.chain.current_block())
            .map(|b| b.0)
    }
}

/// The dashboard shares one treasury across its request threads.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<SubtensorTreasury>();
};

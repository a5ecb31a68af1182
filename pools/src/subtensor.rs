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

use std::cell::RefCell;

use gauntlet_chain::{BatchOutcome, ChainError, Hotkey, Transfer};
use gauntlet_constants::Block;
use gauntlet_subtensor::transfers::Payment;
use gauntlet_subtensor::{SubtensorChain, SubtensorError, SubtensorOptions};
use tokio::runtime::Runtime;

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

/// The subtensor side of pools.
pub struct SubtensorTreasury {
    chain: SubtensorChain,
    /// The node's address, named in errors.
    endpoint: String,
    runtime: Runtime,
    /// A second connection to the pools file, for the batches.
    batches: PoolStore,
    coldkey: Option<Hotkey>,
    reserve: u64,
    unsigned: RefCell<Vec<Unsigned>>,
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
        Ok(Self {
            chain,
            endpoint: endpoint.to_owned(),
            runtime,
            batches,
            coldkey,
            reserve,
            unsigned: RefCell::new(Vec::new()),
        })
    }

    fn chain_error(&self, e: SubtensorError) -> ChainError {
        e.into_chain_error(&self.endpoint)
    }

    /// The batches this run prepared and could not sign.
    pub fn unsigned(&self) -> Vec<Unsigned> {
        self.unsigned.borrow().clone()
    }

    fn nonce(&self, account: &str) -> Result<u64, ChainError> {
        self.runtime
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
            .runtime
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
        let batch = self
            .batches
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
                    .runtime
                    .block_on(self.chain.pay(coldkey, batch.nonce, &payments(&batch)))
                {
                    Ok(()) => Ok(BatchOutcome::Made(block)),
                    // Refused by the pool or failed in its block: nothing moved
                    // (batch_all is all or nothing), so the record goes and the
                    // next run plans afresh with a fresh nonce.
                    Err(e @ SubtensorError::Refused { .. }) => {
                        self.batches.drop_signed_batch(key).map_err(pool_error)?;
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
                    .runtime
                    .block_on(self.chain.transfer_batch_call_data(&payments(&batch)))
                    .map_err(|e| self.chain_error(e))?;
                let nonce = batch.nonce;
                self.unsigned.borrow_mut().push(Unsigned {
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
        let Some(batch) = self.batches.signed_batch(key).map_err(pool_error)? else {
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
        self.runtime
            .block_on(self.chain.current_block())
            .map(|b| b.0)
    }
}

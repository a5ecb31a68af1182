//! [`LocalChain`]: the embedded default chain, one SQLite file that any number of
//! miners and validators (threads or processes) open at once.
//!
//! It keeps what Gauntlet needs of a Bittensor chain: a block clock with
//! deterministic block hashes, subnets with subtensor's hyperparameters,
//! registration, stake, validator permits, commitments, rate-limited weights and a
//! Yuma epoch every tempo. Administrative operations (creating subnets, registering,
//! staking, stepping the clock) are synchronous methods; the six [`Chain`](crate::Chain)
//! operations are async, and run their SQLite work on tokio's blocking pool
//! (`spawn_blocking`) when called inside a tokio runtime — a busy database waits on
//! its lock there, never on an executor thread — and inline otherwise.
//!
//! # Differences from subtensor (on purpose)
//! - Registration is free and immediate; a full subnet replaces its non-immune
//!   neuron with the lowest emission, or refuses when all are immune.
//! - Setting weights on other neurons needs a validator permit **or** any stake:
//!   permits are only elected at epochs, so a freshly staked validator can set
//!   weights before the first one. Weights only on oneself are always allowed.
//! - The weights rate limit counts from a hotkey's last weights, not from its
//!   registration, so a new validator may set weights at once.
//! - Permits are elected at the start of each epoch (top `max_validators` by stake,
//!   stake > 0) and count in that same epoch; emission is recorded, not staked.
//! - Weights set in an earlier block than their target's registration are dropped
//!   at epochs (subtensor also drops those set in the same block).

mod balances;
mod chain_impl;
mod clock;
mod commitments;
mod db;
mod epoch;
mod metagraph;
mod schema;
mod subnet;
mod weights;

pub use balances::{BatchOutcome, Transfer};
pub use clock::{ClockMode, Genesis};
pub use subnet::SubnetParams;
pub use weights::WeightsRecord;

use std::path::Path;
use std::sync::Arc;

use gauntlet_constants::{Block, NetUid, Uid};

use crate::{ChainError, CommitmentRecord, Metagraph};
use clock::ChainInfo;
use db::Db;

/// A handle on a local chain file. Cheap to clone (clones share one connection);
/// open the same file again for an independent connection.
#[derive(Clone)]
pub struct LocalChain {
    db: Arc<Db>,
    info: Arc<ChainInfo>,
}

impl std::fmt::Debug for LocalChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalChain")
            .field("path", &self.db.path())
            .field("clock", &self.info.clock)
            .finish_non_exhaustive()
    }
}

impl LocalChain {
    /// Opens the chain at `path`, creating it (wall clock from block 0) if the file
    /// holds none yet.
    pub fn open(path: &Path) -> Result<LocalChain, ChainError> {
        LocalChain::open_with(path, &Genesis::default())
    }

    /// Opens the chain at `path`, creating it from `genesis` if the file holds none
    /// yet; an existing chain keeps its own genesis.
    pub fn open_with(path: &Path, genesis: &Genesis) -> Result<LocalChain, ChainError> {
        let db = Db::open(path)?;
        let info = db.write(|tx| {
            if schema::ensure(tx)? {
                ChainInfo::create(tx, genesis)?;
                tracing::info!(path = %path.display(), ?genesis, "local chain created");
            }
            ChainInfo::load(tx)
        })?;
        Ok(LocalChain {
            db: Arc::new(db),
            info: Arc::new(info),
        })
    }

    /// The chain file.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// How this chain's blocks move.
    pub fn clock_mode(&self) -> ClockMode {
        self.info.clock
    }

    /// The current block.
    pub fn block(&self) -> Result<Block, ChainError> {
        self.db.read(|tx| self.info.current_block(tx))
    }

    /// The hash of a block at or before the current one: `sha256(genesis id ‖ block)`.
    pub fn hash_of(&self, block: Block) -> Result<[u8; 32], ChainError> {
        let current = self.block()?;
        if block > current {
            return Err(ChainError::BlockNotFound { block, current });
        }
        Ok(self.info.block_hash(block))
    }

    /// Moves a manual clock `n` blocks on and runs the epochs that fall due;
    /// returns the new block. Refused on a wall clock.
    pub fn advance(&self, n: u64) -> Result<Block, ChainError> {
        self.db.write(|tx| {
            let target = Block(self.info.current_block(tx)?.0.saturating_add(n));
            self.info.set_block(tx, target)?;
            epoch::catch_up_all(tx, target)?;
            Ok(target)
        })
    }

    /// Moves a manual clock to `block` (never backwards) and runs the epochs that
    /// fall due. Refused on a wall clock.
    pub fn set_block(&self, block: Block) -> Result<(), ChainError> {
        self.db.write(|tx| {
            self.info.set_block(tx, block)?;
            epoch::catch_up_all(tx, block)?;
            Ok(())
        })
    }

    /// Creates a subnet now; its first epoch comes `tempo` blocks later.
    pub fn create_subnet(&self, netuid: NetUid, params: &SubnetParams) -> Result<(), ChainError> {
        self.db.write(|tx| {
            let now = self.info.current_block(tx)?;
            subnet::create(tx, netuid, params, now)
        })
    }

    /// A subnet's hyperparameters.
    pub fn subnet_params(&self, netuid: NetUid) -> Result<SubnetParams, ChainError> {
        self.db.read(|tx| Ok(subnet::load(tx, netuid)?.params))
    }

    /// Replaces a subnet's hyperparameters (e.g. raises `weights_version_key`).
    pub fn set_subnet_params(
        &self,
        netuid: NetUid,
        params: &SubnetParams,
    ) -> Result<(), ChainError> {
        self.db.write(|tx| {
            self.catch_up(tx, netuid)?;
            subnet::update(tx, netuid, params)
        })
    }

    /// Registers `hotkey` (SS58) on the subnet and returns its uid; registering an
    /// already registered hotkey returns its uid again. Uids are given in order.
    pub fn register(&self, netuid: NetUid, hotkey: &str) -> Result<Uid, ChainError> {
        self.db.write(|tx| {
            let now = self.catch_up(tx, netuid)?;
            subnet::register(tx, netuid, hotkey, now)
        })
    }

    /// Adds `rao` to a registered hotkey's stake on the subnet; returns the total.
    pub fn add_stake(&self, netuid: NetUid, hotkey: &str, rao: u64) -> Result<u64, ChainError> {
        self.db.write(|tx| {
            self.catch_up(tx, netuid)?;
            subnet::add_stake(tx, netuid, hotkey, rao)
        })
    }

    /// Runs an epoch of the subnet now, outside the schedule (after any due ones);
    /// the next scheduled one comes `tempo` blocks later.
    pub fn run_epoch(&self, netuid: NetUid) -> Result<(), ChainError> {
        self.db.write(|tx| {
            let now = self.catch_up(tx, netuid)?;
            epoch::run_now(tx, netuid, now)
        })
    }

    /// The blocks at which the subnet's epochs ran, oldest first.
    pub fn epochs(&self, netuid: NetUid) -> Result<Vec<Block>, ChainError> {
        self.db.read(|tx| {
            subnet::load(tx, netuid)?;
            let mut stmt =
                tx.prepare("SELECT block FROM epochs WHERE netuid = ?1 ORDER BY block")?;
            let blocks = stmt
                .query_map([netuid.0], |r| r.get(0).map(Block))?
                .collect::<Result<_, _>>()?;
            Ok(blocks)
        })
    }

    /// The subnet's neurons now (running any due epoch first): the synchronous
    /// form of [`Chain::metagraph`](crate::Chain::metagraph).
    pub fn read_metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.with_epochs_current(netuid, |tx, now| metagraph::read(tx, netuid, now))
    }

    /// Each neuron's consensus weight at the last epoch, by uid.
    pub fn consensus(&self, netuid: NetUid) -> Result<Vec<f64>, ChainError> {
        self.with_epochs_current(netuid, |tx, _| metagraph::consensus(tx, netuid))
    }

    /// Every neuron's weights on chain now: the synchronous form of
    /// [`Chain::weights`](crate::Chain::weights).
    pub fn read_weights(&self, netuid: NetUid) -> Result<Vec<crate::WeightsRow>, ChainError> {
        let rows = self.db.read(|tx| {
            subnet::load(tx, netuid)?;
            weights::rows(tx, netuid)
        })?;
        let mut out: Vec<crate::WeightsRow> = Vec::new();
        for (setter, dest, value) in rows {
            match out.last_mut() {
                Some((uid, pairs)) if uid.0 == setter => pairs.push((Uid(dest), value)),
                _ => out.push((Uid(setter), vec![(Uid(dest), value)])),
            }
        }
        Ok(out)
    }

    /// Every hotkey's latest commitment on the subnet, oldest first: the synchronous
    /// form of [`Chain::commitments`](crate::Chain::commitments).
    pub fn read_commitments(&self, netuid: NetUid) -> Result<Vec<CommitmentRecord>, ChainError> {
        self.db.read(|tx| commitments::list(tx, netuid))
    }

    /// Stores `data` as the commitment of `hotkey` (SS58): the synchronous form of
    /// [`Chain::commit`](crate::Chain::commit), for a signer already verified.
    pub fn commit_as(&self, hotkey: &str, netuid: NetUid, data: &str) -> Result<(), ChainError> {
        self.db.write(|tx| {
            let now = self.catch_up(tx, netuid)?;
            commitments::commit(tx, netuid, hotkey, data, now)
        })
    }

    /// Sets the weights `uids[i] → values[i]` of `hotkey` (SS58): the synchronous
    /// form of [`Chain::set_weights`](crate::Chain::set_weights), with subtensor's
    /// separate vectors.
    pub fn set_weights_as(
        &self,
        hotkey: &str,
        netuid: NetUid,
        uids: &[Uid],
        values: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        self.db.write(|tx| {
            let now = self.catch_up(tx, netuid)?;
            weights::set(tx, netuid, hotkey, uids, values, version_key, now)
        })
    }

    /// Every accepted weights set of `hotkey` on the subnet, oldest first.
    pub fn weights_history(
        &self,
        netuid: NetUid,
        hotkey: &str,
    ) -> Result<Vec<WeightsRecord>, ChainError> {
        self.db.read(|tx| {
            subnet::load(tx, netuid)?;
            weights::history(tx, netuid, hotkey)
        })
    }

    /// The free balance of `account`, in rao (0 for an account never seen).
    pub fn balance(&self, account: &str) -> Result<u64, ChainError> {
        self.db.read(|tx| balances::balance(tx, account))
    }

    /// Adds `rao` to `account` out of nothing, as a local network's faucet
    /// does; returns the new balance.
    pub fn fund(&self, account: &str, rao: u64) -> Result<u64, ChainError> {
        self.db.write(|tx| balances::mint(tx, account, rao))
    }

    /// Pays every transfer from `source` at once, or none (too little balance);
    /// the batch `key` is made at most once: a key made before is answered with
    /// [`BatchOutcome::AlreadyMade`] and moves nothing.
    pub fn transfer_batch(
        &self,
        key: &str,
        source: &str,
        transfers: &[Transfer],
    ) -> Result<BatchOutcome, ChainError> {
        self.db.write(|tx| {
            let now = self.info.current_block(tx)?;
            balances::transfer_batch(tx, key, source, transfers, now)
        })
    }

    /// The transfers of batch `key`, in order (empty for a key never made).
    pub fn transfers_of(&self, key: &str) -> Result<Vec<Transfer>, ChainError> {
        self.db.read(|tx| balances::batch(tx, key))
    }

    /// Runs the subnet's due epochs inside a write transaction; returns the block.
    fn catch_up(
        &self,
        tx: &rusqlite::Transaction<'_>,
        netuid: NetUid,
    ) -> Result<Block, ChainError> {
        let now = self.info.current_block(tx)?;
        epoch::catch_up(tx, netuid, now)?;
        Ok(now)
    }

    /// Reads with `f` after running any due epoch (taking the write lock only then).
    fn with_epochs_current<T>(
        &self,
        netuid: NetUid,
        f: impl Fn(&rusqlite::Transaction<'_>, Block) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let fast = self.db.read(|tx| {
            let now = self.info.current_block(tx)?;
            if epoch::due(tx, netuid, now)? {
                Ok(None)
            } else {
                f(tx, now).map(Some)
            }
        })?;
        match fast {
            Some(value) => Ok(value),
            None => self.db.write(|tx| {
                let now = self.catch_up(tx, netuid)?;
                f(tx, now)
            }),
        }
    }
}

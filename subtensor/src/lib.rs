//! Gauntlet's subtensor backend: the [`Chain`] trait on a real Bittensor node.
//!
//! [`SubtensorChain`] talks to a subtensor node over WebSocket JSON-RPC through
//! [subxt]'s dynamic API — no generated code, so a runtime upgrade that keeps the
//! calls and storage entries Gauntlet uses needs no rebuild, and one that changes
//! them fails at [`SubtensorChain::connect`] with an error naming what changed
//! ([`check_metadata`] runs against the node's live metadata).
//!
//! | [`Chain`] method | on chain (REFERENCE §7) |
//! |---|---|
//! | `current_block`, `block_hash` | `chain_getHeader`, `chain_getBlockHash` (best block) |
//! | `metagraph` | `SubtensorModule.{SubnetworkN, Keys, TotalHotkeyAlpha, ValidatorPermit, LastUpdate, Incentive, Dividends, Emission}` |
//! | `commitments` | `Commitments.CommitmentOf(netuid, *)`, `info.fields[0]` as `Data::RawN` UTF-8 |
//! | `commit` | `Commitments.set_commitment` with `Data::RawN` |
//! | `set_weights` | `SubtensorModule.set_weights`, or `commit_timelocked_weights` (commit–reveal v4) when `CommitRevealWeightsEnabled` |
//! | `commit_status` | `SubtensorModule.TimelockedWeightCommits(netuid, *)`, `Uids`, `Weights` |
//!
//! Every operation runs in attempts bounded by [`SubtensorOptions`]' timeouts;
//! transient failures (timeouts, dropped connections, a busy node) are retried with
//! exponential backoff on a fresh connection, and [`ChainError::is_transient`]
//! tells the caller what is left. Refusals the chain would make are checked from
//! storage first and come back typed (`NotRegistered`, `RateLimited`,
//! `VersionKeyTooLow`); a transaction that fails in its block comes back as the
//! runtime's error. Transactions are signed with [`Hotkey::keypair`].
//!
//! Weights follow the subnet's hyperparameters ([`SubtensorChain::hyperparameters`]):
//! plain `set_weights` where commit–reveal is off; where it is on, the payload
//! is encrypted to a drand quicknet round ([`timelock`]) computed from the
//! subnet's epoch schedule and reveal period as the Python SDK computes it
//! ([`schedule`]), and the chain decrypts and applies it itself at that round.
//! Nothing is kept in memory: the caller records the returned
//! [`WeightsCommit`](gauntlet_chain::WeightsCommit) and follows it with
//! `commit_status`.
//!
//! [`finney_metadata`] is Bittensor's finney metadata shipped with the crate, for
//! building and checking calls and storage keys offline:
//!
//! ```
//! use gauntlet_subtensor::{calls, check_metadata, finney_metadata, offline_client};
//!
//! let metadata = finney_metadata()?;
//! check_metadata(&metadata)?;
//! let call = calls::set_weights(37, &[0, 5], &[65535, 1200], 4020);
//! let data = offline_client(metadata)?.tx().call_data(&call).expect("encodes");
//! assert_eq!(data[..2], [7, 0]); // SubtensorModule (index 7), set_weights (index 0)
//! # Ok::<(), gauntlet_subtensor::SubtensorError>(())
//! ```
//!
//! [`Chain`]: gauntlet_chain::Chain
//! [`Hotkey::keypair`]: gauntlet_chain::Hotkey::keypair
//! [`ChainError::is_transient`]: gauntlet_chain::ChainError::is_transient

pub mod calls;
mod client;
mod commit;
mod error;
mod hyperparams;
mod metadata;
mod options;
mod reads;
pub mod schedule;
mod storage;
pub mod timelock;
pub mod transfers;
mod transport;
mod writes;

use gauntlet_chain::{
    Chain, ChainError, CommitStatus, CommitmentRecord, Hotkey, Metagraph, WeightsCommit,
    WeightsRow, WeightsSubmission,
};
use gauntlet_constants::{Block, NetUid, Uid};

pub use client::SubtensorChain;
pub use commit::COMMIT_REVEAL_VERSION;
pub use error::SubtensorError;
pub use hyperparams::Hyperparameters;
pub use metadata::{check_metadata, finney_metadata, offline_client, FINNEY_METADATA};
pub use options::SubtensorOptions;

#[async_trait::async_trait]
impl Chain for SubtensorChain {
    async fn current_block(&self) -> Result<Block, ChainError> {
        self.run("current_block", |conn| async move {
            let header = conn
                .legacy
                .chain_get_header(None)
                .await
                .map_err(|e| client::node("current_block", e))?;
            header
                .map(|h| Block(h.number))
                .ok_or_else(|| client::node("current_block", "the node returned no best header"))
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn block_hash(&self, block: Block) -> Result<[u8; 32], ChainError> {
        self.run("block_hash", |conn| async move {
            let hash = conn
                .legacy
                .chain_get_block_hash(Some(block.0.into()))
                .await
                .map_err(|e| client::node("block_hash", e))?;
            if let Some(hash) = hash {
                return Ok(hash.0);
            }
            let current = conn
                .legacy
                .chain_get_header(None)
                .await
                .map_err(|e| client::node("block_hash", e))?
                .map_or(0, |h| h.number);
            Err(SubtensorError::Chain(ChainError::BlockNotFound {
                block,
                current: Block(current),
            }))
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError> {
        self.run("metagraph", |conn| async move {
            reads::metagraph(&conn, netuid).await
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn commitments(&self, netuid: NetUid) -> Result<Vec<CommitmentRecord>, ChainError> {
        self.run("commitments", |conn| async move {
            reads::commitments(&conn, netuid).await
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn weights(&self, netuid: NetUid) -> Result<Vec<WeightsRow>, ChainError> {
        self.run("weights", |conn| async move {
            reads::weights(&conn, netuid).await
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn commit(&self, hotkey: &Hotkey, netuid: NetUid, data: &str) -> Result<(), ChainError> {
        self.commit_impl(hotkey, netuid, data)
            .await
            .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn set_weights(
        &self,
        hotkey: &Hotkey,
        netuid: NetUid,
        weights: &[(Uid, u16)],
        version_key: u64,
    ) -> Result<WeightsSubmission, ChainError> {
        self.set_weights_impl(hotkey, netuid, weights, version_key)
            .await
            .map_err(|e| e.into_chain_error(self.endpoint()))
    }

    async fn commit_status(
        &self,
        hotkey: &str,
        netuid: NetUid,
        commit: &WeightsCommit,
    ) -> Result<CommitStatus, ChainError> {
        self.commit_status_impl(hotkey, netuid, commit)
            .await
            .map_err(|e| e.into_chain_error(self.endpoint()))
    }
}

impl SubtensorChain {
    /// The subnet's hyperparameters that decide how weights are set, at the
    /// best block.
    pub async fn hyperparameters(&self, netuid: NetUid) -> Result<Hyperparameters, ChainError> {
        self.run("hyperparameters", |conn| async move {
            let (at, _) = conn.at_best().await?;
            hyperparams::read(&at, "hyperparameters", netuid.0).await
        })
        .await
        .map_err(|e| e.into_chain_error(self.endpoint()))
    }
}

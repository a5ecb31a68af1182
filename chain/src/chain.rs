//! The [`Chain`] trait every backend implements, and the plain data it returns.
//!
//! Kept small on purpose (the validator, the miner and observers need only these eight calls):
//! administrative operations — creating subnets, registering, staking, stepping the
//! clock — belong to the backends themselves.

use gauntlet_constants::{Block, NetUid, Uid};

use crate::submission::{CommitStatus, WeightsCommit, WeightsSubmission};
use crate::wallet::Hotkey;
use crate::ChainError;

/// A chain Gauntlet can run on: the embedded local chain or a subtensor node.
///
/// Object safe (through `async-trait`), so callers hold `Box<dyn Chain>` or
/// `Arc<dyn Chain>` and pick the backend at start-up.
#[async_trait::async_trait]
pub trait Chain: Send + Sync {
    /// The current (best) block number.
    async fn current_block(&self) -> Result<Block, ChainError>;

    /// The 32-byte hash of a past or current block.
    async fn block_hash(&self, block: Block) -> Result<[u8; 32], ChainError>;

    /// The subnet's neurons now.
    async fn metagraph(&self, netuid: NetUid) -> Result<Metagraph, ChainError>;

    /// Every hotkey's latest commitment on the subnet, with the block it was made at.
    ///
    /// The strings are raw: parsing them into a [`crate::Commitment`] is the
    /// caller's job, and a malformed one is the miner's fault, not an `Err`.
    async fn commitments(&self, netuid: NetUid) -> Result<Vec<CommitmentRecord>, ChainError>;

    /// Publishes `data` (at most 128 bytes) as `hotkey`'s commitment on the subnet,
    /// replacing its previous one.
    async fn commit(&self, hotkey: &Hotkey, netuid: NetUid, data: &str) -> Result<(), ChainError>;

    /// Sets `hotkey`'s weights: `u16` values, sorted by uid, with the version key
    /// `1000·major + 10·minor + patch` (REFERENCE §4, §7).
    ///
    /// Returns [`WeightsSubmission::Set`] when the weights are on chain now, or
    /// [`WeightsSubmission::Committed`] on a subnet with commit–reveal, where the
    /// chain applies them itself at the commit's drand round: follow such a
    /// commit with [`Chain::commit_status`].
    async fn set_weights(
        &self,
        hotkey: &Hotkey,
        netuid: NetUid,
        weights: &[(Uid, u16)],
        version_key: u64,
    ) -> Result<WeightsSubmission, ChainError>;

    /// Where a commit `hotkey` (SS58) made with [`Chain::set_weights`] stands:
    /// still pending, revealed (gone from the chain's pending commits and the
    /// hotkey's weights on chain are the committed ones), or dropped.
    async fn commit_status(
        &self,
        hotkey: &str,
        netuid: NetUid,
        commit: &WeightsCommit,
    ) -> Result<CommitStatus, ChainError>;

    /// The weights every neuron has on chain now: `(setter uid, [(dest uid,
    /// value)])`, by setter uid then dest uid; a neuron with no weights is
    /// left out. What observers compare validators by.
    async fn weights(&self, netuid: NetUid) -> Result<Vec<WeightsRow>, ChainError>;
}

/// One neuron's weights on chain: its uid and `(dest uid, u16 value)` pairs.
pub type WeightsRow = (Uid, Vec<(Uid, u16)>);

/// One neuron of a subnet.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Neuron {
    /// Its position in the subnet.
    pub uid: Uid,
    /// Its hotkey, SS58 (prefix 42).
    pub hotkey: String,
    /// Stake on the subnet, in rao (alpha on the subnet).
    pub stake: u64,
    /// Whether it holds a validator permit (its weights count in consensus).
    pub validator_permit: bool,
    /// The block of its last weights (or of its registration).
    pub last_update: u64,
    /// Its share of the miners' emission at the last epoch, in `[0, 1]`.
    pub incentive: f64,
    /// Its share of the validators' emission at the last epoch, in `[0, 1]`.
    pub dividends: f64,
    /// What it earned at the last epoch, in rao.
    pub emission: u64,
}

/// A subnet's neurons at a block.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metagraph {
    /// The subnet.
    pub netuid: NetUid,
    /// The block the neurons were read at.
    pub block: Block,
    /// The neurons, sorted by uid.
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    /// The neuron registered with this hotkey, if any.
    pub fn by_hotkey(&self, hotkey: &str) -> Option<&Neuron> {
        self.neurons.iter().find(|n| n.hotkey == hotkey)
    }

    /// The neuron at this uid, if any.
    pub fn by_uid(&self, uid: Uid) -> Option<&Neuron> {
        self.neurons.iter().find(|n| n.uid == uid)
    }
}

/// A hotkey's commitment as stored on chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommitmentRecord {
    /// The committing hotkey, SS58.
    pub hotkey: String,
    /// The block the commitment was made at (the model's age).
    pub block: Block,
    /// The raw commitment string.
    pub data: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metagraph_serialises_ids_as_numbers() {
        let m = Metagraph {
            netuid: NetUid(37),
            block: Block(1234),
            neurons: vec![Neuron {
                uid: Uid(3),
                hotkey: "5Grw".into(),
                stake: 10,
                validator_permit: true,
                last_update: 7,
                incentive: 0.5,
                dividends: 0.25,
                emission: 99,
            }],
        };
        let v = serde_json::to_value(&m).expect("serialise");
        assert_eq!(v["netuid"], 37);
        assert_eq!(v["block"], 1234);
        assert_eq!(v["neurons"][0]["uid"], 3);
        assert_eq!(v["neurons"][0]["validator_permit"], true);
        assert_eq!(m.by_hotkey("5Grw").map(|n| n.uid), Some(Uid(3)));
        assert!(m.by_uid(Uid(4)).is_none());
    }

    #[test]
    fn chain_is_object_safe() {
        fn takes(_: Option<&dyn Chain>) {}
        takes(None);
    }
}

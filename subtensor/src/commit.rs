//! Commit–reveal v4 on chain: building a timelocked commit of weights (the
//! payload encrypted to the drand round at which the chain will reveal it), and
//! reading back where a commit stands.
//!
//! There is no reveal transaction: the chain decrypts pending commits
//! (`TimelockedWeightCommits(netuid, epoch)`) with the drand pulses it ingests
//! and applies the weights itself, in the first block of the commit's reveal
//! epoch or the blocks after it.

use std::time::{SystemTime, UNIX_EPOCH};

use gauntlet_chain::{ChainError, CommitStatus, WeightsCommit};
use gauntlet_constants::Block;
use subxt::client::OnlineClientAtBlock;
use subxt::SubstrateConfig;

use crate::calls::{self, Call};
use crate::hyperparams::{self, Hyperparameters};
use crate::reads::{self, uid_of};
use crate::timelock::{self, WeightsPayload};
use crate::{storage, SubtensorError};

type At = OnlineClientAtBlock<SubstrateConfig>;

/// The only commit–reveal version this client encrypts for.
pub const COMMIT_REVEAL_VERSION: u16 = 4;

/// A commit ready to send, and what the validator records of it.
pub(crate) struct Prepared {
    /// `commit_timelocked_weights(…)`.
    pub call: Call,
    /// The record of the commit.
    pub commit: WeightsCommit,
}

/// What a commit needs besides the weights: where, by whom, and when.
pub(crate) struct Context<'a> {
    /// The client at the best block.
    pub at: &'a At,
    /// That block's number.
    pub block: u64,
    /// The subnet.
    pub netuid: u16,
    /// The committing hotkey's public key.
    pub hotkey: [u8; 32],
    /// The subnet's hyperparameters at that block.
    pub params: &'a Hyperparameters,
    /// Wall-clock time now (the reveal round depends on it).
    pub now: SystemTime,
    /// Seconds per block.
    pub block_secs: f64,
}

/// Encrypts `uids → values` to the drand round at which the chain will reveal a
/// commit sent now, and builds the call.
pub(crate) async fn prepare(
    cx: &Context<'_>,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
) -> Result<Prepared, SubtensorError> {
    const OP: &str = "set_weights";
    let version = cx.params.commit_reveal_version;
    if version != COMMIT_REVEAL_VERSION {
        return Err(SubtensorError::Chain(ChainError::Unsupported {
            what: format!(
                "commit-reveal version {version} (this client encrypts version {COMMIT_REVEAL_VERSION})"
            ),
        }));
    }
    let state = hyperparams::epoch_state(cx.at, OP, cx.netuid, cx.block, cx.params.tempo).await?;
    let first_reveal = state
        .first_reveal_block(cx.params.reveal_period_epochs)
        .map_err(|e| {
            SubtensorError::Chain(ChainError::Unsupported {
                what: format!("commit-reveal on subnet {}: {e}", cx.netuid),
            })
        })?;
    let now = cx
        .now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let round = crate::schedule::reveal_round(now, cx.block, first_reveal, cx.block_secs);
    let payload = WeightsPayload {
        hotkey: cx.hotkey.to_vec(),
        uids: uids.to_vec(),
        values: values.to_vec(),
        version_key,
    };
    let blob = timelock::encrypt_weights(&payload, round).map_err(|e| SubtensorError::Node {
        operation: OP,
        detail: e.to_string(),
    })?;
    tracing::debug!(
        netuid = cx.netuid,
        first_reveal,
        round,
        "weights encrypted for the reveal epoch"
    );
    Ok(Prepared {
        call: calls::commit_timelocked_weights(cx.netuid, &blob, round, version),
        commit: WeightsCommit {
            uids: uids.to_vec(),
            values: values.to_vec(),
            version_key,
            reveal_round: round,
            commit_reveal_version: version,
            block: Block(cx.block),
            blob_hash: sp_crypto_hashing::blake2_256(&blob),
        },
    })
}

/// Where `commit`, made by `hotkey` on the subnet, stands at `at`: pending while
/// the chain holds it, revealed once it is gone and the hotkey's weights are the
/// committed ones, dropped otherwise.
pub(crate) async fn status(
    at: &At,
    netuid: u16,
    hotkey: [u8; 32],
    commit: &WeightsCommit,
) -> Result<CommitStatus, SubtensorError> {
    const OP: &str = "commit_status";
    const NAME: &str = "SubtensorModule.TimelockedWeightCommits";
    let mut entries = at
        .storage()
        .iter(storage::timelocked_weight_commits(), (netuid,))
        .await
        .map_err(|e| crate::client::node(OP, format!("{NAME}: {e}")))?;
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|e| crate::client::node(OP, format!("{NAME}: {e}")))?;
        let commits = entry.value().decode().map_err(|e| SubtensorError::Decode {
            what: NAME.into(),
            detail: e.to_string(),
        })?;
        let ours = commits.iter().any(|(who, _, blob, _)| {
            *who == hotkey && sp_crypto_hashing::blake2_256(blob) == commit.blob_hash
        });
        if ours {
            return Ok(CommitStatus::Pending);
        }
    }
    let Some(uid) = uid_of(at, OP, netuid, hotkey).await? else {
        return Ok(CommitStatus::Dropped);
    };
    let weights = reads::fetch_value(at, OP, storage::weights(), (netuid, uid)).await?;
    Ok(if weights.iter().copied().eq(commit.pairs()) {
        CommitStatus::Revealed
    } else {
        CommitStatus::Dropped
    })
}

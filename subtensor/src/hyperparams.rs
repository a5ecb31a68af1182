//! The subnet hyperparameters that decide how weights are set, read at one
//! block: commit–reveal on or off, its reveal period and version, the tempo, the
//! weights rate limit and version key; and the epoch schedule a commit's reveal
//! round is computed from.

use subxt::client::OnlineClientAtBlock;
use subxt::SubstrateConfig;

use crate::calls::SUBTENSOR_MODULE;
use crate::reads::fetch_value;
use crate::schedule::EpochState;
use crate::{storage, SubtensorError};

type At = OnlineClientAtBlock<SubstrateConfig>;

/// How a subnet takes weights (REFERENCE §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Hyperparameters {
    /// `CommitRevealWeightsEnabled`: weights are committed timelock-encrypted
    /// (`commit_timelocked_weights`) and `set_weights` is refused.
    pub commit_reveal: bool,
    /// `RevealPeriodEpochs`: epochs between a commit and its reveal.
    pub reveal_period_epochs: u64,
    /// `CommitRevealWeightsVersion`: the version a commit must name (4 today).
    pub commit_reveal_version: u16,
    /// `Tempo`: blocks between the subnet's epochs.
    pub tempo: u16,
    /// `WeightsSetRateLimit`: blocks between two sets (or commits) of weights.
    pub weights_rate_limit: u64,
    /// `WeightsVersionKey`: the lowest version key accepted.
    pub weights_version_key: u64,
}

/// Reads the subnet's hyperparameters at `at`.
pub(crate) async fn read(
    at: &At,
    operation: &'static str,
    netuid: u16,
) -> Result<Hyperparameters, SubtensorError> {
    Ok(Hyperparameters {
        commit_reveal: fetch_value(at, operation, storage::commit_reveal_enabled(), (netuid,))
            .await?,
        reveal_period_epochs: fetch_value(
            at,
            operation,
            storage::reveal_period_epochs(),
            (netuid,),
        )
        .await?,
        commit_reveal_version: fetch_value(at, operation, storage::commit_reveal_version(), ())
            .await?,
        tempo: fetch_value(at, operation, storage::tempo(), (netuid,)).await?,
        weights_rate_limit: fetch_value(
            at,
            operation,
            storage::weights_set_rate_limit(),
            (netuid,),
        )
        .await?,
        weights_version_key: fetch_value(at, operation, storage::weights_version_key(), (netuid,))
            .await?,
    })
}

/// Whether the runtime keeps the stateful epoch schedule (all of
/// [`storage::STATEFUL_EPOCH_ENTRIES`] exist).
pub(crate) fn has_stateful_epochs(at: &At) -> bool {
    let Some(entries) = at
        .metadata_ref()
        .pallet_by_name(SUBTENSOR_MODULE)
        .and_then(|p| p.storage())
    else {
        return false;
    };
    storage::STATEFUL_EPOCH_ENTRIES
        .iter()
        .all(|name| entries.entry_by_name(name).is_some())
}

/// The subnet's epoch schedule at block `block` of `at`: read from the stateful
/// counter where the runtime has one, derived from the tempo where it runs
/// epochs by block number.
pub(crate) async fn epoch_state(
    at: &At,
    operation: &'static str,
    netuid: u16,
    block: u64,
    tempo: u16,
) -> Result<EpochState, SubtensorError> {
    if !has_stateful_epochs(at) {
        return Ok(EpochState::modulo(netuid, tempo, block));
    }
    let [last, pending, index] = storage::STATEFUL_EPOCH_ENTRIES;
    let read = |name| fetch_value(at, operation, storage::optional_subnet_u64(name), (netuid,));
    Ok(EpochState {
        last_epoch_block: read(last).await?,
        pending_epoch_at: read(pending).await?,
        subnet_epoch_index: read(index).await?,
        tempo: u64::from(tempo),
        blocks_since_last_step: fetch_value(
            at,
            operation,
            storage::blocks_since_last_step(),
            (netuid,),
        )
        .await?,
        current_block: block,
    })
}

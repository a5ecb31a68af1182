//! Subnets and their neurons: hyperparameters, registration (with replacement of the
//! least-earning non-immune neuron when full) and stake.

use gauntlet_constants::{Block, NetUid, Uid, WEIGHTS_RATE_LIMIT_BLOCKS};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::ss58;
use crate::ChainError;

/// A subnet's hyperparameters; [`Default`] gives subtensor's defaults where it has
/// one and the reference subnet's otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubnetParams {
    /// Blocks between two Yuma epochs (subtensor's default 360); 0 runs epochs only
    /// when asked (`run_epoch`).
    pub tempo: u64,
    /// Blocks a hotkey waits between two weight sets (100).
    pub weights_rate_limit: u64,
    /// The lowest weights version key accepted (0: any).
    pub weights_version_key: u64,
    /// The most neurons (256).
    pub max_uids: u16,
    /// How many of the best-staked neurons get validator permits (64).
    pub max_validators: u16,
    /// Blocks after registration during which a neuron cannot be replaced (4096).
    pub immunity_period: u64,
    /// Blocks a hotkey waits between two commitments (100, the Commitments
    /// pallet's rate limit).
    pub commitment_rate_limit: u64,
    /// Rao emitted per block into the subnet, paid out at each epoch (1 TAO).
    pub emission_per_block: u64,
}

impl Default for SubnetParams {
    fn default() -> SubnetParams {
        SubnetParams {
            tempo: 360,
            weights_rate_limit: WEIGHTS_RATE_LIMIT_BLOCKS,
            weights_version_key: 0,
            max_uids: 256,
            max_validators: 64,
            immunity_period: 4096,
            commitment_rate_limit: 100,
            emission_per_block: 1_000_000_000,
        }
    }
}

/// A subnet row: its parameters and epoch bookkeeping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubnetRow {
    pub(crate) params: SubnetParams,
    pub(crate) last_epoch: u64,
}

/// Creates a subnet at block `now`; its first epoch comes `tempo` blocks later.
pub(crate) fn create(
    tx: &Transaction<'_>,
    netuid: NetUid,
    params: &SubnetParams,
    now: Block,
) -> Result<(), ChainError> {
    if load(tx, netuid).is_ok() {
        return Err(ChainError::SubnetExists { netuid });
    }
    tx.execute(
        "INSERT INTO subnets (netuid, tempo, weights_rate_limit, weights_version_key, max_uids,
             max_validators, immunity_period, commitment_rate_limit, emission_per_block,
             created_block, last_epoch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![
            netuid.0,
            params.tempo,
            params.weights_rate_limit,
            params.weights_version_key,
            params.max_uids,
            params.max_validators,
            params.immunity_period,
            params.commitment_rate_limit,
            params.emission_per_block,
            now.0,
        ],
    )?;
    tracing::info!(netuid = netuid.0, ?params, "local chain: subnet created");
    Ok(())
}

/// Replaces a subnet's hyperparameters (the epoch schedule is kept).
pub(crate) fn update(
    tx: &Transaction<'_>,
    netuid: NetUid,
    params: &SubnetParams,
) -> Result<(), ChainError> {
    load(tx, netuid)?;
    tx.execute(
        "UPDATE subnets SET tempo = ?2, weights_rate_limit = ?3, weights_version_key = ?4,
             max_uids = ?5, max_validators = ?6, immunity_period = ?7,
             commitment_rate_limit = ?8, emission_per_block = ?9
         WHERE netuid = ?1",
        params![
            netuid.0,
            params.tempo,
            params.weights_rate_limit,
            params.weights_version_key,
            params.max_uids,
            params.max_validators,
            params.immunity_period,
            params.commitment_rate_limit,
            params.emission_per_block,
        ],
    )?;
    Ok(())
}

/// A subnet's row, or `SubnetNotFound`.
pub(crate) fn load(tx: &Transaction<'_>, netuid: NetUid) -> Result<SubnetRow, ChainError> {
    tx.query_row(
        "SELECT tempo, weights_rate_limit, weights_version_key, max_uids, max_validators,
                immunity_period, commitment_rate_limit, emission_per_block, last_epoch
         FROM subnets WHERE netuid = ?1",
        [netuid.0],
        |r| {
            Ok(SubnetRow {
                params: SubnetParams {
                    tempo: r.get(0)?,
                    weights_rate_limit: r.get(1)?,
                    weights_version_key: r.get(2)?,
                    max_uids: r.get(3)?,
                    max_validators: r.get(4)?,
                    immunity_period: r.get(5)?,
                    commitment_rate_limit: r.get(6)?,
                    emission_per_block: r.get(7)?,
                },
                last_epoch: r.get(8)?,
            })
        },
    )
    .optional()?
    .ok_or(ChainError::SubnetNotFound { netuid })
}

/// Every subnet id, ascending.
pub(crate) fn all(tx: &Transaction<'_>) -> Result<Vec<NetUid>, ChainError> {
    let mut stmt = tx.prepare("SELECT netuid FROM subnets ORDER BY netuid")?;
    let ids = stmt
        .query_map([], |r| r.get(0).map(NetUid))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Checks that `hotkey` is a valid SS58 address.
pub(crate) fn check_address(hotkey: &str) -> Result<(), ChainError> {
    ss58::decode(hotkey)
        .map(|_| ())
        .map_err(|e| ChainError::InvalidAddress {
            address: hotkey.into(),
            reason: e.to_string(),
        })
}

/// The uid of a registered hotkey.
pub(crate) fn uid_of(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
) -> Result<Option<Uid>, ChainError> {
    Ok(tx
        .query_row(
            "SELECT uid FROM neurons WHERE netuid = ?1 AND hotkey = ?2",
            params![netuid.0, hotkey],
            |r| r.get(0).map(Uid),
        )
        .optional()?)
}

/// The uid of a registered hotkey, or `NotRegistered`.
pub(crate) fn require_uid(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
) -> Result<Uid, ChainError> {
    uid_of(tx, netuid, hotkey)?.ok_or_else(|| ChainError::NotRegistered {
        netuid,
        hotkey: hotkey.into(),
    })
}

/// The number of neurons (uids are dense: `0..n`).
pub(crate) fn neuron_count(tx: &Transaction<'_>, netuid: NetUid) -> Result<u16, ChainError> {
    Ok(tx.query_row(
        "SELECT COUNT(*) FROM neurons WHERE netuid = ?1",
        [netuid.0],
        |r| r.get(0),
    )?)
}

/// Registers `hotkey` at block `now` and returns its uid; an already registered
/// hotkey keeps its uid. A full subnet replaces its non-immune neuron with the
/// lowest emission (oldest registration, then lowest uid, on ties), clearing that
/// uid's weights, bonds and commitment.
pub(crate) fn register(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
    now: Block,
) -> Result<Uid, ChainError> {
    let subnet = load(tx, netuid)?;
    check_address(hotkey)?;
    if let Some(uid) = uid_of(tx, netuid, hotkey)? {
        return Ok(uid);
    }
    let n = neuron_count(tx, netuid)?;
    let uid = if n < subnet.params.max_uids {
        tx.execute(
            "INSERT INTO neurons (netuid, uid, hotkey, registered_block, last_update)
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![netuid.0, n, hotkey, now.0],
        )?;
        Uid(n)
    } else {
        let uid = prune_candidate(tx, netuid, subnet.params.immunity_period, now)?.ok_or(
            ChainError::SubnetFull {
                netuid,
                max_uids: subnet.params.max_uids,
            },
        )?;
        replace(tx, netuid, uid, hotkey, now)?;
        uid
    };
    tracing::info!(
        netuid = netuid.0,
        uid = uid.0,
        hotkey,
        "local chain: registered"
    );
    Ok(uid)
}

/// The neuron a full subnet gives up for a new registration, if any is not immune.
fn prune_candidate(
    tx: &Transaction<'_>,
    netuid: NetUid,
    immunity_period: u64,
    now: Block,
) -> Result<Option<Uid>, ChainError> {
    Ok(tx
        .query_row(
            "SELECT uid FROM neurons WHERE netuid = ?1 AND registered_block + ?2 <= ?3
             ORDER BY emission ASC, registered_block ASC, uid ASC LIMIT 1",
            params![netuid.0, immunity_period, now.0],
            |r| r.get(0).map(Uid),
        )
        .optional()?)
}

fn replace(
    tx: &Transaction<'_>,
    netuid: NetUid,
    uid: Uid,
    hotkey: &str,
    now: Block,
) -> Result<(), ChainError> {
    let old: String = tx.query_row(
        "SELECT hotkey FROM neurons WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, uid.0],
        |r| r.get(0),
    )?;
    tx.execute(
        "DELETE FROM commitments WHERE netuid = ?1 AND hotkey = ?2",
        params![netuid.0, old],
    )?;
    tx.execute(
        "DELETE FROM weights WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, uid.0],
    )?;
    tx.execute(
        "DELETE FROM bonds WHERE netuid = ?1 AND (uid = ?2 OR dest = ?2)",
        params![netuid.0, uid.0],
    )?;
    tx.execute(
        "UPDATE neurons SET hotkey = ?3, registered_block = ?4, last_update = ?4,
             validator_permit = 0, weights_block = NULL, consensus = 0, incentive = 0,
             dividends = 0, emission = 0
         WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, uid.0, hotkey, now.0],
    )?;
    tracing::info!(netuid = netuid.0, uid = uid.0, replaced = %old, "local chain: neuron replaced");
    Ok(())
}

/// A hotkey's stake on the subnet, in rao.
pub(crate) fn stake_of(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
) -> Result<u64, ChainError> {
    Ok(tx
        .query_row(
            "SELECT rao FROM stakes WHERE netuid = ?1 AND hotkey = ?2",
            params![netuid.0, hotkey],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Adds `rao` to a registered hotkey's stake; returns the new total.
pub(crate) fn add_stake(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
    rao: u64,
) -> Result<u64, ChainError> {
    load(tx, netuid)?;
    require_uid(tx, netuid, hotkey)?;
    let total = stake_of(tx, netuid, hotkey)?
        .checked_add(rao)
        .filter(|t| i64::try_from(*t).is_ok())
        .ok_or_else(|| ChainError::Rejected {
            reason: format!("stake of {hotkey} would overflow"),
        })?;
    tx.execute(
        "INSERT INTO stakes (netuid, hotkey, rao) VALUES (?1, ?2, ?3)
         ON CONFLICT (netuid, hotkey) DO UPDATE SET rao = excluded.rao",
        params![netuid.0, hotkey, total],
    )?;
    Ok(total)
}

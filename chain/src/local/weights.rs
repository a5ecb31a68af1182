//! Weights: validation as subtensor's `set_weights` does it, the current weights
//! matrix, and a history of every accepted set.

use std::collections::HashSet;

use gauntlet_constants::{Block, NetUid, Uid};
use rusqlite::{params, Transaction};

use super::subnet;
use crate::ChainError;

/// One accepted weights set, from the history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WeightsRecord {
    /// The block it was set at.
    pub block: u64,
    /// The uid of the setter at the time.
    pub uid: u16,
    /// Its version key.
    pub version_key: u64,
    /// `(uid, value)` pairs as sent.
    pub weights: Vec<(u16, u16)>,
}

/// Validates and stores `hotkey`'s weights `uids[i] → values[i]` at block `now`.
///
/// Refused: an unregistered hotkey, a version key below the subnet's, lengths that
/// differ, no entries or more entries than neurons, a repeated or unknown uid, and
/// — for weights on anything but the setter itself — a hotkey with neither a
/// validator permit nor stake; finally, a set within `weights_rate_limit` blocks of
/// the hotkey's previous one.
pub(crate) fn set(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
    uids: &[Uid],
    values: &[u16],
    version_key: u64,
    now: Block,
) -> Result<(), ChainError> {
    let subnet = subnet::load(tx, netuid)?;
    let own = subnet::require_uid(tx, netuid, hotkey)?;
    if version_key < subnet.params.weights_version_key {
        return Err(ChainError::VersionKeyTooLow {
            given: version_key,
            required: subnet.params.weights_version_key,
        });
    }
    check_shape(tx, netuid, uids, values)?;

    let self_only = uids.iter().all(|&u| u == own);
    if !self_only {
        let permit: bool = tx.query_row(
            "SELECT validator_permit FROM neurons WHERE netuid = ?1 AND uid = ?2",
            params![netuid.0, own.0],
            |r| r.get(0),
        )?;
        if !permit && subnet::stake_of(tx, netuid, hotkey)? == 0 {
            return Err(ChainError::NoValidatorPermit {
                netuid,
                hotkey: hotkey.into(),
            });
        }
    }

    let last: Option<u64> = tx.query_row(
        "SELECT weights_block FROM neurons WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, own.0],
        |r| r.get(0),
    )?;
    if let Some(last) = last {
        let next_allowed = last.saturating_add(subnet.params.weights_rate_limit);
        if now.0 < next_allowed {
            return Err(ChainError::RateLimited {
                last: Block(last),
                next_allowed: Block(next_allowed),
            });
        }
    }

    tx.execute(
        "DELETE FROM weights WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, own.0],
    )?;
    let mut insert =
        tx.prepare("INSERT INTO weights (netuid, uid, dest, value) VALUES (?1, ?2, ?3, ?4)")?;
    for (dest, value) in uids.iter().zip(values) {
        insert.execute(params![netuid.0, own.0, dest.0, value])?;
    }
    tx.execute(
        "UPDATE neurons SET last_update = ?3, weights_block = ?3 WHERE netuid = ?1 AND uid = ?2",
        params![netuid.0, own.0, now.0],
    )?;
    let pairs: Vec<(u16, u16)> = uids
        .iter()
        .map(|u| u.0)
        .zip(values.iter().copied())
        .collect();
    let json = serde_json::to_string(&pairs).map_err(|e| ChainError::Corrupt {
        reason: e.to_string(),
    })?;
    tx.execute(
        "INSERT INTO weights_history (netuid, uid, hotkey, block, version_key, weights)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            netuid.0,
            own.0,
            hotkey,
            now.0,
            version_key.to_string(),
            json
        ],
    )?;
    tracing::info!(
        netuid = netuid.0,
        uid = own.0,
        n = uids.len(),
        block = now.0,
        "local chain: weights set"
    );
    Ok(())
}

fn check_shape(
    tx: &Transaction<'_>,
    netuid: NetUid,
    uids: &[Uid],
    values: &[u16],
) -> Result<(), ChainError> {
    let invalid = |reason: String| Err(ChainError::InvalidWeights { reason });
    if uids.len() != values.len() {
        return invalid(format!("{} uids but {} values", uids.len(), values.len()));
    }
    if uids.is_empty() {
        return invalid("no weights".into());
    }
    let n = subnet::neuron_count(tx, netuid)?;
    if uids.len() > usize::from(n) {
        return invalid(format!("{} weights for {n} neurons", uids.len()));
    }
    let mut seen = HashSet::with_capacity(uids.len());
    for &uid in uids {
        if !seen.insert(uid) {
            return invalid(format!("uid {uid} appears more than once"));
        }
        if uid.0 >= n {
            return Err(ChainError::UnknownUid { netuid, uid });
        }
    }
    Ok(())
}

/// The current weights entries: `(setter uid, dest uid, value)`, by setter then dest.
pub(crate) fn rows(
    tx: &Transaction<'_>,
    netuid: NetUid,
) -> Result<Vec<(u16, u16, u16)>, ChainError> {
    let mut stmt =
        tx.prepare("SELECT uid, dest, value FROM weights WHERE netuid = ?1 ORDER BY uid, dest")?;
    let rows = stmt
        .query_map([netuid.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every accepted weights set of `hotkey` on the subnet, oldest first.
pub(crate) fn history(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
) -> Result<Vec<WeightsRecord>, ChainError> {
    let mut stmt = tx.prepare(
        "SELECT block, uid, version_key, weights FROM weights_history
         WHERE netuid = ?1 AND hotkey = ?2 ORDER BY id",
    )?;
    let raw: Vec<(u64, u16, String, String)> = stmt
        .query_map(params![netuid.0, hotkey], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    raw.into_iter()
        .map(|(block, uid, key, json)| {
            let corrupt = |what: &str| ChainError::Corrupt {
                reason: format!("weights history at block {block}: bad {what}"),
            };
            Ok(WeightsRecord {
                block,
                uid,
                version_key: key.parse().map_err(|_| corrupt("version key"))?,
                weights: serde_json::from_str(&json).map_err(|_| corrupt("weights"))?,
            })
        })
        .collect()
}

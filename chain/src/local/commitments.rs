//! Commitments: one string per hotkey and subnet, replaced by the next one, as the
//! Commitments pallet stores them, with the pallet's per-hotkey rate limit.

use gauntlet_constants::{Block, NetUid, MAX_COMMITMENT_BYTES};
use rusqlite::{params, OptionalExtension, Transaction};

use super::subnet;
use crate::{ChainError, CommitmentRecord};

/// Stores `data` as `hotkey`'s commitment at block `now`.
pub(crate) fn commit(
    tx: &Transaction<'_>,
    netuid: NetUid,
    hotkey: &str,
    data: &str,
    now: Block,
) -> Result<(), ChainError> {
    let subnet = subnet::load(tx, netuid)?;
    if data.len() > MAX_COMMITMENT_BYTES {
        return Err(ChainError::CommitmentTooLong {
            len: data.len(),
            max: MAX_COMMITMENT_BYTES,
        });
    }
    subnet::require_uid(tx, netuid, hotkey)?;
    let last: Option<u64> = tx
        .query_row(
            "SELECT block FROM commitments WHERE netuid = ?1 AND hotkey = ?2",
            params![netuid.0, hotkey],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(last) = last {
        let next_allowed = last.saturating_add(subnet.params.commitment_rate_limit);
        if now.0 < next_allowed {
            return Err(ChainError::CommitmentRateLimited {
                last: Block(last),
                next_allowed: Block(next_allowed),
            });
        }
    }
    tx.execute(
        "INSERT INTO commitments (netuid, hotkey, block, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (netuid, hotkey) DO UPDATE SET block = excluded.block, data = excluded.data",
        params![netuid.0, hotkey, now.0, data],
    )?;
    tracing::info!(
        netuid = netuid.0,
        hotkey,
        block = now.0,
        "local chain: commitment stored"
    );
    Ok(())
}

/// Every stored commitment of the subnet, oldest first (then by hotkey).
pub(crate) fn list(
    tx: &Transaction<'_>,
    netuid: NetUid,
) -> Result<Vec<CommitmentRecord>, ChainError> {
    subnet::load(tx, netuid)?;
    let mut stmt = tx.prepare(
        "SELECT hotkey, block, data FROM commitments WHERE netuid = ?1 ORDER BY block, hotkey",
    )?;
    let records = stmt
        .query_map([netuid.0], |r| {
            Ok(CommitmentRecord {
                hotkey: r.get(0)?,
                block: Block(r.get(1)?),
                data: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(records)
}

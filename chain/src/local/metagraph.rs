//! Reading a subnet's neurons as a [`Metagraph`].

use gauntlet_constants::{Block, NetUid, Uid};
use rusqlite::Transaction;

use super::subnet;
use crate::{ChainError, Metagraph, Neuron};

/// The subnet's neurons, sorted by uid, as of block `now`.
pub(crate) fn read(
    tx: &Transaction<'_>,
    netuid: NetUid,
    now: Block,
) -> Result<Metagraph, ChainError> {
    subnet::load(tx, netuid)?;
    let mut stmt = tx.prepare(
        "SELECT n.uid, n.hotkey, COALESCE(s.rao, 0), n.validator_permit, n.last_update,
                n.incentive, n.dividends, n.emission
         FROM neurons n LEFT JOIN stakes s ON s.netuid = n.netuid AND s.hotkey = n.hotkey
         WHERE n.netuid = ?1 ORDER BY n.uid",
    )?;
    let neurons = stmt
        .query_map([netuid.0], |r| {
            Ok(Neuron {
                uid: Uid(r.get(0)?),
                hotkey: r.get(1)?,
                stake: r.get(2)?,
                validator_permit: r.get(3)?,
                last_update: r.get(4)?,
                incentive: r.get(5)?,
                dividends: r.get(6)?,
                emission: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Metagraph {
        netuid,
        block: now,
        neurons,
    })
}

/// Each neuron's consensus weight at the last epoch, by uid.
pub(crate) fn consensus(tx: &Transaction<'_>, netuid: NetUid) -> Result<Vec<f64>, ChainError> {
    subnet::load(tx, netuid)?;
    let mut stmt = tx.prepare("SELECT consensus FROM neurons WHERE netuid = ?1 ORDER BY uid")?;
    let values = stmt
        .query_map([netuid.0], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(values)
}

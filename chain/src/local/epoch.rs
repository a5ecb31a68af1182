//! Yuma epochs of the local chain: the subnet's state read from the database, one
//! [`yuma::epoch`](crate::yuma::epoch), and its results written back.
//!
//! Epochs fall every `tempo` blocks after the subnet's creation. They run lazily: a
//! manual clock runs the due ones when it moves, and every operation on a subnet
//! first runs those that wall time has made due.

use gauntlet_constants::{Block, NetUid};
use rusqlite::{params, Transaction};

use super::subnet::{self, SubnetParams};
use super::weights;
use crate::yuma::{self, EpochInput, YumaParams};
use crate::ChainError;

/// The most epochs one catch-up runs: after a long idle stretch only the last ones
/// matter (the bonds' moving average has forgotten the rest: `0.9^64 ≈ 0.1 %`).
const MAX_CATCH_UP: u64 = 64;

/// Whether an epoch of the subnet is due at block `now`.
pub(crate) fn due(tx: &Transaction<'_>, netuid: NetUid, now: Block) -> Result<bool, ChainError> {
    let row = subnet::load(tx, netuid)?;
    Ok(row.params.tempo > 0 && row.last_epoch.saturating_add(row.params.tempo) <= now.0)
}

/// Runs the subnet's epochs due at or before `now`; returns how many ran.
pub(crate) fn catch_up(
    tx: &Transaction<'_>,
    netuid: NetUid,
    now: Block,
) -> Result<u64, ChainError> {
    let row = subnet::load(tx, netuid)?;
    let tempo = row.params.tempo;
    if tempo == 0 || row.last_epoch.saturating_add(tempo) > now.0 {
        return Ok(0);
    }
    let missed = (now.0 - row.last_epoch) / tempo;
    let skipped = missed.saturating_sub(MAX_CATCH_UP);
    let mut last = row.last_epoch + skipped * tempo;
    if skipped > 0 {
        tracing::info!(
            netuid = netuid.0,
            skipped,
            "local chain: skipping old epochs"
        );
    }
    let mut ran = 0;
    while last + tempo <= now.0 {
        run(tx, netuid, &row.params, last, Block(last + tempo))?;
        last += tempo;
        ran += 1;
    }
    Ok(ran)
}

/// Runs every subnet's due epochs.
pub(crate) fn catch_up_all(tx: &Transaction<'_>, now: Block) -> Result<u64, ChainError> {
    let mut ran = 0;
    for netuid in subnet::all(tx)? {
        ran += catch_up(tx, netuid, now)?;
    }
    Ok(ran)
}

/// Runs one epoch of the subnet at `block` now, outside the schedule; the next
/// scheduled epoch comes `tempo` blocks later.
pub(crate) fn run_now(
    tx: &Transaction<'_>,
    netuid: NetUid,
    block: Block,
) -> Result<(), ChainError> {
    let row = subnet::load(tx, netuid)?;
    run(tx, netuid, &row.params, row.last_epoch, block)
}

/// The neuron state an epoch reads, by uid.
struct Neurons {
    stake: Vec<u64>,
    registered: Vec<u64>,
    weights_block: Vec<Option<u64>>,
}

fn load_neurons(tx: &Transaction<'_>, netuid: NetUid) -> Result<Neurons, ChainError> {
    let mut stmt = tx.prepare(
        "SELECT n.uid, COALESCE(s.rao, 0), n.registered_block, n.weights_block
         FROM neurons n LEFT JOIN stakes s ON s.netuid = n.netuid AND s.hotkey = n.hotkey
         WHERE n.netuid = ?1 ORDER BY n.uid",
    )?;
    let mut out = Neurons {
        stake: Vec::new(),
        registered: Vec::new(),
        weights_block: Vec::new(),
    };
    let mut rows = stmt.query([netuid.0])?;
    while let Some(r) = rows.next()? {
        let uid: usize = r.get(0)?;
        if uid != out.stake.len() {
            return Err(ChainError::Corrupt {
                reason: format!("subnet {netuid}: uid {uid} out of order"),
            });
        }
        out.stake.push(r.get(1)?);
        out.registered.push(r.get(2)?);
        out.weights_block.push(r.get(3)?);
    }
    Ok(out)
}

/// Validator permits: the `k` largest stakes (ties to the lower uid); neurons
/// without stake never get one.
pub(crate) fn elect_permits(stake: &[u64], k: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..stake.len()).filter(|&i| stake[i] > 0).collect();
    order.sort_by(|&a, &b| stake[b].cmp(&stake[a]).then(a.cmp(&b)));
    let mut permit = vec![false; stake.len()];
    for &i in order.iter().take(k) {
        permit[i] = true;
    }
    permit
}

fn run(
    tx: &Transaction<'_>,
    netuid: NetUid,
    params: &SubnetParams,
    last_epoch: u64,
    block: Block,
) -> Result<(), ChainError> {
    let neurons = load_neurons(tx, netuid)?;
    let n = neurons.stake.len();
    let permits = elect_permits(&neurons.stake, usize::from(params.max_validators));

    // Weights set before their target registered are about the uid's previous
    // owner: drop them (subtensor masks them the same way).
    let mut w = vec![vec![0.0; n]; n];
    for (uid, dest, value) in weights::rows(tx, netuid)? {
        let (i, j) = (usize::from(uid), usize::from(dest));
        if i >= n || j >= n {
            continue;
        }
        let set_at = neurons.weights_block[i].unwrap_or(0);
        if set_at >= neurons.registered[j] {
            w[i][j] = f64::from(value);
        }
    }
    let mut bonds = vec![vec![0.0; n]; n];
    let mut stmt = tx.prepare("SELECT uid, dest, bond FROM bonds WHERE netuid = ?1")?;
    let mut rows = stmt.query([netuid.0])?;
    while let Some(r) = rows.next()? {
        let (i, j): (usize, usize) = (r.get(0)?, r.get(1)?);
        if i < n && j < n {
            bonds[i][j] = r.get(2)?;
        }
    }
    drop(rows);
    drop(stmt);

    let input = EpochInput {
        stake: neurons.stake.iter().map(|&s| s as f64).collect(),
        validator_permit: permits.clone(),
        weights: w,
        bonds,
    };
    let out = yuma::epoch(&input, &YumaParams::default())?;
    let blocks = block.0.saturating_sub(last_epoch);
    let emission = out.emission_rao(params.emission_per_block.saturating_mul(blocks));

    let mut update = tx.prepare(
        "UPDATE neurons SET validator_permit = ?3, consensus = ?4, incentive = ?5,
             dividends = ?6, emission = ?7
         WHERE netuid = ?1 AND uid = ?2",
    )?;
    for uid in 0..n {
        update.execute(params![
            netuid.0,
            uid,
            permits[uid],
            out.consensus[uid],
            out.incentive[uid],
            out.dividends[uid],
            emission[uid],
        ])?;
    }
    tx.execute("DELETE FROM bonds WHERE netuid = ?1", [netuid.0])?;
    let mut insert =
        tx.prepare("INSERT INTO bonds (netuid, uid, dest, bond) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, row) in out.bonds.iter().enumerate() {
        for (j, &b) in row.iter().enumerate().filter(|(_, &b)| b > 0.0) {
            insert.execute(params![netuid.0, i, j, b])?;
        }
    }
    tx.execute(
        "UPDATE subnets SET last_epoch = ?2 WHERE netuid = ?1",
        params![netuid.0, block.0],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO epochs (netuid, block) VALUES (?1, ?2)",
        params![netuid.0, block.0],
    )?;
    tracing::debug!(netuid = netuid.0, block = block.0, n, "local chain: epoch");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::elect_permits;

    #[test]
    fn permits_go_to_the_largest_stakes_never_to_zero_stake() {
        assert_eq!(
            elect_permits(&[5, 0, 9, 5, 1], 2),
            [true, false, true, false, false]
        );
        assert_eq!(elect_permits(&[0, 0, 3], 64), [false, false, true]);
        assert_eq!(elect_permits(&[], 64), Vec::<bool>::new());
        // Ties go to the lower uid.
        assert_eq!(elect_permits(&[7, 7, 7], 2), [true, true, false]);
    }
}

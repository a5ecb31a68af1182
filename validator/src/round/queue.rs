//! SN37's rule of queueing first what the network already rewards
//! (REFERENCE §4, "Queueing by others' weights"): every model that a
//! validator with at least [`PRIORITY_MIN_STAKE_RAO`] of stake gives at least
//! [`PRIORITY_MIN_WEIGHT`] of its weight is evaluated before new models, so
//! every validator checks a model the network pays soon.

use std::collections::BTreeSet;

use gauntlet_chain::{Chain, Metagraph};
use gauntlet_constants::{NetUid, Uid};

/// The stake a validator needs for its weights to raise a model's priority:
/// 100,000 (TAO or alpha) in rao, as the reference.
pub const PRIORITY_MIN_STAKE_RAO: u64 = 100_000 * 1_000_000_000;
/// The share of a large validator's weight that raises a model's priority.
pub const PRIORITY_MIN_WEIGHT: f64 = 0.01;

/// The uids that large validators weight: read from the chain each round.
/// A failure to read is logged and gives no priority (the rule only orders
/// the queue; it never changes a score).
pub(crate) async fn priority(
    chain: &dyn Chain,
    netuid: NetUid,
    metagraph: &Metagraph,
) -> BTreeSet<Uid> {
    let large: Vec<Uid> = metagraph
        .neurons
        .iter()
        .filter(|n| n.stake >= PRIORITY_MIN_STAKE_RAO)
        .map(|n| n.uid)
        .collect();
    if large.is_empty() {
        return BTreeSet::new();
    }
    match chain.weights(netuid).await {
        Ok(mut rows) => {
            rows.retain(|(setter, _)| large.contains(setter));
            weighted(&rows)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the large validators' weights; no priority this round");
            BTreeSet::new()
        }
    }
}

/// The uids given at least [`PRIORITY_MIN_WEIGHT`] of some row's total.
pub(crate) fn weighted(rows: &[(Uid, Vec<(Uid, u16)>)]) -> BTreeSet<Uid> {
    let mut out = BTreeSet::new();
    for (_, row) in rows {
        let total: u64 = row.iter().map(|&(_, w)| u64::from(w)).sum();
        if total == 0 {
            continue;
        }
        for &(uid, w) in row {
            if u64::from(w) as f64 >= PRIORITY_MIN_WEIGHT * total as f64 {
                out.insert(uid);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_percent_of_a_row_is_enough() {
        let rows = vec![
            (Uid(0), vec![(Uid(1), 9_000), (Uid(2), 99), (Uid(3), 901)]),
            (Uid(9), vec![(Uid(4), 0), (Uid(5), 1)]),
            (Uid(8), vec![]),
        ];
        // Row 0 totals 10,000: uid 2 has 0.99 % (no), uid 3 9 % (yes).
        let got: Vec<u16> = weighted(&rows).into_iter().map(|u| u.0).collect();
        assert_eq!(got, vec![1, 3, 5]);
    }
}

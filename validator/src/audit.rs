//! Replaying a validator's ledger through the validator's own scoring:
//! each round's win rates, winner weights and EMA ([`score_models`]), then
//! the subnet weights of the competitions active at the round
//! ([`merge_competitions`]), as `u16` values by uid. `gauntlet audit`
//! compares these with the weights the validator has on chain.
//!
//! The replay reads uids and hotkeys from the records and the current
//! metagraph for which hotkey holds which uid; a miner that left the subnet
//! since is dropped from the EMA as the validator would have dropped it at its
//! next round.

use std::collections::BTreeMap;

use gauntlet_chain::Metagraph;
use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId, Uid};
use gauntlet_ledger::LedgerRecord;
use serde::Serialize;

use crate::round::{ema_as_vector, merge_competitions, score_models};

/// The weights a ledger gives after one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayedRound {
    /// The round's sync block.
    pub sync_block: u64,
    /// The block the round ran at.
    pub block: u64,
    /// Each evaluated model's win rate by competition: `(competition, uid, win rate)`.
    pub win_rates: Vec<(u16, u16, f64)>,
    /// The `u16` weights by uid (non-zero only), as `set_weights` would send them.
    pub weights: Vec<(u16, u16)>,
}

/// One round's records: its sync block, the block it ran at, and its records
/// by competition id.
type RoundRecords<'a> = (u64, u64, BTreeMap<u16, Vec<&'a LedgerRecord>>);

/// Replays `records` (in ledger order) round by round.
pub fn replay(
    records: &[&LedgerRecord],
    registry: &Registry,
    metagraph: &Metagraph,
) -> Vec<ReplayedRound> {
    // Rounds in the order they first appear; within one, competitions by id.
    let mut rounds: Vec<RoundRecords<'_>> = Vec::new();
    for r in records {
        let sync = r.round.sync_block;
        if rounds.last().map(|(s, _, _)| *s) != Some(sync) {
            rounds.push((sync, r.round.block, BTreeMap::new()));
        }
        if let Some((_, _, by_comp)) = rounds.last_mut() {
            by_comp.entry(r.competition.id).or_default().push(r);
        }
    }
    let mut emas: BTreeMap<u16, BTreeMap<String, (Uid, f64)>> = BTreeMap::new();
    let mut out = Vec::new();
    for (sync, block, by_comp) in rounds {
        let mut win_rates = Vec::new();
        for (id, mut models) in by_comp {
            // The validator evaluates (and scores) a round's models by uid.
            models.sort_by_key(|r| r.model.uid);
            let scores: Vec<(f64, u64)> = models
                .iter()
                .map(|r| (r.score.unwrap_or(f64::INFINITY), r.model.commit_block))
                .collect();
            let uids: Vec<Uid> = models.iter().map(|r| Uid(r.model.uid)).collect();
            let epsilon = |b: u64| {
                registry
                    .get(CompetitionId(id))
                    .map(|c| c.constraints.epsilon.at(Block(block), Block(b)))
                    .unwrap_or(0.0)
            };
            let previous = emas
                .get(&id)
                .map(|e| ema_as_vector(e, metagraph))
                .unwrap_or_else(|| ema_as_vector(&BTreeMap::new(), metagraph));
            let scored = score_models(&scores, &uids, epsilon, &previous, metagraph);
            for (r, rate) in models.iter().zip(&scored.rates) {
                win_rates.push((id, r.model.uid, *rate));
            }
            emas.insert(id, scored.ema);
        }
        let per_competition: Vec<(f64, Vec<f64>)> = registry
            .active_at(Block(block))
            .iter()
            .map(|c| {
                let ema = emas.get(&c.competition.id.0).cloned().unwrap_or_default();
                (c.reward_share, ema_as_vector(&ema, metagraph))
            })
            .collect();
        let (_, q) = merge_competitions(&per_competition);
        let weights = q
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 0)
            .map(|(u, &w)| (u as u16, w))
            .collect();
        out.push(ReplayedRound {
            sync_block: sync,
            block,
            win_rates,
            weights,
        });
    }
    out
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use gauntlet_chain::Neuron;
    use gauntlet_constants::NetUid;
    use gauntlet_ledger::{Digest, Item, ItemSet};

    use super::*;
    use crate::testing::{registry, COMPETITION, START};

    fn metagraph(n: u16) -> Metagraph {
        Metagraph {
            netuid: NetUid(3),
            block: Block(START),
            neurons: (0..n)
                .map(|uid| Neuron {
                    uid: Uid(uid),
                    hotkey: format!("miner-{uid}"),
                    stake: 0,
                    validator_permit: false,
                    last_update: 0,
                    incentive: 0.0,
                    dividends: 0.0,
                    emission: 0,
                })
                .collect(),
        }
    }

    /// A record of TINY at round `sync` for `uid`, committed at `commit_block`.
    fn record(sync: u64, uid: u16, score: f64, commit_block: u64) -> LedgerRecord {
        let items = ItemSet {
            items: vec![Item {
                task: "t".into(),
                index: 0,
                item: serde_json::json!({"q": 1}),
            }],
        };
        let mut r = gauntlet_ledger::testing::record_for(&items, uid, &[score], Digest::ZERO);
        r.round.sync_block = sync;
        r.round.block = sync + 10;
        r.competition.id = COMPETITION.0;
        r.model.commit_block = commit_block;
        r.score = Some(score);
        r
    }

    fn weights_after(records: &[LedgerRecord]) -> Vec<(u16, u16)> {
        let refs: Vec<&LedgerRecord> = records.iter().collect();
        let rounds = replay(&refs, &registry(), &metagraph(4));
        rounds.last().map(|r| r.weights.clone()).unwrap_or_default()
    }

    #[test]
    fn the_lowest_loss_takes_the_round() {
        let s = START + 100;
        let w = weights_after(&[record(s, 1, 2.0, START), record(s, 2, 1.0, START + 1)]);
        assert_eq!(w, vec![(2, u16::MAX)]);
    }

    #[test]
    fn the_epsilon_protects_the_older_model_within_its_margin() {
        let s = START + 100;
        // 0.1 % better but younger: within TINY's epsilon, the older one wins.
        let close = weights_after(&[record(s, 1, 1.0, START), record(s, 2, 0.999, START + 50)]);
        assert_eq!(close, vec![(1, u16::MAX)]);
        // 10 % better beats it.
        let clear = weights_after(&[record(s, 1, 1.0, START), record(s, 2, 0.9, START + 50)]);
        assert_eq!(clear, vec![(2, u16::MAX)]);
    }

    #[test]
    fn the_ema_carries_across_rounds() {
        let (a, b) = (START + 100, START + 460);
        let records = [
            record(a, 1, 1.0, START),
            record(a, 2, 2.0, START),
            record(b, 1, 2.0, START),
            record(b, 2, 1.0, START),
        ];
        let refs: Vec<&LedgerRecord> = records.iter().collect();
        let rounds = replay(&refs, &registry(), &metagraph(4));
        assert_eq!(rounds.len(), 2);
        assert_eq!(rounds[0].weights, vec![(1, u16::MAX)]);
        // Uid 2 wins the second round, but the moving average (0.9 against
        // 0.1) still gives uid 1 everything: a memoryless replay would not.
        let rate_of = |uid: u16| {
            rounds[1]
                .win_rates
                .iter()
                .find(|(_, u, _)| *u == uid)
                .map(|(_, _, r)| *r)
        };
        assert_eq!(rate_of(2), Some(1.0));
        assert_eq!(rate_of(1), Some(0.0));
        assert_eq!(rounds[1].weights, vec![(1, u16::MAX)]);
        assert_eq!(rounds[1].win_rates.len(), 2);
    }
}

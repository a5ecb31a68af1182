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

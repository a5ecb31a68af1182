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

pub mod early_stop;

use std::collections::BTreeMap;

use gauntlet_chain::Metagraph;
use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId, Uid};
use gauntlet_ledger::LedgerRecord;
use serde::Serialize;

use gauntlet_datasets::Seed;
use gauntlet_evals::weights::win_rates;

use crate::round::intervals::{per_task_of, round_win_rates, PerTask};
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

/// The win rates of one competition's records of a round, as the validator
/// computed them ([`round_win_rates`]: per-sample scores from the records, the
/// seed from the round). A competition these definitions do not schedule at
/// the round's block scores by the reference's rule, with its epsilon where
/// they define it.
fn rates(
    registry: &Registry,
    id: u16,
    block: u64,
    records: &[&LedgerRecord],
    scores: &[(f64, u64)],
    uids: &[Uid],
) -> Vec<f64> {
    let active = registry.competition_at(CompetitionId(id), Block(block));
    let seed = records.first().and_then(|r| Seed::from_hex(&r.round.seed));
    let (Some(active), Some(seed)) = (active, seed) else {
        return win_rates(scores, |b| {
            registry
                .get(CompetitionId(id))
                .map(|c| c.constraints.epsilon.at(Block(block), Block(b)))
                .unwrap_or(0.0)
        });
    };
    let samples: Vec<PerTask> = records
        .iter()
        .map(|r| per_task_of(r.samples.iter().map(|s| (s.task.clone(), s.index, s.score))))
        .collect();
    round_win_rates(&active, Block(block), scores, uids, &samples, &seed)
}

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
            let rates = rates(registry, id, block, &models, &scores, &uids);
            let previous = emas
                .get(&id)
                .map(|e| ema_as_vector(e, metagraph))
                .unwrap_or_else(|| ema_as_vector(&BTreeMap::new(), metagraph));
            let scored = score_models(&scores, &uids, rates, &previous, metagraph);
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
                private: false,
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

    /// TINY requiring significant wins at 95 %.
    fn significant_registry() -> Registry {
        let tiny = crate::testing::COMPETITION_TOML
            .replace("weight_norm = {", "significance = 0.95\nweight_norm = {");
        Registry::from_toml(
            &[("tiny.toml", &tiny)],
            ("schedule.toml", crate::testing::SCHEDULE_TOML),
        )
        .expect("TINY with significance")
    }

    /// A record of TINY's word sorting only, one loss per sample; its score
    /// the task's normalised mean, as the suite makes it.
    fn sampled(sync: u64, uid: u16, losses: &[f64], commit_block: u64) -> LedgerRecord {
        let items = ItemSet {
            items: (0..losses.len())
                .map(|i| Item {
                    task: "WORD_SORTING".into(),
                    index: i as u64,
                    item: serde_json::json!({ "q": i }),
                    private: false,
                })
                .collect(),
        };
        let mut r = gauntlet_ledger::testing::record_for(&items, uid, losses, Digest::ZERO);
        r.round.sync_block = sync;
        r.round.block = sync + 10;
        r.round.seed = "ab".repeat(32);
        r.competition.id = COMPETITION.0;
        r.model.commit_block = commit_block;
        let registry = registry();
        let tiny = registry
            .competition_at(COMPETITION, Block(sync))
            .expect("TINY is active");
        let norm = crate::suite::run::normalization(tiny.tasks()[1].normalization);
        r.score = Some(norm.apply(losses.iter().sum::<f64>() / losses.len() as f64));
        r
    }

    #[test]
    fn a_competition_requiring_significance_keeps_a_noisy_win_for_the_older_model() {
        let s = START + 100;
        let older = sampled(s, 1, &[2.0; 20], START);
        // 5 % lower on average, far beyond epsilon, but by alternating luck.
        let noisy: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 0.2 } else { 3.6 })
            .collect();
        let noisy = sampled(s, 2, &noisy, START + 50);
        let steady = sampled(s, 2, &[1.8; 20], START + 50);
        let replayed = |records: &[&LedgerRecord], registry: &Registry| {
            let rounds = replay(records, registry, &metagraph(4));
            rounds.last().map(|r| r.weights.clone()).unwrap_or_default()
        };
        // The reference's rule gives the noisy model the round; the
        // significance rule keeps it with the older model.
        assert_eq!(
            replayed(&[&older, &noisy], &registry()),
            vec![(2, u16::MAX)]
        );
        let sig = significant_registry();
        assert_eq!(replayed(&[&older, &noisy], &sig), vec![(1, u16::MAX)]);
        // A steady improvement is significant: the newer model wins.
        assert_eq!(replayed(&[&older, &steady], &sig), vec![(2, u16::MAX)]);
        // The same for every validator: a second replay gives the same rates.
        let once = replay(&[&older, &noisy], &sig, &metagraph(4));
        assert_eq!(once, replay(&[&older, &noisy], &sig, &metagraph(4)));
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

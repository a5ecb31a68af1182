//! The sequential test (a competition's `early_stop`): a model is not run
//! on its remaining tasks once it is clearly beaten by the round's benchmark.
//!
//! The benchmark (evaluated first, in full) gives its per-sample scores and
//! its normalised score on every task. After each of a candidate's tasks, the
//! difference `score(candidate) − score(benchmark)` splits into the tasks done
//! and the tasks to come:
//!
//! - over the tasks done, its lower end at the test's confidence level comes
//!   from the paired bootstrap (stratified by task, through the
//!   normalisation, seeded from the round's seed and the two uids:
//!   `gauntlet_evals::bootstrap::paired_score_interval`);
//! - over the tasks to come, the candidate can gain at most the benchmark's
//!   own normalised score on each (every method's raw score is a loss, at
//!   least 0, so the candidate scores at least 0 there), weighted.
//!
//! The candidate is clearly beaten when the first exceeds the second by more
//! than `margin` (the epsilon it could claim): then no result on the
//! remaining tasks makes it beat the benchmark, so it cannot win the round.
//! The decision depends only on per-sample scores, the definitions and the
//! round's seed, so every validator stops the same model at the same task.

use std::collections::BTreeMap;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::Block;
use gauntlet_datasets::Seed;
use gauntlet_evals::bootstrap::{pair_seed, paired_score_interval, TaskPair, DEFAULT_RESAMPLES};
use serde::{Deserialize, Serialize};

use super::run::{normalization, TaskDetail};

/// The round's benchmark as a candidate's evaluation sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benchmark {
    /// The benchmark's uid (named in the reason a task was not run).
    pub uid: u16,
    /// Its per-sample scores by task, in draw order.
    pub samples: BTreeMap<String, Vec<Option<f64>>>,
    /// Its normalised score on each task, as its evaluation computed it.
    pub normalized: BTreeMap<String, f64>,
    /// The test's confidence level.
    pub level: f64,
    /// How far beyond zero the difference must be: the epsilon advantage
    /// the candidate could claim, in score units.
    pub margin: f64,
    /// The bootstrap seed of the pair.
    pub seed: u64,
}

/// The benchmark's evaluation, as the sequential test reads it (from the
/// validator's state during a round, from a ledger in an audit).
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkScores {
    /// Its uid.
    pub uid: u16,
    /// The block of its commitment.
    pub commit_block: Block,
    /// Its competition score.
    pub score: f64,
    /// Its normalised score on each task.
    pub normalized: BTreeMap<String, f64>,
    /// Its per-sample scores by task, in draw order.
    pub samples: BTreeMap<String, Vec<Option<f64>>>,
}

impl Benchmark {
    /// The test of a candidate (`uid`, committed at `commit_block`) against
    /// `bench` in the round at `block` with `seed`, at confidence `level`:
    /// an earlier candidate may claim the epsilon advantage (it beats the
    /// benchmark with a difference up to `ε·b/(1 − ε)`), a later one none.
    pub fn against(
        competition: &ActiveCompetition<'_>,
        (block, seed): (Block, &Seed),
        level: f64,
        bench: &BenchmarkScores,
        (uid, commit_block): (u16, Block),
    ) -> Benchmark {
        let margin = if commit_block < bench.commit_block {
            let e = competition
                .competition
                .constraints
                .epsilon
                .at(block, commit_block)
                .clamp(0.0, 0.999);
            e * bench.score / (1.0 - e)
        } else {
            0.0
        };
        Benchmark {
            uid: bench.uid,
            samples: bench.samples.clone(),
            normalized: bench.normalized.clone(),
            level,
            margin,
            seed: pair_seed(seed.as_bytes(), uid, bench.uid),
        }
    }

    /// Why the candidate is clearly beaten after the tasks in `done` (its
    /// per-sample scores), with `to_come` the tasks not yet run; `None` while
    /// it is not. `weights` are the competition's effective task weights.
    pub fn beaten(
        &self,
        competition: &ActiveCompetition<'_>,
        weights: &BTreeMap<String, f64>,
        done: &[TaskDetail],
        to_come: &[&str],
    ) -> Option<String> {
        if to_come.is_empty() || done.is_empty() {
            return None;
        }
        let mut pairs = Vec::new();
        // The benchmark's raw score may exceed its per-sample mean (the
        // synthetic IFEval's duplicate guard): the bootstrap, which uses the
        // mean, would then flatter the candidate's deficit. Take it back.
        let mut flattery = 0.0;
        for d in done {
            let task = competition.tasks().iter().find(|t| t.name == d.name)?;
            let b = self.samples.get(&d.name)?;
            let w = weights.get(&d.name).copied()?;
            let norm = normalization(task.normalization);
            let scored: Vec<f64> = b.iter().flatten().copied().collect();
            if !scored.is_empty() {
                let mean = scored.iter().sum::<f64>() / scored.len() as f64;
                let actual = self.normalized.get(&d.name).copied()?;
                flattery += w * (actual - norm.apply(mean)).max(0.0);
            }
            pairs.push(TaskPair {
                a: &d.per_sample,
                b,
                normalization: norm,
                weight: w,
            });
        }
        let interval = paired_score_interval(&pairs, self.seed, DEFAULT_RESAMPLES, self.level)?;
        let mut give_back = 0.0;
        for name in to_come {
            give_back += weights.get(*name).copied()? * self.normalized.get(*name).copied()?;
        }
        let deficit = interval.low - flattery;
        (deficit - give_back > self.margin).then(|| {
            format!(
                "not run: beaten early by uid {} (after {}: its score is worse by at least \
                 {deficit:.4} at {:.0} % confidence, more than the {give_back:.4} the remaining \
                 tasks could give back plus the margin {:.4})",
                self.uid,
                done.iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.level * 100.0,
                self.margin
            )
        })
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use gauntlet_constants::{Block, CompetitionId};

    fn detail(name: &str, scores: &[f64]) -> TaskDetail {
        TaskDetail {
            name: name.into(),
            per_sample: scores.iter().map(|&s| Some(s)).collect(),
            outputs: Vec::new(),
        }
    }

    #[test]
    fn a_candidate_is_stopped_only_when_the_rest_cannot_save_it() {
        let registry = crate::testing::registry();
        let tiny = registry
            .competition_at(CompetitionId(42), Block(crate::testing::START))
            .expect("TINY");
        // TINY: SYNTHETIC_MMLU (0/1 misses, weight 0.5), then WORD_SORTING
        // (a loss, inverse-exponential, weight 0.5).
        let weights: BTreeMap<String, f64> = [
            ("SYNTHETIC_MMLU".to_string(), 0.5),
            ("WORD_SORTING".to_string(), 0.5),
        ]
        .into();
        let benchmark = |ws_normalized: f64| Benchmark {
            uid: 7,
            samples: [
                ("SYNTHETIC_MMLU".to_string(), vec![Some(0.0); 40]),
                ("WORD_SORTING".to_string(), vec![Some(1.0); 4]),
            ]
            .into(),
            normalized: [
                ("SYNTHETIC_MMLU".to_string(), 0.0),
                ("WORD_SORTING".to_string(), ws_normalized),
            ]
            .into(),
            level: 0.99,
            margin: 0.005,
            seed: 1,
        };
        let to_come = ["WORD_SORTING"];
        // Misses every question the benchmark answers: 0.5 behind for sure;
        // word sorting can give back at most 0.5 × 0.3.
        let all_wrong = [detail("SYNTHETIC_MMLU", &[1.0; 40])];
        let why = benchmark(0.3)
            .beaten(&tiny, &weights, &all_wrong, &to_come)
            .expect("clearly beaten");
        assert!(
            why.contains("uid 7") && why.contains("SYNTHETIC_MMLU"),
            "{why}"
        );
        // The same deficit when word sorting could give back all of it: runs on.
        assert_eq!(
            benchmark(1.0).beaten(&tiny, &weights, &all_wrong, &to_come),
            None
        );
        // A few misses: behind, but not beyond what is left.
        let mut some = vec![0.0; 40];
        some[..4].fill(1.0);
        let close = [detail("SYNTHETIC_MMLU", &some)];
        assert_eq!(
            benchmark(0.3).beaten(&tiny, &weights, &close, &to_come),
            None
        );
        // Nothing left to skip, or nothing done: no decision.
        assert_eq!(
            benchmark(0.3).beaten(&tiny, &weights, &all_wrong, &[]),
            None
        );
        assert_eq!(benchmark(0.3).beaten(&tiny, &weights, &[], &to_come), None);
        // Deterministic: the same inputs, the same decision.
        assert_eq!(
            benchmark(0.3).beaten(&tiny, &weights, &all_wrong, &to_come),
            Some(why)
        );
    }
}

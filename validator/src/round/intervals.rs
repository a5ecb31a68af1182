//! How sure a round's verdicts are: each model's score against the round
//! winner's, as a paired bootstrap interval on the samples both answered
//! (`gauntlet_evals::bootstrap::paired_score_interval`), seeded from the
//! round's seed and the two uids so every validator computes the same one;
//! and, for a competition that requires significant wins, the win rates
//! under that rule ([`round_win_rates`]).

use std::collections::BTreeMap;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::{Block, Uid};
use gauntlet_datasets::Seed;
use gauntlet_evals::bootstrap::{
    pair_seed, paired_score_interval, PairedInterval, TaskPair, DEFAULT_RESAMPLES,
};
use gauntlet_evals::weights::{beats_significantly, win_rates, win_rates_by};

use crate::state::{Evaluation, State, StateError};
use crate::suite::run::normalization;
use crate::suite::SuiteResult;

/// The confidence level of the intervals shown beside win rates.
pub const LEVEL: f64 = 0.95;

/// One evaluation's per-sample scores by task, each in draw order.
pub type PerTask = BTreeMap<String, Vec<Option<f64>>>;

/// An evaluation's per-sample scores from the state.
pub(crate) fn per_task(
    state: &State,
    sync: Block,
    competition: &ActiveCompetition<'_>,
    e: &Evaluation,
) -> Result<PerTask, StateError> {
    let rows = state.samples(
        sync,
        competition.competition.id,
        &e.key,
        0,
        i64::MAX as usize,
    )?;
    Ok(per_task_of(
        rows.into_iter().map(|r| (r.task, r.index, r.score)),
    ))
}

/// Per-sample scores by task from `(task, index, score)` rows (the state's,
/// or a ledger record's): each task's scores at their draw index, `None`
/// where no row says. An index past 2²⁴ (no draw is that long) is dropped.
pub(crate) fn per_task_of(rows: impl IntoIterator<Item = (String, u64, Option<f64>)>) -> PerTask {
    let mut out: PerTask = BTreeMap::new();
    for (task, index, score) in rows {
        let v = out.entry(task).or_default();
        let i = usize::try_from(index).unwrap_or(usize::MAX);
        if i >= v.len() && i < 1 << 24 {
            v.resize(i + 1, None);
        }
        if let Some(slot) = v.get_mut(i) {
            *slot = score;
        }
    }
    out
}

/// Each evaluation's interval of `score − winner's score` at [`LEVEL`]
/// (negative: lower loss than the winner); `None` for the winner itself, for
/// a model without per-sample scores, and for every model when the round has
/// no winner.
pub(crate) fn against_winner(
    state: &State,
    competition: &ActiveCompetition<'_>,
    evaluations: &[Evaluation],
    winner: Option<usize>,
    sync: Block,
    seed: &Seed,
) -> Result<Vec<Option<PairedInterval>>, StateError> {
    let mut out = vec![None; evaluations.len()];
    let Some(w) = winner else {
        return Ok(out);
    };
    let best = &evaluations[w];
    let best_samples = per_task(state, sync, competition, best)?;
    for (i, e) in evaluations.iter().enumerate() {
        if i == w || !e.score.is_finite() {
            continue;
        }
        let mine = per_task(state, sync, competition, e)?;
        out[i] = interval(
            competition,
            &mine,
            &best_samples,
            pair_seed(seed.as_bytes(), e.uid.0, best.uid.0),
            LEVEL,
        );
    }
    Ok(out)
}

/// The interval of `score(a) − score(b)` at [`LEVEL`] for two suite results
/// on the same samples (kept with `SuiteOptions::keep_details`), the
/// bootstrap seeded with `seed`: `gauntlet miner eval --against` and the
/// reference entrants of `gauntlet eval --competition`.
pub fn between(
    competition: &ActiveCompetition<'_>,
    a: &SuiteResult,
    b: &SuiteResult,
    seed: u64,
) -> Option<PairedInterval> {
    let of = |r: &SuiteResult| -> PerTask {
        r.details
            .iter()
            .map(|d| (d.name.clone(), d.per_sample.clone()))
            .collect()
    };
    interval(competition, &of(a), &of(b), seed, LEVEL)
}

/// The paired interval of two models' per-sample scores over the
/// competition's tasks at `level`: the tasks both have samples of, each
/// weighted by its definition weight renormalised over them (the effective
/// weights of a round's scored models: a dropped task has no samples).
fn interval(
    competition: &ActiveCompetition<'_>,
    a: &PerTask,
    b: &PerTask,
    seed: u64,
    level: f64,
) -> Option<PairedInterval> {
    let present: Vec<_> = competition
        .tasks()
        .iter()
        .filter_map(|t| Some((t, a.get(&t.name)?, b.get(&t.name)?)))
        .collect();
    let total: f64 = present.iter().map(|(t, _, _)| t.weight).sum();
    if present.is_empty() || total <= 0.0 {
        return None;
    }
    let tasks: Vec<TaskPair<'_>> = present
        .into_iter()
        .map(|(t, a, b)| TaskPair {
            a,
            b,
            normalization: normalization(t.normalization),
            weight: t.weight / total,
        })
        .collect();
    paired_score_interval(&tasks, seed, DEFAULT_RESAMPLES, level)
}

/// A round's win rates under the competition's rule, for `models` (`(score,
/// commit block)`) at `uids` with per-sample scores `samples`, all in the
/// same order. Without `significance` the reference's pairwise rule
/// ([`win_rates`]); with it, [`beats_significantly`] at that level, each
/// pair's interval seeded by the round's seed and the pair's uids (the lower
/// uid first), so every validator and `gauntlet audit` find the same wins.
pub fn round_win_rates(
    competition: &ActiveCompetition<'_>,
    block: Block,
    models: &[(f64, u64)],
    uids: &[Uid],
    samples: &[PerTask],
    seed: &Seed,
) -> Vec<f64> {
    let constraints = &competition.competition.constraints;
    let epsilon = |b: u64| constraints.epsilon.at(block, Block(b));
    let Some(level) = constraints.significance else {
        return win_rates(models, epsilon);
    };
    let mut cache: BTreeMap<(usize, usize), Option<PairedInterval>> = BTreeMap::new();
    win_rates_by(models.len(), |i, j| {
        beats_significantly(models[i], models[j], epsilon, || {
            // The pair's interval as `lo − hi` by uid, computed once.
            let (lo, hi) = if uids[i] <= uids[j] { (i, j) } else { (j, i) };
            let pair = *cache.entry((lo, hi)).or_insert_with(|| {
                let seed = pair_seed(seed.as_bytes(), uids[lo].0, uids[hi].0);
                interval(competition, samples.get(lo)?, samples.get(hi)?, seed, level)
            });
            let p = pair?;
            Some(if lo == i {
                (p.low, p.high)
            } else {
                (-p.high, -p.low)
            })
        })
    })
}

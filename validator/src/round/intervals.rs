//! How sure a round's verdicts are: each model's score against the round
//! winner's, as a paired bootstrap interval on the samples both answered
//! (`gauntlet_evals::bootstrap::paired_score_interval`), seeded from the
//! round's seed and the two uids so every validator computes the same one.

use std::collections::BTreeMap;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::Block;
use gauntlet_datasets::Seed;
use gauntlet_evals::bootstrap::{
    pair_seed, paired_score_interval, PairedInterval, TaskPair, DEFAULT_RESAMPLES,
};

use crate::state::{Evaluation, State, StateError};
use crate::suite::run::normalization;
use crate::suite::SuiteResult;

/// The confidence level of the intervals shown beside win rates.
pub const LEVEL: f64 = 0.95;

/// One evaluation's per-sample scores by task, each in draw order.
type PerTask = BTreeMap<String, Vec<Option<f64>>>;

fn per_task(
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
    let mut out: PerTask = BTreeMap::new();
    for r in rows {
        let v = out.entry(r.task).or_default();
        let i = usize::try_from(r.index).unwrap_or(usize::MAX);
        if i >= v.len() && i < 1 << 24 {
            v.resize(i + 1, None);
        }
        if let Some(slot) = v.get_mut(i) {
            *slot = r.score;
        }
    }
    Ok(out)
}

/// The effective weight of each task in a list of task outcomes (JSON).
fn weights(tasks: &serde_json::Value) -> BTreeMap<String, f64> {
    tasks
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter_map(|t| {
                    let name = t.get("name")?.as_str()?.to_string();
                    Some((name, t.get("effective_weight")?.as_f64()?))
                })
                .collect()
        })
        .unwrap_or_default()
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
            &weights(&e.tasks),
            &best_samples,
            pair_seed(seed.as_bytes(), e.uid.0, best.uid.0),
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
    let a_weights = weights(&serde_json::to_value(&a.tasks).ok()?);
    interval(competition, &of(a), &a_weights, &of(b), seed)
}

/// The paired interval of two models' per-sample scores over the
/// competition's tasks, weighted as `a`'s outcomes weight them.
fn interval(
    competition: &ActiveCompetition<'_>,
    a: &PerTask,
    a_weights: &BTreeMap<String, f64>,
    b: &PerTask,
    seed: u64,
) -> Option<PairedInterval> {
    let tasks: Vec<TaskPair<'_>> = competition
        .tasks()
        .iter()
        .filter_map(|t| {
            Some(TaskPair {
                a: a.get(&t.name)?,
                b: b.get(&t.name)?,
                normalization: normalization(t.normalization),
                weight: a_weights.get(&t.name).copied().unwrap_or(0.0),
            })
        })
        .collect();
    if tasks.is_empty() {
        return None;
    }
    paired_score_interval(&tasks, seed, DEFAULT_RESAMPLES, LEVEL)
}

//! Replaying a competition's sequential test (`early_stop`) from a ledger:
//! every decision to stop a model, and every decision not to, must follow
//! from the records' own per-sample scores, the definitions and the round's
//! seed, exactly as the validator took it ([`Benchmark::beaten`] after each
//! task). A validator that stops a model it should have run to the end, or
//! runs one it should have stopped, fails here, naming the model and the task.
//!
//! Each record names the benchmark it was tested against and each task's
//! status; records written before they did are not checked. The choice of
//! the benchmark itself (the candidate with the highest chain incentive at
//! the round) needs that round's metagraph and is not replayed: the records
//! of one round must agree on it, and it must have run in full.

use std::collections::BTreeMap;

use gauntlet_competitions::{ActiveCompetition, Registry};
use gauntlet_constants::{Block, CompetitionId};
use gauntlet_datasets::Seed;
use gauntlet_ledger::LedgerRecord;

use crate::round::intervals::{per_task_of, PerTask};
use crate::suite::early_stop::{Benchmark, BenchmarkScores};
use crate::suite::TaskDetail;

/// A stopping decision (or the lack of one) the ledger's scores do not give.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("round {sync_block} competition {competition} model uid {uid} ({hotkey}): {place}: {why}")]
pub struct StopMismatch {
    /// The round.
    pub sync_block: u64,
    /// The competition.
    pub competition: u16,
    /// The model's uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// Where: `task NAME: field status`, or the record's field.
    pub place: String,
    /// What is wrong.
    pub why: String,
}

fn mismatch(r: &LedgerRecord, place: String, why: String) -> StopMismatch {
    StopMismatch {
        sync_block: r.round.sync_block,
        competition: r.competition.id,
        uid: r.model.uid,
        hotkey: r.model.hotkey.clone(),
        place,
        why,
    }
}

/// Checks the sequential test's decisions in `records` (any order), round
/// by round; returns how many models' decisions were replayed.
pub fn check(records: &[&LedgerRecord], registry: &Registry) -> Result<usize, StopMismatch> {
    let mut groups: BTreeMap<(u64, u16), Vec<&LedgerRecord>> = BTreeMap::new();
    for r in records {
        groups
            .entry((r.round.sync_block, r.competition.id))
            .or_default()
            .push(r);
    }
    let mut checked = 0;
    for ((_, id), group) in groups {
        checked += check_round(&group, registry, id)?;
    }
    Ok(checked)
}

fn status<'r>(r: &'r LedgerRecord, task: &str) -> Option<&'r str> {
    r.tasks
        .iter()
        .find(|t| t.name == task)
        .and_then(|t| t.status.as_deref())
}

fn stopped_task(r: &LedgerRecord) -> Option<&str> {
    r.tasks
        .iter()
        .find(|t| t.status.as_deref() == Some("stopped"))
        .map(|t| t.name.as_str())
}

/// One competition's records of one round.
fn check_round(
    group: &[&LedgerRecord],
    registry: &Registry,
    id: u16,
) -> Result<usize, StopMismatch> {
    let Some(first) = group.first() else {
        return Ok(0);
    };
    let active = registry.competition_at(CompetitionId(id), Block(first.round.block));
    let level = active
        .as_ref()
        .and_then(|a| a.competition.constraints.early_stop);
    let (Some(active), Some(level)) = (active, level) else {
        // No sequential test: nothing may have been stopped by one.
        if let Some(r) = group.iter().find(|r| r.benchmark.is_some()) {
            return Err(mismatch(
                r,
                "field benchmark".into(),
                "names a benchmark, but the competition has no sequential test".into(),
            ));
        }
        return match group.iter().find_map(|r| stopped_task(r).map(|t| (r, t))) {
            Some((r, task)) => Err(mismatch(
                r,
                format!("task {task}: field status"),
                "stopped, but the competition has no sequential test".into(),
            )),
            None => Ok(0),
        };
    };
    let named: Vec<&&LedgerRecord> = group.iter().filter(|r| r.benchmark.is_some()).collect();
    let Some(bench_uid) = named.first().and_then(|r| r.benchmark) else {
        return match group.iter().find_map(|r| stopped_task(r).map(|t| (r, t))) {
            Some((r, task)) => Err(mismatch(
                r,
                format!("task {task}: field status"),
                "stopped, but the record names no benchmark".into(),
            )),
            None => Ok(0),
        };
    };
    if let Some(r) = named.iter().find(|r| r.benchmark != Some(bench_uid)) {
        return Err(mismatch(
            r,
            "field benchmark".into(),
            format!(
                "uid {}, but other records of the round name uid {bench_uid}",
                r.benchmark.unwrap_or_default()
            ),
        ));
    }
    let Some(bench) = group.iter().find(|r| r.model.uid == bench_uid) else {
        return Err(mismatch(
            named[0],
            "field benchmark".into(),
            format!("uid {bench_uid} has no record in the round"),
        ));
    };
    if let Some(task) = stopped_task(bench) {
        return Err(mismatch(
            bench,
            format!("task {task}: field status"),
            "the benchmark itself was stopped".into(),
        ));
    }
    let Some(seed) = Seed::from_hex(&first.round.seed) else {
        return Err(mismatch(
            first,
            "field round.seed".into(),
            "not a seed".into(),
        ));
    };
    let scores = BenchmarkScores {
        uid: bench_uid,
        commit_block: Block(bench.model.commit_block),
        score: bench.score.unwrap_or(f64::INFINITY),
        normalized: bench
            .tasks
            .iter()
            .filter_map(|t| Some((t.name.clone(), t.normalized?)))
            .collect(),
        samples: samples_of(bench),
    };
    let mut checked = 0;
    for r in group {
        if r.verdict != "evaluated" || r.model.uid == bench_uid {
            continue;
        }
        if r.benchmark != Some(bench_uid) {
            // Not tested against the benchmark: it must not have been stopped.
            if let Some(task) = stopped_task(r) {
                return Err(mismatch(
                    r,
                    format!("task {task}: field status"),
                    format!("stopped, but the record does not name the round's benchmark uid {bench_uid}"),
                ));
            }
            continue;
        }
        // Records from before statuses were kept cannot be replayed.
        if r.tasks.iter().all(|t| t.status.is_none()) {
            continue;
        }
        let test = Benchmark::against(
            &active,
            (Block(r.round.block), &seed),
            level,
            &scores,
            (r.model.uid, Block(r.model.commit_block)),
        );
        replay_model(r, &active, &test)?;
        checked += 1;
    }
    Ok(checked)
}

fn samples_of(r: &LedgerRecord) -> PerTask {
    per_task_of(r.samples.iter().map(|s| (s.task.clone(), s.index, s.score)))
}

/// Walks `r`'s tasks in the competition's order, as the suite ran them: after
/// each task, while all have been scored, the test says whether the rest are
/// run; the record must say the same.
fn replay_model(
    r: &LedgerRecord,
    active: &ActiveCompetition<'_>,
    test: &Benchmark,
) -> Result<(), StopMismatch> {
    let tasks = active.tasks();
    let held = |name: &str| r.tasks.iter().find(|t| t.name == name);
    // The suite's weights: each task's over the tasks not dropped.
    let kept: Vec<_> = tasks
        .iter()
        .filter(|t| status(r, &t.name) != Some("dropped"))
        .collect();
    let total: f64 = kept.iter().map(|t| t.weight).sum();
    let weights: BTreeMap<String, f64> = kept
        .iter()
        .map(|t| {
            let w = if total > 0.0 { t.weight / total } else { 0.0 };
            (t.name.clone(), w)
        })
        .collect();
    let scores = samples_of(r);
    let mut details: Vec<TaskDetail> = Vec::new();
    let mut all_ok = true;
    for (k, task) in tasks.iter().enumerate() {
        let is_stopped = status(r, &task.name) == Some("stopped");
        // Tasks with samples (their data was there) are the ones to come.
        let to_come: Vec<&str> = tasks[k..]
            .iter()
            .filter(|t| held(&t.name).is_some_and(|a| a.samples > 0))
            .map(|t| t.name.as_str())
            .collect();
        let expected = if all_ok {
            test.beaten(active, &weights, &details, &to_come)
        } else {
            None
        };
        let place = || format!("task {}: field status", task.name);
        match (expected, is_stopped) {
            (Some(why), false) => {
                return Err(mismatch(
                    r,
                    place(),
                    format!("run, but the sequential test stops the model before it ({why})"),
                ))
            }
            (None, true) => {
                return Err(mismatch(
                    r,
                    place(),
                    "stopped, but the sequential test does not stop the model here".into(),
                ))
            }
            (Some(_), true) => {
                return match tasks[k..]
                    .iter()
                    .find(|t| status(r, &t.name) != Some("stopped"))
                {
                    Some(t) => Err(mismatch(
                        r,
                        format!("task {}: field status", t.name),
                        "run after the model was stopped".into(),
                    )),
                    None => Ok(()),
                };
            }
            (None, false) => {}
        }
        if status(r, &task.name) == Some("ok") {
            details.push(TaskDetail {
                name: task.name.clone(),
                per_sample: scores.get(&task.name).cloned().unwrap_or_default(),
                outputs: Vec::new(),
            });
        } else {
            all_ok = false;
        }
    }
    Ok(())
}

//! Private items (`validator run --private-data DIR`): samples from a pool
//! only this validator holds, added to the public draw so that no miner can
//! precompute every item of a round.
//!
//! `DIR` is laid out like the data cache and holds each dataset in its own
//! file format (`DIR/mmlu/mmlu.jsonl`, `DIR/ifeval/input_data.jsonl`,
//! `DIR/hub/…` parquet shards, `DIR/words/american-english`, …). For every
//! task whose dataset has a pool there, each round adds up to `per_task`
//! samples after the task's public ones, drawn from the round's seed (stream
//! `"{task}/private"`) as the public draw is, skipping every item an earlier
//! round used. The round's items, private ones included, are committed on
//! chain before any model runs and published after the round (each private
//! item marked `"private": true`), so a private item is revealed only after
//! the round that used it, and never used again.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use gauntlet_competitions::{ActiveCompetition, DatasetId, EvalTask};
use gauntlet_datasets::{task_samples_from, DataCache, DatasetError, Pools, Seed};
use gauntlet_ledger::{Digest, Item};
use serde_json::Value;

use crate::suite::PreparedTask;

/// Where a validator's private items come from and how many a round takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateData {
    /// The private pool, laid out like the data cache.
    pub dir: PathBuf,
    /// Private samples added to each task per round (fewer when the pool
    /// runs out of unused items).
    pub per_task: u32,
}

/// The private items of one round: each task's, with their item hashes.
pub type PrivateDraw = BTreeMap<String, Vec<(Digest, Value)>>;

/// Draws the round's private items for `competition`: per task, up to
/// `per_task` samples of the pool in `private.dir` whose item hash is not in
/// `used` (by task: the items earlier rounds used), in draw order. A task whose dataset has no pool there gets none;
/// one whose pool cannot be read gets none, with a warning (the validator's
/// own data: the round goes on with the public items alone).
pub fn draw(
    private: &PrivateData,
    competition: &ActiveCompetition<'_>,
    seed: &Seed,
    used: &BTreeMap<String, HashSet<Digest>>,
) -> PrivateDraw {
    let none = HashSet::new();
    let cache = DataCache::new(&private.dir);
    let mut drawn = PrivateDraw::new();
    for task in competition.tasks() {
        let used = used.get(&task.name).unwrap_or(&none);
        match draw_task(&cache, task, private.per_task, seed, used) {
            Ok(items) if items.is_empty() => {}
            Ok(items) => {
                drawn.insert(task.name.clone(), items);
            }
            Err(DatasetError::Missing { .. }) => {
                tracing::debug!(task = %task.name, "no private pool for this task");
            }
            Err(e) => tracing::warn!(
                task = %task.name,
                dir = %private.dir.display(),
                error = %e,
                "private pool unusable: the task runs on public items alone"
            ),
        }
    }
    drawn
}

/// One task's private items: enough samples drawn that `per_task` of them
/// can be unused, the used ones skipped.
fn draw_task(
    cache: &DataCache,
    task: &EvalTask,
    per_task: u32,
    seed: &Seed,
    used: &HashSet<Digest>,
) -> Result<Vec<(Digest, Value)>, DatasetError> {
    if per_task == 0 {
        return Ok(Vec::new());
    }
    let pools = Pools::load(cache, &[task.dataset])?;
    let label = format!("{}/private", task.name);
    let mut kwargs = task.dataset_kwargs;
    let wanted = u64::from(per_task) + used.len() as u64;
    kwargs.samples = u32::try_from(wanted).unwrap_or(u32::MAX);
    let samples = match task_samples_from(&pools, task.dataset, &kwargs, seed, &label) {
        // A pool smaller than that: all it can give.
        Err(DatasetError::TooFewRows { available, .. }) => {
            let pairs = task.dataset == DatasetId::IfEval;
            kwargs.samples =
                u32::try_from(available.saturating_sub(usize::from(pairs))).unwrap_or(u32::MAX);
            if kwargs.samples == 0 {
                return Ok(Vec::new());
            }
            task_samples_from(&pools, task.dataset, &kwargs, seed, &label)?
        }
        other => other?,
    };
    let values = samples
        .to_json_items()
        .map_err(|e| DatasetError::InvalidRow {
            dataset: task.dataset,
            row: "private".into(),
            reason: format!("a private sample does not serialise: {e}"),
        })?;
    let mut fresh = Vec::new();
    for item in values {
        let hash = Item {
            task: task.name.clone(),
            index: 0,
            item: item.clone(),
            private: true,
        }
        .hash();
        if used.contains(&hash) || fresh.iter().any(|(h, _)| *h == hash) {
            continue;
        }
        fresh.push((hash, item));
        if fresh.len() as u64 == u64::from(per_task) {
            break;
        }
    }
    Ok(fresh)
}

/// Appends each task's private items after its public samples, marking
/// them private. A task without samples (dropped, invalid) gets none. Fails,
/// appending nothing to that task, when an item is not a sample of the
/// task's kind (a published items file can say anything).
pub fn append(
    prepared: &mut [PreparedTask],
    private: &BTreeMap<String, Vec<Value>>,
) -> Result<(), String> {
    if let Some(unknown) = private
        .keys()
        .find(|t| !prepared.iter().any(|p| &p.name == *t))
    {
        return Err(format!(
            "private items for task {unknown}, which the competition does not have"
        ));
    }
    for task in prepared.iter_mut() {
        let Some(items) = private.get(&task.name) else {
            continue;
        };
        let Ok(samples) = &mut task.input else {
            continue;
        };
        samples.extend_json(items).map_err(|e| {
            format!(
                "a private item of task {} is not one of its samples: {e}",
                task.name
            )
        })?;
        task.private += items.len();
    }
    Ok(())
}

/// The private items of a round's item set, by task (what a ledger
/// publishes and an auditor puts back for a re-run).
pub fn of_items(items: &[Item]) -> BTreeMap<String, Vec<Value>> {
    let mut by_task: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for item in items.iter().filter(|i| i.private) {
        by_task
            .entry(item.task.clone())
            .or_default()
            .push(item.item.clone());
    }
    by_task
}

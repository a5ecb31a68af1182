//! Preparing a competition's tasks: every sample drawn from the seed, in its
//! eval method's own types, once per round, before any model runs. Every
//! model of a round is then scored on exactly these samples, and `gauntlet
//! data samples` can show them.

use gauntlet_competitions::{ActiveCompetition, EvalTask};
use gauntlet_datasets::{task_samples, DataCache, DatasetError, Samples, Seed};
use serde::Serialize;

/// Why a task has no input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Unprepared {
    /// Its data is unavailable or too small: the task is dropped and the
    /// other weights renormalised.
    Dropped(String),
    /// Its data cannot feed its method (a definition error): the task fails
    /// (raw = +inf).
    Invalid(String),
}

/// One task of a competition, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedTask {
    /// The task's definition.
    pub task: EvalTask,
    /// The task's name.
    pub name: String,
    /// Its samples, or why there are none.
    pub input: Result<Samples, Unprepared>,
    /// How many of the samples, at their end, are the validator's private
    /// items ([`crate::private`]); 0 for the public draw alone.
    pub private: usize,
}

/// Draws every task's samples of `competition` from `seed`, capping each
/// task's count at `sample_cap`. Never fails: a task whose data is missing is
/// marked dropped, one whose data cannot feed its method invalid, with the
/// reason logged.
pub fn prepare(
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    seed: &Seed,
    sample_cap: Option<u32>,
) -> Vec<PreparedTask> {
    competition
        .tasks()
        .iter()
        .map(|task| {
            let mut kwargs = task.dataset_kwargs;
            if let Some(cap) = sample_cap {
                kwargs.samples = kwargs.samples.min(cap);
            }
            let input = match task_samples(data, task.dataset, &kwargs, seed, &task.name) {
                Err(e @ DatasetError::InvalidRow { .. }) => {
                    tracing::warn!(task = %task.name, error = %e, "task invalid: bad data");
                    Err(Unprepared::Invalid(crate::error_chain(&e)))
                }
                Err(e) => {
                    tracing::warn!(task = %task.name, error = %e, "task dropped: data unavailable");
                    Err(Unprepared::Dropped(crate::error_chain(&e)))
                }
                Ok(samples) if samples.kind() != task.method.sample_kind() => {
                    Err(Unprepared::Invalid(format!(
                        "method {} cannot score dataset {} (competition definition error)",
                        task.method, task.dataset
                    )))
                }
                Ok(samples) => Ok(samples),
            };
            PreparedTask {
                task: task.clone(),
                name: task.name.clone(),
                input,
                private: 0,
            }
        })
        .collect()
}

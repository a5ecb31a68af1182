//! [`run_prepared`]: every prepared task of a competition on one model;
//! [`run_competition`] prepares and runs in one call.

use std::time::Instant;

use gauntlet_competitions::{ActiveCompetition, Normalization as CompNormalization};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::backend::{Backend, Local};
use gauntlet_evals::normalize::{InverseExponential, Normalization};
use gauntlet_evals::tasks::{combine, TaskOutcome, TaskStatus};
use gauntlet_evals::{EvalOptions, LanguageModel, SampleOutput};
use serde::Serialize;

use super::early_stop::Benchmark;
use super::prepare::{prepare, PreparedTask, Unprepared};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Cap on every task's sample count (`--samples`) when preparing; `None`
    /// runs the competition's reference counts.
    pub sample_cap: Option<u32>,
    /// Prompts a generating method hands the backend together.
    pub mc_batch: usize,
    /// Tokens per scoring call of the loss tasks (the local runtime).
    pub batch_tokens: usize,
    /// Also keep every sample's score in [`SuiteResult::details`] (the
    /// validator stores them).
    pub keep_details: bool,
    /// The sequential test's benchmark: once the model is clearly beaten
    /// by it after a task, the remaining tasks are not run (needs
    /// `keep_details`).
    pub early_stop: Option<Benchmark>,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        Self {
            sample_cap: None,
            mc_batch: 16,
            batch_tokens: 8192,
            keep_details: false,
            early_stop: None,
        }
    }
}

/// Progress of a suite, for progress bars and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum SuiteEvent {
    /// A task starts with this many units of work (samples; prompts for IFEval).
    TaskStarted {
        /// The task's name.
        name: String,
        /// Units of work.
        total: u64,
    },
    /// Units of work finished in the current task.
    Advanced(u64),
    /// The current task finished.
    TaskFinished(TaskOutcome),
}

/// Per-sample scores of one task (losses, in sample order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDetail {
    /// The task's name.
    pub name: String,
    /// One score per sample (`null` for a skipped sample).
    pub per_sample: Vec<Option<f64>>,
    /// What the model produced on each sample, in sample order (empty when
    /// the method keeps no outputs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Option<SampleOutput>>,
}

/// A competition's score for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteResult {
    /// The competition's name.
    pub competition: String,
    /// The combined score (a loss, lower is better; +inf when nothing ran).
    pub score: f64,
    /// Every task, in definition order.
    pub tasks: Vec<TaskOutcome>,
    /// Per-sample scores, when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<TaskDetail>,
}

/// Runs every task of `competition` on `model` with samples drawn from
/// `seed` ([`prepare`] then [`run_prepared_on`]). Never fails: missing data
/// drops a task, a model failure scores it +inf; both are logged.
pub fn run_competition(
    model: &mut dyn Backend,
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    seed: &Seed,
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let prepared = prepare(competition, data, seed, opts.sample_cap);
    run_prepared_on(model, competition, &prepared, opts, events)
}

/// Runs prepared tasks on a local runtime (the same inputs for every model
/// of a round): [`run_prepared_on`] through [`Local`].
pub fn run_prepared(
    model: &mut dyn LanguageModel,
    competition: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let mut local = Local::new(model, "under evaluation").with_batch_tokens(opts.batch_tokens);
    run_prepared_on(&mut local, competition, prepared, opts, events)
}

/// Runs prepared tasks on any backend. `opts.sample_cap` is ignored here: it
/// applies when preparing. Each task's method comes from the method table;
/// a task whose method needs a capability the backend lacks fails at once
/// with the reason, before any of its work.
pub fn run_prepared_on(
    model: &mut dyn Backend,
    competition: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let eval_opts = EvalOptions {
        batch_size: opts.mc_batch,
        early_stop: true,
        max_tokens: competition.competition.constraints.sequence_length as usize,
    };
    let mut tasks: Vec<TaskOutcome> = Vec::new();
    let mut details = Vec::new();
    let weights = effective_weights(prepared);
    let mut stopped: Option<String> = None;
    for (k, p) in prepared.iter().enumerate() {
        let task = &p.task;
        let start = Instant::now();
        let usage_before = model.usage();
        let norm = normalization(task.normalization);
        if let Some(why) = &stopped {
            let outcome = TaskOutcome::stopped(&task.name, why.clone(), norm, task.weight);
            events(SuiteEvent::TaskFinished(outcome.clone()));
            tasks.push(outcome);
            continue;
        }
        let failed = |reason: String| {
            tracing::warn!(task = %task.name, %reason, "task failed: raw = +inf");
            TaskOutcome::failed(
                &task.name,
                reason,
                norm,
                task.weight,
                start.elapsed().as_secs_f64(),
            )
        };
        let mut outcome = match &p.input {
            Err(Unprepared::Dropped(why)) => {
                TaskOutcome::dropped(&task.name, why.clone(), task.weight)
            }
            Err(Unprepared::Invalid(why)) => failed(why.clone()),
            Ok(samples) => {
                let eval = task.method.eval(&eval_opts);
                events(SuiteEvent::TaskStarted {
                    name: task.name.clone(),
                    total: eval.work(samples) as u64,
                });
                let run = eval.run(model, samples, &mut |n| {
                    events(SuiteEvent::Advanced(n as u64))
                });
                match run {
                    Ok(score) => {
                        if opts.keep_details {
                            details.push(TaskDetail {
                                name: task.name.clone(),
                                per_sample: score.per_sample,
                                // Non-finite numbers cross no JSON boundary
                                // (the sandbox's report, the ledger).
                                outputs: score
                                    .outputs
                                    .into_iter()
                                    .map(|o| o.filter(SampleOutput::is_finite))
                                    .collect(),
                            });
                        }
                        TaskOutcome::evaluated(
                            &task.name,
                            score.raw_score,
                            norm,
                            task.weight,
                            score.samples,
                            start.elapsed().as_secs_f64(),
                        )
                    }
                    Err(e) => failed(crate::error_chain(&e)),
                }
            }
        };
        let usage = model.usage().since(usage_before);
        if usage.requests > 0 {
            outcome.usage = Some(usage);
        }
        tracing::info!(
            task = %task.name,
            raw = outcome.raw_score,
            samples = outcome.samples,
            seconds = format!("{:.1}", outcome.seconds),
            "task finished"
        );
        events(SuiteEvent::TaskFinished(outcome.clone()));
        tasks.push(outcome);
        if let Some(benchmark) = &opts.early_stop {
            let all_ok = tasks.iter().all(|t| t.status == TaskStatus::Ok);
            let to_come: Vec<&str> = prepared[k + 1..]
                .iter()
                .filter(|p| p.input.is_ok())
                .map(|p| p.task.name.as_str())
                .collect();
            if all_ok && opts.keep_details {
                stopped = benchmark.beaten(competition, &weights, &details, &to_come);
                if let Some(why) = &stopped {
                    tracing::info!(reason = %why, "sequential test: the remaining tasks are not run");
                }
            }
        }
    }
    let score = combine(&mut tasks);
    SuiteResult {
        competition: competition.competition.name.clone(),
        score,
        tasks,
        details,
    }
}

/// Each task's weight renormalised over the tasks not dropped (what
/// [`combine`] gives every model that runs them).
fn effective_weights(prepared: &[PreparedTask]) -> std::collections::BTreeMap<String, f64> {
    let kept = |p: &&PreparedTask| !matches!(p.input, Err(Unprepared::Dropped(_)));
    let total: f64 = prepared.iter().filter(kept).map(|p| p.task.weight).sum();
    prepared
        .iter()
        .filter(kept)
        .map(|p| {
            let w = if total > 0.0 {
                p.task.weight / total
            } else {
                0.0
            };
            (p.task.name.clone(), w)
        })
        .collect()
}

/// A competition's normalisation as the eval crate applies it.
pub(crate) fn normalization(n: CompNormalization) -> Normalization {
    match n {
        CompNormalization::None => Normalization::None,
        CompNormalization::InverseExponential { ceiling } => {
            Normalization::InverseExponential(InverseExponential { ceiling })
        }
    }
}

//! [`run_prepared`]: every prepared task of a competition on one model;
//! [`run_competition`] prepares and runs in one call.

use std::time::Instant;

use gauntlet_competitions::{ActiveCompetition, EvalMethod, EvalTask};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::google_ifeval::{GoogleIfeval, IfevalOptions};
use gauntlet_evals::likelihood::MultipleChoiceLikelihood;
use gauntlet_evals::multiple_choice::{McOptions, MultipleChoice};
use gauntlet_evals::tasks::{combine, IfEval, LossOptions, ReferenceLoss, TaskOutcome, TextLoss};
use gauntlet_evals::{Eval, EvalScore, LanguageModel};
use serde::Serialize;

use super::convert::normalization;
use super::prepare::{prepare, PreparedTask, TaskInput, Unprepared};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Cap on every task's sample count (`--samples`) when preparing; `None`
    /// runs the competition's reference counts.
    pub sample_cap: Option<u32>,
    /// Prompts generated together by multiple choice.
    pub mc_batch: usize,
    /// Tokens per scoring call of the loss tasks.
    pub batch_tokens: usize,
    /// Also keep every sample's score in [`SuiteResult::details`] (the
    /// validator stores them).
    pub keep_details: bool,
}

impl Default for SuiteOptions {
    fn default() -> Self {
        Self {
            sample_cap: None,
            mc_batch: 16,
            batch_tokens: 8192,
            keep_details: false,
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
/// `seed` ([`prepare`] then [`run_prepared`]). Never fails: missing data
/// drops a task, a model failure scores it +inf; both are logged.
pub fn run_competition(
    model: &mut dyn LanguageModel,
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    seed: &Seed,
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let prepared = prepare(competition, data, seed, opts.sample_cap);
    run_prepared(model, competition, &prepared, opts, events)
}

/// Runs prepared tasks on `model` (the same inputs for every model of a
/// round). `opts.sample_cap` is ignored here: it applies when preparing.
pub fn run_prepared(
    model: &mut dyn LanguageModel,
    competition: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let loss = LossOptions {
        max_tokens: competition.competition.constraints.sequence_length as usize,
        batch_tokens: opts.batch_tokens,
    };
    let mut tasks = Vec::new();
    let mut details = Vec::new();
    for p in prepared {
        let task = &p.task;
        let start = Instant::now();
        let norm = normalization(task.normalization);
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
        let outcome = match &p.input {
            Err(Unprepared::Dropped(why)) => {
                TaskOutcome::dropped(&task.name, why.clone(), task.weight)
            }
            Err(Unprepared::Invalid(why)) => failed(why.clone()),
            Ok(input) => match run_task(model, task, input, loss, opts, events) {
                Ok(score) => {
                    if opts.keep_details {
                        details.push(TaskDetail {
                            name: task.name.clone(),
                            per_sample: score.per_sample,
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
                Err(reason) => failed(reason),
            },
        };
        tracing::info!(
            task = %task.name,
            raw = outcome.raw_score,
            samples = outcome.samples,
            seconds = format!("{:.1}", outcome.seconds),
            "task finished"
        );
        events(SuiteEvent::TaskFinished(outcome.clone()));
        tasks.push(outcome);
    }
    let score = combine(&mut tasks);
    SuiteResult {
        competition: competition.competition.name.clone(),
        score,
        tasks,
        details,
    }
}

/// One task's score, or why it failed.
type TaskRun = Result<EvalScore, String>;

/// Runs one [`Eval`] on its samples, reporting progress as suite events.
fn run_eval<E: Eval>(
    eval: &E,
    model: &mut dyn LanguageModel,
    name: &str,
    samples: &[E::Sample],
    events: &mut dyn FnMut(SuiteEvent),
) -> TaskRun {
    events(SuiteEvent::TaskStarted {
        name: name.to_string(),
        total: eval.work(samples) as u64,
    });
    eval.evaluate(model, samples, &mut |n| {
        events(SuiteEvent::Advanced(n as u64))
    })
    .map_err(|e| e.to_string())
}

/// Runs a task's method on its input: one arm per `(method, input)` pair a
/// competition definition may combine.
fn run_task(
    model: &mut dyn LanguageModel,
    task: &EvalTask,
    input: &TaskInput,
    loss: LossOptions,
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> TaskRun {
    let name = task.name.as_str();
    match (task.method, input) {
        (EvalMethod::MultipleChoice, TaskInput::MultipleChoice(items)) => {
            let eval = MultipleChoice(McOptions {
                batch_size: opts.mc_batch,
                early_stop: true,
            });
            run_eval(&eval, model, name, items, events)
        }
        (EvalMethod::MultipleChoiceLikelihood, TaskInput::MultipleChoice(items)) => {
            let eval = MultipleChoiceLikelihood {
                batch_size: opts.mc_batch,
            };
            run_eval(&eval, model, name, items, events)
        }
        (EvalMethod::ReferenceLoss, TaskInput::Reference(prompts)) => {
            run_eval(&ReferenceLoss(loss), model, name, prompts, events)
        }
        (EvalMethod::TextLoss, TaskInput::Documents(docs)) => {
            let eval = TextLoss {
                options: loss,
                sanity_guard: true,
            };
            run_eval(&eval, model, name, docs, events)
        }
        (EvalMethod::IfEval, TaskInput::IfEval(samples)) => {
            run_eval(&IfEval, model, name, samples, events)
        }
        (EvalMethod::GoogleIfeval, TaskInput::GoogleIfeval(prompts)) => {
            let eval = GoogleIfeval(IfevalOptions {
                batch_size: opts.mc_batch,
                ..IfevalOptions::default()
            });
            run_eval(&eval, model, name, prompts, events)
        }
        (method, _) => Err(format!(
            "method {method} cannot score dataset {} (competition definition error)",
            task.dataset
        )),
    }
}

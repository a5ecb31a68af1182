//! [`run_competition`]: every task of an active competition on one model.

use std::time::Instant;

use gauntlet_competitions::{ActiveCompetition, EvalMethod, EvalTask};
use gauntlet_datasets::{task_samples, DataCache, DatasetError, Seed, TaskData};
use gauntlet_evals::google_ifeval::{GoogleIfeval, IfevalOptions};
use gauntlet_evals::ifeval::{self, Question};
use gauntlet_evals::likelihood::MultipleChoiceLikelihood;
use gauntlet_evals::multiple_choice::{McItem, McOptions, MultipleChoice};
use gauntlet_evals::tasks::{
    combine, IfEval, LossOptions, ReferenceLoss, ReferencePrompt, TaskOutcome, TextLoss,
};
use gauntlet_evals::{Eval, EvalScore, LanguageModel};
use serde::Serialize;

use super::convert::{answer_text, mc_item, normalization, reference_prompt};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Cap on every task's sample count (`--samples`); `None` runs the
    /// competition's reference counts.
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
/// `seed`. Never fails: missing data drops a task, a model failure scores it
/// +inf; both are logged with their reason.
pub fn run_competition(
    model: &mut dyn LanguageModel,
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    seed: &Seed,
    opts: &SuiteOptions,
    events: &mut dyn FnMut(SuiteEvent),
) -> SuiteResult {
    let sequence_length = competition.competition.constraints.sequence_length as usize;
    let mut tasks = Vec::new();
    let mut details = Vec::new();
    for task in competition.tasks() {
        let start = Instant::now();
        let norm = normalization(task.normalization);
        let mut kwargs = task.dataset_kwargs;
        if let Some(cap) = opts.sample_cap {
            kwargs.samples = kwargs.samples.min(cap);
        }
        let outcome = match task_samples(data, task.dataset, &kwargs, seed, &task.name) {
            Err(e) => {
                tracing::warn!(task = %task.name, error = %e, "task dropped: data unavailable");
                TaskOutcome::dropped(&task.name, describe(&e), task.weight)
            }
            Ok(samples) => {
                let ctx = TaskContext {
                    task,
                    seed,
                    opts,
                    sequence_length,
                };
                match run_task(model, &ctx, samples, events) {
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
                    Err(reason) => {
                        tracing::warn!(task = %task.name, %reason, "task failed: raw = +inf");
                        TaskOutcome::failed(
                            &task.name,
                            reason,
                            norm,
                            task.weight,
                            start.elapsed().as_secs_f64(),
                        )
                    }
                }
            }
        };
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

fn describe(e: &DatasetError) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

struct TaskContext<'a> {
    task: &'a EvalTask,
    seed: &'a Seed,
    opts: &'a SuiteOptions,
    sequence_length: usize,
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

/// Turns a task's samples into its method's input and runs it: one arm per
/// `(method, samples)` pair that a competition definition may combine.
fn run_task(
    model: &mut dyn LanguageModel,
    ctx: &TaskContext<'_>,
    samples: TaskData,
    events: &mut dyn FnMut(SuiteEvent),
) -> TaskRun {
    let name = ctx.task.name.as_str();
    let loss = LossOptions {
        max_tokens: ctx.sequence_length,
        batch_tokens: ctx.opts.batch_tokens,
    };
    match (ctx.task.method, samples) {
        (EvalMethod::MultipleChoice, TaskData::MultipleChoice(rows)) => {
            let items: Vec<McItem> = rows.iter().map(mc_item).collect();
            let eval = MultipleChoice(McOptions {
                batch_size: ctx.opts.mc_batch,
                early_stop: true,
            });
            run_eval(&eval, model, name, &items, events)
        }
        (EvalMethod::MultipleChoiceLikelihood, TaskData::MultipleChoice(rows)) => {
            let items: Vec<McItem> = rows.iter().map(mc_item).collect();
            let eval = MultipleChoiceLikelihood {
                batch_size: ctx.opts.mc_batch,
            };
            run_eval(&eval, model, name, &items, events)
        }
        (EvalMethod::ReferenceLoss, TaskData::Reference(rows)) => {
            let prompts: Vec<ReferencePrompt> = rows.iter().map(reference_prompt).collect();
            run_eval(&ReferenceLoss(loss), model, name, &prompts, events)
        }
        (EvalMethod::TextLoss, TaskData::Documents(docs)) => {
            let eval = TextLoss {
                options: loss,
                sanity_guard: true,
            };
            run_eval(&eval, model, name, &docs, events)
        }
        (EvalMethod::IfEval, TaskData::IfEvalPairs(pairs)) => {
            let version = match ctx.task.dataset_kwargs.if_eval_version {
                Some(gauntlet_competitions::IfEvalVersion::V1) => ifeval::IfEvalVersion::V1,
                _ => ifeval::IfEvalVersion::V2,
            };
            // The rules come from their own stream, so they do not depend on
            // how many draws the questions took.
            let mut rng = ctx.seed.rng(&format!("{name}/rules"));
            let mut draw = rng.as_draw();
            let samples: Vec<_> = pairs
                .iter()
                .map(|[a, b]| {
                    let questions = [
                        Question {
                            question: &a.question,
                            answer: answer_text(a),
                        },
                        Question {
                            question: &b.question,
                            answer: answer_text(b),
                        },
                    ];
                    ifeval::sample_pair(version, questions, &mut draw)
                })
                .collect();
            run_eval(&IfEval, model, name, &samples, events)
        }
        (EvalMethod::GoogleIfeval, TaskData::GoogleIfeval(rows)) => {
            let prompts = super::google::prompts(&rows)?;
            run_eval(
                &GoogleIfeval(IfevalOptions::default()),
                model,
                name,
                &prompts,
                events,
            )
        }
        (method, _) => Err(format!(
            "method {method} cannot score dataset {} (competition definition error)",
            ctx.task.dataset
        )),
    }
}

//! Preparing a competition's tasks: every sample drawn from the seed and
//! turned into its eval method's input, once per round, before any model
//! runs. Every model of a round is then scored on exactly these inputs, and
//! `gauntlet data samples` can show them.

use gauntlet_competitions::{ActiveCompetition, EvalMethod, EvalTask};
use gauntlet_datasets::{task_samples, DataCache, Seed, TaskData};
use gauntlet_evals::google_ifeval::IfevalPrompt;
use gauntlet_evals::ifeval::{self, IfEvalSample, Question};
use gauntlet_evals::multiple_choice::McItem;
use gauntlet_evals::tasks::ReferencePrompt;
use serde::Serialize;

use super::convert::{answer_text, mc_item, reference_prompt};

/// A task's samples as its eval method takes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "samples", rename_all = "snake_case")]
pub enum TaskInput {
    /// Four-choice questions (by generation or by log-likelihood).
    MultipleChoice(Vec<McItem>),
    /// Conversations with the reference answer whose loss is measured.
    Reference(Vec<ReferencePrompt>),
    /// Whole documents.
    Documents(Vec<String>),
    /// Synthetic IFEval pairs: two prompts with their rules each.
    IfEval(Vec<IfEvalSample>),
    /// Google's IFEval prompts with their parsed instructions.
    GoogleIfeval(Vec<IfevalPrompt>),
}

impl TaskInput {
    /// Samples (pairs for IFEval).
    pub fn len(&self) -> usize {
        match self {
            TaskInput::MultipleChoice(v) => v.len(),
            TaskInput::Reference(v) => v.len(),
            TaskInput::Documents(v) => v.len(),
            TaskInput::IfEval(v) => v.len(),
            TaskInput::GoogleIfeval(v) => v.len(),
        }
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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
    /// Its inputs, or why there are none.
    pub input: Result<TaskInput, Unprepared>,
}

/// Draws and converts every task's samples of `competition` from `seed`,
/// capping each task's count at `sample_cap`. Never fails: a task whose
/// data is missing is marked dropped, with the reason logged.
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
                Err(e) => {
                    tracing::warn!(task = %task.name, error = %e, "task dropped: data unavailable");
                    Err(Unprepared::Dropped(crate::error_chain(&e)))
                }
                Ok(samples) => convert(task, samples, seed),
            };
            PreparedTask {
                task: task.clone(),
                name: task.name.clone(),
                input,
            }
        })
        .collect()
}

/// Turns drawn samples into the method's input.
fn convert(task: &EvalTask, samples: TaskData, seed: &Seed) -> Result<TaskInput, Unprepared> {
    Ok(match (task.method, samples) {
        (
            EvalMethod::MultipleChoice | EvalMethod::MultipleChoiceLikelihood,
            TaskData::MultipleChoice(rows),
        ) => TaskInput::MultipleChoice(rows.iter().map(mc_item).collect()),
        (EvalMethod::ReferenceLoss, TaskData::Reference(rows)) => {
            TaskInput::Reference(rows.iter().map(reference_prompt).collect())
        }
        (EvalMethod::TextLoss, TaskData::Documents(docs)) => TaskInput::Documents(docs),
        (EvalMethod::IfEval, TaskData::IfEvalPairs(pairs)) => {
            let version = match task.dataset_kwargs.if_eval_version {
                Some(gauntlet_competitions::IfEvalVersion::V1) => ifeval::IfEvalVersion::V1,
                _ => ifeval::IfEvalVersion::V2,
            };
            // The rules come from their own stream, so they do not depend on
            // how many draws the questions took.
            let mut rng = seed.rng(&format!("{}/rules", task.name));
            let mut draw = rng.as_draw();
            TaskInput::IfEval(
                pairs
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
                    .collect(),
            )
        }
        (EvalMethod::GoogleIfeval, TaskData::GoogleIfeval(rows)) => {
            TaskInput::GoogleIfeval(super::google::prompts(&rows).map_err(Unprepared::Invalid)?)
        }
        (method, _) => {
            return Err(Unprepared::Invalid(format!(
                "method {method} cannot score dataset {} (competition definition error)",
                task.dataset
            )))
        }
    })
}

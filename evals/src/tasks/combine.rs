//! Task-weighted combination (REFERENCE §2): score = Σ weight · normalised raw.
//! A task whose data could not be loaded is dropped and the remaining weights
//! are renormalised; a task whose evaluation failed keeps its weight with raw
//! = +inf (which normalises to 1, the worst, under inverse-exponential
//! normalisation).

use serde::Serialize;

use crate::backend::Usage;
use crate::normalize::Normalization;

/// What became of a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum TaskStatus {
    /// Evaluated.
    Ok,
    /// The evaluation failed (the model's fault or a degenerate output):
    /// raw = +inf.
    Failed(String),
    /// The task's data was unavailable: dropped, weights renormalised.
    Dropped(String),
    /// Not run: the model was already clearly beaten (a competition's
    /// sequential test). Raw = +inf, the weight kept, as for a failure.
    Stopped(String),
}

/// One task's result inside a competition score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskOutcome {
    /// The task's name (`SYNTHETIC_MMLU`, …).
    pub name: String,
    /// The raw score, a loss; +inf when failed (JSON `null`).
    pub raw_score: f64,
    /// The normalised score in `[0, 1]` (or the raw score when the task has
    /// no normalisation).
    pub normalized: f64,
    /// The weight the competition gives the task.
    pub weight: f64,
    /// The weight after renormalising over the tasks that were not dropped
    /// (filled by [`combine`]).
    pub effective_weight: f64,
    /// Samples evaluated (pairs for IFEval).
    pub samples: usize,
    /// Wall time of the task, in seconds (not serialised, so that two runs
    /// on the same samples give byte-identical JSON).
    #[serde(skip)]
    pub seconds: f64,
    /// Whether the task ran, failed or was dropped.
    #[serde(flatten)]
    pub status: TaskStatus,
    /// Requests, tokens and cost of a remote backend's answers (absent for a
    /// local model). Counted from the answers, cached or not, so a re-run
    /// prints the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl TaskOutcome {
    /// A task that ran: normalises `raw` with `normalization`.
    pub fn evaluated(
        name: impl Into<String>,
        raw: f64,
        normalization: Normalization,
        weight: f64,
        samples: usize,
        seconds: f64,
    ) -> Self {
        let (raw_score, status) = if raw.is_nan() {
            (f64::INFINITY, TaskStatus::Failed("raw score is NaN".into()))
        } else {
            (raw, TaskStatus::Ok)
        };
        Self {
            name: name.into(),
            raw_score,
            normalized: normalization.apply(raw_score),
            weight,
            effective_weight: weight,
            samples,
            seconds,
            status,
            usage: None,
        }
    }

    /// A task whose evaluation failed: raw = +inf.
    pub fn failed(
        name: impl Into<String>,
        reason: impl Into<String>,
        normalization: Normalization,
        weight: f64,
        seconds: f64,
    ) -> Self {
        Self {
            name: name.into(),
            raw_score: f64::INFINITY,
            normalized: normalization.apply(f64::INFINITY),
            weight,
            effective_weight: weight,
            samples: 0,
            seconds,
            status: TaskStatus::Failed(reason.into()),
            usage: None,
        }
    }

    /// A task not run because the model was already clearly beaten: raw =
    /// +inf, so the model's score is +inf and it wins no comparison.
    pub fn stopped(
        name: impl Into<String>,
        reason: impl Into<String>,
        normalization: Normalization,
        weight: f64,
    ) -> Self {
        Self {
            status: TaskStatus::Stopped(reason.into()),
            ..Self::failed(name, "", normalization, weight, 0.0)
        }
    }

    /// A task whose data could not be loaded: it is dropped from the score.
    pub fn dropped(name: impl Into<String>, reason: impl Into<String>, weight: f64) -> Self {
        Self {
            name: name.into(),
            raw_score: f64::INFINITY,
            normalized: f64::INFINITY,
            weight,
            effective_weight: 0.0,
            samples: 0,
            seconds: 0.0,
            status: TaskStatus::Dropped(reason.into()),
            usage: None,
        }
    }

    /// The task's share of the competition score (`effective_weight · normalized`).
    pub fn contribution(&self) -> f64 {
        if self.effective_weight == 0.0 {
            0.0
        } else {
            self.effective_weight * self.normalized
        }
    }
}

/// Renormalises the weights over the tasks that were not dropped, stores them
/// in `effective_weight`, and returns the combined score (a loss, lower is
/// better). With every task dropped there is no score: +inf.
pub fn combine(tasks: &mut [TaskOutcome]) -> f64 {
    let kept: f64 = tasks
        .iter()
        .filter(|t| !matches!(t.status, TaskStatus::Dropped(_)))
        .map(|t| t.weight)
        .sum();
    if kept <= 0.0 {
        for t in tasks.iter_mut() {
            t.effective_weight = 0.0;
        }
        return f64::INFINITY;
    }
    for t in tasks.iter_mut() {
        t.effective_weight = match t.status {
            TaskStatus::Dropped(_) => 0.0,
            _ => t.weight / kept,
        };
    }
    tasks.iter().map(TaskOutcome::contribution).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::InverseExponential;
    use proptest::prelude::*;

    fn ie(c: f64) -> Normalization {
        Normalization::InverseExponential(InverseExponential { ceiling: c })
    }

    #[test]
    fn weighted_sum_of_normalised_scores() {
        let mut tasks = vec![
            TaskOutcome::evaluated("mc", 0.4, Normalization::None, 0.75, 10, 1.0),
            TaskOutcome::evaluated("ws", 40.0, ie(40.0), 0.25, 10, 1.0),
        ];
        let s = combine(&mut tasks);
        assert!((s - (0.75 * 0.4 + 0.25 * 1.0)).abs() < 1e-12);
    }

    #[test]
    fn dropped_tasks_renormalise_the_rest() {
        let mut tasks = vec![
            TaskOutcome::evaluated("mc", 0.5, Normalization::None, 0.5, 10, 1.0),
            TaskOutcome::dropped("web", "no data", 0.25),
            TaskOutcome::evaluated("ws", 0.5, Normalization::None, 0.25, 10, 1.0),
        ];
        let s = combine(&mut tasks);
        assert!((tasks[0].effective_weight - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(tasks[1].effective_weight, 0.0);
        assert!((s - 0.5).abs() < 1e-12);
    }

    #[test]
    fn failed_tasks_keep_their_weight_at_the_worst_score() {
        let mut tasks = vec![
            TaskOutcome::evaluated("mc", 0.0, Normalization::None, 0.5, 10, 1.0),
            TaskOutcome::failed("web", "degenerate", ie(20.0), 0.5, 1.0),
        ];
        assert!((combine(&mut tasks) - 0.5).abs() < 1e-12);
        let mut unnormalised = vec![TaskOutcome::failed(
            "mc",
            "x",
            Normalization::None,
            1.0,
            0.0,
        )];
        assert_eq!(combine(&mut unnormalised), f64::INFINITY);
        let mut none = vec![TaskOutcome::dropped("mc", "x", 1.0)];
        assert_eq!(combine(&mut none), f64::INFINITY);
    }

    #[test]
    fn nan_raw_scores_count_as_failures() {
        let t = TaskOutcome::evaluated("mc", f64::NAN, ie(1.0), 1.0, 3, 0.0);
        assert!(matches!(t.status, TaskStatus::Failed(_)));
        assert_eq!(t.normalized, 1.0);
    }

    proptest! {
        #[test]
        fn score_is_a_convex_combination(
            raws in proptest::collection::vec(0.0f64..1.0, 1..6),
            weights in proptest::collection::vec(0.01f64..1.0, 6),
            drop_mask in proptest::collection::vec(any::<bool>(), 6),
        ) {
            let mut tasks: Vec<TaskOutcome> = raws.iter().enumerate().map(|(i, &r)| {
                if drop_mask[i] && i > 0 {
                    TaskOutcome::dropped(format!("t{i}"), "x", weights[i])
                } else {
                    TaskOutcome::evaluated(format!("t{i}"), r, Normalization::None, weights[i], 1, 0.0)
                }
            }).collect();
            let s = combine(&mut tasks);
            let kept: Vec<&TaskOutcome> = tasks.iter().filter(|t| t.status == TaskStatus::Ok).collect();
            let lo = kept.iter().map(|t| t.raw_score).fold(f64::INFINITY, f64::min);
            let hi = kept.iter().map(|t| t.raw_score).fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(s >= lo - 1e-9 && s <= hi + 1e-9);
            let total: f64 = tasks.iter().map(|t| t.effective_weight).sum();
            prop_assert!((total - 1.0).abs() < 1e-9);
        }
    }
}

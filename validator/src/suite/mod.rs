//! Running a competition's eval suite on one model: draw every task's samples
//! from the seed, run each task's method, normalise and weight the raw scores.
//!
//! This is the one place where datasets meet eval methods, through the
//! method table ([`gauntlet_evals::EvalMethod::eval`]); the validator round,
//! `gauntlet eval --competition` and `gauntlet miner eval` all call
//! [`run_competition`] or [`run_prepared`], so a miner sees exactly the
//! validator's score. Any [`Backend`](gauntlet_evals::backend::Backend) runs
//! ([`run_prepared_on`]): the local runtime, or an API-hosted reference
//! entrant.
//!
//! A task whose data is unavailable is dropped (weights renormalised); a task
//! whose evaluation fails (a model error, NaN, degenerate output) scores
//! raw = +inf. Neither stops the other tasks.

pub mod early_stop;
mod prepare;
pub(crate) mod run;

pub use prepare::{prepare, PreparedTask, Unprepared};
pub use run::{
    run_competition, run_prepared, run_prepared_on, SuiteEvent, SuiteOptions, SuiteResult,
    TaskDetail,
};

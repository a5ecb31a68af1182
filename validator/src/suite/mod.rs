//! Running a competition's eval suite on one model: draw every task's samples
//! from the seed, run each task's method, normalise and weight the raw scores.
//!
//! This is the one place where datasets meet eval methods; the validator
//! round, `gauntlet eval --competition` and `gauntlet miner eval` all call
//! [`run_competition`], so a miner sees exactly the validator's score.
//!
//! A task whose data is unavailable is dropped (weights renormalised); a task
//! whose evaluation fails (a model error, NaN, degenerate output) scores
//! raw = +inf. Neither stops the other tasks.

mod convert;
mod google;
mod prepare;
mod run;

pub use prepare::{prepare, PreparedTask, TaskInput, Unprepared};
pub use run::{run_competition, run_prepared, SuiteEvent, SuiteOptions, SuiteResult, TaskDetail};

//! Gauntlet validator: the round of DESIGN.md as explicit stages, and the
//! competition suite runner every role shares.
//!
//! [`suite::run_competition`] scores one model on a competition's tasks with
//! samples drawn from a seed; it is what `gauntlet eval --competition`,
//! `gauntlet miner eval` and the validator round all run.

pub mod checks;
pub mod round;
pub mod state;
pub mod suite;
pub mod testing;
pub mod tokenizer;
pub mod verdict;

pub use round::{RoundError, RoundReport, Validator, ValidatorConfig};
pub use state::State;
pub use verdict::Verdict;

//! Gauntlet validator: the round of DESIGN.md as explicit stages, and the
//! competition suite runner every role shares.
//!
//! [`suite::prepare`] draws a competition's samples from a seed and
//! [`suite::run_prepared`] scores one model on them ([`suite::run_competition`]
//! does both); `gauntlet eval --competition`, `gauntlet miner eval` and the
//! validator round all run them.

pub mod audit;
pub mod checks;
pub mod fault;
pub mod ledger;
pub mod private;
pub mod rerun;
pub mod round;
pub mod sandbox;
pub mod state;
pub mod suite;
pub mod summary;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokenizer;
pub mod verdict;

pub use fault::Fault;
pub use round::{RoundError, RoundReport, Validator, ValidatorConfig};
pub use sandbox::Isolation;
pub use state::State;
pub use summary::{RoundModel, RoundSummary};
pub use verdict::Verdict;

/// An error and its sources, one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

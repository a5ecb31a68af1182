//! Gauntlet competitions as data: schedule by block, constraints, epsilon.
//!
//! Competitions live in TOML files (`competitions/defs/`), embedded in the
//! binary and validated at load; an author adds one by adding a file (see
//! `docs/COMPETITIONS.md`). This crate only describes competitions: eval
//! methods live in `gauntlet-evals`, datasets in `gauntlet-datasets`.
//!
//! ```
//! use gauntlet_competitions::{EvalMethod, Registry};
//! use gauntlet_constants::{Block, CompetitionId};
//!
//! let registry = Registry::builtin()?;
//! let instruct = registry.by_name("instruct_8b").expect("builtin");
//! let active = registry
//!     .competition_at(instruct.id, Block(4_700_000))
//!     .expect("INSTRUCT_8B runs at this block");
//! assert_eq!(active.reward_share, 1.0);
//! assert!(active.tasks().iter().any(|t| t.method == EvalMethod::IfEval));
//! let eps = instruct.constraints.epsilon.at(Block(4_700_000), Block(4_696_400));
//! assert!((eps - 0.03).abs() < 1e-12);
//! assert!(registry.competition_at(CompetitionId(2), Block(4_700_000)).is_none());
//! # Ok::<(), gauntlet_competitions::CompetitionError>(())
//! ```

mod competition;
mod constraints;
pub mod describe;
mod epsilon;
mod error;
mod raw;
mod reference;
mod registry;
mod task;
mod validate;

pub use competition::{ActiveCompetition, Competition, CompetitionShare, ScheduleEntry};
pub use constraints::{
    Constraints, FixedTokenizer, TokenizerPolicy, WeightNormCheck, DEFAULT_MAX_EVAL_SECONDS,
};
pub use epsilon::Epsilon;
pub use error::CompetitionError;
pub use reference::ReferenceEntrant;
pub use registry::{Definitions, Registry, SCHEDULE_FILE};
pub use task::{
    DatasetId, DatasetKwargs, EvalMethod, EvalTask, IfEvalVersion, Normalization, TaskSet,
};
pub use validate::Source;
pub use validate::SUM_TOLERANCE;

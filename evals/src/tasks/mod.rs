//! Task runners: each turns prepared samples into one raw score (a loss,
//! lower is better) through a [`Backend`](crate::backend::Backend)'s capabilities,
//! and [`combine`] weights normalised task scores into a competition score.
//!
//! Samples come prepared (drawn by `gauntlet-datasets` from a seed), so every
//! runner is deterministic: the same model and samples give the same score.
//!
//! | method | runner | raw score |
//! |---|---|---|
//! | multiple choice | [`crate::multiple_choice::evaluate`] | fraction wrong |
//! | reference loss | [`reference_loss`] | mean NLL of the reference tokens |
//! | text loss | [`text_loss`] + [`degenerate_output`] guard | mean per-document NLL |
//! | IFEval V1/V2 | [`if_eval`] | mean `1 - r²`, duplicate guard |

mod combine;
mod if_eval;
mod loss;
mod reference_loss;
mod text_loss;

pub use combine::{combine, TaskOutcome, TaskStatus};
pub use if_eval::{if_eval, IfEval, IfEvalRun};
pub use loss::{LossOptions, LossResult};
pub use reference_loss::{reference_loss, ReferenceLoss, ReferencePrompt};
pub use text_loss::{degenerate_output, text_loss, SanityVerdict, TextLoss, SANITY_PREFIX_TOKENS};

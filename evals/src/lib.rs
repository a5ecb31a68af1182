//! Gauntlet's eval methods, scored as the reference subnet scores them.
//!
//! Every method is one small implementation of [`Eval`] (prepared samples in,
//! an [`EvalScore`] out) and sees models only through the capabilities of
//! [`backend`] — generation, log-probabilities, tokenisation — which a local
//! runtime ([`backend::Local`] over the token-level [`LanguageModel`]) or a
//! remote endpoint provides, so eval logic stays pure and testable. One
//! table keyed by [`EvalMethod`] ([`methods`]) says how each method runs.
//! Scores follow the reference convention: **losses, lower is better**.
//!
//! | method | [`Eval`] implementation |
//! |---|---|
//! | multiple choice by generation | [`multiple_choice::MultipleChoice`] |
//! | multiple choice by log-likelihood | [`likelihood::MultipleChoiceLikelihood`] |
//! | reference loss | [`tasks::ReferenceLoss`] |
//! | text loss (with the sanity guard) | [`tasks::TextLoss`] |
//! | synthetic IFEval V1/V2 | [`tasks::IfEval`] |
//! | Google's IFEval | [`google_ifeval::GoogleIfeval`] |

pub mod backend;
pub mod bootstrap;
mod error;
mod eval;
pub mod google_ifeval;
pub mod ifeval;
pub mod likelihood;
pub mod methods;
pub mod model;
pub mod multiple_choice;
pub mod normalize;
pub mod samples;
pub mod similarity;
pub mod tasks;
pub mod weights;

pub use error::EvalError;
pub use eval::{AnyEval, Eval, EvalOptions, EvalScore, SampleOutput};
pub use methods::EvalMethod;
pub use model::{ChatMessage, GenerateOptions, LanguageModel, ModelError, ScoreRequest};
pub use samples::{SampleKind, SampleSet, Samples};

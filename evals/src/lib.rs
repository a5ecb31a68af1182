//! Gauntlet's eval methods, scored as the reference subnet scores them.
//!
//! This crate sees models only through the small [`LanguageModel`] trait (the
//! model runtime implements it), so eval logic stays pure and testable. Scores
//! follow the reference convention: **losses, lower is better**.

pub mod model;
pub mod google_ifeval;
pub mod multiple_choice;

pub use model::{ChatMessage, GenerateOptions, LanguageModel, ModelError, ScoreRequest};
pub mod ifeval;
pub mod normalize;
pub mod similarity;
pub mod tasks;
pub mod weights;

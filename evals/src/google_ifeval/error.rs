//! Errors of the IFEval port: malformed data and the model's own failures.

use crate::model::ModelError;

/// Errors raised while reading IFEval data or running the eval.
#[derive(Debug, thiserror::Error)]
pub enum IfevalError {
    /// The instruction id is not one of the 25 checkers.
    #[error("unknown IFEval instruction id {id:?}")]
    UnknownInstruction {
        /// The id as given.
        id: String,
    },
    /// A required keyword argument is absent (or null).
    #[error("instruction {id}: missing argument {field:?}")]
    MissingArgument {
        /// The instruction id.
        id: String,
        /// The argument name.
        field: String,
    },
    /// A keyword argument has the wrong type or an unusable value.
    #[error("instruction {id}: argument {field:?} {reason}")]
    BadArgument {
        /// The instruction id.
        id: String,
        /// The argument name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A non-null keyword argument the checker does not take (Python raises
    /// `TypeError` for it).
    #[error("instruction {id}: unexpected argument {field:?}")]
    UnexpectedArgument {
        /// The instruction id.
        id: String,
        /// The argument name.
        field: String,
    },
    /// A data row is not a valid IFEval prompt.
    #[error("IFEval data line {line}: {reason}")]
    BadRow {
        /// 1-based line number in the JSON-lines input.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A row's instruction is invalid.
    #[error("IFEval data line {line}: {source}")]
    Row {
        /// 1-based line number in the JSON-lines input.
        line: usize,
        /// The instruction's error.
        #[source]
        source: Box<IfevalError>,
    },
    /// The data file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Prompts and responses differ in number.
    #[error("{prompts} prompts but {responses} responses")]
    LengthMismatch {
        /// Number of prompts.
        prompts: usize,
        /// Number of responses.
        responses: usize,
    },
    /// There is nothing to score.
    #[error("no IFEval prompts to evaluate")]
    Empty,
    /// The model failed to tokenize, render or generate.
    #[error("model failed: {0}")]
    Model(#[source] ModelError),
}

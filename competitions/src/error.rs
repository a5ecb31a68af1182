//! The crate's one error type: every way a competition definition can be
//! rejected, each naming the file and the field at fault.

use std::path::PathBuf;

/// Why competition definitions could not be loaded.
///
/// Every variant names the file it comes from, so a competition author sees
/// at once which file and which field to fix.
#[derive(Debug, thiserror::Error)]
pub enum CompetitionError {
    /// A definition directory or file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The directory or file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid TOML or does not have the expected shape: a
    /// misspelled or unknown field, a missing field, a value of the wrong type.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file being parsed.
        file: String,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// 1-based column of the offending text (0 when unknown).
        column: usize,
        /// The parser's explanation, which names the field.
        message: String,
    },
    /// A field has a well-formed value that breaks an invariant (weights not
    /// summing to 1, an unknown eval method, a duplicate id, …).
    #[error("{file}: field `{field}`: {message}")]
    Invalid {
        /// The file holding the field.
        file: String,
        /// The field's path inside the file, e.g. `task_sets[0].tasks[2].weight`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl CompetitionError {
    /// Builds an [`CompetitionError::Invalid`].
    pub(crate) fn invalid(
        file: &str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            file: file.to_owned(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// Builds a [`CompetitionError::Parse`] from a TOML error, locating its span
    /// in `text` as a line and column.
    pub(crate) fn parse(file: &str, text: &str, err: &toml::de::Error) -> Self {
        let (line, column) = match err.span() {
            Some(span) => line_column(text, span.start),
            None => (0, 0),
        };
        Self::Parse {
            file: file.to_owned(),
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 8), (2, 3));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}

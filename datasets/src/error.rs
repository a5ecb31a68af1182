//! The crate's one error type: every variant names the file (and, where it
//! applies, the line and field) so a bad cache file is fixable from the
//! message alone.

use std::path::PathBuf;

use gauntlet_competitions::DatasetId;

/// Everything that can go wrong loading, fetching or sampling data.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A drawn row cannot become a sample of its eval (Google's IFEval: an
    /// unknown instruction or bad arguments): a definition error, not
    /// missing data.
    #[error("{dataset} {row}: {reason}")]
    InvalidRow {
        /// The dataset.
        dataset: DatasetId,
        /// Which row.
        row: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A compressed file or archive is corrupt or not of the expected kind.
    #[error("{}: cannot decompress: {reason}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// A file that must hold records holds none.
    #[error("{}: empty file", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A line of a JSON-lines file is not valid JSON (or not an object).
    #[error("{}:{line}: invalid JSON: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// A record lacks a required field.
    #[error("{}:{line}: missing field `{field}`", path.display())]
    MissingField {
        /// The file.
        path: PathBuf,
        /// 1-based line (or row) number.
        line: usize,
        /// The field's name.
        field: String,
    },
    /// A record's field has the wrong type or an invalid value.
    #[error("{}:{line}: field `{field}`: {reason}", path.display())]
    BadField {
        /// The file.
        path: PathBuf,
        /// 1-based line (or row) number.
        line: usize,
        /// The field's name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A parquet file could not be read, or lacks a column.
    #[error("{}: parquet: {reason}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What polars said.
        reason: String,
    },
    /// The data of a dataset is not in the cache.
    #[error("no data for {dataset} in the cache ({hint})")]
    Missing {
        /// The dataset.
        dataset: DatasetId,
        /// What to do about it.
        hint: String,
    },
    /// A dataset's pool holds fewer usable rows than a task asks for.
    #[error("{dataset}: {requested} rows needed but only {available} usable")]
    TooFewRows {
        /// The dataset.
        dataset: DatasetId,
        /// Rows usable for this task.
        available: usize,
        /// Rows the request needs (samples; `samples + 1` for IFEval pairs;
        /// 20 words for word sorting).
        requested: usize,
    },
    /// An HTTP request failed or answered with an error status.
    #[error("GET {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A downloaded or extracted file does not have its pinned sha256 sum.
    #[error("{what}: sha256 mismatch (expected {expected}, got {actual})")]
    Checksum {
        /// The archive or member checked.
        what: String,
        /// The pinned sum.
        expected: String,
        /// The sum of what arrived.
        actual: String,
    },
    /// A package index or archive does not hold the file a source needs.
    #[error("{what}: not found in {place}")]
    NotFound {
        /// The file looked for.
        what: String,
        /// Where it was looked for.
        place: String,
    },
    /// A source cannot be fetched on this machine (no route, no package).
    #[error("{what}: {hint}")]
    Unavailable {
        /// The source.
        what: String,
        /// How to make it available.
        hint: String,
    },
}

impl DatasetError {
    /// Whether retrying later may succeed (network trouble), as opposed to a
    /// bad file or a wrong checksum.
    pub fn is_transient(&self) -> bool {
        matches!(self, DatasetError::Http { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DatasetError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_field(
        path: impl Into<PathBuf>,
        line: usize,
        field: &str,
        reason: impl Into<String>,
    ) -> Self {
        DatasetError::BadField {
            path: path.into(),
            line,
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

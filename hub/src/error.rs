//! The hub's error type: one enum for every operation of this crate.

use std::io;
use std::path::PathBuf;

/// An error of a model store operation (today: hashing a revision).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// Reading a file or a directory failed.
    #[error("cannot read {path}")]
    Io {
        /// The file or directory that could not be read (relative paths are as given).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Two files of one revision have the same relative path, so the hash would be ambiguous.
    #[error("duplicate file path {0:?} in a revision")]
    DuplicatePath(String),
    /// A file name is not valid UTF-8, so it has no place in the sorted path order.
    #[error("file name is not valid UTF-8: {0:?}")]
    NonUtf8Path(PathBuf),
    /// A symbolic link points to a directory; following it could loop or leave the revision.
    #[error("symbolic link to a directory in a revision: {0:?}")]
    SymlinkedDirectory(PathBuf),
    /// An entry is neither a regular file nor a directory (a FIFO, socket or device).
    #[error("not a regular file or directory: {0:?}")]
    NotAFile(PathBuf),
}

impl HubError {
    /// Whether retrying the same operation could succeed (a transient I/O condition).
    ///
    /// Malformed revisions never become valid by retrying; of the I/O errors only
    /// interruptions, timeouts and would-block conditions count as transient.
    pub fn is_transient(&self) -> bool {
        match self {
            HubError::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            HubError::DuplicatePath(_)
            | HubError::NonUtf8Path(_)
            | HubError::SymlinkedDirectory(_)
            | HubError::NotAFile(_) => false,
        }
    }
}

//! The hub's error type: one enum for every operation of this crate.
//!
//! Retry policy is a `match` on [`HubError::is_transient`]: network failures, timeouts,
//! `5xx`/`429` answers and transfers cut short may succeed when tried again; a bad name,
//! a missing revision, a refused token or a file whose checksum is wrong will not.

use std::io;
use std::path::PathBuf;

/// A boxed error from the HTTP client, kept opaque so the client is not part of the API.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of a model store operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// Reading or writing a file or a directory failed.
    #[error("I/O error on {path}")]
    Io {
        /// The file or directory concerned (relative paths are as given).
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
    /// A repository name is malformed (REFERENCE §3: `namespace/name`, 4..=38 characters).
    #[error("invalid repository {repo:?}: {reason}")]
    InvalidRepo {
        /// The repository as given, `namespace/name`.
        repo: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A commit id is not 40 lowercase hexadecimal characters.
    #[error("invalid commit id {0:?}: expected 40 lowercase hex characters")]
    InvalidCommit(String),
    /// A file path inside a revision is unsafe or malformed (absolute, `..`, `.git`, …).
    #[error("invalid file path {path:?} in a revision: {reason}")]
    InvalidPath {
        /// The path as the revision names it.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The revision is bigger than the caller allows; nothing was downloaded.
    #[error("revision is {bytes} bytes, more than the {max} bytes allowed")]
    TooLarge {
        /// Total size of the revision's files.
        bytes: u64,
        /// The cap that was asked for.
        max: u64,
    },
    /// The repository, revision or file does not exist (or is hidden from this token).
    #[error("not found: {what}{}", detail(message))]
    NotFound {
        /// What was looked for, e.g. `revision 0123… of ns/name`.
        what: String,
        /// The server's explanation, when it gave one.
        message: String,
    },
    /// The hub refused the credentials (HTTP 401 or 403).
    #[error(
        "access denied (HTTP {status}) for {url}{}: check HF_TOKEN and its permissions",
        detail(message)
    )]
    Unauthorized {
        /// 401 (no or bad token) or 403 (token lacks the permission).
        status: u16,
        /// The request's URL, without its query string.
        url: String,
        /// The server's explanation, when it gave one.
        message: String,
    },
    /// Any other unsuccessful HTTP answer.
    #[error("HTTP {status} from {url}{}", detail(message))]
    Http {
        /// The status code.
        status: u16,
        /// The request's URL, without its query string.
        url: String,
        /// The server's explanation, when it gave one.
        message: String,
    },
    /// The request never got an answer: connection refused or reset, DNS, timeout.
    #[error("network error on {url}")]
    Network {
        /// The request's URL, without its query string.
        url: String,
        /// The client's error.
        #[source]
        source: BoxError,
    },
    /// A transfer ended before all of the file's bytes arrived (or more arrived).
    #[error("incomplete transfer of {path}: expected {expected} bytes, got {received}")]
    Incomplete {
        /// The file's path in the revision.
        path: String,
        /// Bytes the revision lists for the file.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// A file's content does not match the checksum the revision lists for it.
    #[error("checksum mismatch for {path}: expected {expected}, got {actual}")]
    Integrity {
        /// The file's path in the revision (or the revision itself).
        path: String,
        /// The listed checksum.
        expected: String,
        /// The checksum of what arrived.
        actual: String,
    },
    /// The revision has more files than a model may have; nothing was downloaded.
    #[error("revision has {files} files, more than the {max} allowed")]
    TooManyFiles {
        /// Files the revision lists.
        files: usize,
        /// The cap.
        max: usize,
    },
    /// The revision's files do not hash to what the commitment binds: refused
    /// (from the listing's checksums, before the large files were fetched,
    /// where the hub lists them).
    #[error(
        "the revision's repo hash {repo_hash} does not give the committed secure hash {expected}"
    )]
    HashMismatch {
        /// The repo hash of the revision's files.
        repo_hash: String,
        /// The secure hash the download had to give.
        expected: String,
    },
    /// The cache's disk (or its budget) has no room for the revision, even
    /// after evicting every revision not in play.
    #[error(
        "no room for {needed} bytes in {path}: {free} bytes free{}",
        detail(reason)
    )]
    DiskFull {
        /// The cache directory.
        path: PathBuf,
        /// Bytes the revision needs.
        needed: u64,
        /// Bytes available (on disk, or left in the budget).
        free: u64,
        /// Which limit: the disk or the cache budget.
        reason: String,
    },
    /// The store is misconfigured (a malformed endpoint URL, an unusable HTTP client).
    #[error("configuration error: {0}")]
    Config(String),
    /// The server answered something this client cannot understand.
    #[error("unexpected answer from {url}: {message}")]
    Protocol {
        /// The request's URL, without its query string.
        url: String,
        /// What was wrong with the answer.
        message: String,
    },
}

/// `": message"` when the message is not empty.
fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl HubError {
    /// Whether retrying the same operation could succeed.
    ///
    /// Transient: network errors, HTTP 408/429/5xx, incomplete transfers, and of the
    /// I/O errors interruptions, timeouts and would-block conditions. Malformed names,
    /// missing revisions, refused credentials, size caps and checksum mismatches never
    /// get better by retrying.
    pub fn is_transient(&self) -> bool {
        match self {
            HubError::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            HubError::Http { status, .. } => status_is_transient(*status),
            HubError::Network { .. } | HubError::Incomplete { .. } => true,
            HubError::DuplicatePath(_)
            | HubError::NonUtf8Path(_)
            | HubError::SymlinkedDirectory(_)
            | HubError::NotAFile(_)
            | HubError::InvalidRepo { .. }
            | HubError::InvalidCommit(_)
            | HubError::InvalidPath { .. }
            | HubError::TooLarge { .. }
            | HubError::NotFound { .. }
            | HubError::Unauthorized { .. }
            | HubError::Integrity { .. }
            | HubError::Config(_)
            | HubError::Protocol { .. }
            | HubError::TooManyFiles { .. }
            | HubError::HashMismatch { .. }
            | HubError::DiskFull { .. } => false,
        }
    }

    /// Whether the failure is on the caller's side — its disk, its network,
    /// its configuration, or a hub that is down — rather than in what the
    /// revision is. A validator never blames a miner for such an error.
    ///
    /// Local: I/O errors (the cache's disk), a full disk or budget, network
    /// errors and incomplete transfers, HTTP 408/429/5xx, and configuration
    /// errors. Everything else describes the revision (missing, too large,
    /// too many files, a bad path, a wrong checksum or hash, a listing the
    /// client cannot use) and is the publisher's.
    pub fn is_local_fault(&self) -> bool {
        match self {
            HubError::Io { .. }
            | HubError::DiskFull { .. }
            | HubError::Network { .. }
            | HubError::Incomplete { .. }
            | HubError::Config(_) => true,
            HubError::Http { status, .. } => status_is_transient(*status),
            _ => false,
        }
    }

    /// An [`HubError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        HubError::Io {
            path: path.into(),
            source,
        }
    }
}

/// HTTP statuses worth retrying: request timeout, rate limiting and server errors.
pub(crate) fn status_is_transient(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn transient_classification() {
        let http = |status| HubError::Http {
            status,
            url: "u".into(),
            message: String::new(),
        };
        assert!(http(500).is_transient());
        assert!(http(503).is_transient());
        assert!(http(429).is_transient());
        assert!(!http(400).is_transient());
        assert!(!http(409).is_transient());
        assert!(!HubError::TooLarge { bytes: 2, max: 1 }.is_transient());
        assert!(!HubError::NotFound {
            what: "x".into(),
            message: String::new()
        }
        .is_transient());
        let timeout = HubError::io("f", io::Error::from(io::ErrorKind::TimedOut));
        assert!(timeout.is_transient());
        let missing = HubError::io("f", io::Error::from(io::ErrorKind::NotFound));
        assert!(!missing.is_transient());
    }

    #[test]
    fn local_faults_are_told_from_the_revisions() {
        let http = |status| HubError::Http {
            status,
            url: "u".into(),
            message: String::new(),
        };
        let full = HubError::io("cache", io::Error::from(io::ErrorKind::StorageFull));
        assert!(full.is_local_fault());
        assert!(http(503).is_local_fault());
        assert!(!http(404).is_local_fault());
        assert!(!HubError::TooLarge { bytes: 2, max: 1 }.is_local_fault());
        assert!(!HubError::TooManyFiles { files: 2, max: 1 }.is_local_fault());
        assert!(!HubError::NotFound {
            what: "x".into(),
            message: String::new()
        }
        .is_local_fault());
    }

    #[test]
    fn messages_name_the_problem() {
        let e = HubError::Unauthorized {
            status: 401,
            url: "https://hub/api".into(),
            message: "Invalid token".into(),
        };
        let text = e.to_string();
        assert!(
            text.contains("401") && text.contains("HF_TOKEN") && text.contains("Invalid token")
        );
        let e = HubError::NotFound {
            what: "revision abc of a/b".into(),
            message: String::new(),
        };
        assert_eq!(e.to_string(), "not found: revision abc of a/b");
    }
}

//! The `ModelStore` trait: where miners publish models and validators fetch them.

use std::path::{Path, PathBuf};

use crate::{secure_hash, HubError, ModelId};

/// Most files a revision may have (a sharded 70B model has about 40): more
/// are refused before anything is downloaded.
pub const MAX_REPO_FILES: usize = 1000;

/// What a download must hash to: a commitment's secure hash, bound to the
/// committing hotkey (REFERENCE §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedHash {
    /// The committing hotkey, SS58.
    pub hotkey: String,
    /// The secure hash in the commitment.
    pub secure_hash: String,
}

impl ExpectedHash {
    /// Whether a revision with `repo_hash` is the committed one.
    pub fn matches(&self, repo_hash: &str) -> bool {
        secure_hash(repo_hash, &self.hotkey) == self.secure_hash
    }

    /// The error for a revision with `repo_hash` that is not the committed one.
    pub fn mismatch(&self, repo_hash: &str) -> HubError {
        HubError::HashMismatch {
            repo_hash: repo_hash.to_owned(),
            expected: self.secure_hash.clone(),
        }
    }
}

/// A downloaded revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModel {
    /// The revision this is.
    pub id: ModelId,
    /// The directory holding the revision's files and nothing else.
    pub dir: PathBuf,
    /// The repo hash (REFERENCE §3) of the files in `dir`.
    pub repo_hash: String,
    /// Total size of the files in `dir`.
    pub total_bytes: u64,
}

/// A hub of models pinned to immutable revisions.
///
/// Implemented by [`LocalHub`](crate::LocalHub) (a directory) and
/// [`HfHub`](crate::HfHub) (the Hugging Face Hub); object safe, so callers can hold a
/// `Box<dyn ModelStore>` chosen at run time.
#[async_trait::async_trait]
pub trait ModelStore: Send + Sync {
    /// Downloads revision `id` into the store's cache, refusing before any download when
    /// the revision's total size exceeds `max_bytes` ([`HubError::TooLarge`]), resuming
    /// or reusing a complete earlier download, and returns it with its repo hash
    /// (computed over the revision's files only, never over cache metadata).
    async fn download(&self, id: &ModelId, max_bytes: u64) -> Result<LocalModel, HubError>;

    /// Uploads every file of `dir` (all but `.git` directories, as the repo hash sees
    /// it) as a new revision of `namespace/name` and returns its pinned id.
    async fn upload(&self, dir: &Path, namespace: &str, name: &str) -> Result<ModelId, HubError>;

    /// The revision the main branch of `namespace/name` points at now: how
    /// "the latest upload" (a published ledger) becomes a pinned [`ModelId`].
    /// [`HubError::NotFound`] when the repository has none.
    async fn main_revision(&self, namespace: &str, name: &str) -> Result<ModelId, HubError> {
        Err(HubError::Config(format!(
            "this hub cannot name the latest revision of {namespace}/{name}"
        )))
    }

    /// Total size of a revision's files, without downloading it.
    async fn revision_size(&self, id: &ModelId) -> Result<u64, HubError>;

    /// Like [`ModelStore::download`], but the revision must hash to
    /// `expected` ([`HubError::HashMismatch`] otherwise). A store that knows
    /// the files' checksums before fetching them (the Hugging Face Hub lists
    /// LFS files' SHA-256) refuses a wrong revision before its large files
    /// are downloaded; the default checks after the download.
    async fn download_expecting(
        &self,
        id: &ModelId,
        max_bytes: u64,
        expected: &ExpectedHash,
    ) -> Result<LocalModel, HubError> {
        let local = self.download(id, max_bytes).await?;
        if expected.matches(&local.repo_hash) {
            Ok(local)
        } else {
            Err(expected.mismatch(&local.repo_hash))
        }
    }

    /// Tells the store which revisions are still in play: the cache budget
    /// never evicts them. Replaces the previous set.
    fn keep(&self, _ids: &[ModelId]) {}
}

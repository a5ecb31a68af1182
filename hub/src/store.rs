//! The `ModelStore` trait: where miners publish models and validators fetch them.

use std::path::{Path, PathBuf};

use crate::{HubError, ModelId};

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

    /// Total size of a revision's files, without downloading it.
    async fn revision_size(&self, id: &ModelId) -> Result<u64, HubError>;
}

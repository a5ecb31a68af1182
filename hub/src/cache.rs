//! The download cache shared by every store.
//!
//! ```text
//! <cache>/<namespace>/<name>/<commit>/…          complete revisions: the files, nothing else
//! <cache>/.partial/<namespace>/<name>/<commit>/  work in progress for one revision
//!     lock                                       held (flock) by the one download at work
//!     files/…                                    files already complete and verified
//!     parts/…                                    files still arriving (resumable)
//! ```
//!
//! A revision becomes visible by one `rename` of `files/` to its final place, so a crash
//! never leaves a half revision where a complete one is expected, and the final
//! directory never holds cache metadata (which would change its repo hash).

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::budget::{self, CacheBudget};
use crate::hash::list_files;
use crate::revision::blocking;
use crate::{HubError, ModelId};

/// Name of the work-in-progress tree under the cache root (repository namespaces never
/// start with a dot, so it cannot collide with one).
const PARTIAL_DIR: &str = ".partial";

/// A download cache rooted at one directory.
#[derive(Debug, Clone)]
pub(crate) struct DownloadCache {
    root: PathBuf,
    budget: CacheBudget,
    /// Revisions still in play: never evicted.
    keep: Arc<Mutex<HashSet<ModelId>>>,
}

/// Exclusive right to work on one revision's partial download; released on drop.
#[derive(Debug)]
pub(crate) struct CacheLock {
    _file: File,
}

impl DownloadCache {
    /// A cache under `root` (created lazily).
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        DownloadCache {
            root: root.into(),
            budget: CacheBudget::default(),
            keep: Arc::default(),
        }
    }

    /// The same cache under `budget`.
    pub(crate) fn with_budget(mut self, budget: CacheBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Replaces the set of revisions in play.
    pub(crate) fn keep(&self, ids: &[ModelId]) {
        if let Ok(mut keep) = self.keep.lock() {
            *keep = ids.iter().cloned().collect();
        }
    }

    /// Makes room for `needed` bytes of `id` (see `crate::budget`).
    pub(crate) async fn make_room(&self, id: &ModelId, needed: u64) -> Result<(), HubError> {
        let (root, budget, id) = (self.root.clone(), self.budget, id.clone());
        let keep = self.keep.lock().map(|k| k.clone()).unwrap_or_default();
        blocking(move || budget::make_room(&root, budget, &keep, &id, needed)).await
    }

    /// Marks the complete revision `id` as just used.
    pub(crate) fn touch(&self, id: &ModelId) {
        budget::touch(&self.final_dir(id));
    }

    /// The cache's root directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Where the complete revision `id` lives.
    pub(crate) fn final_dir(&self, id: &ModelId) -> PathBuf {
        self.root
            .join(&id.namespace)
            .join(&id.name)
            .join(&id.commit)
    }

    fn partial_dir(&self, id: &ModelId) -> PathBuf {
        self.root
            .join(PARTIAL_DIR)
            .join(&id.namespace)
            .join(&id.name)
            .join(&id.commit)
    }

    /// Complete, verified files waiting for the revision to be published.
    pub(crate) fn staging_dir(&self, id: &ModelId) -> PathBuf {
        self.partial_dir(id).join("files")
    }

    /// Files still arriving.
    pub(crate) fn parts_dir(&self, id: &ModelId) -> PathBuf {
        self.partial_dir(id).join("parts")
    }

    /// Waits for exclusive access to `id`'s partial download (across threads and
    /// processes). Callers check [`final_dir`](Self::final_dir) again once they hold it.
    pub(crate) async fn lock(&self, id: &ModelId) -> Result<CacheLock, HubError> {
        let dir = self.partial_dir(id);
        blocking(move || {
            fs::create_dir_all(&dir).map_err(|e| HubError::io(&dir, e))?;
            let path = dir.join("lock");
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| HubError::io(&path, e))?;
            file.lock().map_err(|e| HubError::io(&path, e))?;
            Ok(CacheLock { _file: file })
        })
        .await
    }

    /// Publishes the staging directory as the complete revision `id`: files not in
    /// `expected` are removed first, then one rename makes it visible. Needs the lock.
    pub(crate) async fn publish(
        &self,
        id: &ModelId,
        expected: HashSet<String>,
    ) -> Result<PathBuf, HubError> {
        let staging = self.staging_dir(id);
        let partial = self.partial_dir(id);
        let target = self.final_dir(id);
        blocking(move || {
            fs::create_dir_all(&staging).map_err(|e| HubError::io(&staging, e))?;
            for (rel, path) in list_files(&staging)? {
                if !expected.contains(&rel) {
                    fs::remove_file(&path).map_err(|e| HubError::io(&path, e))?;
                }
            }
            let parent = target.parent().unwrap_or(Path::new("."));
            fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
            sync_dir(&staging);
            if let Err(e) = fs::rename(&staging, &target) {
                if !target.is_dir() {
                    return Err(HubError::io(&target, e));
                }
            }
            sync_dir(parent);
            // The lock file goes too: a waiter holding it finds the final directory.
            let _ = fs::remove_dir_all(&partial);
            Ok(target)
        })
        .await
    }
}

/// Flushes a directory's entries to disk (best effort; a no-op where unsupported).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether `path` is a directory, treating errors as "no".
pub(crate) fn is_dir(path: &Path) -> bool {
    fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false)
}

/// Removes a directory tree if it exists.
pub(crate) fn remove_tree(path: &Path) -> Result<(), HubError> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HubError::io(path, e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn id() -> ModelId {
        ModelId::new("ns", "model", "0123456789abcdef0123456789abcdef01234567").unwrap()
    }

    #[tokio::test]
    async fn publish_moves_only_expected_files() {
        let root = tempfile::tempdir().unwrap();
        let cache = DownloadCache::new(root.path());
        let id = id();
        let lock = cache.lock(&id).await.unwrap();
        let staging = cache.staging_dir(&id);
        fs::create_dir_all(staging.join("sub")).unwrap();
        fs::write(staging.join("a.txt"), "a").unwrap();
        fs::write(staging.join("sub/b.txt"), "b").unwrap();
        fs::write(staging.join("stray.tmp"), "x").unwrap();
        let expected = ["a.txt", "sub/b.txt"].map(String::from).into();
        let dir = cache.publish(&id, expected).await.unwrap();
        drop(lock);
        assert_eq!(dir, root.path().join("ns/model").join(&id.commit));
        let names: Vec<_> = list_files(&dir)
            .unwrap()
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        assert_eq!(names, ["a.txt", "sub/b.txt"]);
        assert!(!root
            .path()
            .join(PARTIAL_DIR)
            .join("ns/model")
            .join(&id.commit)
            .exists());
    }

    #[tokio::test]
    async fn lock_is_exclusive() {
        let root = tempfile::tempdir().unwrap();
        let cache = DownloadCache::new(root.path());
        let id = id();
        let first = cache.lock(&id).await.unwrap();
        let cache2 = cache.clone();
        let id2 = id.clone();
        let waiter = tokio::spawn(async move { cache2.lock(&id2).await.map(|_| ()) });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!waiter.is_finished(), "second lock must wait for the first");
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

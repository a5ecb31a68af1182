//! `LocalHub`: a model hub in a directory, the embedded default (no network).

mod publish;

use std::fs;
use std::path::{Path, PathBuf};

use crate::cache::{is_dir, remove_tree, DownloadCache};
use crate::hash::list_files;
use crate::id::validate_repo;
use crate::revision::{blocking, repo_hash_of, scan};
use crate::{CacheBudget, HubError, LocalModel, ModelId, ModelStore, MAX_REPO_FILES};

/// Uploads in progress, under the root (a dot name: never a namespace).
const TMP_DIR: &str = ".tmp";
/// The default download cache, under the root.
const DOWNLOADS_DIR: &str = ".downloads";

/// A model hub in a local directory.
///
/// ```text
/// <root>/<namespace>/<name>/<commit>/…      immutable revisions (files read-only)
/// <root>/<namespace>/<name>/revisions.log   one commit id per upload, oldest first
/// <root>/<namespace>/<name>/refs/main       the latest upload's commit id
/// <root>/.tmp/                              uploads in progress
/// <root>/.downloads/                        the default download cache
/// ```
///
/// Commit ids are content-addressed: the SHA-1 (lowercase hex) of the manifest
///
/// ```text
/// gauntlet-local-hub v1\n
/// <sha256 hex> <size in bytes> <path>\n      one line per file, sorted by path
/// ```
///
/// so uploading the same files twice gives the same id and stores them once. An upload
/// is copied into `.tmp/` and renamed into place in one step, so a crash never leaves
/// half a revision visible. Downloads hard-link (or copy, across file systems) a
/// revision into the cache and check the files against the commit id, so a damaged hub
/// cannot pass for the revision.
#[derive(Debug, Clone)]
pub struct LocalHub {
    root: PathBuf,
    cache: DownloadCache,
    /// Most files a downloaded revision may have.
    max_files: usize,
}

impl LocalHub {
    /// Opens (creating if needed) the hub at `root`; downloads go to `<root>/.downloads`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, HubError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| HubError::io(&root, e))?;
        let cache = DownloadCache::new(root.join(DOWNLOADS_DIR));
        Ok(LocalHub {
            root,
            cache,
            max_files: MAX_REPO_FILES,
        })
    }

    /// Downloads into `<cache_dir>/<namespace>/<name>/<commit>/` instead.
    pub fn with_cache_dir(mut self, cache_dir: impl Into<PathBuf>) -> Self {
        self.cache = DownloadCache::new(cache_dir);
        self
    }

    /// Limits the download cache: room is made before each download by
    /// evicting the least recently used revisions not in play.
    pub fn with_cache_budget(mut self, budget: CacheBudget) -> Self {
        self.cache = self.cache.with_budget(budget);
        self
    }

    /// Refuses to download a revision of more than `max` files (default
    /// [`MAX_REPO_FILES`]).
    pub fn with_max_files(mut self, max: usize) -> Self {
        self.max_files = max;
        self
    }

    /// The hub's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The download cache's root directory.
    pub fn cache_dir(&self) -> &Path {
        self.cache.root()
    }

    fn repo_dir(&self, namespace: &str, name: &str) -> PathBuf {
        self.root.join(namespace).join(name)
    }

    /// Where revision `id` is stored in the hub itself (not a download: do not write).
    pub fn revision_dir(&self, id: &ModelId) -> Result<PathBuf, HubError> {
        id.validate()?;
        let dir = self.repo_dir(&id.namespace, &id.name).join(&id.commit);
        if is_dir(&dir) {
            Ok(dir)
        } else {
            Err(HubError::NotFound {
                what: format!("revision {id} in the local hub {}", self.root.display()),
                message: String::new(),
            })
        }
    }

    /// The latest upload to `namespace/name`, if any.
    pub fn latest(&self, namespace: &str, name: &str) -> Result<Option<ModelId>, HubError> {
        validate_repo(namespace, name)?;
        let path = self.repo_dir(namespace, name).join("refs").join("main");
        match fs::read_to_string(&path) {
            Ok(text) => ModelId::new(namespace, name, text.trim()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(HubError::io(path, e)),
        }
    }

    /// Every upload to `namespace/name`, oldest first (an id appears again when the same
    /// files were uploaded again).
    pub fn revisions(&self, namespace: &str, name: &str) -> Result<Vec<ModelId>, HubError> {
        validate_repo(namespace, name)?;
        let path = self.repo_dir(namespace, name).join("revisions.log");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(HubError::io(path, e)),
        };
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| ModelId::new(namespace, name, l.trim()))
            .collect()
    }

    /// Copies the revision into the cache and publishes it (caller holds the lock).
    async fn fill_cache(&self, id: &ModelId, src: PathBuf) -> Result<PathBuf, HubError> {
        let staging = self.cache.staging_dir(id);
        let expected = blocking(move || {
            // A local copy is cheap: start over rather than trust a half-made one.
            remove_tree(&staging)?;
            fs::create_dir_all(&staging).map_err(|e| HubError::io(&staging, e))?;
            let mut expected = std::collections::HashSet::new();
            for (rel, from) in list_files(&src)? {
                let to = staging.join(&rel);
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
                }
                // A link in the hub is copied as the file it names: the
                // cache never holds a symbolic link.
                let is_link = fs::symlink_metadata(&from).is_ok_and(|m| m.file_type().is_symlink());
                if is_link || fs::hard_link(&from, &to).is_err() {
                    fs::copy(&from, &to).map_err(|e| HubError::io(&to, e))?;
                }
                expected.insert(rel);
            }
            Ok(expected)
        })
        .await?;
        self.cache.publish(id, expected).await
    }

    /// Hashes a cached revision, checking it against the content-addressed commit id.
    async fn verify_cached(&self, id: &ModelId, dir: PathBuf) -> Result<LocalModel, HubError> {
        let scan_dir = dir.clone();
        let entries = blocking(move || scan(&scan_dir)).await?;
        let actual = publish::commit_id(&entries);
        if actual != id.commit {
            // Never hand out (or reuse) files that are not the revision.
            let bad = dir.clone();
            blocking(move || remove_tree(&bad)).await?;
            return Err(HubError::Integrity {
                path: id.to_string(),
                expected: id.commit.clone(),
                actual,
            });
        }
        Ok(LocalModel {
            id: id.clone(),
            repo_hash: repo_hash_of(&entries),
            total_bytes: entries.iter().map(|e| e.size).sum(),
            dir,
        })
    }
}

#[async_trait::async_trait]
impl ModelStore for LocalHub {
    async fn main_revision(&self, namespace: &str, name: &str) -> Result<ModelId, HubError> {
        self.latest(namespace, name)?
            .ok_or_else(|| HubError::NotFound {
                what: format!(
                    "{namespace}/{name} in the local hub {}",
                    self.root.display()
                ),
                message: String::new(),
            })
    }

    async fn download(&self, id: &ModelId, max_bytes: u64) -> Result<LocalModel, HubError> {
        let src = self.revision_dir(id)?;
        let listing = {
            let src = src.clone();
            blocking(move || list_files(&src)).await?
        };
        if listing.len() > self.max_files {
            return Err(HubError::TooManyFiles {
                files: listing.len(),
                max: self.max_files,
            });
        }
        let bytes = self.revision_size(id).await?;
        if bytes > max_bytes {
            return Err(HubError::TooLarge {
                bytes,
                max: max_bytes,
            });
        }
        let target = self.cache.final_dir(id);
        // A copy that fails its check (corrupted in the cache) is removed by
        // `verify_cached`, and copied again once.
        for attempt in 0..2 {
            if !is_dir(&target) {
                let _lock = self.cache.lock(id).await?;
                if !is_dir(&target) {
                    self.cache.make_room(id, bytes).await?;
                    tracing::info!(model = %id, bytes, "copying revision from the local hub");
                    self.fill_cache(id, src.clone()).await?;
                }
            }
            match self.verify_cached(id, target.clone()).await {
                Err(HubError::Integrity { .. }) if attempt == 0 => {
                    tracing::warn!(model = %id, "the cached copy is corrupt; copying it again");
                }
                other => {
                    self.cache.touch(id);
                    return other;
                }
            }
        }
        self.verify_cached(id, target).await
    }

    fn keep(&self, ids: &[ModelId]) {
        self.cache.keep(ids);
    }

    async fn upload(&self, dir: &Path, namespace: &str, name: &str) -> Result<ModelId, HubError> {
        validate_repo(namespace, name)?;
        let (src, tmp_root) = (dir.to_path_buf(), self.root.join(TMP_DIR));
        let repo_dir = self.repo_dir(namespace, name);
        let commit = blocking(move || {
            let (staged, entries) = publish::stage_copy(&src, &tmp_root)?;
            let commit = publish::commit_id(&entries);
            publish::install(staged, &repo_dir.join(&commit))?;
            publish::record(&repo_dir, &commit)?;
            Ok(commit)
        })
        .await?;
        let id = ModelId::new(namespace, name, commit)?;
        tracing::info!(model = %id, "uploaded to the local hub");
        Ok(id)
    }

    async fn revision_size(&self, id: &ModelId) -> Result<u64, HubError> {
        let dir = self.revision_dir(id)?;
        blocking(move || {
            let mut total = 0u64;
            for (_, path) in list_files(&dir)? {
                let len = fs::metadata(&path)
                    .map_err(|e| HubError::io(&path, e))?
                    .len();
                total = total.saturating_add(len);
            }
            Ok(total)
        })
        .await
    }
}

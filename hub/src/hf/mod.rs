//! `HfHub`: the Hugging Face Hub (or any server speaking its API) over HTTP.
//!
//! Speaks the Hub's HTTP API directly with `reqwest` rather than through the `hf-hub`
//! crate: hf-hub 1.0 pulls in the Xet storage client (~390 crates, a C build of
//! aws-lc) and uploads only through Xet, while this store needs the size cap before the
//! first file request, per-file checksums, resumable transfers into a clean folder, and
//! the LFS commit protocol that a local test server can speak.

mod api;
mod download;
mod http;
mod lfs;
mod upload;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;

pub use http::{RepoKind, RetryPolicy};

use crate::cache::DownloadCache;
use crate::id::validate_file_path;
use crate::{CacheBudget, ExpectedHash, HubError, LocalModel, ModelId, ModelStore, MAX_REPO_FILES};

/// The public Hugging Face Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// Longest wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest silence while reading an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Progress of a download, reported per MiB and at the end of each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The file being fetched.
    pub path: String,
    /// Bytes of it received so far.
    pub file_bytes: u64,
    /// Its size.
    pub file_size: u64,
    /// Bytes of the revision received so far.
    pub done_bytes: u64,
    /// The revision's size.
    pub total_bytes: u64,
}

/// A download progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// One file of a remote revision, as the Hub lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    /// Path in the repository.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content (lowercase hex), for LFS files.
    pub sha256: Option<String>,
    /// Git blob id (`sha1("blob {len}\0" + content)`), for files stored in git.
    pub git_blob_id: Option<String>,
}

/// The Hugging Face Hub as a [`ModelStore`].
///
/// Downloads go to `<cache_dir>/<namespace>/<name>/<commit>/` (see the crate
/// documentation for the layout). Uploads commit to the `main` branch, creating the
/// repository if needed; the token needs write access for them.
#[derive(Clone)]
pub struct HfHub {
    http: http::Http,
    cache: DownloadCache,
    progress: Option<ProgressFn>,
    /// Most files a downloaded revision may have.
    max_files: usize,
}

impl fmt::Debug for HfHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token.
        f.debug_struct("HfHub")
            .field("endpoint", &self.http.endpoint)
            .field("token", &self.http.token.as_ref().map(|_| "<redacted>"))
            .field("cache_dir", &self.cache.root())
            .field("retry", &self.http.retry)
            .field("kind", &self.http.kind)
            .field("max_files", &self.max_files)
            .finish()
    }
}

impl HfHub {
    /// A hub at `endpoint` (e.g. [`DEFAULT_ENDPOINT`]), anonymous, caching downloads
    /// under `cache_dir`.
    pub fn new(endpoint: &str, cache_dir: impl Into<PathBuf>) -> Result<Self, HubError> {
        let endpoint = endpoint.trim_end_matches('/');
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(HubError::Config(format!(
                "hub endpoint {endpoint:?} is not an http(s) URL"
            )));
        }
        Ok(HfHub {
            http: http::Http {
                client: build_client(CONNECT_TIMEOUT, READ_TIMEOUT)?,
                endpoint: endpoint.to_owned(),
                token: None,
                retry: RetryPolicy::default(),
                kind: RepoKind::Model,
            },
            cache: DownloadCache::new(cache_dir),
            progress: None,
            max_files: MAX_REPO_FILES,
        })
    }

    /// A hub configured from the environment: `HF_ENDPOINT` (default
    /// [`DEFAULT_ENDPOINT`]) and `HF_TOKEN` (none when unset or empty).
    pub fn from_env(cache_dir: impl Into<PathBuf>) -> Result<Self, HubError> {
        let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| DEFAULT_ENDPOINT.into());
        let token = std::env::var("HF_TOKEN").ok();
        Ok(HfHub::new(&endpoint, cache_dir)?.with_token(token))
    }

    /// Authenticates with `token` (a user access token); `None` or empty for anonymous.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.http.token = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// Addresses `kind` repositories from now on: [`RepoKind::Dataset`] for
    /// ledgers published as Hugging Face datasets. Give it a cache directory
    /// of its own (one name can be a model and a dataset).
    pub fn with_repo_kind(mut self, kind: RepoKind) -> Self {
        self.http.kind = kind;
        self
    }

    /// Refuses to download a revision of more than `max` files (default
    /// [`MAX_REPO_FILES`], what a model needs): a published ledger, one
    /// file per round and competition, needs more.
    pub fn with_max_files(mut self, max: usize) -> Self {
        self.max_files = max;
        self
    }

    /// Retries transient failures by `retry` instead of [`RetryPolicy::default`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.http.retry = retry;
        self
    }

    /// Changes the connection timeout and the longest silence while reading.
    pub fn with_timeouts(mut self, connect: Duration, read: Duration) -> Result<Self, HubError> {
        self.http.client = build_client(connect, read)?;
        Ok(self)
    }

    /// Limits the download cache: room is made before each download by
    /// evicting the least recently used revisions not in play.
    pub fn with_cache_budget(mut self, budget: CacheBudget) -> Self {
        self.cache = self.cache.with_budget(budget);
        self
    }

    /// Calls `progress` as downloads advance.
    pub fn with_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// The hub's base URL.
    pub fn endpoint(&self) -> &str {
        &self.http.endpoint
    }

    /// The download cache's root directory.
    pub fn cache_dir(&self) -> &Path {
        self.cache.root()
    }

    /// The commit that `revision` (a branch, a tag or a commit) of
    /// `namespace/name` points at now (`GET /api/models/{repo}/revision/{rev}`,
    /// `/api/datasets/…` for datasets):
    /// how a user's "latest" becomes an immutable [`ModelId`].
    pub async fn resolve(
        &self,
        namespace: &str,
        name: &str,
        revision: &str,
    ) -> Result<ModelId, HubError> {
        crate::id::validate_repo(namespace, name)?;
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if revision.is_empty() || !revision.chars().all(plain) {
            return Err(HubError::Config(format!(
                "revision {revision:?} is not a branch, tag or commit name"
            )));
        }
        let url = self.http.api(
            &format!("{namespace}/{name}"),
            &format!("/revision/{revision}"),
        );
        let info: api::RevisionInfo = self
            .http
            .json(&format!("revision {namespace}/{name}@{revision}"), || {
                Ok(self.http.hub(Method::GET, &url))
            })
            .await?;
        let sha = info.sha.ok_or_else(|| HubError::Protocol {
            url: http::clean_url(&url),
            message: "the revision info names no commit (sha)".into(),
        })?;
        ModelId::new(namespace, name, sha)
    }

    /// The files of revision `id` with sizes and checksums, sorted by path.
    pub async fn revision_files(&self, id: &ModelId) -> Result<Vec<RemoteFile>, HubError> {
        id.validate()?;
        let url = self.http.api(
            &id.repo_id(),
            &format!("/revision/{}?blobs=true", id.commit),
        );
        let info: api::RevisionInfo = self
            .http
            .json(&format!("revision {id}"), || {
                Ok(self.http.hub(Method::GET, &url))
            })
            .await?;
        if let Some(sha) = &info.sha {
            if sha != &id.commit {
                return Err(HubError::Protocol {
                    url: http::clean_url(&url),
                    message: format!("asked for commit {} but got {sha}", id.commit),
                });
            }
        }
        let mut files = Vec::with_capacity(info.siblings.len());
        for s in info.siblings {
            validate_file_path(&s.rfilename)?;
            let size =
                s.lfs
                    .as_ref()
                    .map(|l| l.size)
                    .or(s.size)
                    .ok_or_else(|| HubError::Protocol {
                        url: http::clean_url(&url),
                        message: format!("no size listed for {}", s.rfilename),
                    })?;
            let (sha256, git_blob_id) = match s.lfs {
                Some(lfs) => (Some(lfs.sha256), None),
                None => (None, s.blob_id),
            };
            files.push(RemoteFile {
                path: s.rfilename,
                size,
                sha256,
                git_blob_id,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(w) = files.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(HubError::DuplicatePath(w[0].path.clone()));
        }
        Ok(files)
    }
}

fn build_client(connect: Duration, read: Duration) -> Result<reqwest::Client, HubError> {
    reqwest::Client::builder()
        .user_agent(concat!("gauntlet-hub/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect)
        .read_timeout(read)
        .build()
        .map_err(|e| HubError::Config(format!("cannot build the HTTP client: {e}")))
}

#[async_trait::async_trait]
impl ModelStore for HfHub {
    async fn download(&self, id: &ModelId, max_bytes: u64) -> Result<LocalModel, HubError> {
        download::download(self, id, max_bytes, None).await
    }

    async fn download_expecting(
        &self,
        id: &ModelId,
        max_bytes: u64,
        expected: &ExpectedHash,
    ) -> Result<LocalModel, HubError> {
        download::download(self, id, max_bytes, Some(expected)).await
    }

    fn keep(&self, ids: &[ModelId]) {
        self.cache.keep(ids);
    }

    async fn main_revision(&self, namespace: &str, name: &str) -> Result<ModelId, HubError> {
        self.resolve(namespace, name, "main").await
    }

    async fn upload(&self, dir: &Path, namespace: &str, name: &str) -> Result<ModelId, HubError> {
        upload::upload(&self.http, dir, namespace, name).await
    }

    async fn revision_size(&self, id: &ModelId) -> Result<u64, HubError> {
        Ok(self.revision_files(id).await?.iter().map(|f| f.size).sum())
    }
}

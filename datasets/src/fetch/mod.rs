//! `gauntlet data fetch`: downloads the pinned sources into the cache,
//! verifies every sum, extracts only the files the loaders read, and skips
//! what is already there and verified. Hub datasets are tried when the Hub
//! answers and skipped with a note otherwise.
//!
//! Every source is attempted; the report says per source what happened.
//! `fetch` returns `Err` only when nothing can be attempted at all (the cache
//! root cannot be created); a failed source is a [`SourceStatus::Failed`]
//! entry, and [`FetchReport::ok`] tells the caller whether to exit non-zero.

mod archive;
mod atomic;
mod config;
mod extract;
mod http;
mod hub;
mod pypi;
mod source;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use archive::fetch_archive;
pub use config::{FetchConfig, DEFAULT_DEBIAN_MIRROR, DEFAULT_HF_ENDPOINT, DEFAULT_PYPI_INDEX};
pub use source::{
    ArchiveFormat, ArchiveSource, HubDataset, Member, Origin, SourceId, SourceKind, CC_FILES,
    GSM8K_FILE, HUB_CODEFORCES, HUB_FINEWEB, HUB_MMLU, HUB_SYNTHETIC_1, MMLU_FILE, NEWS_FILE,
    SMOLLM2_GGUF_FILE, WIKI_FILE, WORDS_FILE,
};

pub(crate) use hub::shard_paths;

use crate::{DataCache, DatasetError};

/// Progress of a fetch, for a progress bar or a log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FetchEvent {
    /// Work on a source begins.
    Started {
        /// The source.
        source: SourceId,
    },
    /// A download begins (`total` from `Content-Length` when sent).
    Download {
        /// The source.
        source: SourceId,
        /// What is downloaded.
        url: String,
        /// Its size in bytes, when known.
        total: Option<u64>,
    },
    /// Bytes of the current download received so far.
    Progress {
        /// The source.
        source: SourceId,
        /// Bytes received.
        done: u64,
        /// Total bytes, when known.
        total: Option<u64>,
    },
    /// Files are being taken out of an archive.
    Extracting {
        /// The source.
        source: SourceId,
        /// The archive.
        archive: PathBuf,
    },
    /// A source is done.
    Finished {
        /// The source.
        source: SourceId,
        /// How it ended.
        status: SourceStatus,
    },
}

/// How one source ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// Everything was already in the cache and verified.
    Cached,
    /// Downloaded (or copied) and extracted now.
    Fetched,
    /// Not attempted or not reachable (Hub offline); not an error.
    Skipped,
    /// Failed; the note says why.
    Failed,
}

/// One file in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// Path relative to the cache root.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

impl FileReport {
    pub(crate) fn new(cache: &DataCache, path: &Path, sha256: &str, bytes: u64) -> Self {
        FileReport {
            path: path.strip_prefix(&cache.root).unwrap_or(path).to_path_buf(),
            sha256: sha256.to_string(),
            bytes,
        }
    }
}

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    /// The source.
    pub source: SourceId,
    /// How it ended.
    pub status: SourceStatus,
    /// Its files in the cache (empty when skipped or failed).
    pub files: Vec<FileReport>,
    /// Why it was skipped or failed, or where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SourceReport {
    pub(crate) fn failed(source: SourceId, e: &DatasetError) -> Self {
        SourceReport {
            source,
            status: SourceStatus::Failed,
            files: Vec::new(),
            note: Some(e.to_string()),
        }
    }
}

/// The outcome of a fetch; serialises to JSON for `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchReport {
    /// The cache root.
    pub cache: PathBuf,
    /// One entry per requested source, in request order.
    pub sources: Vec<SourceReport>,
}

impl FetchReport {
    /// Whether no source failed (skipped Hub datasets are fine).
    pub fn ok(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed sources.
    pub fn failures(&self) -> impl Iterator<Item = &SourceReport> {
        self.sources
            .iter()
            .filter(|s| s.status == SourceStatus::Failed)
    }
}

/// Fetches `which` (e.g. [`SourceId::ALL`]) into `cache` with settings from
/// the environment ([`FetchConfig::from_env`]).
pub fn fetch(
    cache: &DataCache,
    which: &[SourceId],
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<FetchReport, DatasetError> {
    fetch_with(cache, which, &FetchConfig::from_env(), progress)
}

/// [`fetch`] with explicit settings.
pub fn fetch_with(
    cache: &DataCache,
    which: &[SourceId],
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<FetchReport, DatasetError> {
    std::fs::create_dir_all(&cache.root).map_err(|e| DatasetError::io(&cache.root, e))?;
    let http = http::Http::new(
        config
            .hf_token
            .clone()
            .map(|t| (config.hf_endpoint.trim_end_matches('/').to_string(), t)),
    );
    let mut sources = Vec::with_capacity(which.len());
    for &id in which {
        progress(FetchEvent::Started { source: id });
        let report = match id.kind() {
            SourceKind::Archive(src) => {
                archive::fetch_archive_with(&http, cache, id, src, config, progress)
            }
            SourceKind::Hub(ds) => fetch_hub(&http, cache, id, ds, config, progress),
        };
        match report.status {
            SourceStatus::Failed => {
                tracing::warn!(source = %id, note = ?report.note, "fetch failed")
            }
            status => tracing::info!(source = %id, ?status, "fetched"),
        }
        progress(FetchEvent::Finished {
            source: id,
            status: report.status,
        });
        sources.push(report);
    }
    Ok(FetchReport {
        cache: cache.root.clone(),
        sources,
    })
}

fn fetch_hub(
    http: &http::Http,
    cache: &DataCache,
    id: SourceId,
    ds: &HubDataset,
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> SourceReport {
    let report = |status, files, note: String| SourceReport {
        source: id,
        status,
        files,
        note: Some(note),
    };
    match hub::cached(cache, ds) {
        Ok(Some(files)) => return report(SourceStatus::Cached, files, ds.repo.to_string()),
        Ok(None) => {}
        Err(e) => return SourceReport::failed(id, &e),
    }
    if !config.hub {
        return report(
            SourceStatus::Skipped,
            Vec::new(),
            "Hub access disabled (offline)".into(),
        );
    }
    let urls = match hub::list(http, &config.hf_endpoint, ds) {
        Ok(urls) => urls,
        Err(e) => {
            let note =
                format!("Hugging Face Hub not reachable ({e}); the offline stand-in is used");
            return report(SourceStatus::Skipped, Vec::new(), note);
        }
    };
    let mut started = String::new();
    let mut on_bytes = |url: &str, done: u64, total: Option<u64>| {
        if started != url {
            started = url.to_string();
            progress(FetchEvent::Download {
                source: id,
                url: url.to_string(),
                total,
            });
        }
        progress(FetchEvent::Progress {
            source: id,
            done,
            total,
        });
    };
    match hub::download(http, cache, ds, &urls, &mut on_bytes) {
        Ok(files) => report(SourceStatus::Fetched, files, ds.repo.to_string()),
        Err(e) => SourceReport::failed(id, &e),
    }
}

//! Hugging Face Hub datasets as parquet shards: the Hub's listing
//! `GET {endpoint}/api/datasets/{repo}/parquet/{config}/{split}` returns the
//! URLs of the split's parquet files (the `refs/convert/parquet` branch); the
//! first `shards` of them are downloaded, and a `manifest.json` beside them
//! records each file's URL, size and sha256 so later runs verify the cache.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic::{verified, TempFile};
use super::http::Http;
use super::source::HubDataset;
use super::FileReport;
use crate::{DataCache, DatasetError};

/// Name of the manifest in a split's directory.
pub(crate) const MANIFEST: &str = "manifest.json";

/// What was downloaded for one split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub(crate) repo: String,
    pub(crate) config: String,
    pub(crate) split: String,
    pub(crate) files: Vec<ManifestFile>,
}

/// One shard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ManifestFile {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) sha256: String,
    pub(crate) bytes: u64,
}

/// The shards listed in a verified manifest, `None` when absent or stale.
pub(crate) fn cached(
    cache: &DataCache,
    ds: &HubDataset,
) -> Result<Option<Vec<FileReport>>, DatasetError> {
    let dir = cache.hub_dir(ds.repo, ds.config, ds.split);
    let Some(manifest) = read_manifest(&dir) else {
        return Ok(None);
    };
    let mut files = Vec::new();
    for f in &manifest.files {
        let path = dir.join(&f.name);
        if !verified(&path, &f.sha256)? {
            return Ok(None);
        }
        files.push(FileReport::new(cache, &path, &f.sha256, f.bytes));
    }
    Ok((!files.is_empty()).then_some(files))
}

/// The parquet files of a split in the cache (in manifest order), empty when
/// none were fetched.
pub(crate) fn shard_paths(cache: &DataCache, ds: &HubDataset) -> Vec<std::path::PathBuf> {
    let dir = cache.hub_dir(ds.repo, ds.config, ds.split);
    read_manifest(&dir)
        .map(|m| m.files.iter().map(|f| dir.join(&f.name)).collect())
        .unwrap_or_default()
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The shard URLs of a split. Any failure here means "the Hub is not
/// reachable from this machine" to the caller.
pub(crate) fn list(
    http: &Http,
    endpoint: &str,
    ds: &HubDataset,
) -> Result<Vec<String>, DatasetError> {
    let url = format!(
        "{}/api/datasets/{}/parquet/{}/{}",
        endpoint.trim_end_matches('/'),
        ds.repo,
        ds.config,
        ds.split
    );
    let got = http.get_bytes(&url, "application/json")?;
    let urls: Vec<String> = serde_json::from_slice(&got.body).map_err(|e| DatasetError::Http {
        url: url.clone(),
        reason: format!("listing is not a JSON array of URLs: {e}"),
    })?;
    if urls.is_empty() {
        return Err(DatasetError::NotFound {
            what: format!("parquet files of {}/{}/{}", ds.repo, ds.config, ds.split),
            place: url,
        });
    }
    Ok(urls)
}

/// Downloads the first `ds.shards` URLs and writes the manifest last.
pub(crate) fn download(
    http: &Http,
    cache: &DataCache,
    ds: &HubDataset,
    urls: &[String],
    progress: &mut dyn FnMut(&str, u64, Option<u64>),
) -> Result<Vec<FileReport>, DatasetError> {
    let dir = cache.hub_dir(ds.repo, ds.config, ds.split);
    let mut manifest = Manifest {
        repo: ds.repo.to_string(),
        config: ds.config.to_string(),
        split: ds.split.to_string(),
        files: Vec::new(),
    };
    let mut files = Vec::new();
    for (i, url) in urls.iter().take(ds.shards.max(1)).enumerate() {
        let name = format!("{i:04}.parquet");
        let path = dir.join(&name);
        let (sha256, bytes) = http.download(url, &path, None, &mut |d, t| progress(url, d, t))?;
        files.push(FileReport::new(cache, &path, &sha256, bytes));
        manifest.files.push(ManifestFile {
            name,
            url: url.clone(),
            sha256,
            bytes,
        });
    }
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| DatasetError::Json {
        path: dir.join(MANIFEST),
        line: 1,
        reason: e.to_string(),
    })?;
    let mut tmp = TempFile::new(&dir.join(MANIFEST))?;
    tmp.write(&json)?;
    tmp.persist(MANIFEST, None)?;
    Ok(files)
}

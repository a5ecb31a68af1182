//! Downloading a pinned revision from the Hub: list, cap, fetch, verify, publish.
//!
//! Files arrive in `<cache>/.partial/…/parts/` (resumed with HTTP `Range` after an
//! interruption), are checked against the listing's size and checksum (SHA-256 for LFS
//! files, the git blob id otherwise) and only then move to `files/`; the revision is
//! published by one rename once every file is there (see `crate::cache`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::http::{encode_path, network_error};
use super::{HfHub, Progress, RemoteFile};
use crate::cache::{is_dir, remove_tree};
use crate::hash::{combine_file_hashes, sha256_file};
use crate::revision::{blocking, describe, hex};
use crate::{ExpectedHash, HubError, LocalModel, ModelId};

/// Progress is reported at most once per this many bytes of a file (and at its end).
const PROGRESS_STEP_BYTES: u64 = 1 << 20;

/// The checksum a file must have, from the revision listing.
enum Checker {
    Sha256(Sha256, String),
    GitBlob(Sha1, String),
    Unchecked,
}

impl Checker {
    fn new(file: &RemoteFile) -> Self {
        if let Some(sha) = &file.sha256 {
            Checker::Sha256(Sha256::new(), sha.clone())
        } else if let Some(blob) = &file.git_blob_id {
            let mut h = Sha1::new();
            h.update(format!("blob {}\0", file.size).as_bytes());
            Checker::GitBlob(h, blob.clone())
        } else {
            Checker::Unchecked
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Checker::Sha256(h, _) => h.update(data),
            Checker::GitBlob(h, _) => h.update(data),
            Checker::Unchecked => {}
        }
    }

    /// `Err((expected, actual))` on a mismatch.
    fn finish(self) -> Result<(), (String, String)> {
        let (actual, expected) = match self {
            Checker::Sha256(h, e) => (hex(&h.finalize()), e),
            Checker::GitBlob(h, e) => (hex(&h.finalize()), e),
            Checker::Unchecked => return Ok(()),
        };
        if actual == expected.to_ascii_lowercase() {
            Ok(())
        } else {
            Err((expected, actual))
        }
    }
}

/// Downloads revision `id` (see [`ModelStore::download`](crate::ModelStore::download)),
/// checking it against `expected` when given: the repo hash is computed from
/// the listing's SHA-256s of the LFS files and the small git files (fetched
/// first), so a wrong revision is refused before its large files are fetched.
pub(crate) async fn download(
    hub: &HfHub,
    id: &ModelId,
    max_bytes: u64,
    expected: Option<&ExpectedHash>,
) -> Result<LocalModel, HubError> {
    id.validate()?;
    let target = hub.cache.final_dir(id);
    let files = match hub.revision_files(id).await {
        Ok(files) => files,
        Err(e) if e.is_local_fault() && is_dir(&target) => {
            // Offline with a complete copy: hashed again (the caller checks
            // the hash), never trusted blindly.
            tracing::warn!(model = %id, error = %e, "the hub does not answer; using the cached copy");
            return reuse(hub, id, target, max_bytes, expected).await;
        }
        Err(e) => return Err(e),
    };
    if files.len() > hub.max_files {
        return Err(HubError::TooManyFiles {
            files: files.len(),
            max: hub.max_files,
        });
    }
    let total = files
        .iter()
        .try_fold(0u64, |t, f| t.checked_add(f.size))
        .unwrap_or(u64::MAX);
    if total > max_bytes {
        return Err(HubError::TooLarge {
            bytes: total,
            max: max_bytes,
        });
    }
    if let Some(model) = cached(hub, id, &files, expected).await? {
        return Ok(model);
    }
    let _lock = hub.cache.lock(id).await?;
    if let Some(model) = cached(hub, id, &files, expected).await? {
        return Ok(model);
    }
    hub.cache.make_room(id, total).await?;
    let staging = hub.cache.staging_dir(id);
    let parts = hub.cache.parts_dir(id);
    for dir in [&staging, &parts] {
        fs::create_dir_all(dir)
            .await
            .map_err(|e| HubError::io(dir, e))?;
    }
    tracing::info!(model = %id, files = files.len(), bytes = total, "downloading revision");
    // Small git files first: with the listing's LFS checksums they give the
    // repo hash before any large file is fetched.
    let (git, lfs): (Vec<&RemoteFile>, Vec<&RemoteFile>) =
        files.iter().partition(|f| f.sha256.is_none());
    let mut done = 0u64;
    for file in git {
        fetch_into(hub, id, file, &staging, &parts, done, total).await?;
        done += file.size;
    }
    if let Some(expected) = expected {
        let repo_hash = listed_repo_hash(&files, &staging).await?;
        if !expected.matches(&repo_hash) {
            tracing::warn!(model = %id, "the listing's hashes do not give the committed hash: not fetching the rest");
            return Err(expected.mismatch(&repo_hash));
        }
    }
    for file in lfs {
        fetch_into(hub, id, file, &staging, &parts, done, total).await?;
        done += file.size;
    }
    let names: HashSet<String> = files.iter().map(|f| f.path.clone()).collect();
    let dir = hub.cache.publish(id, names).await?;
    let model = describe(id, dir).await?;
    hub.cache.touch(id);
    tracing::info!(model = %id, repo_hash = %model.repo_hash, "revision downloaded");
    check_expected(model, expected)
}

/// Fetches one file into the staging directory unless it is already there.
async fn fetch_into(
    hub: &HfHub,
    id: &ModelId,
    file: &RemoteFile,
    staging: &Path,
    parts: &Path,
    done: u64,
    total: u64,
) -> Result<(), HubError> {
    let dest = staging.join(&file.path);
    let complete = fs::metadata(&dest)
        .await
        .is_ok_and(|m| m.is_file() && m.len() == file.size);
    if !complete {
        let part = parts.join(format!("{}.part", hex(&Sha256::digest(&file.path))));
        let ctx = FileJob {
            hub,
            id,
            file,
            part: &part,
            done,
            total,
        };
        fetch_with_retries(&ctx).await?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .await
                .map_err(|e| HubError::io(parent, e))?;
        }
        fs::rename(&part, &dest)
            .await
            .map_err(|e| HubError::io(&dest, e))?;
    }
    tracing::debug!(model = %id, path = %file.path, "file complete");
    Ok(())
}

/// The repo hash from the listing's SHA-256 of each LFS file and the staged
/// copy of every other file.
async fn listed_repo_hash(files: &[RemoteFile], staging: &Path) -> Result<String, HubError> {
    let mut hashes = Vec::with_capacity(files.len());
    for f in files {
        let digest = match f.sha256.as_deref().and_then(unhex) {
            Some(d) => d,
            None => {
                let path = staging.join(&f.path);
                blocking(move || sha256_file(&path).map(|(d, _)| d)).await?
            }
        };
        hashes.push(STANDARD.encode(digest));
    }
    Ok(combine_file_hashes(hashes))
}

/// The complete copy of `id` in the cache when it matches the listing;
/// a copy that does not (corrupted on disk) is removed, to be downloaded
/// again.
async fn cached(
    hub: &HfHub,
    id: &ModelId,
    files: &[RemoteFile],
    expected: Option<&ExpectedHash>,
) -> Result<Option<LocalModel>, HubError> {
    let target = hub.cache.final_dir(id);
    if !is_dir(&target) {
        return Ok(None);
    }
    match matches_listing(&target, files).await? {
        None => {
            let model = describe(id, target).await?;
            hub.cache.touch(id);
            tracing::debug!(model = %id, "reusing a complete download");
            check_expected(model, expected).map(Some)
        }
        Some(why) => {
            tracing::warn!(model = %id, %why, "the cached copy is corrupt; downloading it again");
            blocking(move || remove_tree(&target)).await?;
            Ok(None)
        }
    }
}

/// Why the files in `dir` are not the listed ones, or `None` when they are
/// (same paths and sizes, LFS files' SHA-256, git files' blob ids).
async fn matches_listing(dir: &Path, files: &[RemoteFile]) -> Result<Option<String>, HubError> {
    let dir = dir.to_path_buf();
    let files = files.to_vec();
    blocking(move || {
        let entries = crate::revision::scan(&dir)?;
        if entries.len() != files.len() {
            return Ok(Some(format!(
                "{} files where the listing has {}",
                entries.len(),
                files.len()
            )));
        }
        for (e, f) in entries.iter().zip(&files) {
            if e.path != f.path || e.size != f.size {
                return Ok(Some(format!("{} differs from the listing", f.path)));
            }
            if let Some(sha) = &f.sha256 {
                if hex(&e.sha256) != sha.to_ascii_lowercase() {
                    return Ok(Some(format!("{}: SHA-256 differs", f.path)));
                }
            } else if let Some(blob) = &f.git_blob_id {
                let bytes =
                    std::fs::read(&e.full_path).map_err(|err| HubError::io(&e.full_path, err))?;
                let mut h = Sha1::new();
                h.update(format!("blob {}\0", bytes.len()).as_bytes());
                h.update(&bytes);
                if hex(&h.finalize()) != blob.to_ascii_lowercase() {
                    return Ok(Some(format!("{}: git blob id differs", f.path)));
                }
            }
        }
        Ok(None)
    })
    .await
}

/// `model` when it hashes to `expected` (or nothing is expected).
fn check_expected(
    model: LocalModel,
    expected: Option<&ExpectedHash>,
) -> Result<LocalModel, HubError> {
    match expected {
        Some(e) if !e.matches(&model.repo_hash) => Err(e.mismatch(&model.repo_hash)),
        _ => Ok(model),
    }
}

/// 32 bytes from 64 hex characters.
fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A complete earlier download used without the listing (the hub does not
/// answer): hashed again, capped again.
async fn reuse(
    hub: &HfHub,
    id: &ModelId,
    dir: PathBuf,
    max_bytes: u64,
    expected: Option<&ExpectedHash>,
) -> Result<LocalModel, HubError> {
    let model = describe(id, dir).await?;
    if model.total_bytes > max_bytes {
        return Err(HubError::TooLarge {
            bytes: model.total_bytes,
            max: max_bytes,
        });
    }
    hub.cache.touch(id);
    check_expected(model, expected)
}

/// One file to fetch, with what the progress report needs.
struct FileJob<'a> {
    hub: &'a HfHub,
    id: &'a ModelId,
    file: &'a RemoteFile,
    part: &'a Path,
    /// Bytes of the revision complete before this file.
    done: u64,
    total: u64,
}

async fn fetch_with_retries(job: &FileJob<'_>) -> Result<(), HubError> {
    let mut attempt = 0;
    let mut restarted = false;
    loop {
        attempt += 1;
        let resumed = fs::metadata(job.part).await.is_ok_and(|m| m.len() > 0);
        match fetch_once(job).await {
            Ok(()) => return Ok(()),
            // A resumed file whose checksum fails may hold bad bytes from
            // before the interruption: once, start it over from zero (the
            // part file is gone already).
            Err((err @ HubError::Integrity { .. }, _)) if resumed && !restarted => {
                tracing::warn!(path = %job.file.path, error = %err, "a resumed file failed its checksum; fetching it again from the start");
                restarted = true;
            }
            Err((err, wait)) => job.hub.http.pause_or_fail(attempt, err, wait).await?,
        }
    }
}

/// One attempt at one file, resuming whatever the part file already holds.
async fn fetch_once(job: &FileJob<'_>) -> Result<(), super::http::Failure> {
    let FileJob {
        hub,
        id,
        file,
        part,
        ..
    } = *job;
    let plain = |e: HubError| (e, None);
    let io = |e| plain(HubError::io(part, e));
    let mut have = fs::metadata(part).await.map(|m| m.len()).unwrap_or(0);
    if have > file.size {
        fs::remove_file(part).await.map_err(io)?;
        have = 0;
    }
    let mut checker = Checker::new(file);
    if have > 0 {
        hash_prefix(part, &mut checker).await.map_err(plain)?;
    }
    if have < file.size {
        let url = hub.http.repo_url(
            &id.repo_id(),
            &format!("/resolve/{}/{}", id.commit, encode_path(&file.path)),
        );
        let mut request = hub.http.hub(Method::GET, &url);
        if have > 0 {
            request = request.header(RANGE, format!("bytes={have}-"));
        }
        let what = format!("file {} of {id}", file.path);
        let mut resp = hub.http.send_once(&what, request).await?;
        let resumed = resp.status() == StatusCode::PARTIAL_CONTENT
            && content_range_start(&resp) == Some(have);
        if !resumed && have > 0 {
            // The server sent the whole file: start over.
            have = 0;
            checker = Checker::new(file);
        }
        if let Some(len) = resp.content_length() {
            if have + len != file.size {
                return Err(plain(HubError::Protocol {
                    url: super::http::clean_url(&url),
                    message: format!(
                        "{} is listed with {} bytes but the server sends {}",
                        file.path,
                        file.size,
                        have + len
                    ),
                }));
            }
        }
        let mut out = OpenOptions::new()
            .create(true)
            .write(true)
            .append(have > 0)
            .truncate(have == 0)
            .open(part)
            .await
            .map_err(io)?;
        let mut reported = have;
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    out.flush().await.map_err(io)?;
                    tracing::warn!(path = %file.path, have, error = %network_error(e), "transfer broke off");
                    return Err(plain(HubError::Incomplete {
                        path: file.path.clone(),
                        expected: file.size,
                        received: have,
                    }));
                }
            };
            if have + chunk.len() as u64 > file.size {
                drop(out);
                let _ = fs::remove_file(part).await;
                return Err(plain(HubError::Incomplete {
                    path: file.path.clone(),
                    expected: file.size,
                    received: have + chunk.len() as u64,
                }));
            }
            out.write_all(&chunk).await.map_err(io)?;
            checker.update(&chunk);
            have += chunk.len() as u64;
            if have - reported >= PROGRESS_STEP_BYTES {
                reported = have;
                report(job, have);
            }
        }
        out.flush().await.map_err(io)?;
        out.sync_all().await.map_err(io)?;
    } else {
        // Empty files (and resumed complete ones) still get a part file to rename.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(part)
            .await
            .map_err(io)?;
    }
    if have != file.size {
        return Err(plain(HubError::Incomplete {
            path: file.path.clone(),
            expected: file.size,
            received: have,
        }));
    }
    if let Err((expected, actual)) = checker.finish() {
        let _ = fs::remove_file(part).await;
        return Err(plain(HubError::Integrity {
            path: file.path.clone(),
            expected,
            actual,
        }));
    }
    report(job, have);
    Ok(())
}

fn report(job: &FileJob<'_>, file_bytes: u64) {
    if let Some(progress) = &job.hub.progress {
        progress(&Progress {
            path: job.file.path.clone(),
            file_bytes,
            file_size: job.file.size,
            done_bytes: job.done + file_bytes,
            total_bytes: job.total,
        });
    }
}

/// Feeds the bytes already in a part file to the checker.
async fn hash_prefix(part: &Path, checker: &mut Checker) -> Result<(), HubError> {
    let mut file = File::open(part).await.map_err(|e| HubError::io(part, e))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| HubError::io(part, e))?;
        if n == 0 {
            return Ok(());
        }
        checker.update(&buf[..n]);
    }
}

/// The first byte position of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(resp: &reqwest::Response) -> Option<u64> {
    let value = resp.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

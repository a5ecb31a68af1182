//! Writing a revision into a [`LocalHub`](super::LocalHub): copy, hash, name, rename.
//!
//! The commit id is content-addressed: the SHA-1 (lowercase hex) of the manifest
//!
//! ```text
//! gauntlet-local-hub v1\n
//! <sha256 hex> <size in bytes> <path>\n      one line per file, sorted by path
//! ```
//!
//! so the same files give the same id, in any repository, on any machine. Paths with
//! control characters (a newline would make the manifest ambiguous) are refused.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::cache::{remove_tree, sync_dir};
use crate::hash::list_files;
use crate::id::validate_file_path;
use crate::revision::{hex, FileEntry};
use crate::HubError;

/// First line of the manifest; bump it if the format ever changes.
const MANIFEST_HEADER: &str = "gauntlet-local-hub v1\n";
/// Bytes copied at a time.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// The content-addressed commit id of a revision's files (sorted by path).
pub(crate) fn commit_id(entries: &[FileEntry]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(MANIFEST_HEADER.as_bytes());
    for e in entries {
        hasher.update(format!("{} {} {}\n", hex(&e.sha256), e.size, e.path).as_bytes());
    }
    hex(&hasher.finalize())
}

/// A fresh, unique directory name under `parent` (process id, time, counter).
pub(crate) fn unique_child(parent: &Path, prefix: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent.join(format!("{prefix}{}-{nanos}-{n}", std::process::id()))
}

/// Removes a temporary directory on drop unless disarmed.
struct TempTree(Option<PathBuf>);

impl Drop for TempTree {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = remove_tree(&path);
        }
    }
}

/// Copies every file of `src` into a new directory under `tmp_root`, hashing as it goes.
/// Returns the directory (removed again if anything fails) and the sorted entries.
pub(crate) fn stage_copy(
    src: &Path,
    tmp_root: &Path,
) -> Result<(PathBuf, Vec<FileEntry>), HubError> {
    let files = list_files(src)?;
    for (rel, _) in &files {
        validate_file_path(rel)?;
    }
    fs::create_dir_all(tmp_root).map_err(|e| HubError::io(tmp_root, e))?;
    let tmp = unique_child(tmp_root, "upload-");
    fs::create_dir(&tmp).map_err(|e| HubError::io(&tmp, e))?;
    let mut guard = TempTree(Some(tmp.clone()));
    let mut entries = Vec::with_capacity(files.len());
    for (rel, from) in files {
        let to = tmp.join(&rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
        }
        let (sha256, size) = copy_hashing(&from, &to)?;
        entries.push(FileEntry {
            path: rel,
            full_path: to,
            sha256,
            size,
        });
    }
    sync_dir(&tmp);
    guard.0 = None;
    Ok((tmp, entries))
}

/// Copies one file, returning its SHA-256 and length; the copy is flushed to disk and
/// made read-only (revisions are immutable).
fn copy_hashing(from: &Path, to: &Path) -> Result<([u8; 32], u64), HubError> {
    let mut input = File::open(from).map_err(|e| HubError::io(from, e))?;
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| HubError::io(to, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_CHUNK_BYTES];
    let mut len = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(HubError::io(from, e)),
        };
        hasher.update(&buf[..n]);
        output
            .write_all(&buf[..n])
            .map_err(|e| HubError::io(to, e))?;
        len += n as u64;
    }
    output.sync_all().map_err(|e| HubError::io(to, e))?;
    let mut perms = output
        .metadata()
        .map_err(|e| HubError::io(to, e))?
        .permissions();
    perms.set_readonly(true);
    fs::set_permissions(to, perms).map_err(|e| HubError::io(to, e))?;
    Ok((hasher.finalize().into(), len))
}

/// Moves a staged directory to `target` atomically. If `target` already exists (the same
/// files were uploaded before, or by a concurrent upload) the staged copy is dropped.
pub(crate) fn install(staged: PathBuf, target: &Path) -> Result<(), HubError> {
    let guard = TempTree(Some(staged.clone()));
    let parent = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| HubError::io(parent, e))?;
    if target.is_dir() {
        return Ok(()); // guard removes the duplicate
    }
    match fs::rename(&staged, target) {
        Ok(()) => {
            std::mem::forget(guard);
            sync_dir(parent);
            Ok(())
        }
        // Lost a race with an identical upload: theirs is the same content.
        Err(_) if target.is_dir() => Ok(()),
        Err(e) => Err(HubError::io(target, e)),
    }
}

/// Records an upload: appends `commit` to `<repo>/revisions.log` and points
/// `<repo>/refs/main` at it (written to a temporary file, then renamed).
pub(crate) fn record(repo_dir: &Path, commit: &str) -> Result<(), HubError> {
    let log = repo_dir.join("revisions.log");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| HubError::io(&log, e))?;
    // One write of one short line: appends from concurrent uploads do not interleave.
    file.write_all(format!("{commit}\n").as_bytes())
        .map_err(|e| HubError::io(&log, e))?;
    let refs = repo_dir.join("refs");
    fs::create_dir_all(&refs).map_err(|e| HubError::io(&refs, e))?;
    let tmp = unique_child(&refs, ".main-");
    fs::write(&tmp, format!("{commit}\n")).map_err(|e| HubError::io(&tmp, e))?;
    let main = refs.join("main");
    fs::rename(&tmp, &main).map_err(|e| HubError::io(&main, e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn commit_id_matches_python_manifest() {
        // import hashlib
        // m = "gauntlet-local-hub v1\n"
        // for p, d in sorted({"config.json": b"{}", "w/x.bin": b"\x00\x01"}.items()):
        //     m += f"{hashlib.sha256(d).hexdigest()} {len(d)} {p}\n"
        // print(hashlib.sha1(m.encode()).hexdigest())
        let entry = |path: &str, data: &[u8]| FileEntry {
            path: path.into(),
            full_path: PathBuf::new(),
            sha256: Sha256::digest(data).into(),
            size: data.len() as u64,
        };
        let entries = [entry("config.json", b"{}"), entry("w/x.bin", &[0, 1])];
        let id = commit_id(&entries);
        assert_eq!(id.len(), 40);
        assert_eq!(id, "95332d6e7b92756020863d846128e1e7d2e8f1ed");
        assert_ne!(commit_id(&entries[..1]), id);
    }
}

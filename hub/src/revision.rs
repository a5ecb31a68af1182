//! A revision's files on disk: listing, digests, repo hash and the [`LocalModel`] view.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::hash::{combine_file_hashes, list_files, sha256_file};
use crate::{HubError, LocalModel, ModelId};

/// One file of a revision with its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    /// `/`-separated path relative to the revision's root.
    pub path: String,
    /// Where the file is on disk.
    pub full_path: PathBuf,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// Length in bytes.
    pub size: u64,
}

/// Every file under `root` (as [`repo_hash_dir`](crate::repo_hash_dir) sees them: all but
/// `.git` directories), sorted by path, with digests. Blocking: call it off the runtime.
pub(crate) fn scan(root: &Path) -> Result<Vec<FileEntry>, HubError> {
    list_files(root)?
        .into_iter()
        .map(|(path, full_path)| {
            let (sha256, size) = sha256_file(&full_path)?;
            Ok(FileEntry {
                path,
                full_path,
                sha256,
                size,
            })
        })
        .collect()
}

/// The repo hash of entries already in sorted path order.
pub(crate) fn repo_hash_of(entries: &[FileEntry]) -> String {
    combine_file_hashes(entries.iter().map(|e| STANDARD.encode(e.sha256)))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Hashes a complete revision directory into a [`LocalModel`] (on a blocking thread).
pub(crate) async fn describe(id: &ModelId, dir: PathBuf) -> Result<LocalModel, HubError> {
    let scan_dir = dir.clone();
    let entries = blocking(move || scan(&scan_dir)).await?;
    Ok(LocalModel {
        id: id.clone(),
        repo_hash: repo_hash_of(&entries),
        total_bytes: entries.iter().map(|e| e.size).sum(),
        dir,
    })
}

/// Runs blocking file work on tokio's blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, HubError>
where
    F: FnOnce() -> Result<T, HubError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(HubError::io(
            "<blocking task>",
            std::io::Error::other(join.to_string()),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn scan_matches_repo_hash_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/.git")).unwrap();
        std::fs::write(dir.path().join("b.bin"), [1u8, 2, 3]).unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), "hello").unwrap();
        std::fs::write(dir.path().join("sub/.git/HEAD"), "x").unwrap();
        let entries = scan(dir.path()).unwrap();
        let paths: Vec<_> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["b.bin", "sub/a.txt"]);
        assert_eq!(entries[1].size, 5);
        assert_eq!(
            hex(&entries[1].sha256),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            repo_hash_of(&entries),
            crate::repo_hash_dir(dir.path()).unwrap()
        );
    }
}

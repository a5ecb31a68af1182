//! Atomic writes into the cache: everything is written to a temporary file in
//! the destination's directory, hashed on the way, and renamed into place
//! only after its sum checked out. A failed or interrupted fetch leaves no
//! partial file under a real name (and removes its temporary file).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::DatasetError;

/// A temporary file next to its destination, removed on drop unless persisted.
pub(crate) struct TempFile {
    path: PathBuf,
    dest: PathBuf,
    file: Option<File>,
    hasher: Sha256,
    bytes: u64,
}

impl TempFile {
    /// Creates the temporary file (and the destination's directory).
    pub(crate) fn new(dest: &Path) -> Result<Self, DatasetError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!(
            ".{name}.part-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&path).map_err(|e| DatasetError::io(&path, e))?;
        Ok(TempFile {
            path,
            dest: dest.to_path_buf(),
            file: Some(file),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Appends bytes.
    pub(crate) fn write(&mut self, buf: &[u8]) -> Result<(), DatasetError> {
        self.hasher.update(buf);
        self.bytes += buf.len() as u64;
        match self.file.as_mut() {
            Some(f) => f
                .write_all(buf)
                .map_err(|e| DatasetError::io(&self.path, e)),
            None => Err(DatasetError::io(&self.path, io::ErrorKind::Other.into())),
        }
    }

    /// Copies a whole reader in, calling `progress(bytes so far)` per chunk.
    pub(crate) fn copy_from(
        &mut self,
        reader: &mut dyn Read,
        src: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), DatasetError> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(DatasetError::Http {
                        url: src.to_string(),
                        reason: e.to_string(),
                    })
                }
            };
            self.write(&buf[..n])?;
            progress(self.bytes);
        }
    }

    /// Bytes written so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Checks the sum (when one is pinned) and renames the file into place;
    /// returns the sum. On a mismatch the temporary file is removed.
    pub(crate) fn persist(
        mut self,
        what: &str,
        expected: Option<&str>,
    ) -> Result<String, DatasetError> {
        let actual = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if let Some(expected) = expected {
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(DatasetError::Checksum {
                    what: what.to_string(),
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|e| DatasetError::io(&self.path, e))?;
        }
        fs::rename(&self.path, &self.dest).map_err(|e| DatasetError::io(&self.dest, e))?;
        Ok(actual)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file.take();
        // Already renamed when persisted; otherwise clean up (best effort).
        let _ = fs::remove_file(&self.path);
    }
}

/// sha256 of a file, `None` when it does not exist.
pub(crate) fn file_sha256(path: &Path) -> Result<Option<String>, DatasetError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DatasetError::io(path, e)),
    };
    let mut h = Sha256::new();
    io::copy(&mut f, &mut h).map_err(|e| DatasetError::io(path, e))?;
    Ok(Some(hex::encode(h.finalize())))
}

/// Whether `path` exists with sum `sha256`.
pub(crate) fn verified(path: &Path, sha256: &str) -> Result<bool, DatasetError> {
    Ok(file_sha256(path)?.is_some_and(|s| s.eq_ignore_ascii_case(sha256)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn persists_only_with_the_right_sum_and_leaves_nothing_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sub/a.txt");
        let mut t = TempFile::new(&dest).unwrap();
        t.write(b"abc").unwrap();
        let err = t.persist("a.txt", Some(&"0".repeat(64))).unwrap_err();
        assert!(matches!(err, DatasetError::Checksum { .. }), "{err}");
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 0);

        let mut t = TempFile::new(&dest).unwrap();
        t.copy_from(&mut &b"abc"[..], "mem", &mut |_| {}).unwrap();
        assert_eq!(t.bytes(), 3);
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(t.persist("a.txt", Some(abc)).unwrap(), abc);
        assert!(verified(&dest, abc).unwrap());
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1);
        assert_eq!(file_sha256(&dir.path().join("none")).unwrap(), None);
    }
}

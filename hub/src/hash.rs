//! Repo hash and secure hash of a model revision (REFERENCE §3).
//!
//! The repo hash names a revision's content: for every file in sorted path order,
//! `b64(sha256(file))`; the hash is `b64(sha256(concatenation of those strings))`.
//! The secure hash, `b64(sha256(repo_hash + hotkey_ss58))`, binds that content to one
//! miner, so a commitment copied by another hotkey fails verification. Base64 is the
//! standard alphabet with padding (44 characters for a SHA-256 digest), as Python's
//! `base64.b64encode` writes it.
//!
//! Paths are relative, with `/` separators, compared as strings (byte order, which is
//! Python's `sorted` order on `str`). Note that the reference walks a directory with
//! `os.walk` (a directory's own files before its subdirectories); the two orders agree
//! on flat repositories, which is how Hugging Face model repos are laid out, but not
//! on nested ones. Gauntlet hashes in global sorted order on both sides.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::HubError;

/// Bytes read at a time when hashing a stream, so big files never sit in memory.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// The name of a directory that [`repo_hash_dir`] skips, at any depth: git metadata is
/// not part of a revision's content (Hugging Face uploads ignore it the same way).
const GIT_DIR: &str = ".git";

/// `b64(sha256(data))` of one file, read as a stream in 64 KiB chunks.
pub fn file_hash(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK_BYTES];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(STANDARD.encode(hasher.finalize()))
}

/// The repo hash from per-file hashes already in sorted path order:
/// `b64(sha256(concatenation))`.
///
/// Useful when the file hashes are known without the files (a store that reports
/// each file's SHA-256). The caller is responsible for the order.
pub fn combine_file_hashes<I, S>(file_hashes: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut hasher = Sha256::new();
    for h in file_hashes {
        hasher.update(h.as_ref().as_bytes());
    }
    STANDARD.encode(hasher.finalize())
}

/// The repo hash of a revision given as `(relative path, contents)` pairs.
///
/// The pairs may come in any order; they are sorted by path first. Contents are any
/// [`Read`]er (`&[u8]` for bytes in memory, a [`File`] for a stream), each read once in
/// sorted order. Two pairs with the same path are an error.
pub fn repo_hash<I, P, R>(files: I) -> Result<String, HubError>
where
    I: IntoIterator<Item = (P, R)>,
    P: AsRef<str>,
    R: Read,
{
    let mut files: Vec<(String, R)> = files
        .into_iter()
        .map(|(p, r)| (p.as_ref().to_owned(), r))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    check_unique(files.iter().map(|(p, _)| p.as_str()))?;
    let mut hashes = Vec::with_capacity(files.len());
    for (path, reader) in files {
        let hash = file_hash(reader).map_err(|source| HubError::Io {
            path: PathBuf::from(&path),
            source,
        })?;
        hashes.push(hash);
    }
    Ok(combine_file_hashes(hashes))
}

/// The repo hash of a directory on disk: every file under `root` (recursively, with
/// `/`-separated relative paths) except inside `.git` directories.
///
/// Files are streamed, never loaded whole. Symbolic links to files are followed (a
/// Hugging Face cache snapshot is made of them); a link to a directory, a FIFO, a
/// socket or a device is an error rather than something silently left out, and so is
/// a file name that is not UTF-8.
pub fn repo_hash_dir(root: &Path) -> Result<String, HubError> {
    let files = list_files(root)?;
    let mut hashes = Vec::with_capacity(files.len());
    for (_, path) in &files {
        let io_err = |source| HubError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        hashes.push(file_hash(file).map_err(io_err)?);
    }
    Ok(combine_file_hashes(hashes))
}

/// The SHA-256 digest and the length of one file on disk, streamed.
pub(crate) fn sha256_file(path: &Path) -> Result<([u8; 32], u64), HubError> {
    let io_err = |source| HubError::io(path, source);
    let mut file = File::open(path).map_err(io_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK_BYTES];
    let mut len = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                len += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        }
    }
    Ok((hasher.finalize().into(), len))
}

/// `b64(sha256(repo_hash + hotkey_ss58))`: the repo hash bound to one miner's hotkey.
pub fn secure_hash(repo_hash: &str, hotkey_ss58: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(repo_hash.as_bytes());
    hasher.update(hotkey_ss58.as_bytes());
    STANDARD.encode(hasher.finalize())
}

/// Every file under `root` as `(relative path with '/', full path)`, sorted by the
/// relative path.
pub(crate) fn list_files(root: &Path) -> Result<Vec<(String, PathBuf)>, HubError> {
    let mut files = Vec::new();
    // An explicit stack of (relative prefix, directory) instead of recursion, so a
    // deeply nested tree cannot overflow the stack.
    let mut dirs = vec![(String::new(), root.to_path_buf())];
    while let Some((prefix, dir)) = dirs.pop() {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| HubError::Io { path, source }
        };
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| HubError::NonUtf8Path(path.clone()))?;
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type().map_err(io_err(&path))?;
            if kind.is_dir() {
                if name != GIT_DIR {
                    dirs.push((format!("{rel}/"), path));
                }
            } else if kind.is_file() {
                files.push((rel, path));
            } else if kind.is_symlink() {
                let target = std::fs::metadata(&path).map_err(io_err(&path))?;
                if target.is_dir() {
                    return Err(HubError::SymlinkedDirectory(path));
                } else if target.is_file() {
                    files.push((rel, path));
                } else {
                    return Err(HubError::NotAFile(path));
                }
            } else {
                return Err(HubError::NotAFile(path));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    check_unique(files.iter().map(|(rel, _)| rel.as_str()))?;
    Ok(files)
}

/// Errors on the first path equal to its predecessor (the input must be sorted).
fn check_unique<'a>(sorted: impl Iterator<Item = &'a str>) -> Result<(), HubError> {
    let mut previous: Option<&str> = None;
    for path in sorted {
        if previous == Some(path) {
            return Err(HubError::DuplicatePath(path.to_owned()));
        }
        previous = Some(path);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Expected values computed with Python on this machine:
    //
    // import hashlib, base64
    // files = {"config.json": b'{"model_type": "llama"}\n',
    //          "model.safetensors": bytes(range(256)) * 4,
    //          "tokenizer/vocab.txt": b"a\nb\nc\n", "README.md": b""}
    // b64 = lambda d: base64.b64encode(d).decode()
    // cat = "".join(b64(hashlib.sha256(files[p]).digest()) for p in sorted(files))
    // rh = b64(hashlib.sha256(cat.encode()).digest())
    // hk = "5GrwvaEF5zXb26Fz9rcQpDWS5ZLp7tSeYvvtVBj9TBzJcK6L"
    // print(rh, b64(hashlib.sha256((rh + hk).encode()).digest()))
    const REPO_HASH: &str = "tPS2RtTl0FGNwUfOqaDlpPaVQzGg01bKfjMi5KXg9tY=";
    const HOTKEY: &str = "5GrwvaEF5zXb26Fz9rcQpDWS5ZLp7tSeYvvtVBj9TBzJcK6L";
    const SECURE_HASH: &str = "mgJjeSgKrNoAWShsZAo1IgEDiWpIGigzwdUXfldhgkM=";
    /// `b64(sha256(b""))`.
    const EMPTY_FILE_HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn vector_files() -> Vec<(&'static str, Vec<u8>)> {
        let weights: Vec<u8> = (0..4).flat_map(|_| 0..=255u8).collect();
        vec![
            ("tokenizer/vocab.txt", b"a\nb\nc\n".to_vec()),
            ("config.json", b"{\"model_type\": \"llama\"}\n".to_vec()),
            ("model.safetensors", weights),
            ("README.md", Vec::new()),
        ]
    }

    fn write_tree(root: &Path, files: &[(&str, Vec<u8>)]) {
        for (rel, data) in files {
            let path = root.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(path, data).unwrap();
        }
    }

    #[test]
    fn file_hash_matches_python() {
        assert_eq!(file_hash(&b""[..]).unwrap(), EMPTY_FILE_HASH);
        assert_eq!(
            file_hash(&b"a\nb\nc\n"[..]).unwrap(),
            "iAVT/Kj86pTjJe4s+0jlqYXMeX85oUzG087ez+sq5NI="
        );
    }

    #[test]
    fn repo_hash_matches_python_vector() {
        let files = vector_files();
        let hash = repo_hash(files.iter().map(|(p, d)| (*p, d.as_slice()))).unwrap();
        assert_eq!(hash, REPO_HASH);
    }

    #[test]
    fn secure_hash_matches_python_vector() {
        assert_eq!(secure_hash(REPO_HASH, HOTKEY), SECURE_HASH);
        // Another hotkey committing the same content gets another secure hash.
        assert_ne!(
            secure_hash(
                REPO_HASH,
                "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
            ),
            SECURE_HASH
        );
    }

    #[test]
    fn empty_revision_hashes_the_empty_concatenation() {
        let none: [(&str, &[u8]); 0] = [];
        assert_eq!(repo_hash(none).unwrap(), EMPTY_FILE_HASH);
    }

    #[test]
    fn duplicate_paths_are_rejected() {
        let files = [("a.txt", &b"1"[..]), ("a.txt", &b"2"[..])];
        assert!(matches!(repo_hash(files), Err(HubError::DuplicatePath(p)) if p == "a.txt"));
    }

    #[test]
    fn directory_hash_matches_vector_and_skips_git() {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &vector_files());
        assert_eq!(repo_hash_dir(dir.path()).unwrap(), REPO_HASH);

        // Git metadata, at the root or nested, is not content.
        write_tree(
            dir.path(),
            &[
                (".git/HEAD", b"ref: refs/heads/main\n".to_vec()),
                ("tokenizer/.git/config", b"x".to_vec()),
            ],
        );
        assert_eq!(repo_hash_dir(dir.path()).unwrap(), REPO_HASH);

        // Every other file counts, hidden ones included.
        write_tree(dir.path(), &[(".gitattributes", b"*.bin lfs\n".to_vec())]);
        assert_ne!(repo_hash_dir(dir.path()).unwrap(), REPO_HASH);
    }

    #[test]
    fn directory_order_is_global_path_order() {
        // "a-b" < "a/b" < "a0" in byte order; os.walk would put "a0" before "a/b".
        let files = vec![
            ("a0", b"0".to_vec()),
            ("a/b", b"1".to_vec()),
            ("a-b", b"2".to_vec()),
        ];
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &files);
        let expected = combine_file_hashes([b"2", b"1", b"0"].map(|d| file_hash(&d[..]).unwrap()));
        assert_eq!(repo_hash_dir(dir.path()).unwrap(), expected);
    }

    #[test]
    fn big_files_stream_to_the_same_hash() {
        // Larger than several read chunks, and not a multiple of the chunk size.
        let data: Vec<u8> = (0..(3 * READ_CHUNK_BYTES + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &[("model.bin", data.clone())]);
        let expected = repo_hash([("model.bin", data.as_slice())]).unwrap();
        assert_eq!(repo_hash_dir(dir.path()).unwrap(), expected);
    }

    #[test]
    fn missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = repo_hash_dir(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(err, HubError::Io { .. }));
        assert!(!err.is_transient());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_to_files_are_followed_and_to_directories_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = tempfile::tempdir().unwrap();
        write_tree(blobs.path(), &[("blob", b"{}".to_vec())]);
        std::os::unix::fs::symlink(blobs.path().join("blob"), dir.path().join("config.json"))
            .unwrap();
        let expected = repo_hash([("config.json", &b"{}"[..])]).unwrap();
        assert_eq!(repo_hash_dir(dir.path()).unwrap(), expected);

        std::os::unix::fs::symlink(blobs.path(), dir.path().join("sub")).unwrap();
        assert!(matches!(
            repo_hash_dir(dir.path()),
            Err(HubError::SymlinkedDirectory(_))
        ));
    }

    proptest! {
        #[test]
        fn repo_hash_ignores_input_order(
            files in proptest::collection::btree_map("[a-z]{1,3}(/[a-z]{1,3})?", any::<Vec<u8>>(), 0..8),
            seed in any::<u64>(),
        ) {
            let sorted: Vec<(String, Vec<u8>)> = files.into_iter().collect();
            let mut shuffled = sorted.clone();
            // A deterministic rotation and reversal stand in for a shuffle.
            if !shuffled.is_empty() {
                let k = (seed % shuffled.len() as u64) as usize;
                shuffled.rotate_left(k);
                if seed % 2 == 1 {
                    shuffled.reverse();
                }
            }
            let a = repo_hash(sorted.iter().map(|(p, d)| (p, d.as_slice()))).unwrap();
            let b = repo_hash(shuffled.iter().map(|(p, d)| (p, d.as_slice()))).unwrap();
            prop_assert_eq!(a.len(), 44);
            prop_assert_eq!(a, b);
        }
    }
}

//! Bounds on what a model directory may make the runtime read or compute,
//! checked before anything is allocated: a size cap per file read whole
//! (`config.json`, the shard index, the tokenizer and its config, the chat
//! template), a cap on the files of a directory, and the chat template's fuel
//! and rendered length.
//!
//! Each cap sits far above what any released model needs (the numbers say
//! why) and far below what would hurt a validator: a miner's file is never
//! parsed whole when it is larger than its cap, and never followed when it is
//! a symbolic link.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{ModelError, Result};

/// `config.json`: a few kilobytes in practice (LongRoPE factor lists included).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// `model.safetensors.index.json`: about 100 KB for a 70B model's 30,000
/// tensor names.
pub const MAX_INDEX_BYTES: u64 = 16 << 20;
/// `tokenizer_config.json`: under 1 MB even with thousands of added tokens.
pub const MAX_TOKENIZER_CONFIG_BYTES: u64 = 16 << 20;
/// `tokenizer.json`: 34 MB for Gemma's 256k vocabulary, the largest known.
pub const MAX_TOKENIZER_BYTES: u64 = 64 << 20;
/// `chat_template.jinja`: a few kilobytes; tool-calling templates stay under 20 KB.
pub const MAX_TEMPLATE_BYTES: u64 = 1 << 20;
/// Files in a model directory: a sharded 70B model has about 40.
pub const MAX_MODEL_FILES: usize = 1000;
/// Instructions one chat template rendering may execute (minijinja fuel):
/// real templates use a few thousand for a conversation of a few turns.
pub const TEMPLATE_FUEL: u64 = 2_000_000;
/// Bytes one rendered conversation may have: a 16k-token reasoning prompt
/// is about 64 KB.
pub const MAX_RENDERED_BYTES: usize = 1 << 20;

/// Reads the UTF-8 text of `path`, refusing a symbolic link and a file larger
/// than `max` bytes before reading any of it (and reading at most `max + 1`
/// bytes even if the file grows meanwhile). `what` names the file in errors.
pub fn read_capped(path: &Path, max: u64, what: &'static str) -> Result<String> {
    let file = open_regular(path, what)?;
    let len = file.metadata().map_err(|e| ModelError::io(path, e))?.len();
    if len > max {
        return Err(ModelError::FileTooLarge {
            path: path.to_path_buf(),
            bytes: len,
            max,
        });
    }
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .map_err(|e| ModelError::io(path, e))?;
    if text.len() as u64 > max {
        return Err(ModelError::FileTooLarge {
            path: path.to_path_buf(),
            bytes: text.len() as u64,
            max,
        });
    }
    Ok(text)
}

/// Opens `path` for reading when it is a regular file, not a symbolic link
/// (a link could point anywhere on the validator's machine).
pub fn open_regular(path: &Path, what: &'static str) -> Result<File> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ModelError::Missing {
                path: path.to_path_buf(),
                what,
            }
        } else {
            ModelError::io(path, e)
        }
    })?;
    if meta.file_type().is_symlink() {
        return Err(ModelError::Symlink {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(ModelError::Missing {
            path: path.to_path_buf(),
            what,
        });
    }
    File::open(path).map_err(|e| ModelError::io(path, e))
}

/// Whether `path` exists as anything at all, a dangling link included.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Total bytes of the regular files below `dir`, refusing symbolic links,
/// entries that are neither files nor directories, more than
/// [`MAX_MODEL_FILES`] files, and a total that overflows.
pub fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total: u64 = 0;
    let mut files = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| ModelError::io(&d, e))? {
            let e = e.map_err(|e| ModelError::io(&d, e))?;
            let path = e.path();
            let kind = e.file_type().map_err(|err| ModelError::io(&path, err))?;
            if kind.is_symlink() {
                return Err(ModelError::Symlink { path });
            }
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() {
                return Err(ModelError::Input(format!(
                    "{} is neither a file nor a directory",
                    path.display()
                )));
            }
            files += 1;
            if files > MAX_MODEL_FILES {
                return Err(ModelError::Input(format!(
                    "{} holds more than {MAX_MODEL_FILES} files",
                    dir.display()
                )));
            }
            let len = e
                .metadata()
                .map_err(|err| ModelError::io(&path, err))?
                .len();
            total = total.checked_add(len).ok_or_else(|| {
                ModelError::Input(format!("{}: file sizes overflow", dir.display()))
            })?;
        }
    }
    Ok(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_two_gigabyte_file_is_refused_before_it_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("tokenizer_config.json");
        let f = File::create(&path).unwrap();
        f.set_len(2 << 30).unwrap();
        let start = std::time::Instant::now();
        let err = read_capped(&path, MAX_TOKENIZER_CONFIG_BYTES, "x").unwrap_err();
        assert!(matches!(err, ModelError::FileTooLarge { bytes, .. } if bytes == 2 << 30));
        assert!(err.to_string().contains("more than"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn links_are_refused_and_small_files_read() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        assert_eq!(read_capped(&real, 10, "x").unwrap(), "{}");
        let link = tmp.path().join("config.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            read_capped(&link, 10, "x"),
            Err(ModelError::Symlink { .. })
        ));
        assert!(matches!(
            dir_bytes(tmp.path()),
            Err(ModelError::Symlink { .. })
        ));
        std::fs::remove_file(&link).unwrap();
        assert_eq!(dir_bytes(tmp.path()).unwrap(), 2);
        assert!(matches!(
            read_capped(&tmp.path().join("absent"), 10, "x"),
            Err(ModelError::Missing { .. })
        ));
    }

    #[test]
    fn too_many_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..=MAX_MODEL_FILES {
            File::create(tmp.path().join(format!("f{i}"))).unwrap();
        }
        let err = dir_bytes(tmp.path()).unwrap_err();
        assert!(err.to_string().contains("more than 1000 files"), "{err}");
    }
}

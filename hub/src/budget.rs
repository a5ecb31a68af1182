//! The download cache's budget: before a revision is fetched, room is made
//! for it — on the disk (its free space, less a reserve) and within an
//! optional byte budget — by evicting complete revisions least recently used
//! first, never one still in play ([`ModelStore::keep`](crate::ModelStore::keep)).
//! When that is not enough the download is refused with
//! [`HubError::DiskFull`], before a byte is written.
//!
//! "Used" is the modification time of a revision's directory, set each time
//! the revision is downloaded or reused.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::hash::list_files;
use crate::{HubError, ModelId};

/// Limits of a download cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheBudget {
    /// Most bytes the complete revisions may take together; `None`: only the
    /// disk limits them.
    pub max_bytes: Option<u64>,
    /// Bytes to leave free on the disk after each download.
    pub reserve_bytes: u64,
}

/// A complete revision in the cache.
#[derive(Debug)]
struct Cached {
    id: ModelId,
    dir: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// Makes room for `needed` bytes of revision `id` under `root` (see the
/// module documentation). Blocking.
pub(crate) fn make_room(
    root: &Path,
    budget: CacheBudget,
    keep: &HashSet<ModelId>,
    id: &ModelId,
    needed: u64,
) -> Result<(), HubError> {
    std::fs::create_dir_all(root).map_err(|e| HubError::io(root, e))?;
    let mut cached = complete_revisions(root)?;
    let mut used: u64 = cached.iter().map(|c| c.bytes).fold(0, u64::saturating_add);
    let mut free = free_bytes(root)?;
    // Least recently used first.
    cached.sort_by_key(|c| c.used);
    let mut candidates = cached
        .into_iter()
        .filter(|c| &c.id != id && !keep.contains(&c.id));
    loop {
        let over_budget = budget
            .max_bytes
            .is_some_and(|max| used.saturating_add(needed) > max);
        let over_disk = free < needed.saturating_add(budget.reserve_bytes);
        if !over_budget && !over_disk {
            return Ok(());
        }
        let Some(victim) = candidates.next() else {
            let (free, reason) = if over_disk {
                (
                    free.saturating_sub(budget.reserve_bytes),
                    format!(
                        "the disk, keeping {} bytes in reserve, after evicting every revision not in play",
                        budget.reserve_bytes
                    ),
                )
            } else {
                let max = budget.max_bytes.unwrap_or(u64::MAX);
                (
                    max.saturating_sub(used),
                    format!("the cache budget of {max} bytes, after evicting every revision not in play"),
                )
            };
            return Err(HubError::DiskFull {
                path: root.to_path_buf(),
                needed,
                free,
                reason,
            });
        };
        tracing::info!(model = %victim.id, bytes = victim.bytes, "evicting the least recently used revision");
        crate::cache::remove_tree(&victim.dir)?;
        used = used.saturating_sub(victim.bytes);
        free = free_bytes(root)?;
    }
}

/// Marks a revision as used now.
pub(crate) fn touch(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Every complete revision `<root>/<namespace>/<name>/<commit>/`.
fn complete_revisions(root: &Path) -> Result<Vec<Cached>, HubError> {
    let mut out = Vec::new();
    for ns in subdirs(root)? {
        for name in subdirs(&ns)? {
            for commit in subdirs(&name)? {
                let part = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_owned);
                let (Some(a), Some(b), Some(c)) = (part(&ns), part(&name), part(&commit)) else {
                    continue;
                };
                let Ok(id) = ModelId::new(a, b, c) else {
                    continue;
                };
                let mut bytes: u64 = 0;
                for (_, path) in list_files(&commit)? {
                    let len = std::fs::symlink_metadata(&path)
                        .map_err(|e| HubError::io(&path, e))?
                        .len();
                    bytes = bytes.saturating_add(len);
                }
                let used = std::fs::metadata(&commit)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                out.push(Cached {
                    id,
                    dir: commit,
                    bytes,
                    used,
                });
            }
        }
    }
    Ok(out)
}

/// The directories directly below `dir`, skipping dot names (work in progress).
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, HubError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(HubError::io(dir, e)),
    };
    for e in entries {
        let e = e.map_err(|err| HubError::io(dir, err))?;
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if !hidden && e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(e.path());
        }
    }
    Ok(out)
}

/// Bytes available to this process on the file system holding `dir`.
pub(crate) fn free_bytes(dir: &Path) -> Result<u64, HubError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| HubError::io(dir, std::io::Error::other(e)))?;
    let mut s = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable buffer
    // of the right type; statvfs fills it on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), s.as_mut_ptr()) };
    if rc != 0 {
        return Err(HubError::io(dir, std::io::Error::last_os_error()));
    }
    // SAFETY: statvfs succeeded, so `s` is initialised.
    let s = unsafe { s.assume_init() };
    // `fsblkcnt_t` and `c_ulong` are 32 bits on some targets, 64 on this one.
    #[allow(clippy::unnecessary_cast)]
    let (blocks, size) = (s.f_bavail as u64, s.f_frsize as u64);
    Ok(blocks.saturating_mul(size))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn id(name: &str) -> ModelId {
        ModelId::new("ns", name, "0123456789abcdef0123456789abcdef01234567").unwrap()
    }

    fn revision(root: &Path, name: &str, bytes: usize, age_s: u64) -> PathBuf {
        let dir = root.join("ns").join(name).join(id(name).commit);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("w.bin"), vec![0u8; bytes]).unwrap();
        let when = SystemTime::now() - Duration::from_secs(age_s);
        File::open(&dir).unwrap().set_modified(when).unwrap();
        dir
    }

    #[test]
    fn the_least_recently_used_revision_not_in_play_goes_first() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let old = revision(root, "old", 400, 300);
        let kept = revision(root, "kept", 400, 200);
        let recent = revision(root, "recent", 400, 100);
        let budget = CacheBudget {
            max_bytes: Some(1000),
            reserve_bytes: 0,
        };
        let keep: HashSet<ModelId> = [id("kept")].into();
        // 1200 used + 300 needed > 1000: "old" (the oldest) goes, then
        // "kept" is skipped, and "recent" goes.
        make_room(root, budget, &keep, &id("new"), 300).unwrap();
        assert!(!old.exists());
        assert!(kept.exists());
        assert!(!recent.exists());
        // More than the budget can ever hold, with only kept revisions left.
        let err = make_room(root, budget, &keep, &id("new"), 900).unwrap_err();
        assert!(
            matches!(err, HubError::DiskFull { needed: 900, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("budget"), "{err}");
        assert!(kept.exists());
    }

    #[test]
    fn the_disk_itself_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let budget = CacheBudget {
            max_bytes: None,
            reserve_bytes: 0,
        };
        let err =
            make_room(tmp.path(), budget, &HashSet::new(), &id("x"), u64::MAX / 2).unwrap_err();
        assert!(matches!(err, HubError::DiskFull { .. }), "{err}");
        assert!(err.is_local_fault());
        assert!(free_bytes(tmp.path()).unwrap() > 0);
    }
}

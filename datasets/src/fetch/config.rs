//! Where fetches go: package index, Debian mirrors, Hugging Face endpoint,
//! read from the environment the way pip, apt and huggingface_hub read it.

use std::path::{Path, PathBuf};

/// Default Python package index (simple API).
pub const DEFAULT_PYPI_INDEX: &str = "https://pypi.org/simple";
/// Default Debian mirror, tried after the mirrors apt is configured with.
pub const DEFAULT_DEBIAN_MIRROR: &str = "https://deb.debian.org/debian";
/// Default Hugging Face endpoint.
pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";

/// Fetch settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// Simple-API index root: `$GAUNTLET_PYPI_INDEX`, else `$PIP_INDEX_URL`,
    /// else [`DEFAULT_PYPI_INDEX`].
    pub pypi_index: String,
    /// Local directories searched for an archive before downloading
    /// (`$PIP_FIND_LINKS`, local paths only).
    pub find_links: Vec<PathBuf>,
    /// Debian mirror roots, tried in order: `$GAUNTLET_DEBIAN_MIRROR`, the
    /// mirrors of `/etc/apt/sources.list{,.d/*}`, [`DEFAULT_DEBIAN_MIRROR`]
    /// (then each source's snapshot.debian.org root). Integrity comes from the
    /// pinned sha256, as apt's comes from signed indexes.
    pub debian_mirrors: Vec<String>,
    /// `$HF_ENDPOINT`, else [`DEFAULT_HF_ENDPOINT`].
    pub hf_endpoint: String,
    /// `$HF_TOKEN` (or `$HUGGING_FACE_HUB_TOKEN`), sent to the endpoint only.
    pub hf_token: Option<String>,
    /// Whether Hub datasets are tried (off with `HF_HUB_OFFLINE=1` or
    /// `GAUNTLET_OFFLINE=1`).
    pub hub: bool,
    /// Whether an installed copy of a file (the system word list) may stand
    /// in for its package when no mirror answers.
    pub system_copies: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn truthy(name: &str) -> bool {
    env(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes" | "on"))
}

impl FetchConfig {
    /// Settings from the environment (see each field).
    pub fn from_env() -> Self {
        let mut debian_mirrors: Vec<String> = env("GAUNTLET_DEBIAN_MIRROR").into_iter().collect();
        debian_mirrors.extend(apt_mirrors(Path::new("/etc/apt")));
        debian_mirrors.push(DEFAULT_DEBIAN_MIRROR.to_string());
        let mut seen = std::collections::HashSet::new();
        debian_mirrors.retain(|m| seen.insert(m.trim_end_matches('/').to_string()));
        FetchConfig {
            pypi_index: env("GAUNTLET_PYPI_INDEX")
                .or_else(|| env("PIP_INDEX_URL"))
                .unwrap_or_else(|| DEFAULT_PYPI_INDEX.to_string()),
            find_links: env("PIP_FIND_LINKS")
                .map(|v| local_dirs(&v))
                .unwrap_or_default(),
            debian_mirrors,
            hf_endpoint: env("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_HF_ENDPOINT.to_string()),
            hf_token: env("HF_TOKEN").or_else(|| env("HUGGING_FACE_HUB_TOKEN")),
            hub: !(truthy("HF_HUB_OFFLINE") || truthy("GAUNTLET_OFFLINE")),
            system_copies: true,
        }
    }
}

/// Local directories of a `PIP_FIND_LINKS` value (URLs are left to pip).
fn local_dirs(value: &str) -> Vec<PathBuf> {
    value
        .split_whitespace()
        .filter_map(|s| match s.strip_prefix("file://") {
            Some(p) => Some(PathBuf::from(p)),
            None if !s.contains("://") => Some(PathBuf::from(s)),
            None => None,
        })
        .collect()
}

/// The Debian archive mirrors apt uses (not the security archive), from
/// one-line `.list` files and deb822 `.sources` files under `etc_apt`.
pub(crate) fn apt_mirrors(etc_apt: &Path) -> Vec<String> {
    let mut files = vec![etc_apt.join("sources.list")];
    if let Ok(dir) = std::fs::read_dir(etc_apt.join("sources.list.d")) {
        let mut more: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        more.sort();
        files.extend(more);
    }
    let mut out = Vec::new();
    for f in files {
        let name = f.to_string_lossy();
        if !(name.ends_with(".list") || name.ends_with(".sources")) {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&f) {
            out.extend(mirrors_in(&text));
        }
    }
    out
}

/// Mirror URIs in the text of an apt sources file (either format).
pub(crate) fn mirrors_in(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    for stanza in text.split("\n\n") {
        let mut enabled = true;
        let mut stanza_uris = Vec::new();
        for line in stanza.lines().map(str::trim) {
            if line.starts_with('#') {
                continue;
            }
            if let Some(v) = line.strip_prefix("URIs:") {
                stanza_uris.extend(v.split_whitespace().map(str::to_string));
            } else if let Some(v) = line.strip_prefix("Enabled:") {
                enabled = v.trim() != "no";
            } else if let Some(rest) = line.strip_prefix("deb ") {
                let rest = match rest.trim_start().strip_prefix('[') {
                    Some(r) => r.split_once(']').map_or("", |(_, r)| r),
                    None => rest,
                };
                stanza_uris.extend(rest.split_whitespace().next().map(str::to_string));
            }
        }
        if enabled {
            uris.extend(stanza_uris);
        }
    }
    uris.retain(|u| u.trim_end_matches('/').ends_with("/debian"));
    uris
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn reads_both_apt_formats() {
        let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n\
                      Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n\
                      Types: deb\nURIs: http://m.example/debian/\nEnabled: no\n";
        assert_eq!(mirrors_in(deb822), ["http://deb.debian.org/debian"]);
        let list = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian bookworm main\n\
                    deb-src http://x/debian bookworm main\ndeb https://packages.cloud.google.com/apt x main\n";
        assert_eq!(mirrors_in(list), ["https://m.example/debian"]);
    }

    #[test]
    fn reads_apt_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sources.list.d")).unwrap();
        std::fs::write(
            dir.path().join("sources.list.d/a.sources"),
            "URIs: https://a/debian\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sources.list.d/b.disabled"),
            "URIs: https://b/debian\n",
        )
        .unwrap();
        assert_eq!(apt_mirrors(dir.path()), ["https://a/debian"]);
    }

    #[test]
    fn find_links_keeps_local_paths() {
        assert_eq!(
            local_dirs("/opt/wheels https://x/y file:///srv/w"),
            [PathBuf::from("/opt/wheels"), PathBuf::from("/srv/w")]
        );
    }
}

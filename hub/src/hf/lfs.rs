//! Uploading large files through the Git LFS batch API as the Hub extends it: a batch
//! request, then per object a single PUT (`basic`) or numbered part PUTs and a
//! completion POST (`multipart`), then the optional `verify` POST.
//!
//! Storage URLs come from the hub and are presigned: they never get the hub token.

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
};
use reqwest::{Body, Method};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::api::{
    BatchAction, BatchObjectRequest, BatchRequest, BatchResponse, CompletedPart, MultipartComplete,
    RefName,
};
use super::http::{clean_url, Http};
use super::upload::LocalFile;
use crate::HubError;

/// Content type of the LFS API.
const LFS_JSON: &str = "application/vnd.git-lfs+json";
/// Objects per batch request (the Hub's payload limit; huggingface_hub uses 256 too).
const BATCH_SIZE: usize = 256;

/// Uploads the content of `files` to the repository's LFS storage (those it lacks).
pub(crate) async fn upload_objects(
    http: &Http,
    repo: &str,
    revision: &str,
    files: &[&LocalFile],
) -> Result<(), HubError> {
    let url = http.repo_url(repo, ".git/info/lfs/objects/batch");
    for chunk in files.chunks(BATCH_SIZE) {
        let request = BatchRequest {
            operation: "upload".into(),
            transfers: vec!["basic".into(), "multipart".into()],
            objects: chunk
                .iter()
                .map(|f| BatchObjectRequest {
                    oid: f.sha256_hex.clone(),
                    size: f.size,
                })
                .collect(),
            hash_algo: "sha256".into(),
            reference: Some(RefName {
                name: revision.into(),
            }),
        };
        let response: BatchResponse = http
            .json(&format!("LFS storage of {repo}"), || {
                Ok(http
                    .hub(Method::POST, &url)
                    .header(ACCEPT, LFS_JSON)
                    .header(CONTENT_TYPE, LFS_JSON)
                    .body(serde_json::to_vec(&request).map_err(protocol(&url))?))
            })
            .await?;
        for file in chunk {
            let object = response
                .objects
                .iter()
                .find(|o| o.oid == file.sha256_hex)
                .ok_or_else(|| HubError::Protocol {
                    url: clean_url(&url),
                    message: format!("no batch answer for {}", file.path),
                })?;
            if let Some(err) = &object.error {
                return Err(HubError::Http {
                    status: err.code,
                    url: clean_url(&url),
                    message: format!("LFS refused {}: {}", file.path, err.message),
                });
            }
            let Some(actions) = &object.actions else {
                tracing::debug!(path = %file.path, "already in LFS storage");
                continue;
            };
            if let Some(upload) = &actions.upload {
                tracing::info!(path = %file.path, bytes = file.size, "uploading to LFS storage");
                if upload.header.contains_key("chunk_size") {
                    multipart(http, file, upload).await?;
                } else {
                    basic(http, file, upload).await?;
                }
            }
            if let Some(verify) = &actions.verify {
                verify_object(http, file, verify).await?;
            }
        }
    }
    Ok(())
}

fn protocol(url: &str) -> impl Fn(serde_json::Error) -> HubError + '_ {
    move |e| HubError::Protocol {
        url: clean_url(url),
        message: e.to_string(),
    }
}

/// The action's headers as a header map (part URLs and `chunk_size` left out).
fn action_headers(action: &BatchAction) -> Result<HeaderMap, HubError> {
    let mut headers = HeaderMap::new();
    for (k, v) in &action.header {
        if k == "chunk_size" || k.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let bad = |_| HubError::Protocol {
            url: clean_url(&action.href),
            message: format!("unusable header {k:?} in an LFS action"),
        };
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let value = HeaderValue::from_str(v).map_err(|e| bad(e.to_string()))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// A streamed body of `len` bytes of the file starting at `offset`.
async fn file_body(file: &LocalFile, offset: u64, len: u64) -> Result<Body, HubError> {
    let io = |e| HubError::io(&file.full_path, e);
    let mut f = tokio::fs::File::open(&file.full_path).await.map_err(io)?;
    f.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
    Ok(Body::wrap_stream(ReaderStream::new(f.take(len))))
}

/// PUTs `len` bytes of `file` from `offset` to a storage URL, with retries; returns the
/// answer's ETag when there is one.
async fn put_range(
    http: &Http,
    file: &LocalFile,
    url: &str,
    headers: &HeaderMap,
    offset: u64,
    len: u64,
) -> Result<Option<String>, HubError> {
    let what = format!("upload URL for {}", file.path);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let body = file_body(file, offset, len).await?;
        // An explicit length: storage refuses chunked transfer encoding.
        let request = http
            .external(Method::PUT, url)
            .headers(headers.clone())
            .header(CONTENT_LENGTH, len)
            .body(body);
        match http.send_once(&what, request).await {
            Ok(resp) => {
                let etag = resp
                    .headers()
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                return Ok(etag);
            }
            Err((err, wait)) => http.pause_or_fail(attempt, err, wait).await?,
        }
    }
}

async fn basic(http: &Http, file: &LocalFile, action: &BatchAction) -> Result<(), HubError> {
    let headers = action_headers(action)?;
    put_range(http, file, &action.href, &headers, 0, file.size).await?;
    Ok(())
}

async fn multipart(http: &Http, file: &LocalFile, action: &BatchAction) -> Result<(), HubError> {
    let bad = |message: String| HubError::Protocol {
        url: clean_url(&action.href),
        message,
    };
    let chunk_size: u64 = action
        .header
        .get("chunk_size")
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| bad("chunk_size is not a positive integer".into()))?;
    let mut parts: Vec<(u32, &String)> = action
        .header
        .iter()
        .filter(|(k, _)| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|(k, v)| k.parse().ok().map(|n| (n, v)))
        .collect();
    parts.sort_by_key(|(n, _)| *n);
    if parts.len() as u64 != file.size.div_ceil(chunk_size) {
        return Err(bad(format!(
            "{} parts of {chunk_size} bytes cannot hold {} bytes",
            parts.len(),
            file.size
        )));
    }
    let mut completed = Vec::with_capacity(parts.len());
    for (index, (number, url)) in parts.iter().enumerate() {
        let offset = index as u64 * chunk_size;
        let len = chunk_size.min(file.size - offset);
        let etag = put_range(http, file, url, &HeaderMap::new(), offset, len)
            .await?
            .ok_or_else(|| {
                bad(format!(
                    "part {number} of {} came back without an ETag",
                    file.path
                ))
            })?;
        completed.push(CompletedPart {
            part_number: *number,
            etag,
        });
    }
    let body = MultipartComplete {
        oid: file.sha256_hex.clone(),
        parts: completed,
    };
    let body = serde_json::to_vec(&body).map_err(protocol(&action.href))?;
    http.send(&format!("multipart completion for {}", file.path), || {
        Ok(http
            .external(Method::POST, &action.href)
            .header(ACCEPT, LFS_JSON)
            .header(CONTENT_TYPE, LFS_JSON)
            .body(body.clone()))
    })
    .await?;
    Ok(())
}

async fn verify_object(
    http: &Http,
    file: &LocalFile,
    action: &BatchAction,
) -> Result<(), HubError> {
    let headers = action_headers(action)?;
    let body = serde_json::to_vec(&BatchObjectRequest {
        oid: file.sha256_hex.clone(),
        size: file.size,
    })
    .map_err(protocol(&action.href))?;
    http.send(&format!("LFS verification of {}", file.path), || {
        Ok(http
            .external(Method::POST, &action.href)
            .headers(headers.clone())
            .header(ACCEPT, LFS_JSON)
            .header(CONTENT_TYPE, LFS_JSON)
            .body(body.clone()))
    })
    .await?;
    Ok(())
}

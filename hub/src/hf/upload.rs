//! Uploading a directory as one commit through the Hub's commit API.
//!
//! 1. `preupload` tells, per file, whether it goes inline (`regular`) or to LFS
//!    (a 404 there means the repository is missing: it is created, then asked again);
//! 2. LFS files go to storage (`super::lfs`);
//! 3. one NDJSON commit on `main`: a `header` line (with `parentCommit`, so a commit
//!    that raced ours makes this one fail rather than be silently mixed), `file` lines
//!    with base64 content, `lfsFile` lines with the SHA-256 oid, and `deletedFile`
//!    lines for files of the parent revision that the directory no longer has — so the
//!    new revision holds exactly the directory's files. `.gitattributes`, which the Hub
//!    writes into every new repository, is kept. A file the parent revision already
//!    holds with the same content (its git blob id, or its LFS SHA-256) is left out of
//!    the commit: a ledger republished after each round sends only what changed. When
//!    nothing changed, no commit is made and the parent revision is the upload's.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde_json::json;

use super::api::{
    CommitResponse, CreateRepo, PreuploadFile, PreuploadRequest, PreuploadResponse, RevisionInfo,
};
use super::http::Http;
use crate::id::{validate_commit, validate_file_path, validate_repo};
use crate::revision::{blocking, hex, scan};
use crate::{HubError, ModelId};

/// The branch uploads commit to.
const BRANCH: &str = "main";
/// Files per preupload request.
const PREUPLOAD_BATCH: usize = 256;
/// Bytes of each file the preupload request shows the Hub.
const SAMPLE_BYTES: usize = 512;
/// A file the Hub keeps at the root of every repository it creates.
const GITATTRIBUTES: &str = ".gitattributes";

/// A local file about to be uploaded.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    /// Path in the repository.
    pub path: String,
    /// Where it is on disk.
    pub full_path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex (the LFS oid).
    pub sha256_hex: String,
    /// The first bytes, for the preupload request.
    pub sample: Vec<u8>,
}

/// Lists and hashes the directory (blocking).
fn local_files(dir: &Path) -> Result<Vec<LocalFile>, HubError> {
    let mut files = Vec::new();
    for entry in scan(dir)? {
        validate_file_path(&entry.path)?;
        let io = |e| HubError::io(&entry.full_path, e);
        let mut sample = Vec::with_capacity(SAMPLE_BYTES);
        std::fs::File::open(&entry.full_path)
            .map_err(io)?
            .take(SAMPLE_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(io)?;
        files.push(LocalFile {
            path: entry.path,
            full_path: entry.full_path,
            size: entry.size,
            sha256_hex: hex(&entry.sha256),
            sample,
        });
    }
    Ok(files)
}

/// Uploads `dir` as a new commit of `namespace/name` (see the module documentation).
pub(crate) async fn upload(
    http: &Http,
    dir: &Path,
    namespace: &str,
    name: &str,
) -> Result<ModelId, HubError> {
    validate_repo(namespace, name)?;
    let repo = format!("{namespace}/{name}");
    let src = dir.to_path_buf();
    let files = blocking(move || local_files(&src)).await?;
    let modes = match preupload(http, &repo, &files).await {
        Err(HubError::NotFound { .. }) => {
            create_repo(http, namespace, name).await?;
            preupload(http, &repo, &files).await?
        }
        other => other?,
    };
    let modes: HashMap<&str, &super::api::PreuploadMode> =
        modes.iter().map(|m| (m.path.as_str(), m)).collect();
    let mut regular = Vec::new();
    let mut lfs = Vec::new();
    for file in &files {
        match modes.get(file.path.as_str()) {
            Some(m) if m.should_ignore => {
                tracing::warn!(path = %file.path, "the repository's .gitignore excludes this file");
            }
            // Empty files cannot go to LFS storage; huggingface_hub commits them inline.
            Some(m) if m.upload_mode == "lfs" && file.size > 0 => lfs.push(file),
            Some(_) => regular.push(file),
            None => {
                return Err(HubError::Protocol {
                    url: http.api(&repo, &format!("/preupload/{BRANCH}")),
                    message: format!("no upload mode for {}", file.path),
                })
            }
        }
    }
    let parent: RevisionInfo = match http
        .json(&format!("branch {BRANCH} of {repo}"), || {
            Ok(http.hub(
                Method::GET,
                &http.api(&repo, &format!("/revision/{BRANCH}?blobs=true")),
            ))
        })
        .await
    {
        // A repository without any commit yet: nothing to replace.
        Err(HubError::NotFound { .. }) => RevisionInfo {
            sha: None,
            siblings: Vec::new(),
        },
        other => other?,
    };
    // What the parent already holds, byte for byte, is not sent again.
    let held: HashMap<&str, &super::api::Sibling> = parent
        .siblings
        .iter()
        .map(|s| (s.rfilename.as_str(), s))
        .collect();
    lfs.retain(|f| {
        held.get(f.path.as_str())
            .and_then(|s| s.lfs.as_ref())
            .is_none_or(|l| l.sha256 != f.sha256_hex)
    });
    // Inline files the parent holds inline with the same size may be
    // unchanged: only those are hashed as git blobs.
    let candidates: Vec<(String, PathBuf, String)> = regular
        .iter()
        .filter_map(|f| {
            let s = held.get(f.path.as_str())?;
            let same_size = s.lfs.is_none() && s.size == Some(f.size);
            let id = s.blob_id.clone()?;
            same_size.then(|| (f.path.clone(), f.full_path.clone(), id))
        })
        .collect();
    let unchanged: HashSet<String> = blocking(move || {
        let mut same = HashSet::new();
        for (path, full, id) in candidates {
            if git_blob_id(&full)? == id {
                same.insert(path);
            }
        }
        Ok::<_, HubError>(same)
    })
    .await?;
    regular.retain(|f| !unchanged.contains(&f.path));
    super::lfs::upload_objects(http, &repo, BRANCH, &lfs).await?;

    let keep: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let deleted: Vec<&str> = parent
        .siblings
        .iter()
        .map(|s| s.rfilename.as_str())
        .filter(|p| !keep.contains(p) && *p != GITATTRIBUTES)
        .collect();
    if let (Some(sha), true, true, true) = (
        &parent.sha,
        regular.is_empty(),
        lfs.is_empty(),
        deleted.is_empty(),
    ) {
        tracing::info!(repo = %repo, "nothing changed since the last upload: no commit");
        return ModelId::new(namespace, name, sha.clone());
    }
    let payload = blocking({
        let regular: Vec<LocalFile> = regular.into_iter().cloned().collect();
        let lfs: Vec<(String, String, u64)> = lfs
            .iter()
            .map(|f| (f.path.clone(), f.sha256_hex.clone(), f.size))
            .collect();
        let deleted: Vec<String> = deleted.into_iter().map(str::to_owned).collect();
        let parent = parent.sha.clone();
        move || commit_payload(parent, &regular, &lfs, &deleted)
    })
    .await?;
    let url = http.api(&repo, &format!("/commit/{BRANCH}"));
    let response: CommitResponse = http
        .json(&format!("repository {repo}"), || {
            Ok(http
                .hub(Method::POST, &url)
                .header(CONTENT_TYPE, "application/x-ndjson")
                .body(payload.clone()))
        })
        .await?;
    validate_commit(&response.commit_oid).map_err(|_| HubError::Protocol {
        url: url.clone(),
        message: format!(
            "commit id {:?} is not 40 hex characters",
            response.commit_oid
        ),
    })?;
    let id = ModelId::new(namespace, name, response.commit_oid)?;
    tracing::info!(model = %id, files = files.len(), "uploaded to the Hugging Face Hub");
    Ok(id)
}

/// The git blob id of a file: `sha1("blob {len}\0" + content)`, lowercase
/// hex (blocking).
fn git_blob_id(path: &Path) -> Result<String, HubError> {
    use sha1::{Digest as _, Sha1};
    let data = std::fs::read(path).map_err(|e| HubError::io(path, e))?;
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", data.len()).as_bytes());
    h.update(&data);
    Ok(hex(&h.finalize()))
}

/// The NDJSON commit body (blocking: reads the inline files).
fn commit_payload(
    parent: Option<String>,
    regular: &[LocalFile],
    lfs: &[(String, String, u64)],
    deleted: &[String],
) -> Result<Vec<u8>, HubError> {
    let mut header = json!({ "summary": "Upload model with gauntlet", "description": "" });
    if let Some(parent) = parent {
        header["parentCommit"] = json!(parent);
    }
    let mut lines = vec![json!({ "key": "header", "value": header })];
    for f in regular {
        let data = std::fs::read(&f.full_path).map_err(|e| HubError::io(&f.full_path, e))?;
        lines.push(json!({ "key": "file", "value": {
            "content": STANDARD.encode(data), "path": f.path, "encoding": "base64" } }));
    }
    for (path, oid, size) in lfs {
        lines.push(json!({ "key": "lfsFile", "value": {
            "path": path, "algo": "sha256", "oid": oid, "size": size } }));
    }
    for path in deleted {
        lines.push(json!({ "key": "deletedFile", "value": { "path": path } }));
    }
    let mut body = Vec::new();
    for line in lines {
        body.extend_from_slice(line.to_string().as_bytes());
        body.push(b'\n');
    }
    Ok(body)
}

async fn preupload(
    http: &Http,
    repo: &str,
    files: &[LocalFile],
) -> Result<Vec<super::api::PreuploadMode>, HubError> {
    let url = http.api(repo, &format!("/preupload/{BRANCH}"));
    let mut modes = Vec::with_capacity(files.len());
    for chunk in files.chunks(PREUPLOAD_BATCH) {
        let request = PreuploadRequest {
            files: chunk
                .iter()
                .map(|f| PreuploadFile {
                    path: f.path.clone(),
                    sample: STANDARD.encode(&f.sample),
                    size: f.size,
                    sha: f.sha256_hex.clone(),
                })
                .collect(),
        };
        let response: PreuploadResponse = http
            .json(&format!("repository {repo}"), || {
                Ok(http.hub(Method::POST, &url).json(&request))
            })
            .await?;
        modes.extend(response.files);
    }
    Ok(modes)
}

async fn create_repo(http: &Http, namespace: &str, name: &str) -> Result<(), HubError> {
    tracing::info!(repo = %format!("{namespace}/{name}"), "creating the repository");
    let body = CreateRepo {
        name: name.into(),
        organization: namespace.into(),
        repo_type: http.kind.name().into(),
        private: false,
    };
    let url = http.url("/api/repos/create");
    let result = http
        .send("the repository API", || {
            Ok(http.hub(Method::POST, &url).json(&body))
        })
        .await;
    match result {
        Ok(_) => Ok(()),
        // Created meanwhile by someone else: just as good.
        Err(HubError::Http { status: 409, .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

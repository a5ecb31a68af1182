//! Wire types of the Hugging Face Hub API subset this crate speaks.
//!
//! - `GET /api/models/{repo}/revision/{rev}?blobs=true` → [`RevisionInfo`]
//! - `POST /api/models/{repo}/preupload/{rev}` → [`PreuploadResponse`]
//! - `POST /{repo}.git/info/lfs/objects/batch` (Git LFS batch API) → [`BatchResponse`]
//! - `POST /api/models/{repo}/commit/{rev}` (NDJSON: a `header` line, then `file`,
//!   `lfsFile` and `deletedFile` lines) → [`CommitResponse`]
//! - `POST /api/repos/create` with [`CreateRepo`]
//!
//! Dataset repositories use `/api/datasets/…` and `/datasets/{repo}…` alike.
//!
//! Field names follow huggingface_hub's `hf_api.py`, `_commit_api.py` and `lfs.py`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// A revision and its files (`model_info(..., files_metadata=True)` in Python).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevisionInfo {
    /// The commit the revision resolved to.
    #[serde(default)]
    pub sha: Option<String>,
    /// Every file of the revision.
    #[serde(default)]
    pub siblings: Vec<Sibling>,
}

/// One file of a revision.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sibling {
    /// Path relative to the repository root.
    pub rfilename: String,
    /// Size in bytes (for LFS files the real size, not the pointer's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Git blob id: `sha1("blob {len}\0" + content)`, or of the LFS pointer for LFS files.
    #[serde(rename = "blobId", default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    /// Present for files stored in LFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lfs: Option<LfsInfo>,
}

/// LFS metadata of a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LfsInfo {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Size of the content in bytes.
    pub size: u64,
}

/// Body of a preupload request.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreuploadRequest {
    /// The files about to be committed.
    pub files: Vec<PreuploadFile>,
}

/// One file of a preupload request.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreuploadFile {
    /// Path in the repository.
    pub path: String,
    /// Base64 of the file's first 512 bytes (the hub sniffs text from binary).
    pub sample: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha: String,
}

/// Answer to a preupload request.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreuploadResponse {
    /// One entry per file asked about.
    pub files: Vec<PreuploadMode>,
}

/// How one file is to be uploaded.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreuploadMode {
    /// Path in the repository.
    pub path: String,
    /// `"regular"` (inline, base64, in the commit) or `"lfs"`.
    #[serde(rename = "uploadMode")]
    pub upload_mode: String,
    /// The repository's `.gitignore` excludes this file.
    #[serde(rename = "shouldIgnore", default)]
    pub should_ignore: bool,
}

/// Body of an LFS batch request.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchRequest {
    /// Always `"upload"` here.
    pub operation: String,
    /// Transfer adapters the client speaks: `["basic", "multipart"]`.
    pub transfers: Vec<String>,
    /// The objects to upload.
    pub objects: Vec<BatchObjectRequest>,
    /// Always `"sha256"`.
    pub hash_algo: String,
    /// The branch the objects are for.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<RefName>,
}

/// A branch name in an LFS batch request.
#[derive(Debug, Serialize, Deserialize)]
pub struct RefName {
    /// E.g. `main`.
    pub name: String,
}

/// One object of an LFS batch request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchObjectRequest {
    /// SHA-256 of the content, lowercase hex.
    pub oid: String,
    /// Size in bytes.
    pub size: u64,
}

/// Answer to an LFS batch request.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchResponse {
    /// One entry per object.
    pub objects: Vec<BatchObject>,
}

/// Instructions (or an error) for one object.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchObject {
    /// SHA-256 of the content, lowercase hex.
    pub oid: String,
    /// What to do; absent when the storage already holds the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<BatchActions>,
    /// Why the object cannot be uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BatchError>,
}

/// The actions of one object.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BatchActions {
    /// Where to PUT the content (basic), or where to POST the part list (multipart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<BatchAction>,
    /// Where to POST `{oid, size}` once the content is uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<BatchAction>,
}

/// One action: a URL and headers. For multipart uploads the headers hold `chunk_size`
/// and one presigned URL per part under the keys `"00001"`, `"00002"`, ….
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchAction {
    /// The URL.
    pub href: String,
    /// Headers to send (or, for multipart, the part plan).
    #[serde(default)]
    pub header: HashMap<String, String>,
}

/// An LFS error for one object.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchError {
    /// An HTTP-like code.
    #[serde(default)]
    pub code: u16,
    /// What went wrong.
    #[serde(default)]
    pub message: String,
}

/// Body of the completion request of a multipart upload.
#[derive(Debug, Serialize, Deserialize)]
pub struct MultipartComplete {
    /// SHA-256 of the content, lowercase hex.
    pub oid: String,
    /// The parts in order with the ETag each PUT returned.
    pub parts: Vec<CompletedPart>,
}

/// One uploaded part.
#[derive(Debug, Serialize, Deserialize)]
pub struct CompletedPart {
    /// 1-based part number.
    #[serde(rename = "partNumber")]
    pub part_number: u32,
    /// The ETag of the part's PUT.
    pub etag: String,
}

/// Answer to a commit.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommitResponse {
    /// The new commit's id.
    #[serde(rename = "commitOid")]
    pub commit_oid: String,
    /// Link to the commit on the hub.
    #[serde(rename = "commitUrl", default)]
    pub commit_url: String,
}

/// Body of a repository creation request.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreateRepo {
    /// The repository's name.
    pub name: String,
    /// Its namespace (user or organisation).
    pub organization: String,
    /// `"model"`.
    #[serde(rename = "type")]
    pub repo_type: String,
    /// Whether only the owner can see it.
    pub private: bool,
}

//! A local server speaking the subset of the Hugging Face Hub API that `HfHub` uses,
//! written from the Hub's documented behaviour (not from the client's code): revision
//! listings with blob metadata, `resolve` downloads with `Range`, LFS files served by a
//! redirect to a separate "CDN" origin, preupload, the LFS batch API (basic and
//! multipart), the NDJSON commit API with `parentCommit`, and repository creation.
//!
//! Two listeners share one state: the API origin and the storage origin (another port,
//! so a leaked `Authorization` header is detectable). Faults can be injected and every
//! request is counted.

// Early-return helpers hand back a ready axum response; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

mod datasets;
mod repo;
mod storage;

use repo::{commit, create_repo, preupload, resolve, revision};
use storage::{lfs_batch, part_complete, part_put, storage_get, storage_put, verify};

/// Request counters.
#[derive(Default)]
pub struct Counters {
    pub api: AtomicUsize,
    pub resolve: AtomicUsize,
    pub storage_get: AtomicUsize,
    pub lfs_put: AtomicUsize,
    pub part_put: AtomicUsize,
    pub commits: AtomicUsize,
    /// Files (inline or LFS) that commits added or replaced.
    pub committed_files: AtomicUsize,
    pub range_requests: AtomicUsize,
}

/// Faults to inject.
#[derive(Default)]
pub struct Faults {
    /// Answer 500 to this many requests, then behave.
    pub fail_next: usize,
    /// Paths served with a full Content-Length but only half the bytes.
    pub truncate: HashSet<String>,
    /// Paths served with one byte flipped.
    pub corrupt: HashSet<String>,
    /// When set, API requests must carry `Authorization: Bearer <token>`.
    pub require_token: Option<String>,
}

#[derive(Clone)]
struct StoredFile {
    data: Arc<Vec<u8>>,
    lfs: bool,
}

type Tree = BTreeMap<String, StoredFile>;

struct Repo {
    main: String,
    commits: HashMap<String, Tree>,
}

#[derive(Default)]
struct Data {
    repos: HashMap<String, Repo>,
    lfs: HashMap<String, Arc<Vec<u8>>>,
    parts: HashMap<(String, u32), Vec<u8>>,
    next_commit: u64,
}

struct Inner {
    data: Mutex<Data>,
    faults: Mutex<Faults>,
    counters: Counters,
    storage_base: String,
    /// Files at least this big, or with a NUL byte in their sample, go to LFS.
    lfs_threshold: u64,
    /// LFS objects bigger than this use multipart uploads with parts of this size.
    multipart_chunk: u64,
}

type Shared = Arc<Inner>;

/// A running fake hub.
pub struct FakeHub {
    pub base: String,
    inner: Shared,
}

impl FakeHub {
    pub async fn start() -> FakeHub {
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let storage = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", api.local_addr().unwrap());
        let inner = Arc::new(Inner {
            data: Mutex::default(),
            faults: Mutex::default(),
            counters: Counters::default(),
            storage_base: format!("http://{}", storage.local_addr().unwrap()),
            lfs_threshold: 1024,
            multipart_chunk: 40_000,
        });
        let app = Router::new()
            .route("/api/repos/create", post(create_repo))
            .route("/api/models/{ns}/{name}/revision/{rev}", get(revision))
            .route("/api/models/{ns}/{name}/preupload/{rev}", post(preupload))
            .route("/api/models/{ns}/{name}/commit/{rev}", post(commit))
            .route("/{ns}/{name}/info/lfs/objects/batch", post(lfs_batch))
            .route("/{ns}/{name}/resolve/{rev}/{*path}", get(resolve))
            .route(
                "/api/datasets/{ns}/{name}/revision/{rev}",
                get(datasets::revision),
            )
            .route(
                "/api/datasets/{ns}/{name}/preupload/{rev}",
                post(datasets::preupload),
            )
            .route(
                "/api/datasets/{ns}/{name}/commit/{rev}",
                post(datasets::commit),
            )
            .route(
                "/datasets/{ns}/{name}/info/lfs/objects/batch",
                post(datasets::lfs_batch),
            )
            .route(
                "/datasets/{ns}/{name}/resolve/{rev}/{*path}",
                get(datasets::resolve),
            )
            .route("/_storage/object/{oid}", get(storage_get).put(storage_put))
            .route("/_storage/part/{oid}/{n}", put(part_put))
            .route("/_storage/complete/{oid}", post(part_complete))
            .route("/_storage/verify", post(verify))
            .with_state(inner.clone());
        for listener in [api, storage] {
            let app = app.clone();
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        FakeHub { base, inner }
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    pub fn count(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.inner.faults.lock().unwrap()
    }

    /// The repositories the server holds: models as `ns/name`, datasets as
    /// `datasets/ns/name`.
    pub fn repos(&self) -> Vec<String> {
        let data = self.inner.data.lock().unwrap();
        let mut repos: Vec<String> = data.repos.keys().cloned().collect();
        repos.sort();
        repos
    }

    /// The files of a revision as the server stores them.
    pub fn files(&self, repo: &str, rev: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let data = self.inner.data.lock().unwrap();
        let repo = data.repos.get(repo)?;
        let tree = repo.commits.get(rev)?;
        Some(
            tree.iter()
                .map(|(p, f)| (p.clone(), f.data.to_vec()))
                .collect(),
        )
    }

    /// Whether a stored file went through LFS.
    pub fn is_lfs(&self, repo: &str, rev: &str, path: &str) -> bool {
        let data = self.inner.data.lock().unwrap();
        data.repos[repo].commits[rev][path].lfs
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn git_blob_id(data: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", data.len()).as_bytes());
    h.update(data);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts the request, injects 500s, checks the token on the API origin and that no
/// token ever reaches storage.
fn gate(hub: &Inner, headers: &HeaderMap, storage: bool) -> Result<(), Response> {
    if !storage {
        hub.counters.api.fetch_add(1, Ordering::SeqCst);
    }
    let mut faults = hub.faults.lock().unwrap();
    if faults.fail_next > 0 {
        faults.fail_next -= 1;
        return Err(error(StatusCode::INTERNAL_SERVER_ERROR, "injected failure"));
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if storage {
        if auth.is_some_and(|a| a.starts_with("Bearer")) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "hub token leaked to storage",
            ));
        }
    } else if let Some(token) = &faults.require_token {
        if auth != Some(format!("Bearer {token}").as_str()) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "Invalid credentials in Authorization header",
            ));
        }
    }
    Ok(())
}

fn lookup<'a>(data: &'a Data, repo: &str, rev: &str) -> Result<(String, &'a Tree), Response> {
    let Some(r) = data.repos.get(repo) else {
        return Err(error(StatusCode::NOT_FOUND, "Repository not found"));
    };
    let sha = if rev == "main" {
        r.main.clone()
    } else {
        rev.to_owned()
    };
    match r.commits.get(&sha) {
        Some(tree) => Ok((sha, tree)),
        None => Err(error(
            StatusCode::NOT_FOUND,
            &format!("Invalid rev id: {rev}"),
        )),
    }
}

//! The repository API: creation, revision listings, `resolve`, preupload, commits.

use super::storage::serve_bytes;
use super::*;

pub(super) async fn create_repo(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    let (Some(ns), Some(name)) = (body["organization"].as_str(), body["name"].as_str()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "name and organization are required",
        );
    };
    // Datasets live apart from models, as on the Hub: one name can be both.
    let repo = match body["type"].as_str() {
        Some("model") => format!("{ns}/{name}"),
        Some("dataset") => format!("datasets/{ns}/{name}"),
        _ => return error(StatusCode::BAD_REQUEST, "only model and dataset repos here"),
    };
    let mut data = hub.data.lock().unwrap();
    if data.repos.contains_key(&repo) {
        return error(StatusCode::CONFLICT, "You already created this repo");
    }
    // Like the Hub, a new repository starts with a commit holding .gitattributes.
    let mut tree = Tree::new();
    let attrs = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n".to_vec();
    tree.insert(
        ".gitattributes".into(),
        StoredFile {
            data: Arc::new(attrs),
            lfs: false,
        },
    );
    data.next_commit += 1;
    let sha = hex(&Sha1::digest(format!(
        "initial {repo} {}",
        data.next_commit
    )));
    data.repos.insert(
        repo.clone(),
        Repo {
            main: sha.clone(),
            commits: HashMap::from([(sha, tree)]),
        },
    );
    Json(json!({ "url": format!("{}/{repo}", "http://hub"), "name": repo })).into_response()
}

pub(super) async fn revision(
    State(hub): State<Shared>,
    Path((ns, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    let data = hub.data.lock().unwrap();
    let (sha, tree) = match lookup(&data, &format!("{ns}/{name}"), &rev) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let siblings: Vec<Value> = tree
        .iter()
        .map(|(path, f)| {
            if f.lfs {
                let pointer = format!(
                    "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize {}\n",
                    sha256_hex(&f.data),
                    f.data.len()
                );
                json!({ "rfilename": path, "size": f.data.len(), "blobId": git_blob_id(pointer.as_bytes()),
                        "lfs": { "sha256": sha256_hex(&f.data), "size": f.data.len(), "pointerSize": pointer.len() } })
            } else {
                json!({ "rfilename": path, "size": f.data.len(), "blobId": git_blob_id(&f.data) })
            }
        })
        .collect();
    Json(json!({ "id": format!("{ns}/{name}"), "sha": sha, "siblings": siblings })).into_response()
}

pub(super) async fn resolve(
    State(hub): State<Shared>,
    Path((ns, name, rev, path)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    hub.counters.resolve.fetch_add(1, Ordering::SeqCst);
    let file = {
        let data = hub.data.lock().unwrap();
        let (_, tree) = match lookup(&data, &format!("{ns}/{name}"), &rev) {
            Ok(found) => found,
            Err(r) => return r,
        };
        match tree.get(&path) {
            Some(f) => f.clone(),
            None => return error(StatusCode::NOT_FOUND, "Entry not found"),
        }
    };
    if file.lfs {
        // LFS content lives on the storage origin, like the Hub's CDN.
        let location = format!(
            "{}/_storage/object/{}",
            hub.storage_base,
            sha256_hex(&file.data)
        );
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, location)
            .body(Body::empty())
            .unwrap();
    }
    serve_bytes(&hub, &headers, &file.data, &path)
}

pub(super) async fn preupload(
    State(hub): State<Shared>,
    Path((ns, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    {
        let data = hub.data.lock().unwrap();
        if let Err(r) = lookup(&data, &format!("{ns}/{name}"), &rev) {
            return r;
        }
    }
    let Some(files) = body["files"].as_array() else {
        return error(StatusCode::BAD_REQUEST, "files missing");
    };
    let mut modes = Vec::new();
    for f in files {
        let (Some(path), Some(size), Some(sample)) =
            (f["path"].as_str(), f["size"].as_u64(), f["sample"].as_str())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "path, size and sample are required",
            );
        };
        let Ok(sample) = STANDARD.decode(sample) else {
            return error(StatusCode::BAD_REQUEST, "sample is not base64");
        };
        let binary = sample.contains(&0);
        let mode = if size >= hub.lfs_threshold || binary {
            "lfs"
        } else {
            "regular"
        };
        modes.push(json!({ "path": path, "uploadMode": mode, "shouldIgnore": false }));
    }
    Json(json!({ "files": modes, "commitOid": "ignored" })).into_response()
}

pub(super) async fn commit(
    State(hub): State<Shared>,
    Path((ns, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    hub.counters.commits.fetch_add(1, Ordering::SeqCst);
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/x-ndjson")
    {
        return error(StatusCode::BAD_REQUEST, "NDJSON expected");
    }
    let repo = format!("{ns}/{name}");
    let mut data = hub.data.lock().unwrap();
    let (parent, mut tree) = match lookup(&data, &repo, &rev) {
        Ok((sha, tree)) => (sha, tree.clone()),
        Err(r) => return r,
    };
    let mut lines = body.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let Some(Ok(first)) = lines.next().map(serde_json::from_slice::<Value>) else {
        return error(StatusCode::BAD_REQUEST, "header line missing");
    };
    if first["key"] != "header" || !first["value"]["summary"].is_string() {
        return error(StatusCode::BAD_REQUEST, "first line must be the header");
    }
    if let Some(p) = first["value"]["parentCommit"].as_str() {
        if p != parent {
            return error(
                StatusCode::PRECONDITION_FAILED,
                "A commit has happened since. Please refresh and try again.",
            );
        }
    }
    for line in lines {
        let Ok(op) = serde_json::from_slice::<Value>(line) else {
            return error(StatusCode::BAD_REQUEST, "bad NDJSON line");
        };
        let v = &op["value"];
        let Some(path) = v["path"].as_str().map(str::to_owned) else {
            return error(StatusCode::BAD_REQUEST, "path missing");
        };
        if matches!(op["key"].as_str(), Some("file" | "lfsFile")) {
            hub.counters.committed_files.fetch_add(1, Ordering::SeqCst);
        }
        match op["key"].as_str() {
            Some("file") => {
                let Some(Ok(bytes)) = v["content"].as_str().map(|c| STANDARD.decode(c)) else {
                    return error(StatusCode::BAD_REQUEST, "content must be base64");
                };
                tree.insert(
                    path,
                    StoredFile {
                        data: Arc::new(bytes),
                        lfs: false,
                    },
                );
            }
            Some("lfsFile") => {
                let Some(obj) = v["oid"].as_str().and_then(|o| data.lfs.get(o)).cloned() else {
                    return error(StatusCode::BAD_REQUEST, "LFS object was never uploaded");
                };
                if v["algo"] != "sha256" || v["size"].as_u64() != Some(obj.len() as u64) {
                    return error(StatusCode::BAD_REQUEST, "bad lfsFile");
                }
                tree.insert(
                    path,
                    StoredFile {
                        data: obj,
                        lfs: true,
                    },
                );
            }
            Some("deletedFile") => {
                if tree.remove(&path).is_none() {
                    return error(StatusCode::NOT_FOUND, "file to delete does not exist");
                }
            }
            _ => return error(StatusCode::BAD_REQUEST, "unknown operation"),
        }
    }
    data.next_commit += 1;
    let sha = hex(&Sha1::digest(format!("commit {repo} {}", data.next_commit)));
    let r = data.repos.get_mut(&repo).unwrap();
    r.commits.insert(sha.clone(), tree);
    r.main = sha.clone();
    Json(json!({ "success": true, "commitOid": sha, "commitUrl": format!("http://hub/{repo}/commit/{sha}") })).into_response()
}

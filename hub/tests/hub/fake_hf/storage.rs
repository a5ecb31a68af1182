//! The LFS side: the batch API and the storage origin (objects, parts, verify).

use super::*;

/// Serves bytes honouring `Range: bytes=N-`, with the injected truncation or corruption.
pub(super) fn serve_bytes(hub: &Inner, headers: &HeaderMap, data: &[u8], path: &str) -> Response {
    let faults = hub.faults.lock().unwrap();
    let mut data = data.to_vec();
    if faults.corrupt.contains(path) && !data.is_empty() {
        data[0] ^= 0xff;
    }
    let start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .and_then(|v| v.parse::<usize>().ok());
    let mut builder = Response::builder().header(header::ACCEPT_RANGES, "bytes");
    let body = match start {
        Some(start) if start < data.len() => {
            hub.counters.range_requests.fetch_add(1, Ordering::SeqCst);
            builder = builder.status(StatusCode::PARTIAL_CONTENT).header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{}/{}", data.len() - 1, data.len()),
            );
            data[start..].to_vec()
        }
        _ => data,
    };
    builder = builder.header(header::CONTENT_LENGTH, body.len());
    if faults.truncate.contains(path) {
        // Announce every byte, send half, pause (so it reaches the client), then end:
        // the server closes the connection and the client sees a short body.
        let half = body[..body.len() / 2].to_vec();
        let (mut writer, reader) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = writer.write_all(&half).await;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        });
        let stream = tokio_util::io::ReaderStream::new(reader);
        return builder.body(Body::from_stream(stream)).unwrap();
    }
    builder.body(Body::from(body)).unwrap()
}

pub(super) async fn storage_get(
    State(hub): State<Shared>,
    Path(oid): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = gate(&hub, &headers, true) {
        return r;
    }
    hub.counters.storage_get.fetch_add(1, Ordering::SeqCst);
    let found = hub.data.lock().unwrap().lfs.get(&oid).cloned();
    let path = {
        // Faults are keyed by path: find the path of this object in any tree.
        let data = hub.data.lock().unwrap();
        data.repos
            .values()
            .flat_map(|r| r.commits.values())
            .flat_map(|t| t.iter())
            .find(|(_, f)| f.lfs && sha256_hex(&f.data) == oid)
            .map(|(p, _)| p.clone())
            .unwrap_or_default()
    };
    match found {
        Some(bytes) => serve_bytes(&hub, &headers, &bytes, &path),
        None => error(StatusCode::NOT_FOUND, "no such object"),
    }
}

pub(super) async fn lfs_batch(
    State(hub): State<Shared>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&hub, &headers, false) {
        return r;
    }
    let Some(name) = name.strip_suffix(".git") else {
        return error(StatusCode::NOT_FOUND, "not a git endpoint");
    };
    if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        != Some("application/vnd.git-lfs+json")
    {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "LFS content type required",
        );
    }
    if !hub
        .data
        .lock()
        .unwrap()
        .repos
        .contains_key(&format!("{ns}/{name}"))
    {
        return error(StatusCode::NOT_FOUND, "Repository not found");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad JSON");
    };
    if body["operation"] != "upload" || body["hash_algo"] != "sha256" {
        return error(StatusCode::BAD_REQUEST, "upload with sha256 only");
    }
    let multipart_ok = body["transfers"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == "multipart"));
    let data = hub.data.lock().unwrap();
    let mut objects = Vec::new();
    for o in body["objects"].as_array().cloned().unwrap_or_default() {
        let (Some(oid), Some(size)) = (o["oid"].as_str(), o["size"].as_u64()) else {
            return error(StatusCode::BAD_REQUEST, "oid and size required");
        };
        if data.lfs.contains_key(oid) {
            objects.push(json!({ "oid": oid, "size": size }));
            continue;
        }
        let verify = json!({ "href": format!("{}/_storage/verify", hub.storage_base),
                             "header": { "Authorization": "Basic dmVyaWZ5" } });
        let upload = if size > hub.multipart_chunk && multipart_ok {
            let chunk = hub.multipart_chunk;
            let mut header = serde_json::Map::new();
            header.insert("chunk_size".into(), json!(chunk.to_string()));
            for n in 1..=size.div_ceil(chunk) {
                header.insert(
                    format!("{n:05}"),
                    json!(format!(
                        "{}/_storage/part/{oid}/{n}?X-Amz-Signature=s",
                        hub.storage_base
                    )),
                );
            }
            json!({ "href": format!("{}/_storage/complete/{oid}", hub.storage_base), "header": header })
        } else {
            json!({ "href": format!("{}/_storage/object/{oid}?X-Amz-Signature=s", hub.storage_base) })
        };
        objects.push(json!({ "oid": oid, "size": size, "authenticated": true,
                             "actions": { "upload": upload, "verify": verify } }));
    }
    Json(json!({ "transfer": "basic", "objects": objects })).into_response()
}

/// Storage refuses chunked uploads, like S3: a Content-Length is required.
fn require_length(headers: &HeaderMap, body: &Bytes) -> Result<(), Response> {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if headers.contains_key(header::TRANSFER_ENCODING) || len != Some(body.len()) {
        return Err(error(
            StatusCode::NOT_IMPLEMENTED,
            "Transfer-Encoding: chunked is not supported",
        ));
    }
    Ok(())
}

pub(super) async fn storage_put(
    State(hub): State<Shared>,
    Path(oid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&hub, &headers, true).and_then(|_| require_length(&headers, &body)) {
        return r;
    }
    hub.counters.lfs_put.fetch_add(1, Ordering::SeqCst);
    if sha256_hex(&body) != oid {
        return error(StatusCode::BAD_REQUEST, "content does not match the oid");
    }
    hub.data
        .lock()
        .unwrap()
        .lfs
        .insert(oid, Arc::new(body.to_vec()));
    StatusCode::OK.into_response()
}

pub(super) async fn part_put(
    State(hub): State<Shared>,
    Path((oid, n)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = gate(&hub, &headers, true).and_then(|_| require_length(&headers, &body)) {
        return r;
    }
    hub.counters.part_put.fetch_add(1, Ordering::SeqCst);
    let etag = format!("\"{}\"", &sha256_hex(&body)[..16]);
    hub.data
        .lock()
        .unwrap()
        .parts
        .insert((oid, n), body.to_vec());
    Response::builder()
        .header(header::ETAG, etag)
        .body(Body::empty())
        .unwrap()
}

pub(super) async fn part_complete(
    State(hub): State<Shared>,
    Path(oid): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&hub, &headers, true) {
        return r;
    }
    let mut data = hub.data.lock().unwrap();
    let mut content = Vec::new();
    let parts = body["parts"].as_array().cloned().unwrap_or_default();
    for (i, p) in parts.iter().enumerate() {
        let n = i as u32 + 1;
        if p["partNumber"].as_u64() != Some(u64::from(n)) {
            return error(StatusCode::BAD_REQUEST, "parts out of order");
        }
        let Some(bytes) = data.parts.remove(&(oid.clone(), n)) else {
            return error(StatusCode::BAD_REQUEST, "missing part");
        };
        let etag = format!("\"{}\"", &sha256_hex(&bytes)[..16]);
        if p["etag"].as_str() != Some(etag.as_str()) {
            return error(StatusCode::BAD_REQUEST, "etag mismatch");
        }
        content.extend_from_slice(&bytes);
    }
    if body["oid"] != oid.as_str() || sha256_hex(&content) != oid {
        return error(
            StatusCode::BAD_REQUEST,
            "assembled content does not match the oid",
        );
    }
    data.lfs.insert(oid, Arc::new(content));
    StatusCode::OK.into_response()
}

pub(super) async fn verify(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = gate(&hub, &headers, true) {
        return r;
    }
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some("Basic dmVyaWZ5")
    {
        return error(StatusCode::UNAUTHORIZED, "verify header missing");
    }
    let data = hub.data.lock().unwrap();
    let ok = body["oid"]
        .as_str()
        .and_then(|o| data.lfs.get(o))
        .map(|d| d.len() as u64)
        == body["size"].as_u64();
    if ok {
        StatusCode::OK.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "object not found")
    }
}

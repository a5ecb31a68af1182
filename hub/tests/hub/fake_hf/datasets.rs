//! Dataset repositories: the same API under `/api/datasets/…` and
//! `/datasets/{repo}/…`, stored beside the models as `datasets/ns/name`.

use super::*;

fn ns(ns: String) -> String {
    format!("datasets/{ns}")
}

pub(super) async fn revision(
    hub: State<Shared>,
    Path((n, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    super::repo::revision(hub, Path((ns(n), name, rev)), headers).await
}

pub(super) async fn preupload(
    hub: State<Shared>,
    Path((n, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Json<Value>,
) -> Response {
    super::repo::preupload(hub, Path((ns(n), name, rev)), headers, body).await
}

pub(super) async fn commit(
    hub: State<Shared>,
    Path((n, name, rev)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    super::repo::commit(hub, Path((ns(n), name, rev)), headers, body).await
}

pub(super) async fn lfs_batch(
    hub: State<Shared>,
    Path((n, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    super::storage::lfs_batch(hub, Path((ns(n), name)), headers, body).await
}

pub(super) async fn resolve(
    hub: State<Shared>,
    Path((n, name, rev, path)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    super::repo::resolve(hub, Path((ns(n), name, rev, path)), headers).await
}

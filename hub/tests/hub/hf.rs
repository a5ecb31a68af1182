//! `HfHub` against the local fake Hub: uploads, downloads, caps, faults, credentials.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gauntlet_hub::{
    repo_hash_dir, HfHub, HubError, ModelId, ModelStore, Progress, RepoKind, RetryPolicy,
};

use crate::fake_hf::FakeHub;
use crate::{model_files, read_tree, write_tree};

/// Quick retries so fault tests stay fast.
fn quick_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

fn client(server: &FakeHub, cache: &Path) -> HfHub {
    HfHub::new(&server.base, cache)
        .unwrap()
        .with_retry(quick_retry(3))
}

/// A model with a `.gitattributes` of its own (the Hub keeps one in every repository),
/// a binary LFS file, a large multipart LFS file, text files, a nested and an empty one.
fn full_model(dir: &Path) {
    let mut files = model_files(7);
    let big: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    files.push(("shards/model-big.bin", big));
    files.push((
        ".gitattributes",
        b"*.bin filter=lfs diff=lfs merge=lfs -text\n".to_vec(),
    ));
    write_tree(dir, &files);
}

#[tokio::test]
async fn upload_then_download_round_trip() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));

    let id = hub.upload(&src, "miner1", "tiny").await.unwrap();
    assert_eq!(id.repo_id(), "miner1/tiny");
    // The server stored exactly the directory's files, small ones inline and binary
    // ones through LFS (the big one in several parts).
    let stored = server.files("miner1/tiny", &id.commit).unwrap();
    let local: Vec<(String, Vec<u8>)> = read_tree(&src);
    assert!(
        stored.into_iter().collect::<Vec<_>>() == local,
        "server holds other files"
    );
    assert!(server.is_lfs("miner1/tiny", &id.commit, "model.safetensors"));
    assert!(!server.is_lfs("miner1/tiny", &id.commit, "config.json"));
    assert!(
        FakeHub::count(&server.counters().part_put) >= 3,
        "multipart upload used"
    );
    assert!(
        FakeHub::count(&server.counters().lfs_put) >= 1,
        "basic upload used"
    );

    let model = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
    assert!(read_tree(&model.dir) == local, "downloaded files differ");
    assert_eq!(model.total_bytes, hub.revision_size(&id).await.unwrap());
    assert_eq!(
        model.dir,
        tmp.path().join("cache/miner1/tiny").join(&id.commit)
    );

    // A second download is served from the cache: the revision is listed
    // again (the copy is checked against it) but no file is fetched.
    let files = |s: &FakeHub| {
        FakeHub::count(&s.counters().resolve) + FakeHub::count(&s.counters().storage_get)
    };
    let (api, fetched) = (FakeHub::count(&server.counters().api), files(&server));
    assert_eq!(hub.download(&id, u64::MAX).await.unwrap(), model);
    assert_eq!(FakeHub::count(&server.counters().api), api + 1);
    assert_eq!(files(&server), fetched);
}

/// A dataset repository (how ledgers are published): created as a dataset,
/// uploaded, resolved and downloaded through `/api/datasets/…` and
/// `/datasets/…`, LFS files included, and kept apart from a model of the
/// same name.
#[tokio::test]
async fn a_dataset_repository_round_trips_apart_from_models() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let datasets = client(&server, &tmp.path().join("ledgers")).with_repo_kind(RepoKind::Dataset);
    let models = client(&server, &tmp.path().join("models"));

    let id = datasets.upload(&src, "validator1", "ledger").await.unwrap();
    assert_eq!(server.repos(), vec!["datasets/validator1/ledger"]);
    assert!(server.is_lfs(
        "datasets/validator1/ledger",
        &id.commit,
        "model.safetensors"
    ));
    assert_eq!(
        datasets
            .main_revision("validator1", "ledger")
            .await
            .unwrap(),
        id
    );
    let got = datasets.download(&id, u64::MAX).await.unwrap();
    assert_eq!(got.repo_hash, repo_hash_dir(&src).unwrap());
    assert!(
        read_tree(&got.dir) == read_tree(&src),
        "downloaded files differ"
    );

    // No model of that name exists, and a model of that name is another repository.
    assert!(matches!(
        models.main_revision("validator1", "ledger").await,
        Err(HubError::NotFound { .. })
    ));
    write_tree(&src, &model_files(2));
    let model = models.upload(&src, "validator1", "ledger").await.unwrap();
    assert_eq!(
        server.repos(),
        vec!["datasets/validator1/ledger", "validator1/ledger"]
    );
    assert_ne!(model.commit, id.commit);
    assert_eq!(
        datasets
            .main_revision("validator1", "ledger")
            .await
            .unwrap(),
        id
    );
}

#[tokio::test]
async fn a_branch_resolves_to_its_latest_commit() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(3));
    let hub = client(&server, &tmp.path().join("cache"));
    let first = hub.upload(&src, "miner1", "tiny").await.unwrap();
    assert_eq!(hub.resolve("miner1", "tiny", "main").await.unwrap(), first);
    write_tree(&src, &model_files(4));
    let second = hub.upload(&src, "miner1", "tiny").await.unwrap();
    assert_ne!(first, second);
    assert_eq!(hub.resolve("miner1", "tiny", "main").await.unwrap(), second);
    // A commit resolves to itself; bad names never reach the server.
    assert_eq!(
        hub.resolve("miner1", "tiny", &first.commit).await.unwrap(),
        first
    );
    assert!(matches!(
        hub.resolve("miner1", "tiny", "../x").await,
        Err(HubError::Config(_))
    ));
    assert!(hub.resolve("miner1", "nope", "main").await.is_err());
}

#[tokio::test]
async fn a_new_upload_replaces_the_file_set_and_old_revisions_stay() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let (v1, v2) = (tmp.path().join("v1"), tmp.path().join("v2"));
    write_tree(&v1, &model_files(1));
    write_tree(&v2, &model_files(2)[..2]); // drops the tokenizer and README
    let hub = client(&server, &tmp.path().join("cache"));

    let first = hub.upload(&v1, "ns", "model").await.unwrap();
    let second = hub.upload(&v2, "ns", "model").await.unwrap();
    assert_ne!(first.commit, second.commit);
    let files: Vec<String> = server
        .files("ns/model", &second.commit)
        .unwrap()
        .into_keys()
        .collect();
    // The Hub's own .gitattributes stays; the stale files are gone.
    assert_eq!(
        files,
        [".gitattributes", "config.json", "model.safetensors"]
    );

    let old = hub.download(&first, u64::MAX).await.unwrap();
    let mut expected = read_tree(&v1);
    expected.push((
        ".gitattributes".into(),
        server.files("ns/model", &first.commit).unwrap()[".gitattributes"].clone(),
    ));
    expected.sort();
    assert!(read_tree(&old.dir) == expected, "old revision differs");
    let new = hub.download(&second, u64::MAX).await.unwrap();
    assert_ne!(old.repo_hash, new.repo_hash);
}

/// Publishing again after a small change (a ledger after each round) sends
/// only the changed file; publishing an unchanged directory makes no commit.
#[tokio::test]
async fn an_upload_sends_only_what_changed() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let first = hub.upload(&src, "miner1", "tiny").await.unwrap();
    let (commits, files) = (
        FakeHub::count(&server.counters().commits),
        FakeHub::count(&server.counters().committed_files),
    );
    assert!(files >= 5, "the first upload sends every file");

    assert_eq!(hub.upload(&src, "miner1", "tiny").await.unwrap(), first);
    assert_eq!(
        FakeHub::count(&server.counters().commits),
        commits,
        "no commit"
    );

    std::fs::write(src.join("config.json"), "{\"changed\": true}").unwrap();
    let second = hub.upload(&src, "miner1", "tiny").await.unwrap();
    assert_ne!(second, first);
    assert_eq!(FakeHub::count(&server.counters().commits), commits + 1);
    assert_eq!(
        FakeHub::count(&server.counters().committed_files),
        files + 1,
        "only the changed file is sent"
    );
    // The new revision still holds every file.
    assert!(
        server.files("miner1/tiny", &second.commit).unwrap()
            == read_tree(&src).into_iter().collect()
    );
}

#[tokio::test]
async fn size_cap_refuses_before_any_file_request() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();
    let size = hub.revision_size(&id).await.unwrap();

    let err = hub.download(&id, size - 1).await.unwrap_err();
    assert!(
        matches!(err, HubError::TooLarge { bytes, max } if bytes == size && max == size - 1),
        "{err}"
    );
    assert_eq!(FakeHub::count(&server.counters().resolve), 0);
    assert_eq!(FakeHub::count(&server.counters().storage_get), 0);
    assert!(!tmp.path().join("cache").join("ns").exists());
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();

    server.faults().fail_next = 2;
    let model = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
    assert_eq!(
        server.faults().fail_next,
        0,
        "both failures were met and retried"
    );

    // More failures than attempts: a transient error comes back, nothing published.
    server.faults().fail_next = 10;
    let other = ModelId {
        name: "model2".into(),
        ..id
    };
    let err = hub.download(&other, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::Http { status: 500, .. }) && err.is_transient(),
        "{err}"
    );
}

#[tokio::test]
async fn server_down_is_a_transient_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener); // nothing listens there any more
    let tmp = tempfile::tempdir().unwrap();
    let hub = HfHub::new(&format!("http://{addr}"), tmp.path())
        .unwrap()
        .with_retry(quick_retry(2));
    let id = ModelId::new("ns", "model", "0123456789abcdef0123456789abcdef01234567").unwrap();
    let err = hub.download(&id, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::Network { .. }) && err.is_transient(),
        "{err}"
    );
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    assert!(hub
        .upload(&src, "ns", "model")
        .await
        .unwrap_err()
        .is_transient());
}

#[tokio::test]
async fn missing_revision_is_a_clear_permanent_error() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();

    let missing = ModelId {
        commit: "f".repeat(40),
        ..id.clone()
    };
    let err = hub.download(&missing, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::NotFound { .. }) && !err.is_transient(),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&missing.commit) && text.contains("ns/model"),
        "{text}"
    );

    let no_repo = ModelId {
        name: "absent".into(),
        ..id
    };
    let err = hub.download(&no_repo, u64::MAX).await.unwrap_err();
    assert!(err.to_string().contains("Repository not found"), "{err}");
}

#[tokio::test]
async fn truncated_transfer_is_an_error_and_resumes_later() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();

    server
        .faults()
        .truncate
        .insert("shards/model-big.bin".into());
    let err = hub.download(&id, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::Incomplete { .. }) && err.is_transient(),
        "{err}"
    );
    let final_dir = tmp.path().join("cache/ns/model").join(&id.commit);
    assert!(
        !final_dir.exists(),
        "no half-written revision may look complete"
    );

    // Once the server behaves, the download resumes from the bytes it has.
    server.faults().truncate.clear();
    let model = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.dir, final_dir);
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
    assert!(
        FakeHub::count(&server.counters().range_requests) >= 1,
        "resumed with Range"
    );
    assert!(!tmp
        .path()
        .join("cache/.partial/ns/model")
        .join(&id.commit)
        .exists());
}

#[tokio::test]
async fn corrupted_content_is_refused() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();

    for path in ["config.json", "model.safetensors"] {
        server.faults().corrupt.insert(path.into());
        let err = hub.download(&id, u64::MAX).await.unwrap_err();
        assert!(
            matches!(&err, HubError::Integrity { path: p, .. } if p == path),
            "{err}"
        );
        assert!(!err.is_transient());
        server.faults().corrupt.clear();
    }
    assert!(!tmp.path().join("cache/ns/model").join(&id.commit).exists());
    assert!(hub.download(&id, u64::MAX).await.is_ok());
}

#[tokio::test]
async fn tokens_are_required_sent_and_never_leaked() {
    let server = FakeHub::start().await;
    server.faults().require_token = Some("hf_secret".into());
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);

    let anonymous = client(&server, &tmp.path().join("cache"));
    let err = anonymous.upload(&src, "ns", "model").await.unwrap_err();
    assert!(
        matches!(err, HubError::Unauthorized { status: 401, .. }) && !err.is_transient(),
        "{err}"
    );
    assert!(err.to_string().contains("HF_TOKEN"));

    let authed = client(&server, &tmp.path().join("cache")).with_token(Some("hf_secret".into()));
    assert!(
        !format!("{authed:?}").contains("hf_secret"),
        "Debug must not print the token"
    );
    // The fake storage origin refuses any request carrying the hub token, so these pass
    // only if LFS uploads and CDN downloads go without it.
    let id = authed.upload(&src, "ns", "model").await.unwrap();
    let model = authed.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
}

#[tokio::test]
async fn progress_is_reported() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let hub = client(&server, &tmp.path().join("cache"))
        .with_progress(move |p| sink.lock().unwrap().push(p.clone()));
    let id = hub.upload(&src, "ns", "model").await.unwrap();
    let model = hub.download(&id, u64::MAX).await.unwrap();

    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.done_bytes, model.total_bytes);
    assert_eq!(last.total_bytes, model.total_bytes);
    assert!(seen.windows(2).all(|w| w[0].done_bytes <= w[1].done_bytes));
    assert_eq!(
        seen.iter().filter(|p| p.file_bytes == p.file_size).count(),
        read_tree(&src).len()
    );
}

#[tokio::test]
async fn both_stores_behind_one_trait() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let stores: Vec<Box<dyn ModelStore>> = vec![
        Box::new(gauntlet_hub::LocalHub::open(tmp.path().join("local")).unwrap()),
        Box::new(client(&server, &tmp.path().join("cache"))),
    ];
    for store in &stores {
        let id = store.upload(&src, "ns", "model").await.unwrap();
        let model = store.download(&id, u64::MAX).await.unwrap();
        assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
    }
}

/// A cached copy damaged on disk (same size, one byte changed) is found by
/// the check against the listing and downloaded again, not reported as the
/// miner's hash mismatch.
#[tokio::test]
async fn a_corrupt_cached_copy_is_downloaded_again() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();
    let model = hub.download(&id, u64::MAX).await.unwrap();

    let damaged = model.dir.join("model.safetensors");
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    let fetched = FakeHub::count(&server.counters().storage_get);
    let again = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(again.repo_hash, repo_hash_dir(&src).unwrap());
    assert!(read_tree(&again.dir) == read_tree(&src), "files differ");
    assert!(
        FakeHub::count(&server.counters().storage_get) > fetched,
        "the LFS file was fetched again"
    );
}

/// With the commitment's hash given, the repo hash is computed from the
/// listing's LFS sha256s and the small git files: a wrong commitment is
/// refused before a single LFS byte is fetched; the right one downloads.
#[tokio::test]
async fn a_wrong_commitment_is_refused_before_the_large_files_are_fetched() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    full_model(&src);
    let hub = client(&server, &tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();
    let hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".to_string();
    let wrong = gauntlet_hub::ExpectedHash {
        hotkey: hotkey.clone(),
        secure_hash: gauntlet_hub::secure_hash(&"0".repeat(64), &hotkey),
    };
    let err = hub
        .download_expecting(&id, u64::MAX, &wrong)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::HashMismatch { .. }), "{err}");
    assert!(!err.is_transient());
    assert_eq!(
        FakeHub::count(&server.counters().storage_get),
        0,
        "an LFS file was fetched"
    );

    let right = gauntlet_hub::ExpectedHash {
        secure_hash: gauntlet_hub::secure_hash(&repo_hash_dir(&src).unwrap(), &hotkey),
        hotkey,
    };
    let model = hub.download_expecting(&id, u64::MAX, &right).await.unwrap();
    assert!(read_tree(&model.dir) == read_tree(&src), "files differ");
}

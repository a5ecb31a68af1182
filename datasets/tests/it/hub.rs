//! Hub datasets: listing and parquet shards served locally, read back with
//! polars into the pools; an unreachable Hub is a skip, not a failure.

use gauntlet_competitions::DatasetId;
use gauntlet_datasets::load::parquet::{read_hub_codeforces, read_hub_mmlu, read_hub_synthetic1};
use gauntlet_datasets::{fetch_with, DataCache, Pools, SourceId, SourceStatus};
use polars::prelude::*;

use crate::fetch::{config, files_under};
use crate::server::Server;

fn parquet_bytes(df: &mut DataFrame) -> Vec<u8> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(df).unwrap();
    buf
}

fn long(i: usize) -> String {
    format!(
        "Document {i}. {}",
        "Educational text about science and history. ".repeat(8)
    )
}

#[test]
fn fineweb_shards_are_fetched_and_become_the_pool() {
    let server = Server::start();
    let texts: Vec<Option<String>> =
        vec![Some(long(0)), Some("too short".into()), None, Some(long(3))];
    let mut df = DataFrame::new(4, vec![Column::new("text".into(), texts)]).unwrap();
    let shard = parquet_bytes(&mut df);
    let listing = format!(
        r#"["{}/shards/0000.parquet", "{}/shards/0001.parquet"]"#,
        server.base, server.base
    );
    server.route(
        "/api/datasets/HuggingFaceFW/fineweb-edu-score-2/parquet/default/train",
        "application/json",
        listing.into_bytes(),
    );
    server.route("/shards/0000.parquet", "application/octet-stream", shard);

    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let report = fetch_with(
        &cache,
        &[SourceId::HubFineweb],
        &config(&server),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.sources[0].status, SourceStatus::Fetched);
    // One shard is pinned for this dataset: the second is never requested.
    assert!(!server
        .requests()
        .iter()
        .any(|p| p.ends_with("0001.parquet")));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["sources"][0]["source"], "hub-fineweb-edu-score-2");
    assert_eq!(json["sources"][0]["status"], "fetched");

    let pools = Pools::load(&cache, &[DatasetId::Fineweb]).unwrap();
    assert_eq!(pools.documents.as_deref(), Some(&[long(0), long(3)][..]));
    assert_eq!(
        pools.origins[&DatasetId::Fineweb],
        "hub:HuggingFaceFW/fineweb-edu-score-2"
    );

    let again = fetch_with(
        &cache,
        &[SourceId::HubFineweb],
        &config(&server),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(again.sources[0].status, SourceStatus::Cached);
}

#[test]
fn an_unreachable_or_blocked_hub_is_skipped() {
    let server = Server::start();
    // A proxy that answers 200 with an empty body, as some sandboxes do.
    server.route(
        "/api/datasets/cais/mmlu/parquet/all/test",
        "text/plain",
        Vec::new(),
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let mut cfg = config(&server);
    let report = fetch_with(
        &cache,
        &[SourceId::HubMmlu, SourceId::HubSynthetic1Sft],
        &cfg,
        &mut |_| {},
    )
    .unwrap();
    assert!(report.ok());
    assert!(report
        .sources
        .iter()
        .all(|s| s.status == SourceStatus::Skipped));
    assert!(report.sources[0]
        .note
        .as_deref()
        .unwrap_or("")
        .contains("not reachable"));

    cfg.hf_endpoint = "http://127.0.0.1:9".into();
    let report = fetch_with(&cache, &[SourceId::HubCodeforcesCots], &cfg, &mut |_| {}).unwrap();
    assert_eq!(report.sources[0].status, SourceStatus::Skipped);
    cfg.hub = false;
    let report = fetch_with(&cache, &[SourceId::HubFineweb], &cfg, &mut |_| {}).unwrap();
    assert_eq!(report.sources[0].status, SourceStatus::Skipped);
    assert_eq!(files_under(dir.path()), Vec::<String>::new());
}

#[test]
fn hub_mmlu_rows_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mmlu.parquet");
    let choices = |c: [&str; 4]| Series::new("".into(), c);
    let mut df = DataFrame::new(
        2,
        vec![
            Column::new("question".into(), ["Q1?", "Q2?"]),
            Column::new(
                "choices".into(),
                [
                    choices(["a", "b c", "d", "e"]),
                    choices(["w", "x", "y", "z"]),
                ],
            ),
            Column::new("answer".into(), [1i64, 3]),
        ],
    )
    .unwrap();
    std::fs::write(&path, parquet_bytes(&mut df)).unwrap();
    let rows = read_hub_mmlu(&path).unwrap();
    assert_eq!(rows[0].answer, "B");
    assert_eq!(rows[0].answer_text(), Some("b c"));
    assert_eq!(rows[1].answer, "D");

    let mut bad = DataFrame::new(
        1,
        vec![
            Column::new("question".into(), ["Q"]),
            Column::new("choices".into(), [choices(["a", "b", "c", "d"])]),
            Column::new("answer".into(), [7i64]),
        ],
    )
    .unwrap();
    std::fs::write(&path, parquet_bytes(&mut bad)).unwrap();
    let err = read_hub_mmlu(&path).unwrap_err().to_string();
    assert!(
        err.contains(":1: field `answer`: expected 0–3, got 7"),
        "{err}"
    );

    let err = read_hub_codeforces(&path).unwrap_err().to_string();
    assert!(err.contains("no column `prompt`"), "{err}");
    std::fs::write(&path, b"not parquet").unwrap();
    assert!(read_hub_mmlu(&path).is_err());
}

#[test]
fn synthetic1_messages_and_codeforces_columns_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s1.parquet");
    let conv = |user: &str, assistant: &str| {
        let role = Series::new("role".into(), ["user", "assistant"]);
        let content = Series::new("content".into(), [user, assistant]);
        StructChunked::from_series("".into(), 2, [role, content].iter())
            .unwrap()
            .into_series()
    };
    let mut df = DataFrame::new(
        3,
        vec![
            Column::new(
                "messages".into(),
                [conv("P1", "S1"), conv("P2", "S2"), conv("P3", "S3")],
            ),
            Column::new(
                "task_type".into(),
                ["verifiable_math", "llm_judgeable", "code_output_prediction"],
            ),
        ],
    )
    .unwrap();
    std::fs::write(&path, parquet_bytes(&mut df)).unwrap();
    let rows = read_hub_synthetic1(&path).unwrap();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.problem.as_str(), r.solution.as_str()))
        .collect();
    assert_eq!(got, [("P1", "S1"), ("P3", "S3")]);

    let mut cf = DataFrame::new(
        1,
        vec![
            Column::new("prompt".into(), ["Solve A."]),
            Column::new(
                "generation".into(),
                ["<think>…</think>\n```cpp\nint main(){}\n```"],
            ),
        ],
    )
    .unwrap();
    std::fs::write(&path, parquet_bytes(&mut cf)).unwrap();
    assert_eq!(read_hub_codeforces(&path).unwrap()[0].problem, "Solve A.");
}

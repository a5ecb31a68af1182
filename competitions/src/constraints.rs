//! Model constraints of a competition: what a submitted model must satisfy
//! before it is evaluated at all.

use serde::Deserialize;

use crate::Epsilon;

/// The constraints a model must meet to take part in a competition
/// (REFERENCE §1, model constraints table).
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    /// Largest allowed parameter count.
    pub max_params: u64,
    /// Smallest allowed parameter count (0 for no minimum).
    pub min_params: u64,
    /// Tokens of context the model is evaluated with (and text loss is taken over).
    pub sequence_length: u32,
    /// Allowed Hugging Face architecture class names, as written in a model's
    /// `config.json` `architectures` field (e.g. `LlamaForCausalLM`).
    pub architectures: Vec<String>,
    /// Which tokenizer the model is evaluated with.
    pub tokenizer: TokenizerPolicy,
    /// Blocks a commitment must age before the model is evaluated.
    pub eval_block_delay: u64,
    /// The advantage an earlier model keeps over a later one.
    pub epsilon: Epsilon,
    /// Largest allowed size of the model's repository, in bytes.
    pub max_repo_bytes: u64,
    /// Limits on the Frobenius norms of attention and MLP projections.
    pub weight_norm: WeightNormCheck,
    /// Wall-clock seconds a validator gives one model's check, load and
    /// evaluation before the model is judged `timed_out`.
    pub max_eval_seconds: u64,
    /// When set, a win must also be significant at this confidence level
    /// (e.g. 0.95): a later (or same-block) model beats another only when
    /// the paired bootstrap interval of their score difference lies wholly
    /// beyond the epsilon margin; an earlier model keeps every pair whose
    /// challenger's win is not significant. `None`: the reference's rule.
    pub significance: Option<f64>,
    /// When set, the sequential test at this confidence level (e.g. 0.99):
    /// the round's benchmark model (the highest chain incentive among the
    /// candidates, then the earliest commit) is evaluated first, and every
    /// other model's remaining tasks are not run once, after a task, it is
    /// beaten beyond what those tasks could give back. `None`: every model
    /// runs every task.
    pub early_stop: Option<f64>,
}

/// Seconds allowed per model when a definition does not say: two hours,
/// about four times what SmolLM2-135M takes for INSTRUCT_8B's reference
/// sample counts on two CPU cores (docs/PERFORMANCE.md).
pub const DEFAULT_MAX_EVAL_SECONDS: u64 = 7200;

impl Constraints {
    /// Whether `architecture` (a `config.json` class name) is allowed.
    pub fn allows_architecture(&self, architecture: &str) -> bool {
        self.architectures.iter().any(|a| a == architecture)
    }

    /// Whether a model with `params` parameters is within the size limits.
    pub fn allows_params(&self, params: u64) -> bool {
        (self.min_params..=self.max_params).contains(&params)
    }
}

/// Which tokenizer a competition evaluates models with.
///
/// In TOML: `tokenizer = "own"`, or a fixed repository, pinned (as every
/// builtin should be) or not:
/// `tokenizer = { fixed = { repo = "Xenova/gpt-4", revision = "<40 hex>", sha256 = "<64 hex>" } }`
/// or `tokenizer = { fixed = "Xenova/gpt-4" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenizerPolicy {
    /// The model ships its own tokenizer (and chat template).
    Own,
    /// Every model uses this Hugging Face tokenizer repository.
    Fixed(FixedTokenizer),
}

/// A fixed tokenizer: a Hugging Face repository, ideally pinned to one
/// revision and to the SHA-256 of its `tokenizer.json`, so that every
/// validator scores through byte-identical files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawFixedTokenizer")]
pub struct FixedTokenizer {
    /// `namespace/name` on the Hugging Face Hub.
    pub repo: String,
    /// The commit to download (40 lowercase hex); `None`: the latest.
    pub revision: Option<String>,
    /// SHA-256 (lowercase hex) `tokenizer.json` must have; `None`: unchecked.
    pub sha256: Option<String>,
}

impl FixedTokenizer {
    /// An unpinned fixed tokenizer.
    pub fn unpinned(repo: impl Into<String>) -> Self {
        Self {
            repo: repo.into(),
            revision: None,
            sha256: None,
        }
    }

    /// Checks the pins' shapes: a 40-hex revision, a 64-hex SHA-256.
    pub fn check(&self) -> Result<(), String> {
        let hex = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if self.repo.trim().is_empty() {
            return Err("a fixed tokenizer needs a repository name".into());
        }
        if let Some(r) = &self.revision {
            if !hex(r, 40) {
                return Err(format!("revision {r:?} is not 40 lowercase hex characters"));
            }
        }
        if let Some(h) = &self.sha256 {
            if !hex(h, 64) {
                return Err(format!("sha256 {h:?} is not 64 lowercase hex characters"));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for FixedTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.repo)?;
        if let Some(r) = &self.revision {
            write!(f, "@{}", &r[..r.len().min(8)])?;
        }
        Ok(())
    }
}

/// The two TOML spellings of a fixed tokenizer.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawFixedTokenizer {
    Repo(String),
    Pinned {
        repo: String,
        #[serde(default)]
        revision: Option<String>,
        #[serde(default)]
        sha256: Option<String>,
    },
}

impl From<RawFixedTokenizer> for FixedTokenizer {
    fn from(raw: RawFixedTokenizer) -> Self {
        match raw {
            RawFixedTokenizer::Repo(repo) => FixedTokenizer::unpinned(repo),
            RawFixedTokenizer::Pinned {
                repo,
                revision,
                sha256,
            } => FixedTokenizer {
                repo,
                revision,
                sha256,
            },
        }
    }
}

/// The weight-norm check (REFERENCE §1): for every layer, the Frobenius norm
/// of each of the q/k/v/o and MLP up/down projections is measured; any norm
/// above `hard` rejects the model, and the mean over the six projection kinds
/// of the share of layers whose norm exceeds `soft` must be at most
/// `soft_share`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightNormCheck {
    /// Norm above which a layer counts towards the soft share.
    pub soft: f64,
    /// Largest allowed mean share of layers above `soft`, in `[0, 1]`.
    pub soft_share: f64,
    /// Norm above which the model is rejected outright.
    pub hard: f64,
}

impl WeightNormCheck {
    /// Checks the numbers: `0 < soft <= hard`, `soft_share` in `[0, 1]`.
    pub fn check(&self) -> Result<(), String> {
        let finite = self.soft.is_finite() && self.hard.is_finite();
        if !finite || self.soft <= 0.0 || self.hard < self.soft {
            return Err(format!(
                "need 0 < soft <= hard, got soft {} and hard {}",
                self.soft, self.hard
            ));
        }
        if !(0.0..=1.0).contains(&self.soft_share) {
            return Err(format!("soft_share {} is not in [0, 1]", self.soft_share));
        }
        Ok(())
    }
}

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
}

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
/// In TOML: `tokenizer = "own"` or `tokenizer = { fixed = "Xenova/gpt-4" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenizerPolicy {
    /// The model ships its own tokenizer (and chat template).
    Own,
    /// Every model uses this Hugging Face tokenizer repository.
    Fixed(String),
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

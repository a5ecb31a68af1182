//! A competition's constraints as the model runtime checks them.

use gauntlet_competitions::Constraints;
use gauntlet_model::constraints::{ModelConstraints, NormCheck};

/// The runtime checks for a competition's constraints: parameters,
/// architectures, repo size and the weight-norm check.
pub fn model_constraints(c: &Constraints) -> ModelConstraints {
    ModelConstraints {
        max_params: c.max_params,
        min_params: c.min_params,
        architectures: c.architectures.clone(),
        max_bytes: c.max_repo_bytes,
        dtypes: Vec::new(),
        norm_check: Some(NormCheck {
            soft: c.weight_norm.soft,
            soft_share: c.weight_norm.soft_share,
            hard: c.weight_norm.hard,
        }),
    }
}

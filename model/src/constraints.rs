//! The checks a validator runs on a model directory before evaluating it:
//! architecture, parameter count, repository bytes, weight dtype and the
//! per-layer weight-norm check of the reference (REFERENCE §1). A miner's fault
//! is a [`Violation`] value with a human reason, never an error; errors are for
//! files that cannot be read at all.
//!
//! The order bounds what a hostile directory can cost: the file walk (no
//! links, at most `limits::MAX_MODEL_FILES` files) and `config.json` (its
//! dimensions bounded) come first; a config implying more parameters than the
//! competition allows stops the check before any weight is opened; every
//! projection's shape is checked from the safetensors header before its bytes
//! are read; the norms are then summed in chunks straight from the memory map,
//! so a 15 GiB projection costs no more memory than a small one.

use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::limits::dir_bytes;
use crate::weights::{RawTensor, Weights};

/// Thresholds of the weight-norm check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NormCheck {
    /// A projection's Frobenius norm above this counts as "high".
    pub soft: f64,
    /// The mean share of high layers over the six projection kinds must not exceed this.
    pub soft_share: f64,
    /// Any projection norm above this rejects the model.
    pub hard: f64,
}

impl NormCheck {
    /// The reference values: soft 200, soft share 0.15, hard 1000.
    pub const REFERENCE: Self = Self {
        soft: 200.0,
        soft_share: 0.15,
        hard: 1000.0,
    };
}

/// What a competition allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConstraints {
    /// Largest parameter count.
    pub max_params: u64,
    /// Smallest parameter count.
    pub min_params: u64,
    /// Allowed Hugging Face architecture class names (empty: any supported).
    pub architectures: Vec<String>,
    /// Largest total size of the model files in bytes.
    pub max_bytes: u64,
    /// Allowed stored dtypes (`F32`, `BF16`, `F16`; empty: any float).
    pub dtypes: Vec<String>,
    /// The weight-norm check, if the competition applies it.
    pub norm_check: Option<NormCheck>,
}

/// Which constraint a model broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// Architecture not allowed.
    Architecture,
    /// Too many or too few parameters.
    ParameterCount,
    /// Files too large.
    Size,
    /// A tensor's dtype is not allowed.
    Dtype,
    /// Weight norms too large.
    WeightNorm,
    /// A weight is NaN or infinite.
    NonFinite,
}

/// One broken constraint with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The constraint.
    pub kind: ViolationKind,
    /// A human explanation with the numbers.
    pub reason: String,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The architecture class name.
    pub architecture: String,
    /// Parameters stored (tied embeddings counted once).
    pub parameters: u64,
    /// Bytes of all files in the directory.
    pub bytes: u64,
    /// Distinct stored dtypes.
    pub dtypes: Vec<String>,
    /// Largest projection norm seen.
    pub max_projection_norm: f64,
    /// Mean over projection kinds of the share of layers above the soft norm.
    pub high_norm_share: f64,
    /// The broken constraints (empty: the model passes).
    pub violations: Vec<Violation>,
}

impl CheckReport {
    /// Whether every constraint holds.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

const PROJECTIONS: [&str; 6] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "up_proj",
    "down_proj",
];

/// Elements summed per task when streaming a tensor (4 MiB of f32).
const CHUNK_ELEMENTS: usize = 1 << 20;

/// Checks the model directory `dir` against `c`.
pub fn check(dir: &Path, c: &ModelConstraints) -> Result<CheckReport> {
    let bytes = dir_bytes(dir)?;
    let cfg = ModelConfig::from_file(&dir.join("config.json"))?;
    let mut v = Vec::new();
    let arch = cfg.architecture.hf_name().to_string();
    if !c.architectures.is_empty() && !c.architectures.contains(&arch) {
        v.push(Violation {
            kind: ViolationKind::Architecture,
            reason: format!(
                "architecture {arch} is not allowed (allowed: {})",
                c.architectures.join(", ")
            ),
        });
    }
    if bytes > c.max_bytes {
        v.push(Violation {
            kind: ViolationKind::Size,
            reason: format!(
                "model files total {bytes} bytes, the cap is {}",
                c.max_bytes
            ),
        });
    }
    let implied = cfg.parameter_count();
    if implied > c.max_params {
        // Stop before opening any weight: the config alone breaks the limit.
        v.push(Violation {
            kind: ViolationKind::ParameterCount,
            reason: format!(
                "config.json implies {implied} parameters, allowed {}..={}",
                c.min_params, c.max_params
            ),
        });
        return Ok(CheckReport {
            architecture: arch,
            parameters: implied,
            bytes,
            dtypes: Vec::new(),
            max_projection_norm: 0.0,
            high_norm_share: 0.0,
            violations: v,
        });
    }
    let weights = Weights::open(dir)?;
    let tensors = weights.tensors();
    let mut parameters: u64 = 0;
    for m in tensors.values() {
        let n = m
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .and_then(|n| parameters.checked_add(n));
        parameters = n.ok_or_else(|| {
            ModelError::Input(format!("{}: tensor sizes overflow", dir.display()))
        })?;
    }
    let mut dtypes: Vec<String> = tensors.values().map(|m| m.dtype.clone()).collect();
    dtypes.sort();
    dtypes.dedup();
    if parameters > c.max_params || parameters < c.min_params {
        v.push(Violation {
            kind: ViolationKind::ParameterCount,
            reason: format!(
                "{parameters} parameters, allowed {}..={}",
                c.min_params, c.max_params
            ),
        });
    }
    if let Some(bad) = dtypes
        .iter()
        .find(|d| !c.dtypes.is_empty() && !c.dtypes.contains(d))
    {
        v.push(Violation {
            kind: ViolationKind::Dtype,
            reason: format!("weights stored as {bad}, allowed: {}", c.dtypes.join(", ")),
        });
    }
    let norms = projection_norms(&weights, &cfg)?;
    let non_finite = non_finite_tensors(&weights, &cfg)?;
    if let Some(name) = non_finite.first() {
        v.push(Violation {
            kind: ViolationKind::NonFinite,
            reason: format!(
                "{} tensor(s) hold NaN or infinite values ({name} first)",
                non_finite.len()
            ),
        });
    }
    let max_projection_norm = norms.iter().flatten().cloned().fold(0.0, f64::max);
    let any_nan_norm = norms.iter().flatten().any(|n| !n.is_finite());
    let mut high_norm_share = 0.0;
    if let Some(nc) = c.norm_check {
        high_norm_share = norms
            .iter()
            .map(|kind| {
                kind.iter().filter(|&&n| n > nc.soft).count() as f64 / kind.len().max(1) as f64
            })
            .sum::<f64>()
            / PROJECTIONS.len() as f64;
        if any_nan_norm {
            v.push(Violation {
                kind: ViolationKind::WeightNorm,
                reason: "a projection's Frobenius norm is not finite (NaN or infinite weights)"
                    .into(),
            });
        } else if max_projection_norm > nc.hard {
            v.push(Violation {
                kind: ViolationKind::WeightNorm,
                reason: format!(
                    "a projection has Frobenius norm {max_projection_norm:.1}, above the hard limit {}",
                    nc.hard
                ),
            });
        } else if high_norm_share > nc.soft_share {
            v.push(Violation {
                kind: ViolationKind::WeightNorm,
                reason: format!(
                    "{:.1} % of projections have norm above {} (at most {:.1} % allowed)",
                    100.0 * high_norm_share,
                    nc.soft,
                    100.0 * nc.soft_share
                ),
            });
        }
    }
    Ok(CheckReport {
        architecture: arch,
        parameters,
        bytes,
        dtypes,
        max_projection_norm,
        high_norm_share,
        violations: v,
    })
}

/// The six projections of layer `l` as `(tensor, first row, rows)`: each
/// tensor's shape is checked against the config from the header first.
fn layer_projections(
    w: &Weights,
    cfg: &ModelConfig,
    l: usize,
) -> Result<[(String, usize, usize); 6]> {
    let p = format!("model.layers.{l}");
    let (h, q, kv, i) = (
        cfg.hidden_size,
        cfg.num_heads * cfg.head_dim,
        cfg.num_kv_heads * cfg.head_dim,
        cfg.intermediate_size,
    );
    let name = |n: &str| format!("{p}.{n}.weight");
    let shaped = |n: &str, shape: [usize; 2]| -> Result<String> {
        let full = name(n);
        w.check_shape(&full, &shape)?;
        Ok(full)
    };
    Ok(if cfg.fused_projections {
        let qkv = shaped("self_attn.qkv_proj", [q + 2 * kv, h])?;
        let gu = shaped("mlp.gate_up_proj", [2 * i, h])?;
        [
            (qkv.clone(), 0, q),
            (qkv.clone(), q, kv),
            (qkv, q + kv, kv),
            (shaped("self_attn.o_proj", [h, q])?, 0, h),
            (gu, i, i),
            (shaped("mlp.down_proj", [h, i])?, 0, h),
        ]
    } else {
        [
            (shaped("self_attn.q_proj", [q, h])?, 0, q),
            (shaped("self_attn.k_proj", [kv, h])?, 0, kv),
            (shaped("self_attn.v_proj", [kv, h])?, 0, kv),
            (shaped("self_attn.o_proj", [h, q])?, 0, h),
            (shaped("mlp.up_proj", [i, h])?, 0, i),
            (shaped("mlp.down_proj", [h, i])?, 0, h),
        ]
    })
}

/// Frobenius norms `[kind][layer]` of q, k, v, o, up and down projections
/// (fused Phi3 tensors are split into their parts). Every projection's shape
/// is checked against the config before any norm is computed; each norm is
/// then summed in chunks from the memory map, never converting a tensor
/// whole. A NaN or infinite weight makes its norm NaN or infinite.
pub fn projection_norms(w: &Weights, cfg: &ModelConfig) -> Result<Vec<Vec<f64>>> {
    let mut parts = Vec::with_capacity(cfg.num_layers);
    for l in 0..cfg.num_layers {
        parts.push(layer_projections(w, cfg, l)?);
    }
    let mut out = vec![Vec::with_capacity(cfg.num_layers); PROJECTIONS.len()];
    for layer in &parts {
        for (k, (name, first, rows)) in layer.iter().enumerate() {
            let raw = w.raw(name)?;
            out[k].push(sum_of_squares(&raw, *first, *rows).sqrt());
        }
    }
    Ok(out)
}

/// Names of the tensors other than the projections that hold a NaN or an
/// infinite value (the projections' norms show theirs).
fn non_finite_tensors(w: &Weights, cfg: &ModelConfig) -> Result<Vec<String>> {
    let projections: std::collections::HashSet<String> = (0..cfg.num_layers)
        .flat_map(|l| {
            [
                "self_attn.q_proj",
                "self_attn.k_proj",
                "self_attn.v_proj",
                "self_attn.o_proj",
                "self_attn.qkv_proj",
                "mlp.up_proj",
                "mlp.down_proj",
                "mlp.gate_up_proj",
            ]
            .map(|n| format!("model.layers.{l}.{n}.weight"))
        })
        .collect();
    let mut bad = Vec::new();
    for name in w.tensors().into_keys() {
        if projections.contains(&name) {
            continue;
        }
        let raw = match w.raw(&name) {
            // Not a float: the dtype constraint and the loader judge it.
            Err(ModelError::TensorDtype { .. }) => continue,
            other => other?,
        };
        let rows = raw.shape.first().copied().unwrap_or(1);
        if !sum_of_squares(&raw, 0, rows).is_finite() {
            bad.push(name);
        }
    }
    Ok(bad)
}

/// Σ x² over rows `first..first + rows` of a row-major tensor, in f64, in
/// parallel chunks of [`CHUNK_ELEMENTS`] read straight from its bytes.
fn sum_of_squares(raw: &RawTensor<'_>, first: usize, rows: usize) -> f64 {
    let size = raw.dtype.size();
    let row_elements: usize = raw.shape.iter().skip(1).product();
    let start = first.saturating_mul(row_elements).saturating_mul(size);
    let end = (first.saturating_add(rows))
        .saturating_mul(row_elements)
        .saturating_mul(size)
        .min(raw.bytes.len());
    let Some(bytes) = raw.bytes.get(start.min(end)..end) else {
        return f64::NAN;
    };
    let dtype = raw.dtype;
    bytes
        .par_chunks(CHUNK_ELEMENTS * size)
        .map(|chunk| {
            chunk
                .chunks_exact(size)
                .map(|e| {
                    let x = dtype.decode(e);
                    x * x
                })
                .sum::<f64>()
        })
        .sum()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::weights::FloatDtype;

    #[test]
    fn sums_of_squares_cover_the_rows_asked_for() {
        let values: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        let raw = RawTensor {
            dtype: FloatDtype::F32,
            shape: &[4, 3],
            bytes: &bytes,
        };
        let all: f64 = values.iter().map(|&x| f64::from(x * x)).sum();
        assert_eq!(sum_of_squares(&raw, 0, 4), all);
        // Rows 1..3: 3..9.
        let mid: f64 = (3..9).map(|x| f64::from(x * x)).sum();
        assert_eq!(sum_of_squares(&raw, 1, 2), mid);
        let mut nan = bytes.clone();
        nan[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
        let raw = RawTensor { bytes: &nan, ..raw };
        assert!(sum_of_squares(&raw, 0, 4).is_nan());
        assert_eq!(sum_of_squares(&raw, 1, 3), all - 5.0);
    }
}

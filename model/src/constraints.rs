//! The checks a validator runs on a model directory before evaluating it:
//! architecture, parameter count, repository bytes, weight dtype and the
//! per-layer weight-norm check of the reference (REFERENCE §1). A miner's fault
//! is a [`Violation`] value with a human reason, never an error; errors are for
//! files that cannot be read at all.

use std::path::Path;

use candle_core::{DType, Device};
use serde::Serialize;

use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::weights::Weights;

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

/// Checks the model directory `dir` against `c`.
pub fn check(dir: &Path, c: &ModelConstraints) -> Result<CheckReport> {
    let cfg = ModelConfig::from_file(&dir.join("config.json"))?;
    let weights = Weights::open(dir)?;
    let tensors = weights.tensors();
    let parameters: u64 = tensors
        .values()
        .map(|m| m.shape.iter().product::<usize>() as u64)
        .sum();
    let mut dtypes: Vec<String> = tensors.values().map(|m| m.dtype.clone()).collect();
    dtypes.sort();
    dtypes.dedup();
    let bytes = dir_bytes(dir)?;
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
    if parameters > c.max_params || parameters < c.min_params {
        v.push(Violation {
            kind: ViolationKind::ParameterCount,
            reason: format!(
                "{parameters} parameters, allowed {}..={}",
                c.min_params, c.max_params
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
    let max_projection_norm = norms.iter().flatten().cloned().fold(0.0, f64::max);
    let mut high_norm_share = 0.0;
    if let Some(nc) = c.norm_check {
        high_norm_share = norms
            .iter()
            .map(|kind| {
                kind.iter().filter(|&&n| n > nc.soft).count() as f64 / kind.len().max(1) as f64
            })
            .sum::<f64>()
            / PROJECTIONS.len() as f64;
        if max_projection_norm > nc.hard || !max_projection_norm.is_finite() {
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

/// Frobenius norms `[kind][layer]` of q, k, v, o, up and down projections
/// (fused Phi3 tensors are split into their parts).
pub fn projection_norms(w: &Weights, cfg: &ModelConfig) -> Result<Vec<Vec<f64>>> {
    let mut out = vec![Vec::with_capacity(cfg.num_layers); PROJECTIONS.len()];
    let (q, kv, inter) = (
        cfg.num_heads * cfg.head_dim,
        cfg.num_kv_heads * cfg.head_dim,
        cfg.intermediate_size,
    );
    let cpu = Device::Cpu;
    for l in 0..cfg.num_layers {
        let p = format!("model.layers.{l}");
        let get = |n: &str| w.get_any_shape(&format!("{p}.{n}.weight"), DType::F32, &cpu);
        let parts = if cfg.fused_projections {
            let qkv = get("self_attn.qkv_proj")?;
            let gu = get("mlp.gate_up_proj")?;
            [
                qkv.narrow(0, 0, q)?,
                qkv.narrow(0, q, kv)?,
                qkv.narrow(0, q + kv, kv)?,
                get("self_attn.o_proj")?,
                gu.narrow(0, inter, inter)?,
                get("mlp.down_proj")?,
            ]
        } else {
            [
                get("self_attn.q_proj")?,
                get("self_attn.k_proj")?,
                get("self_attn.v_proj")?,
                get("self_attn.o_proj")?,
                get("mlp.up_proj")?,
                get("mlp.down_proj")?,
            ]
        };
        for (k, t) in parts.iter().enumerate() {
            let n = t.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            out[k].push(n.sqrt());
        }
    }
    Ok(out)
}

fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))? {
        let e = e.map_err(|e| ModelError::io(dir, e))?;
        let md = e.metadata().map_err(|err| ModelError::io(e.path(), err))?;
        total += if md.is_dir() {
            dir_bytes(&e.path())?
        } else {
            md.len()
        };
    }
    Ok(total)
}

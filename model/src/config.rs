//! `config.json` of a Hugging Face causal LM, reduced to what one parameterised
//! decoder needs: the family differences (Llama, Mistral, Qwen2, Phi3, Gemma,
//! Gemma2) become flags rather than separate model files.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ModelError, Result};

/// The supported architectures (the `architectures[0]` of `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Architecture {
    /// `LlamaForCausalLM` (Llama 1–3, SmolLM, …).
    Llama,
    /// `MistralForCausalLM`.
    Mistral,
    /// `Qwen2ForCausalLM` (bias on q/k/v).
    Qwen2,
    /// `Phi3ForCausalLM` (fused qkv and gate/up projections).
    Phi3,
    /// `GemmaForCausalLM` (norm offset, embedding scale, GeLU).
    Gemma,
    /// `Gemma2ForCausalLM` (Gemma plus sandwich norms, soft-capping, local attention).
    Gemma2,
}

/// The architecture names accepted, for error messages.
pub const SUPPORTED_ARCHITECTURES: &str = "LlamaForCausalLM, MistralForCausalLM, \
Qwen2ForCausalLM, Phi3ForCausalLM, GemmaForCausalLM, Gemma2ForCausalLM";

impl Architecture {
    /// Parses a Hugging Face architecture class name.
    pub fn from_hf_name(name: &str) -> Option<Self> {
        Some(match name {
            "LlamaForCausalLM" => Self::Llama,
            "MistralForCausalLM" => Self::Mistral,
            "Qwen2ForCausalLM" => Self::Qwen2,
            "Phi3ForCausalLM" => Self::Phi3,
            "GemmaForCausalLM" => Self::Gemma,
            "Gemma2ForCausalLM" => Self::Gemma2,
            _ => return None,
        })
    }

    /// The Hugging Face class name.
    pub fn hf_name(self) -> &'static str {
        match self {
            Self::Llama => "LlamaForCausalLM",
            Self::Mistral => "MistralForCausalLM",
            Self::Qwen2 => "Qwen2ForCausalLM",
            Self::Phi3 => "Phi3ForCausalLM",
            Self::Gemma => "GemmaForCausalLM",
            Self::Gemma2 => "Gemma2ForCausalLM",
        }
    }
}

/// The MLP activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Activation {
    /// SiLU (swish), Llama-style gated.
    Silu,
    /// GeLU with the tanh approximation (Gemma's `gelu_pytorch_tanh`).
    GeluTanh,
    /// Exact GeLU.
    Gelu,
}

/// How rotary position frequencies are scaled.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// Positions divided by `factor`.
    Linear {
        /// Scale factor.
        factor: f64,
    },
    /// Llama-3's frequency-dependent scaling.
    Llama3 {
        /// Scale factor for low frequencies.
        factor: f64,
        /// Wavelength boundary factor (low).
        low_freq_factor: f64,
        /// Wavelength boundary factor (high).
        high_freq_factor: f64,
        /// The pre-training context length.
        original_max_position_embeddings: f64,
    },
    /// Phi-3's LongRoPE: per-dimension factors, short or long by sequence length.
    LongRope {
        /// Factors used while the sequence fits the original context.
        short_factor: Vec<f64>,
        /// Factors used beyond it.
        long_factor: Vec<f64>,
        /// The pre-training context length.
        original_max_position_embeddings: usize,
    },
}

/// The decoder hyper-parameters and family flags.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelConfig {
    /// The architecture family.
    pub architecture: Architecture,
    /// Vocabulary size (rows of the embedding).
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// MLP inner width.
    pub intermediate_size: usize,
    /// Number of decoder layers.
    pub num_layers: usize,
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than query heads).
    pub num_kv_heads: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base.
    pub rope_theta: f64,
    /// RoPE scaling.
    pub rope_scaling: RopeScaling,
    /// Longest context.
    pub max_position_embeddings: usize,
    /// Whether the lm-head shares the embedding matrix.
    pub tie_word_embeddings: bool,
    /// Bias on the q/k/v projections (Qwen2).
    pub qkv_bias: bool,
    /// Bias on the o projection.
    pub o_bias: bool,
    /// Bias on the MLP projections.
    pub mlp_bias: bool,
    /// Fused `qkv_proj` and `gate_up_proj` tensors (Phi3).
    pub fused_projections: bool,
    /// RMSNorm multiplies by `1 + weight` (Gemma).
    pub norm_weight_offset: bool,
    /// Embeddings are multiplied by `sqrt(hidden_size)` (Gemma).
    pub scale_embeddings: bool,
    /// Post-attention and pre/post-feed-forward norms around each block (Gemma2).
    pub sandwich_norms: bool,
    /// MLP activation.
    pub activation: Activation,
    /// Local attention window, if any.
    pub sliding_window: Option<usize>,
    /// Whether only every other layer (even ones) uses the window (Gemma2).
    pub sliding_window_alternating: bool,
    /// Attention soft-capping `c·tanh(x/c)` on scores (Gemma2).
    pub attn_logit_softcapping: Option<f64>,
    /// Soft-capping on final logits (Gemma2).
    pub final_logit_softcapping: Option<f64>,
    /// Attention score scale (default `1/sqrt(head_dim)`).
    pub attention_scale: f64,
    /// BOS token id from the config, if given.
    pub bos_token_id: Option<u32>,
    /// EOS token ids from the config (one or several).
    pub eos_token_ids: Vec<u32>,
}

#[derive(Deserialize)]
struct RawConfig {
    architectures: Option<Vec<String>>,
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    rope_scaling: Option<Value>,
    rope_parameters: Option<Value>,
    max_position_embeddings: Option<usize>,
    tie_word_embeddings: Option<bool>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
    hidden_act: Option<String>,
    hidden_activation: Option<String>,
    sliding_window: Option<Value>,
    use_sliding_window: Option<bool>,
    attn_logit_softcapping: Option<f64>,
    final_logit_softcapping: Option<f64>,
    query_pre_attn_scalar: Option<f64>,
    bos_token_id: Option<Value>,
    eos_token_id: Option<Value>,
    original_max_position_embeddings: Option<usize>,
}

fn ids(v: &Option<Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_u64().map(|x| x as u32))
            .collect(),
        _ => Vec::new(),
    }
}

impl ModelConfig {
    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = crate::limits::read_capped(
            path,
            crate::limits::MAX_CONFIG_BYTES,
            "the model's config.json",
        )?;
        Self::from_json(&text, path)
    }

    /// Parses the JSON text of `config.json` (`path` is used in errors only).
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let bad = |reason: String| ModelError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let name = raw
            .architectures
            .as_ref()
            .and_then(|a| a.first().cloned())
            .ok_or_else(|| bad("no `architectures` entry".into()))?;
        let architecture = Architecture::from_hf_name(&name).ok_or_else(|| {
            ModelError::UnsupportedArchitecture {
                path: path.to_path_buf(),
                name: name.clone(),
                supported: SUPPORTED_ARCHITECTURES,
            }
        })?;
        let need = |v: Option<usize>, field: &str| -> Result<usize> {
            match v {
                Some(x) if x > 0 => bounded(x, field).map_err(bad),
                Some(_) => Err(bad(format!("`{field}` must be positive"))),
                None => Err(bad(format!("missing `{field}`"))),
            }
        };
        let hidden_size = need(raw.hidden_size, "hidden_size")?;
        let num_heads = need(raw.num_attention_heads, "num_attention_heads")?;
        let num_kv_heads = need(
            raw.num_key_value_heads.or(raw.num_attention_heads),
            "num_key_value_heads",
        )?;
        if num_heads % num_kv_heads != 0 {
            return Err(bad(format!(
                "num_attention_heads {num_heads} is not a multiple of num_key_value_heads {num_kv_heads}"
            )));
        }
        let head_dim = match raw.head_dim {
            Some(d) => need(Some(d), "head_dim")?,
            None if hidden_size % num_heads == 0 => hidden_size / num_heads,
            None => {
                return Err(bad(
                    "hidden_size is not a multiple of num_attention_heads".into()
                ))
            }
        };
        if head_dim % 2 != 0 {
            return Err(bad(format!("head_dim {head_dim} must be even for RoPE")));
        }
        let gemma = matches!(architecture, Architecture::Gemma | Architecture::Gemma2);
        let act = raw
            .hidden_activation
            .or(raw.hidden_act)
            .unwrap_or_else(|| if gemma { "gelu_pytorch_tanh" } else { "silu" }.into());
        let activation = match act.as_str() {
            "silu" | "swish" => Activation::Silu,
            "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => Activation::GeluTanh,
            "gelu" => Activation::Gelu,
            other => return Err(bad(format!("unsupported hidden_act {other:?}"))),
        };
        let rope_params = raw.rope_parameters.as_ref();
        let rope_theta = raw
            .rope_theta
            .or_else(|| {
                rope_params
                    .and_then(|p| p.get("rope_theta"))
                    .and_then(Value::as_f64)
            })
            .unwrap_or(10_000.0);
        let scaling = raw.rope_scaling.as_ref().or(rope_params);
        let rope_scaling =
            parse_rope_scaling(scaling, raw.original_max_position_embeddings).map_err(bad)?;
        check_rope_scaling(&rope_scaling, head_dim).map_err(bad)?;
        let sliding_window = match (&raw.sliding_window, raw.use_sliding_window) {
            (_, Some(false)) => None,
            (Some(v), _) => v
                .as_u64()
                .map(|w| bounded(usize::try_from(w).unwrap_or(usize::MAX), "sliding_window"))
                .transpose()
                .map_err(bad)?,
            _ => None,
        };
        let max_position_embeddings = match raw.max_position_embeddings {
            Some(n) => bounded(n, "max_position_embeddings").map_err(bad)?,
            None => 4096,
        };
        let head_dim_f = head_dim as f64;
        let attention_scale = match (architecture, raw.query_pre_attn_scalar) {
            (Architecture::Gemma2, Some(s)) if s > 0.0 => s.powf(-0.5),
            _ => head_dim_f.powf(-0.5),
        };
        let cfg = Self {
            architecture,
            vocab_size: need(raw.vocab_size, "vocab_size")?,
            hidden_size,
            intermediate_size: need(raw.intermediate_size, "intermediate_size")?,
            num_layers: need(raw.num_hidden_layers, "num_hidden_layers")?,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps: raw.rms_norm_eps.unwrap_or(1e-6),
            rope_theta,
            rope_scaling,
            max_position_embeddings,
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(gemma),
            qkv_bias: architecture == Architecture::Qwen2 || raw.attention_bias.unwrap_or(false),
            o_bias: architecture != Architecture::Qwen2 && raw.attention_bias.unwrap_or(false),
            mlp_bias: raw.mlp_bias.unwrap_or(false),
            fused_projections: architecture == Architecture::Phi3,
            norm_weight_offset: gemma,
            scale_embeddings: gemma,
            sandwich_norms: architecture == Architecture::Gemma2,
            activation,
            sliding_window,
            sliding_window_alternating: architecture == Architecture::Gemma2,
            attn_logit_softcapping: raw
                .attn_logit_softcapping
                .filter(|_| architecture == Architecture::Gemma2),
            final_logit_softcapping: raw
                .final_logit_softcapping
                .filter(|_| architecture == Architecture::Gemma2),
            attention_scale,
            bos_token_id: ids(&raw.bos_token_id).first().copied(),
            eos_token_ids: ids(&raw.eos_token_id),
        };
        if cfg.checked_parameter_count().is_none() {
            return Err(bad(
                "the parameter count these dimensions imply overflows".into()
            ));
        }
        Ok(cfg)
    }

    /// Whether layer `layer` attends only within the sliding window.
    pub fn layer_window(&self, layer: usize) -> Option<usize> {
        match self.sliding_window {
            Some(w) if !self.sliding_window_alternating || layer.is_multiple_of(2) => Some(w),
            _ => None,
        }
    }

    /// Parameter count implied by the config (what the weights must hold),
    /// saturating at `u64::MAX` (a config that parses never gets there:
    /// [`ModelConfig::from_json`] refuses one whose count overflows).
    pub fn parameter_count(&self) -> u64 {
        self.checked_parameter_count().unwrap_or(u64::MAX)
    }

    /// Parameter count implied by the config, `None` when it overflows.
    pub fn checked_parameter_count(&self) -> Option<u64> {
        let u = |x: usize| u64::try_from(x).ok();
        let (h, i, v) = (
            u(self.hidden_size)?,
            u(self.intermediate_size)?,
            u(self.vocab_size)?,
        );
        let q = u(self.num_heads)?.checked_mul(u(self.head_dim)?)?;
        let kv = u(self.num_kv_heads)?.checked_mul(u(self.head_dim)?)?;
        let mul = |a: u64, b: u64| a.checked_mul(b);
        let mut layer = mul(h, q)?
            .checked_add(mul(2, mul(h, kv)?)?)?
            .checked_add(mul(q, h)?)?
            .checked_add(mul(3, mul(h, i)?)?)?;
        if self.qkv_bias {
            layer = layer.checked_add(q.checked_add(mul(2, kv)?)?)?;
        }
        if self.o_bias {
            layer = layer.checked_add(h)?;
        }
        if self.mlp_bias {
            layer = layer.checked_add(mul(2, i)?.checked_add(h)?)?;
        }
        layer = layer.checked_add(mul(if self.sandwich_norms { 4 } else { 2 }, h)?)?;
        let embed = mul(v, h)?;
        let head = if self.tie_word_embeddings { 0 } else { embed };
        embed
            .checked_add(mul(u(self.num_layers)?, layer)?)?
            .checked_add(h)?
            .checked_add(head)
    }
}

/// The largest value each `config.json` dimension may take: well above every
/// released model (Gemma's 262k vocabulary, 128-layer 400B models, 64k-wide
/// projections), low enough that no product of them overflows and no
/// allocation sized by one can abort the process before the parameter count
/// is compared with the competition's limit.
pub fn dimension_limit(field: &str) -> usize {
    match field {
        "vocab_size" => 1 << 21,
        "hidden_size" | "intermediate_size" => 1 << 18,
        "num_hidden_layers" | "num_attention_heads" | "num_key_value_heads" => 1 << 12,
        "head_dim" => 1 << 12,
        "max_position_embeddings" | "sliding_window" | "original_max_position_embeddings" => {
            1 << 24
        }
        _ => 1 << 24,
    }
}

/// `value` when it is within [`dimension_limit`] of `field`.
fn bounded(value: usize, field: &str) -> std::result::Result<usize, String> {
    let max = dimension_limit(field);
    if value > max {
        Err(format!("`{field}` is {value}, above the limit of {max}"))
    } else {
        Ok(value)
    }
}

/// LongRoPE factor lists have one entry per rotated frequency (`head_dim / 2`).
fn check_rope_scaling(r: &RopeScaling, head_dim: usize) -> std::result::Result<(), String> {
    match r {
        RopeScaling::LongRope {
            short_factor,
            long_factor,
            original_max_position_embeddings,
        } => {
            for (name, list) in [("short_factor", short_factor), ("long_factor", long_factor)] {
                if list.len() != head_dim / 2 {
                    return Err(format!(
                        "rope scaling `{name}` has {} entries, expected head_dim / 2 = {}",
                        list.len(),
                        head_dim / 2
                    ));
                }
            }
            bounded(
                *original_max_position_embeddings,
                "original_max_position_embeddings",
            )?;
            Ok(())
        }
        RopeScaling::Linear { factor } | RopeScaling::Llama3 { factor, .. }
            if !(factor.is_finite() && *factor > 0.0) =>
        {
            Err(format!(
                "rope scaling factor {factor} is not a positive number"
            ))
        }
        _ => Ok(()),
    }
}

fn parse_rope_scaling(
    v: Option<&Value>,
    top_level_original_max: Option<usize>,
) -> std::result::Result<RopeScaling, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(RopeScaling::None);
    };
    let kind = v
        .get("rope_type")
        .or_else(|| v.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    let num = |k: &str| -> std::result::Result<f64, String> {
        v.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("rope scaling {kind:?} needs numeric `{k}`"))
    };
    let list = |k: &str| -> std::result::Result<Vec<f64>, String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .ok_or_else(|| format!("rope scaling {kind:?} needs a list `{k}`"))
    };
    Ok(match kind {
        "default" => RopeScaling::None,
        "linear" => RopeScaling::Linear {
            factor: num("factor")?,
        },
        "llama3" => RopeScaling::Llama3 {
            factor: num("factor")?,
            low_freq_factor: num("low_freq_factor")?,
            high_freq_factor: num("high_freq_factor")?,
            original_max_position_embeddings: num("original_max_position_embeddings")?,
        },
        "longrope" | "su" => RopeScaling::LongRope {
            short_factor: list("short_factor")?,
            long_factor: list("long_factor")?,
            original_max_position_embeddings: match top_level_original_max {
                Some(n) => n,
                None => num("original_max_position_embeddings")? as usize,
            },
        },
        other => return Err(format!("unsupported rope scaling type {other:?}")),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config(overrides: &[(&str, Value)]) -> Value {
        let mut v = serde_json::json!({
            "architectures": ["LlamaForCausalLM"],
            "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        });
        for (k, x) in overrides {
            v[*k] = x.clone();
        }
        v
    }

    fn parse(v: &Value) -> Result<ModelConfig> {
        ModelConfig::from_json(&v.to_string(), Path::new("config.json"))
    }

    #[test]
    fn absurd_dimensions_are_refused_with_the_field_named() {
        let err = parse(&config(&[(
            "num_hidden_layers",
            serde_json::json!(2_000_000_000_000_000_000u64),
        )]))
        .unwrap_err();
        assert!(err.to_string().contains("num_hidden_layers"), "{err}");
        for field in ["vocab_size", "hidden_size", "intermediate_size", "head_dim"] {
            let err = parse(&config(&[(field, serde_json::json!(u64::MAX))])).unwrap_err();
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
        let err = parse(&config(&[(
            "max_position_embeddings",
            serde_json::json!(1u64 << 40),
        )]))
        .unwrap_err();
        assert!(err.to_string().contains("max_position_embeddings"), "{err}");
        // Negative or fractional numbers are not sizes.
        assert!(parse(&config(&[("hidden_size", serde_json::json!(-64))])).is_err());
        assert!(parse(&config(&[("hidden_size", serde_json::json!(1e300))])).is_err());
    }

    #[test]
    fn dimensions_within_bounds_give_an_exact_checked_count() {
        let cfg = parse(&config(&[])).unwrap();
        assert_eq!(cfg.checked_parameter_count(), Some(cfg.parameter_count()));
        // Every dimension at its bound: the count still fits in a u64 and is
        // far above any competition's limit, so it is refused by the check,
        // not by an overflow.
        let big = parse(&config(&[
            ("vocab_size", serde_json::json!(1u64 << 21)),
            ("hidden_size", serde_json::json!(1u64 << 18)),
            ("intermediate_size", serde_json::json!(1u64 << 18)),
            ("num_hidden_layers", serde_json::json!(1u64 << 12)),
            ("num_attention_heads", serde_json::json!(1u64 << 12)),
            ("num_key_value_heads", serde_json::json!(1u64 << 12)),
            ("head_dim", serde_json::json!(1u64 << 12)),
        ]));
        match big {
            Ok(cfg) => assert!(cfg.parameter_count() > 1 << 50),
            Err(e) => assert!(e.to_string().contains("overflows"), "{e}"),
        }
    }

    #[test]
    fn a_deeply_nested_config_is_an_error_not_a_stack_overflow() {
        let text = format!(
            "{{\"architectures\": [\"LlamaForCausalLM\"], \"x\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(ModelConfig::from_json(&text, Path::new("config.json")).is_err());
    }

    #[test]
    fn longrope_lists_must_match_the_head_dimension() {
        let err = parse(&config(&[(
            "rope_scaling",
            serde_json::json!({"type": "longrope", "short_factor": [1.0], "long_factor": [1.0],
                               "original_max_position_embeddings": 16}),
        )]))
        .unwrap_err();
        assert!(err.to_string().contains("short_factor"), "{err}");
    }
}

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
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ModelError::Missing {
                    path: path.to_path_buf(),
                    what: "the model's config.json",
                }
            } else {
                ModelError::io(path, e)
            }
        })?;
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
                Some(x) if x > 0 => Ok(x),
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
        let sliding_window = match (&raw.sliding_window, raw.use_sliding_window) {
            (_, Some(false)) => None,
            (Some(v), _) => v.as_u64().map(|w| w as usize),
            _ => None,
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
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(4096),
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
        Ok(cfg)
    }

    /// Whether layer `layer` attends only within the sliding window.
    pub fn layer_window(&self, layer: usize) -> Option<usize> {
        match self.sliding_window {
            Some(w) if !self.sliding_window_alternating || layer.is_multiple_of(2) => Some(w),
            _ => None,
        }
    }

    /// Parameter count implied by the config (what the weights must hold).
    pub fn parameter_count(&self) -> u64 {
        let (h, i, v) = (
            self.hidden_size as u64,
            self.intermediate_size as u64,
            self.vocab_size as u64,
        );
        let (q, kv) = (
            (self.num_heads * self.head_dim) as u64,
            (self.num_kv_heads * self.head_dim) as u64,
        );
        let mut layer = h * q + 2 * h * kv + q * h + 3 * h * i;
        if self.qkv_bias {
            layer += q + 2 * kv;
        }
        if self.o_bias {
            layer += h;
        }
        if self.mlp_bias {
            layer += 2 * i + h;
        }
        layer += if self.sandwich_norms { 4 * h } else { 2 * h };
        let head = if self.tie_word_embeddings { 0 } else { v * h };
        v * h + self.num_layers as u64 * layer + h + head
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

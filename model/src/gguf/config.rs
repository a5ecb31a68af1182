//! Llama hyper-parameters from GGUF metadata, and the Hugging Face `config.json` built from them.

use serde::Serialize;
use serde_json::json;

use super::metadata::Metadata;
use super::ImportError;

/// Hyper-parameters of a llama-architecture GGUF, checked for consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaParams {
    /// Rows of the embedding matrix (the model's vocabulary size).
    pub vocab_size: usize,
    /// Width of the residual stream (`llama.embedding_length`).
    pub hidden_size: usize,
    /// Width of the MLP (`llama.feed_forward_length`).
    pub intermediate_size: usize,
    /// Number of transformer blocks (`llama.block_count`).
    pub num_layers: usize,
    /// Number of query heads (`llama.attention.head_count`).
    pub num_heads: usize,
    /// Number of key/value heads (`llama.attention.head_count_kv`, default: `num_heads`).
    pub num_kv_heads: usize,
    /// Width of one attention head (`llama.attention.key_length`, default: hidden / heads).
    pub head_dim: usize,
    /// Training context length (`llama.context_length`).
    pub context_length: usize,
    /// RMSNorm epsilon (`llama.attention.layer_norm_rms_epsilon`).
    pub rms_norm_eps: f64,
    /// RoPE base frequency θ (`llama.rope.freq_base`, default 10000).
    pub rope_theta: f64,
    /// Linear RoPE scaling factor, when the file asks for linear scaling.
    pub rope_linear_factor: Option<f64>,
}

impl LlamaParams {
    /// Reads and checks the `llama.*` keys; `vocab_size` comes from the embedding matrix.
    pub(crate) fn from_metadata(
        meta: &Metadata<'_>,
        vocab_size: usize,
    ) -> Result<Self, ImportError> {
        let unsupported = |feature: String| ImportError::UnsupportedFeature {
            path: meta.path().to_path_buf(),
            feature,
        };
        let hidden_size = meta.positive("llama.embedding_length")?;
        let num_heads = meta.positive("llama.attention.head_count")?;
        let num_kv_heads = meta
            .opt_positive("llama.attention.head_count_kv")?
            .unwrap_or(num_heads);
        if num_heads % num_kv_heads != 0 {
            return Err(meta.invalid(
                "llama.attention.head_count_kv",
                format!("{num_kv_heads} key/value heads do not divide {num_heads} query heads"),
            ));
        }
        let head_dim = match meta.opt_positive("llama.attention.key_length")? {
            Some(d) => d,
            None if hidden_size % num_heads == 0 => hidden_size / num_heads,
            None => {
                return Err(meta.invalid(
                    "llama.attention.head_count",
                    format!("{num_heads} heads do not divide the hidden size {hidden_size}"),
                ))
            }
        };
        if let Some(v) = meta.opt_positive("llama.attention.value_length")? {
            if v != head_dim {
                return Err(unsupported(format!(
                    "value head width {v} differs from key head width {head_dim}"
                )));
            }
        }
        if head_dim % 2 != 0 {
            return Err(meta.invalid(
                "llama.attention.key_length",
                format!("head width {head_dim} is odd"),
            ));
        }
        if let Some(rot) = meta.opt_u64("llama.rope.dimension_count")? {
            if usize::try_from(rot).ok() != Some(head_dim) {
                return Err(unsupported(format!(
                    "partial rotary embedding (llama.rope.dimension_count = {rot}, head width {head_dim})"
                )));
            }
        }
        if let Some(n) = meta.opt_u64("llama.expert_count")? {
            if n > 0 {
                return Err(unsupported(format!(
                    "mixture of experts (llama.expert_count = {n})"
                )));
            }
        }
        let rope_linear_factor = rope_scaling(meta)?;
        Ok(Self {
            vocab_size,
            hidden_size,
            intermediate_size: meta.positive("llama.feed_forward_length")?,
            num_layers: meta.positive("llama.block_count")?,
            num_heads,
            num_kv_heads,
            head_dim,
            context_length: meta.positive("llama.context_length")?,
            rms_norm_eps: meta.f64("llama.attention.layer_norm_rms_epsilon")?,
            rope_theta: meta.opt_f64("llama.rope.freq_base")?.unwrap_or(10_000.0),
            rope_linear_factor,
        })
    }
}

/// The linear RoPE scaling factor, `None` without scaling; other scaling types are refused.
fn rope_scaling(meta: &Metadata<'_>) -> Result<Option<f64>, ImportError> {
    let factor = match meta.opt_str("llama.rope.scaling.type")? {
        None | Some("none") => meta.opt_f64("llama.rope.scale_linear")?,
        Some("linear") => Some(meta.f64("llama.rope.scaling.factor")?),
        Some(other) => {
            return Err(ImportError::UnsupportedFeature {
                path: meta.path().to_path_buf(),
                feature: format!("rope scaling type {other:?} (only linear is converted)"),
            })
        }
    };
    Ok(factor.filter(|f| *f != 1.0))
}

/// Token ids that go into `config.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpecialTokenIds {
    /// Beginning-of-sequence token id.
    pub bos: Option<u32>,
    /// End-of-sequence token id.
    pub eos: Option<u32>,
    /// Padding token id.
    pub pad: Option<u32>,
    /// Unknown-token id.
    pub unk: Option<u32>,
}

/// The Hugging Face `config.json` of a `LlamaForCausalLM`, in the keys transformers 4 and 5 read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HfLlamaConfig {
    /// Always `["LlamaForCausalLM"]`.
    pub architectures: Vec<String>,
    /// Always `"llama"`.
    pub model_type: String,
    /// Rows of the embedding matrix.
    pub vocab_size: usize,
    /// Residual stream width.
    pub hidden_size: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// Number of transformer blocks.
    pub num_hidden_layers: usize,
    /// Number of query heads.
    pub num_attention_heads: usize,
    /// Number of key/value heads.
    pub num_key_value_heads: usize,
    /// Width of one attention head.
    pub head_dim: usize,
    /// MLP activation, always `"silu"` for llama.
    pub hidden_act: String,
    /// Training context length.
    pub max_position_embeddings: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE θ (transformers 4 key).
    pub rope_theta: f64,
    /// RoPE scaling (transformers 4 key), absent without scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<serde_json::Value>,
    /// RoPE θ and scaling (transformers 5 key).
    pub rope_parameters: serde_json::Value,
    /// Whether q/k/v/o projections carry biases.
    pub attention_bias: bool,
    /// Attention dropout, 0.
    pub attention_dropout: f64,
    /// Whether the MLP carries biases (never, for imported GGUFs).
    pub mlp_bias: bool,
    /// True iff the GGUF has no separate `output.weight`.
    pub tie_word_embeddings: bool,
    /// Beginning-of-sequence token id.
    pub bos_token_id: Option<u32>,
    /// End-of-sequence token id.
    pub eos_token_id: Option<u32>,
    /// Padding token id, absent when the GGUF names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pad_token_id: Option<u32>,
    /// Unknown-token id, absent when the GGUF names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unk_token_id: Option<u32>,
    /// Weight initialiser scale (only used for training from scratch), 0.02.
    pub initializer_range: f64,
    /// Tensor-parallel pretraining degree, 1.
    pub pretraining_tp: u32,
    /// Whether generation keeps a KV cache, true.
    pub use_cache: bool,
    /// Storage dtype of `model.safetensors` (transformers 4 key), `"float32"`.
    pub torch_dtype: String,
    /// Storage dtype of `model.safetensors` (transformers 5 key), `"float32"`.
    pub dtype: String,
}

impl HfLlamaConfig {
    /// The configuration for `params`, with tied embeddings and attention biases as found.
    pub fn new(
        params: &LlamaParams,
        ids: SpecialTokenIds,
        tie_word_embeddings: bool,
        attention_bias: bool,
    ) -> Self {
        let (rope_scaling, rope_parameters) = match params.rope_linear_factor {
            None => (
                None,
                json!({"rope_theta": params.rope_theta, "rope_type": "default"}),
            ),
            Some(f) => (
                Some(json!({"rope_type": "linear", "type": "linear", "factor": f})),
                json!({"rope_theta": params.rope_theta, "rope_type": "linear", "factor": f}),
            ),
        };
        Self {
            architectures: vec!["LlamaForCausalLM".to_string()],
            model_type: "llama".to_string(),
            vocab_size: params.vocab_size,
            hidden_size: params.hidden_size,
            intermediate_size: params.intermediate_size,
            num_hidden_layers: params.num_layers,
            num_attention_heads: params.num_heads,
            num_key_value_heads: params.num_kv_heads,
            head_dim: params.head_dim,
            hidden_act: "silu".to_string(),
            max_position_embeddings: params.context_length,
            rms_norm_eps: params.rms_norm_eps,
            rope_theta: params.rope_theta,
            rope_scaling,
            rope_parameters,
            attention_bias,
            attention_dropout: 0.0,
            mlp_bias: false,
            tie_word_embeddings,
            bos_token_id: ids.bos,
            eos_token_id: ids.eos,
            pad_token_id: ids.pad,
            unk_token_id: ids.unk,
            initializer_range: 0.02,
            pretraining_tp: 1,
            use_cache: true,
            torch_dtype: "float32".to_string(),
            dtype: "float32".to_string(),
        }
    }
}

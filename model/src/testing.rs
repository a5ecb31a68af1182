//! Tiny models generated in code, for tests and examples: random weights
//! written as real safetensors beside a real byte-level BPE tokenizer and a
//! ChatML template, in the exact Hugging Face layout of each supported family.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::{json, Value};

use crate::config::Architecture;
use crate::error::{ModelError, Result};

/// Options of a tiny model.
#[derive(Debug, Clone)]
pub struct TinySpec {
    /// Family to imitate.
    pub architecture: Architecture,
    /// Seed of the weights.
    pub seed: u64,
    /// Whether the lm-head is tied to the embeddings.
    pub tie_word_embeddings: bool,
    /// Llama-3 rope scaling on (Llama only).
    pub llama3_rope: bool,
    /// Sliding window (Mistral, Gemma2).
    pub sliding_window: Option<usize>,
    /// Multiplies the (untied) lm-head's weights: far above 1, a model
    /// sure of the wrong tokens, with losses in the hundreds of nats.
    pub logit_scale: f32,
}

impl TinySpec {
    /// Defaults for `architecture`.
    pub fn new(architecture: Architecture) -> Self {
        Self {
            architecture,
            seed: 7,
            tie_word_embeddings: matches!(architecture, Architecture::Gemma | Architecture::Gemma2),
            llama3_rope: false,
            sliding_window: None,
            logit_scale: 1.0,
        }
    }
}

/// Every variant the tests cover: each architecture plus the flags that
/// change the computation (tied embeddings, Llama-3 RoPE, sliding windows).
pub fn tiny_variants() -> Vec<(&'static str, TinySpec)> {
    let mut out: Vec<(&'static str, TinySpec)> = [
        ("llama", Architecture::Llama),
        ("mistral", Architecture::Mistral),
        ("qwen2", Architecture::Qwen2),
        ("phi3", Architecture::Phi3),
        ("gemma", Architecture::Gemma),
        ("gemma2", Architecture::Gemma2),
    ]
    .into_iter()
    .map(|(n, a)| (n, TinySpec::new(a)))
    .collect();
    let mut tied = TinySpec::new(Architecture::Llama);
    tied.tie_word_embeddings = true;
    out.push(("llama-tied", tied));
    let mut l3 = TinySpec::new(Architecture::Llama);
    l3.llama3_rope = true;
    out.push(("llama3-rope", l3));
    let mut sw = TinySpec::new(Architecture::Mistral);
    sw.sliding_window = Some(5);
    out.push(("mistral-window", sw));
    let mut g2 = TinySpec::new(Architecture::Gemma2);
    g2.sliding_window = Some(5);
    out.push(("gemma2-window", g2));
    out
}

/// Byte tokens, then these special tokens.
pub const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

const HIDDEN: usize = 32;
const INTER: usize = 64;
const LAYERS: usize = 2;
const HEADS: usize = 4;
const KV_HEADS: usize = 2;
const HEAD_DIM: usize = 8;

/// Vocabulary of the tiny tokenizer: 256 byte tokens and the special tokens.
pub const TINY_VOCAB: usize = 256 + SPECIAL_TOKENS.len();

struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        // xorshift64*: plenty for random test weights.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }

    fn tensor(&mut self, shape: &[usize], scale: f32) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.next_f32() * scale).collect();
        Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
    }
}

/// Writes a complete tiny model directory for `spec` into `dir`.
pub fn write_tiny_model(dir: &Path, spec: &TinySpec) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let arch = spec.architecture;
    let mut t: HashMap<String, Tensor> = HashMap::new();
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let (q, kv) = (HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM);
    let w = 0.35;
    t.insert(
        "model.embed_tokens.weight".into(),
        rng.tensor(&[TINY_VOCAB, HIDDEN], 1.0)?,
    );
    if !spec.tie_word_embeddings {
        t.insert(
            "lm_head.weight".into(),
            rng.tensor(&[TINY_VOCAB, HIDDEN], w * spec.logit_scale)?,
        );
    }
    let norm = |rng: &mut Rng| -> Result<Tensor> {
        // Gemma stores weight−1; keep both near 1 in effect.
        let base = if matches!(arch, Architecture::Gemma | Architecture::Gemma2) {
            0.0
        } else {
            1.0
        };
        Ok((rng.tensor(&[HIDDEN], 0.1)? + base)?)
    };
    t.insert("model.norm.weight".into(), norm(&mut rng)?);
    for l in 0..LAYERS {
        let p = format!("model.layers.{l}");
        let mut put = |name: String, shape: &[usize], scale: f32, rng: &mut Rng| -> Result<()> {
            t.insert(name, rng.tensor(shape, scale)?);
            Ok(())
        };
        if arch == Architecture::Phi3 {
            put(
                format!("{p}.self_attn.qkv_proj.weight"),
                &[q + 2 * kv, HIDDEN],
                w,
                &mut rng,
            )?;
            put(
                format!("{p}.mlp.gate_up_proj.weight"),
                &[2 * INTER, HIDDEN],
                w,
                &mut rng,
            )?;
        } else {
            put(
                format!("{p}.self_attn.q_proj.weight"),
                &[q, HIDDEN],
                w,
                &mut rng,
            )?;
            put(
                format!("{p}.self_attn.k_proj.weight"),
                &[kv, HIDDEN],
                w,
                &mut rng,
            )?;
            put(
                format!("{p}.self_attn.v_proj.weight"),
                &[kv, HIDDEN],
                w,
                &mut rng,
            )?;
            put(
                format!("{p}.mlp.gate_proj.weight"),
                &[INTER, HIDDEN],
                w,
                &mut rng,
            )?;
            put(
                format!("{p}.mlp.up_proj.weight"),
                &[INTER, HIDDEN],
                w,
                &mut rng,
            )?;
        }
        if arch == Architecture::Qwen2 {
            put(format!("{p}.self_attn.q_proj.bias"), &[q], 0.2, &mut rng)?;
            put(format!("{p}.self_attn.k_proj.bias"), &[kv], 0.2, &mut rng)?;
            put(format!("{p}.self_attn.v_proj.bias"), &[kv], 0.2, &mut rng)?;
        }
        put(
            format!("{p}.self_attn.o_proj.weight"),
            &[HIDDEN, q],
            w,
            &mut rng,
        )?;
        put(
            format!("{p}.mlp.down_proj.weight"),
            &[HIDDEN, INTER],
            w,
            &mut rng,
        )?;
        let mut norms = vec!["input_layernorm", "post_attention_layernorm"];
        if arch == Architecture::Gemma2 {
            norms.extend(["pre_feedforward_layernorm", "post_feedforward_layernorm"]);
        }
        for n in norms {
            t.insert(format!("{p}.{n}.weight"), norm(&mut rng)?);
        }
    }
    let weights = dir.join("model.safetensors");
    candle_core::safetensors::save(&t, &weights)?;
    write_json(&dir.join("config.json"), &config_json(spec))?;
    write_json(&dir.join("tokenizer.json"), &tokenizer_json())?;
    write_json(
        &dir.join("tokenizer_config.json"),
        &json!({
            "bos_token": "<|im_start|>",
            "eos_token": "<|im_end|>",
            "pad_token": "<|im_end|>",
            "add_bos_token": false,
            "model_max_length": 512,
            "chat_template": CHATML,
        }),
    )
}

/// The ChatML template the tiny models carry.
pub const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

fn write_json(path: &Path, v: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| ModelError::Input(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| ModelError::io(path, e))
}

fn config_json(spec: &TinySpec) -> Value {
    let arch = spec.architecture;
    let model_type = match arch {
        Architecture::Llama => "llama",
        Architecture::Mistral => "mistral",
        Architecture::Qwen2 => "qwen2",
        Architecture::Phi3 => "phi3",
        Architecture::Gemma => "gemma",
        Architecture::Gemma2 => "gemma2",
    };
    let mut c = json!({
        "architectures": [arch.hf_name()],
        "model_type": model_type,
        "vocab_size": TINY_VOCAB,
        "hidden_size": HIDDEN,
        "intermediate_size": INTER,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "head_dim": HEAD_DIM,
        "max_position_embeddings": 512,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": spec.tie_word_embeddings,
        "bos_token_id": 257,
        "eos_token_id": 258,
        "pad_token_id": 258,
        "torch_dtype": "float32",
    });
    let obj = c.as_object_mut();
    if let Some(o) = obj {
        match arch {
            Architecture::Gemma => {
                o.insert("hidden_activation".into(), json!("gelu_pytorch_tanh"));
            }
            Architecture::Gemma2 => {
                o.insert("hidden_activation".into(), json!("gelu_pytorch_tanh"));
                o.insert("attn_logit_softcapping".into(), json!(50.0));
                o.insert("final_logit_softcapping".into(), json!(30.0));
                o.insert("query_pre_attn_scalar".into(), json!(16));
                o.insert(
                    "sliding_window".into(),
                    json!(spec.sliding_window.unwrap_or(4096)),
                );
            }
            Architecture::Mistral => {
                o.insert("sliding_window".into(), json!(spec.sliding_window));
            }
            Architecture::Qwen2 => {
                o.insert("use_sliding_window".into(), json!(false));
            }
            _ => {}
        }
        if spec.llama3_rope {
            o.insert(
                "rope_scaling".into(),
                json!({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
            );
        }
    }
    c
}

/// A byte-level BPE tokenizer with one token per byte and no merges.
fn tokenizer_json() -> Value {
    // GPT-2's byte → unicode table, so every byte has a printable token.
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut pairs: Vec<(u32, u32)> = bs.into_iter().zip(cs).collect();
    pairs.sort();
    let mut vocab = serde_json::Map::new();
    for (id, (_, c)) in pairs.iter().enumerate() {
        let ch = char::from_u32(*c).unwrap_or('?');
        vocab.insert(ch.to_string(), json!(id));
    }
    let added: Vec<Value> = SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            vocab.insert((*s).to_string(), json!(256 + i));
            json!({"id": 256 + i, "content": s, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": []}
    })
}

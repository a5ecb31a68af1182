//! Tensor planning: GGUF names to Hugging Face names, shape checks against the metadata, and
//! llama.cpp's Q/K row permutation and its inverse.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::TensorInfo;
use candle_core::Tensor;

use super::config::LlamaParams;
use super::ImportError;

/// What a tensor is in a Llama block or around the blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Embed,
    Norm,
    LmHead,
    Q,
    K,
    V,
    O,
    QBias,
    KBias,
    VBias,
    OBias,
    Gate,
    Up,
    Down,
    AttnNorm,
    FfnNorm,
}

/// Per-block tensors: GGUF suffix, Hugging Face suffix, kind.
const BLOCK_TENSORS: [(&str, &str, Kind); 13] = [
    ("attn_q.weight", "self_attn.q_proj.weight", Kind::Q),
    ("attn_k.weight", "self_attn.k_proj.weight", Kind::K),
    ("attn_v.weight", "self_attn.v_proj.weight", Kind::V),
    ("attn_output.weight", "self_attn.o_proj.weight", Kind::O),
    ("attn_q.bias", "self_attn.q_proj.bias", Kind::QBias),
    ("attn_k.bias", "self_attn.k_proj.bias", Kind::KBias),
    ("attn_v.bias", "self_attn.v_proj.bias", Kind::VBias),
    ("attn_output.bias", "self_attn.o_proj.bias", Kind::OBias),
    ("ffn_gate.weight", "mlp.gate_proj.weight", Kind::Gate),
    ("ffn_up.weight", "mlp.up_proj.weight", Kind::Up),
    ("ffn_down.weight", "mlp.down_proj.weight", Kind::Down),
    ("attn_norm.weight", "input_layernorm.weight", Kind::AttnNorm),
    (
        "ffn_norm.weight",
        "post_attention_layernorm.weight",
        Kind::FfnNorm,
    ),
];

/// Tensors every block must have.
const REQUIRED_IN_BLOCK: [Kind; 9] = [
    Kind::Q,
    Kind::K,
    Kind::V,
    Kind::O,
    Kind::Gate,
    Kind::Up,
    Kind::Down,
    Kind::AttnNorm,
    Kind::FfnNorm,
];

/// Block index and kind of a GGUF tensor name.
fn role(gguf_name: &str) -> Option<(Option<usize>, Kind)> {
    match gguf_name {
        "token_embd.weight" => return Some((None, Kind::Embed)),
        "output_norm.weight" => return Some((None, Kind::Norm)),
        "output.weight" => return Some((None, Kind::LmHead)),
        _ => {}
    }
    let (layer, suffix) = gguf_name.strip_prefix("blk.")?.split_once('.')?;
    if layer.is_empty() || !layer.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = BLOCK_TENSORS.iter().find(|(g, _, _)| *g == suffix)?.2;
    Some((Some(layer.parse().ok()?), kind))
}

fn hf_name(layer: Option<usize>, kind: Kind) -> String {
    match (layer, kind) {
        (_, Kind::Embed) => "model.embed_tokens.weight".to_string(),
        (_, Kind::Norm) => "model.norm.weight".to_string(),
        (_, Kind::LmHead) => "lm_head.weight".to_string(),
        (layer, kind) => {
            let hf = BLOCK_TENSORS
                .iter()
                .find(|(_, _, k)| *k == kind)
                .map_or("", |t| t.1);
            format!("model.layers.{}.{hf}", layer.unwrap_or(0))
        }
    }
}

fn gguf_name(layer: Option<usize>, kind: Kind) -> String {
    match kind {
        Kind::Embed => "token_embd.weight".to_string(),
        Kind::Norm => "output_norm.weight".to_string(),
        Kind::LmHead => "output.weight".to_string(),
        kind => {
            let g = BLOCK_TENSORS
                .iter()
                .find(|(_, _, k)| *k == kind)
                .map_or("", |t| t.0);
            format!("blk.{}.{g}", layer.unwrap_or(0))
        }
    }
}

/// The Hugging Face Llama name of a GGUF tensor (`blk.3.attn_q.weight` →
/// `model.layers.3.self_attn.q_proj.weight`), or `None` when it has no counterpart.
pub fn hf_tensor_name(gguf_name: &str) -> Option<String> {
    role(gguf_name).map(|(layer, kind)| hf_name(layer, kind))
}

/// Rows of a weight split as `[n_head, …, rest]` for the (un)permutations.
fn head_split(w: &Tensor, n_head: usize) -> candle_core::Result<(usize, usize)> {
    let rows = w.dims().first().copied().unwrap_or(0);
    if n_head == 0 || rows == 0 || rows % (2 * n_head) != 0 {
        candle_core::bail!("cannot split {rows} rows into {n_head} heads of an even width")
    }
    Ok((rows / n_head / 2, w.elem_count() / rows))
}

/// llama.cpp's permutation of Q/K rows (Hugging Face → GGUF): within each head, rows
/// `[x0 … x_{d/2-1}, y0 … y_{d/2-1}]` become interleaved pairs `[x0, y0, x1, y1, …]`.
/// Works for weights `[out, in]` and biases `[out]`; use `n_head_kv` heads for K.
pub fn permute_qk(w: &Tensor, n_head: usize) -> candle_core::Result<Tensor> {
    let (half, rest) = head_split(w, n_head)?;
    w.reshape((n_head, 2, half, rest))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(w.dims())
}

/// The inverse of [`permute_qk`] (GGUF → Hugging Face): de-interleaves each head's rows.
pub fn unpermute_qk(w: &Tensor, n_head: usize) -> candle_core::Result<Tensor> {
    let (half, rest) = head_split(w, n_head)?;
    w.reshape((n_head, half, 2, rest))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(w.dims())
}

/// Where the data of an output tensor comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// A GGUF tensor, un-permuted over this many heads when set.
    Gguf {
        name: String,
        unpermute_heads: Option<usize>,
    },
    /// Zeros: an attention bias the file lacks while its siblings exist.
    Zeros,
}

/// One tensor of `model.safetensors`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planned {
    /// Name in `model.safetensors`.
    pub(crate) hf_name: String,
    /// Shape in Hugging Face layout, `[out, in]`.
    pub(crate) shape: Vec<usize>,
    /// Where the data comes from.
    pub(crate) source: Source,
}

/// The checked list of output tensors.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Output tensors sorted by Hugging Face name.
    pub(crate) tensors: Vec<Planned>,
    /// No `output.weight`: the LM head reuses the embeddings.
    pub(crate) tied: bool,
    /// The file has attention biases.
    pub(crate) attention_bias: bool,
}

/// Rows of `token_embd.weight`: the model's vocabulary size.
pub(crate) fn embedding_rows(
    path: &Path,
    infos: &HashMap<String, TensorInfo>,
) -> Result<usize, ImportError> {
    let name = "token_embd.weight";
    let info = infos.get(name).ok_or_else(|| ImportError::MissingTensor {
        path: path.to_path_buf(),
        name: name.to_string(),
    })?;
    match info.shape.dims() {
        &[rows, _] if rows > 0 => Ok(rows),
        dims => Err(ImportError::Malformed {
            path: path.to_path_buf(),
            reason: format!("{name} has shape {dims:?}, expected [vocab, hidden]"),
        }),
    }
}

fn expected_shape(p: &LlamaParams, kind: Kind) -> Vec<usize> {
    let (q, kv) = (p.num_heads * p.head_dim, p.num_kv_heads * p.head_dim);
    match kind {
        Kind::Embed | Kind::LmHead => vec![p.vocab_size, p.hidden_size],
        Kind::Norm | Kind::AttnNorm | Kind::FfnNorm | Kind::OBias => vec![p.hidden_size],
        Kind::Q => vec![q, p.hidden_size],
        Kind::K | Kind::V => vec![kv, p.hidden_size],
        Kind::O => vec![p.hidden_size, q],
        Kind::QBias => vec![q],
        Kind::KBias | Kind::VBias => vec![kv],
        Kind::Gate | Kind::Up => vec![p.intermediate_size, p.hidden_size],
        Kind::Down => vec![p.hidden_size, p.intermediate_size],
    }
}

/// Maps every GGUF tensor to its output, checking names and shapes against `params`.
pub(crate) fn plan(
    path: &Path,
    p: &LlamaParams,
    infos: &HashMap<String, TensorInfo>,
) -> Result<Plan, ImportError> {
    let mut found: HashMap<(Option<usize>, Kind), &str> = HashMap::new();
    // Sorted, so the error reported for a bad file does not depend on hash order.
    let mut names: Vec<&String> = infos.keys().collect();
    names.sort();
    for name in names {
        let Some(info) = infos.get(name) else {
            continue;
        };
        if name == "rope_freqs.weight" {
            return Err(ImportError::UnsupportedFeature {
                path: path.to_path_buf(),
                feature: "Llama-3.1 rope frequency factors (rope_freqs.weight)".to_string(),
            });
        }
        if name.ends_with(".attn_rot_embd") {
            tracing::warn!(tensor = %name, "skipping precomputed rotary table");
            continue;
        }
        let unexpected = |reason: String| ImportError::UnexpectedTensor {
            path: path.to_path_buf(),
            name: name.clone(),
            reason,
        };
        let (layer, kind) = role(name)
            .ok_or_else(|| unexpected("no Hugging Face Llama counterpart".to_string()))?;
        if let Some(l) = layer.filter(|&l| l >= p.num_layers) {
            let n = p.num_layers;
            return Err(unexpected(format!(
                "block {l} is beyond llama.block_count = {n}"
            )));
        }
        let expected = expected_shape(p, kind);
        if info.shape.dims() != expected.as_slice() {
            return Err(ImportError::ShapeMismatch {
                path: path.to_path_buf(),
                name: name.clone(),
                expected,
                found: info.shape.dims().to_vec(),
            });
        }
        found.insert((layer, kind), name.as_str());
    }
    let attention_bias = found
        .keys()
        .any(|(_, k)| matches!(k, Kind::QBias | Kind::KBias | Kind::VBias | Kind::OBias));
    let mut wanted: Vec<(Option<usize>, Kind, bool)> =
        vec![(None, Kind::Embed, true), (None, Kind::Norm, true)];
    let tied = !found.contains_key(&(None, Kind::LmHead));
    if !tied {
        wanted.push((None, Kind::LmHead, true));
    }
    for l in 0..p.num_layers {
        wanted.extend(REQUIRED_IN_BLOCK.iter().map(|&k| (Some(l), k, true)));
        if attention_bias {
            wanted.extend(
                [Kind::QBias, Kind::KBias, Kind::VBias, Kind::OBias].map(|k| (Some(l), k, false)),
            );
        }
    }
    let mut tensors = Vec::with_capacity(wanted.len());
    for (layer, kind, required) in wanted {
        let source = match found.get(&(layer, kind)) {
            Some(name) => Source::Gguf {
                name: (*name).to_string(),
                unpermute_heads: match kind {
                    Kind::Q | Kind::QBias => Some(p.num_heads),
                    Kind::K | Kind::KBias => Some(p.num_kv_heads),
                    _ => None,
                },
            },
            None if required => {
                return Err(ImportError::MissingTensor {
                    path: path.to_path_buf(),
                    name: gguf_name(layer, kind),
                })
            }
            None => Source::Zeros,
        };
        tensors.push(Planned {
            hf_name: hf_name(layer, kind),
            shape: expected_shape(p, kind),
            source,
        });
    }
    tensors.sort_by(|a, b| a.hf_name.cmp(&b.hf_name));
    Ok(Plan {
        tensors,
        tied,
        attention_bias,
    })
}

//! A corpus of hostile model repositories, written in code: each [`Kind`]
//! is one way a miner's files could try to crash, stall or exhaust a
//! validator, built on a tiny Llama (see `gauntlet_model::testing`) with one
//! thing changed. "Huge" files are sparse, so the corpus stays small on disk
//! and quick to write.

use std::fs::File;
use std::path::Path;

use gauntlet_model::config::Architecture;
use gauntlet_model::testing::{write_tiny_model, TinySpec};
use serde_json::{json, Value};

/// One hostile repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `num_hidden_layers: 2e18` (once a `Vec::with_capacity` abort).
    AbsurdDimensions,
    /// Every dimension within its bound, their product far beyond the
    /// competition's parameter limit: refused before a weight is opened.
    ParameterCountBeyondLimit,
    /// A `config.json` nested 100,000 arrays deep.
    DeeplyNestedConfig,
    /// A `config.json` that is not UTF-8 text.
    BinaryConfig,
    /// A `model.safetensors.index.json` larger than its cap.
    HugeIndex,
    /// A `tokenizer_config.json` larger than its cap.
    HugeTokenizerConfig,
    /// A chat template of three nested `range(10000)` loops.
    RunawayTemplate,
    /// A chat template rendering 100 MB.
    HugeRender,
    /// A normalizer that inserts a megabyte between every two characters
    /// (a regex matching the empty string): encoding a sentence needs
    /// gigabytes. Only for the process sandbox: in process it would exhaust
    /// the test's own memory.
    HostileNormalizer,
    /// A NaN in an attention projection.
    NanWeights,
    /// An infinite value in the embeddings.
    InfiniteWeights,
    /// A tensor whose header claims F32 over BF16-sized data.
    DtypeLie,
    /// A projection whose shape is not the one the config implies.
    ShapeLie,
    /// A 64 MiB projection (sparse) where the config implies a tiny one.
    HugeProjection,
    /// A shard index naming a file outside the model directory.
    EscapingShardName,
    /// `config.json` a symbolic link to a file outside the directory.
    Symlink,
    /// More files than a model may have.
    TooManyFiles,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 17] = [
        Kind::AbsurdDimensions,
        Kind::ParameterCountBeyondLimit,
        Kind::DeeplyNestedConfig,
        Kind::BinaryConfig,
        Kind::HugeIndex,
        Kind::HugeTokenizerConfig,
        Kind::RunawayTemplate,
        Kind::HugeRender,
        Kind::HostileNormalizer,
        Kind::NanWeights,
        Kind::InfiniteWeights,
        Kind::DtypeLie,
        Kind::ShapeLie,
        Kind::HugeProjection,
        Kind::EscapingShardName,
        Kind::Symlink,
        Kind::TooManyFiles,
    ];

    /// A short name (used for repository names).
    pub fn name(self) -> &'static str {
        match self {
            Kind::AbsurdDimensions => "absurd-dims",
            Kind::ParameterCountBeyondLimit => "param-count",
            Kind::DeeplyNestedConfig => "nested-config",
            Kind::BinaryConfig => "binary-config",
            Kind::HugeIndex => "huge-index",
            Kind::HugeTokenizerConfig => "huge-tok-config",
            Kind::RunawayTemplate => "runaway-template",
            Kind::HugeRender => "huge-render",
            Kind::HostileNormalizer => "hostile-normalizer",
            Kind::NanWeights => "nan-weights",
            Kind::InfiniteWeights => "inf-weights",
            Kind::DtypeLie => "dtype-lie",
            Kind::ShapeLie => "shape-lie",
            Kind::HugeProjection => "huge-projection",
            Kind::EscapingShardName => "escaping-shard",
            Kind::Symlink => "symlink",
            Kind::TooManyFiles => "too-many-files",
        }
    }

    /// The verdict a validator must give it and a fragment of the reason,
    /// once the files went through a hub (which copies a link's target).
    pub fn expected(self) -> (&'static str, &'static str) {
        match self {
            Kind::AbsurdDimensions => ("disqualified", "num_hidden_layers"),
            Kind::ParameterCountBeyondLimit => ("disqualified", "config.json implies"),
            Kind::DeeplyNestedConfig => ("disqualified", "malformed config"),
            Kind::BinaryConfig => ("disqualified", "config.json"),
            Kind::HugeIndex => ("disqualified", "model.safetensors.index.json"),
            Kind::HugeTokenizerConfig => ("disqualified", "tokenizer_config.json"),
            Kind::RunawayTemplate => ("disqualified", "fuel"),
            Kind::HugeRender => ("disqualified", "longer than"),
            // With the sandbox's memory limit: a failed allocation while
            // checking. Without one, the probe's time limit disqualifies it.
            Kind::HostileNormalizer => ("out_of_memory", "allocation failed"),
            Kind::NanWeights => ("disqualified", "not finite"),
            Kind::InfiniteWeights => ("disqualified", "NaN or infinite"),
            Kind::DtypeLie => ("disqualified", "safetensors"),
            Kind::ShapeLie => ("disqualified", "has shape"),
            Kind::HugeProjection => ("disqualified", "has shape"),
            Kind::EscapingShardName => ("disqualified", "leaves the model directory"),
            Kind::Symlink => ("disqualified", "config"),
            Kind::TooManyFiles => ("download_failed", "more than the 1000 allowed"),
        }
    }
}

/// How large the "huge" files are: above every cap, and sparse.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Bytes of the huge JSON files (index, tokenizer config); the caps are
    /// 16 MiB.
    pub huge_json: u64,
}

impl Sizes {
    /// 2 GB JSON files: for tests that read the directory in place (the
    /// files stay sparse).
    pub const IN_PLACE: Sizes = Sizes {
        huge_json: 2_000_000_000,
    };
    /// 20 MB JSON files: for a local hub, which copies every byte, under
    /// a 100 MB repository cap.
    pub const THROUGH_A_HUB: Sizes = Sizes {
        huge_json: 20_000_000,
    };
}

/// Writes the hostile repository `kind` into `dir` (created); `outside` is a
/// directory outside it for the files a repository must not reach.
pub fn write(kind: Kind, dir: &Path, outside: &Path, sizes: Sizes) -> std::io::Result<()> {
    let mut spec = TinySpec::new(Architecture::Llama);
    spec.seed = 99;
    write_tiny_model(dir, &spec).map_err(std::io::Error::other)?;
    let config = || -> std::io::Result<Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json"))?)
            .map_err(std::io::Error::other)
    };
    let put_config = |v: &Value| std::fs::write(dir.join("config.json"), v.to_string());
    match kind {
        Kind::AbsurdDimensions => {
            let mut c = config()?;
            c["num_hidden_layers"] = json!(2_000_000_000_000_000_000u64);
            put_config(&c)
        }
        Kind::ParameterCountBeyondLimit => {
            let mut c = config()?;
            c["vocab_size"] = json!(1 << 21);
            c["hidden_size"] = json!(1 << 16);
            c["head_dim"] = json!(128);
            c["num_attention_heads"] = json!(512);
            c["num_key_value_heads"] = json!(512);
            put_config(&c)
        }
        Kind::DeeplyNestedConfig => {
            let text = format!(
                "{{\"architectures\": [\"LlamaForCausalLM\"], \"x\": {}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            );
            std::fs::write(dir.join("config.json"), text)
        }
        Kind::BinaryConfig => std::fs::write(dir.join("config.json"), [0xff, 0xfe, 0x00, 0x7b]),
        Kind::HugeIndex => sparse(&dir.join("model.safetensors.index.json"), sizes.huge_json),
        Kind::HugeTokenizerConfig => sparse(&dir.join("tokenizer_config.json"), sizes.huge_json),
        Kind::RunawayTemplate => std::fs::write(
            dir.join("chat_template.jinja"),
            "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}x{% endfor %}{% endfor %}{% endfor %}",
        ),
        Kind::HugeRender => std::fs::write(
            dir.join("chat_template.jinja"),
            "{% for i in range(10000) %}{{ 'x' * 10000 }}{% endfor %}",
        ),
        Kind::HostileNormalizer => {
            let path = dir.join("tokenizer.json");
            let mut t: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
                .map_err(std::io::Error::other)?;
            t["normalizer"] = json!({
                "type": "Replace",
                "pattern": {"Regex": ""},
                "content": "x".repeat(1 << 20)
            });
            std::fs::write(&path, t.to_string())
        }
        Kind::NanWeights => weights(dir, |name, v| {
            if name == "model.layers.0.self_attn.q_proj.weight" {
                v[3] = f32::NAN;
            }
        }),
        Kind::InfiniteWeights => weights(dir, |name, v| {
            if name == "model.embed_tokens.weight" {
                v[7] = f32::INFINITY;
            }
        }),
        Kind::DtypeLie => {
            // F32 claimed, BF16-sized data: the header does not add up.
            let mut header = serde_json::Map::new();
            header.insert(
                "model.embed_tokens.weight".into(),
                json!({"dtype": "F32", "shape": [259, 32], "data_offsets": [0, 259 * 32 * 2]}),
            );
            raw_safetensors(&dir.join("model.safetensors"), &Value::Object(header), 259 * 32 * 2)
        }
        Kind::ShapeLie => weights_with_shape(dir, "model.layers.1.self_attn.k_proj.weight", &[32, 32], false),
        Kind::HugeProjection => {
            weights_with_shape(dir, "model.layers.0.self_attn.q_proj.weight", &[4096, 4096], true)
        }
        Kind::EscapingShardName => {
            let index = json!({"metadata": {}, "weight_map": {
                "model.embed_tokens.weight": "../../../../etc/hostname"
            }});
            std::fs::write(dir.join("model.safetensors.index.json"), index.to_string())
        }
        Kind::Symlink => {
            std::fs::create_dir_all(outside)?;
            let target = outside.join("not-a-config.txt");
            std::fs::write(&target, "validator secrets live outside the model directory\n")?;
            std::fs::remove_file(dir.join("config.json"))?;
            std::os::unix::fs::symlink(&target, dir.join("config.json"))
        }
        Kind::TooManyFiles => {
            let extra = dir.join("extra");
            std::fs::create_dir_all(&extra)?;
            for i in 0..1001 {
                File::create(extra.join(format!("f{i:04}")))?;
            }
            Ok(())
        }
    }
}

/// A file of `len` zero bytes that takes no room on disk.
fn sparse(path: &Path, len: u64) -> std::io::Result<()> {
    File::create(path)?.set_len(len)
}

/// The tiny model's tensors (names and shapes), in f32.
fn tiny_tensors() -> Vec<(String, Vec<usize>)> {
    let (h, i, q, kv, vocab) = (32, 64, 32, 16, 259);
    let mut out = vec![
        ("model.embed_tokens.weight".to_string(), vec![vocab, h]),
        ("lm_head.weight".to_string(), vec![vocab, h]),
        ("model.norm.weight".to_string(), vec![h]),
    ];
    for l in 0..2 {
        let p = format!("model.layers.{l}");
        for (n, shape) in [
            ("self_attn.q_proj", vec![q, h]),
            ("self_attn.k_proj", vec![kv, h]),
            ("self_attn.v_proj", vec![kv, h]),
            ("self_attn.o_proj", vec![h, q]),
            ("mlp.gate_proj", vec![i, h]),
            ("mlp.up_proj", vec![i, h]),
            ("mlp.down_proj", vec![h, i]),
            ("input_layernorm", vec![h]),
            ("post_attention_layernorm", vec![h]),
        ] {
            out.push((format!("{p}.{n}.weight"), shape));
        }
    }
    out
}

/// Rewrites `model.safetensors` with small deterministic values, letting
/// `edit` change any tensor's values.
fn weights(dir: &Path, mut edit: impl FnMut(&str, &mut Vec<f32>)) -> std::io::Result<()> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, shape) in tiny_tensors() {
        let n: usize = shape.iter().product();
        let mut v: Vec<f32> = (0..n).map(|k| 0.05 * ((k as f32) * 0.37).sin()).collect();
        if name.ends_with("norm.weight") {
            v.iter_mut().for_each(|x| *x = 1.0);
        }
        edit(&name, &mut v);
        let start = data.len();
        data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        header.insert(
            name,
            json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
        );
    }
    let path = dir.join("model.safetensors");
    raw_safetensors(&path, &Value::Object(header), 0)?;
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)?
        .write_all(&data)
}

/// The tiny model's weights with `name` stored as `shape` (zeros, sparse
/// when `sparse`) instead of its own shape.
fn weights_with_shape(
    dir: &Path,
    name: &str,
    shape: &[usize],
    sparse: bool,
) -> std::io::Result<()> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    let mut dense = Vec::new();
    let mut tail = 0usize;
    for (n, own) in tiny_tensors() {
        let s: Vec<usize> = if n == name { shape.to_vec() } else { own };
        let bytes = s.iter().product::<usize>() * 4;
        header.insert(
            n.clone(),
            json!({"dtype": "F32", "shape": s, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
        if n == name && sparse {
            tail = bytes;
        } else if tail == 0 {
            dense.extend(std::iter::repeat_n(0u8, bytes));
        } else {
            tail += bytes;
        }
    }
    let path = dir.join("model.safetensors");
    raw_safetensors(&path, &Value::Object(header), 0)?;
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
    f.write_all(&dense)?;
    let len = f.metadata()?.len() + tail as u64;
    f.set_len(len)
}

/// A safetensors file holding `header` followed by `zeros` zero bytes.
fn raw_safetensors(path: &Path, header: &Value, zeros: usize) -> std::io::Result<()> {
    let mut text = header.to_string();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, zeros));
    std::fs::write(path, bytes)
}

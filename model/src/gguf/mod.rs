//! GGUF → Hugging Face model directory import for llama-architecture models.
//!
//! [`import_gguf`] writes `model.safetensors` (every tensor dequantised to f32, renamed to the
//! Hugging Face Llama layout, Q/K rows un-permuted), `config.json`, `tokenizer.json`,
//! `tokenizer_config.json` and, when the file has a chat template, `chat_template.jinja`.

mod config;
mod error;
mod metadata;
mod tensors;
mod tokenizer;
mod writer;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::Content;
use serde::Serialize;

pub use config::{HfLlamaConfig, LlamaParams, SpecialTokenIds};
pub use error::ImportError;
pub use tensors::{hf_tensor_name, permute_qk, unpermute_qk};
pub use tokenizer::{tokenizer_config_json, tokenizer_json, GgufVocab, PreTokenizer};

use metadata::Metadata;

/// Files an import writes into the output directory (the chat template only when present).
pub const OUTPUT_FILES: [&str; 5] = [
    "model.safetensors",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
];

/// What [`import_gguf`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The GGUF file read.
    pub source: PathBuf,
    /// The Hugging Face model directory written.
    pub output_dir: PathBuf,
    /// The GGUF architecture (`general.architecture`), always `llama` today.
    pub architecture: String,
    /// Rows of the embedding matrix (`vocab_size` in `config.json`).
    pub vocab_size: usize,
    /// Number of transformer blocks.
    pub num_layers: usize,
    /// Whether the LM head reuses the embeddings (no `output.weight` in the file).
    pub tie_word_embeddings: bool,
    /// Tensors written to `model.safetensors`.
    pub tensors_written: usize,
    /// Total number of parameters written.
    pub parameter_count: u64,
    /// Size of `model.safetensors` in bytes.
    pub safetensors_bytes: u64,
    /// Names of the files written, relative to `output_dir`.
    pub files: Vec<String>,
}

/// Converts the llama-architecture GGUF at `gguf_path` into a Hugging Face model directory at
/// `out_dir` (created if needed; files of the same names are replaced).
///
/// Metadata, tokenizer, tensor names, shapes and extents are all checked before anything is
/// written, so a file that cannot be converted leaves `out_dir` untouched (barring I/O errors
/// or a tensor that fails to dequantise while `model.safetensors` is being written; that file
/// is written under a temporary name and renamed only when complete).
pub fn import_gguf(gguf_path: &Path, out_dir: &Path) -> Result<ImportReport, ImportError> {
    let file = File::open(gguf_path).map_err(|e| ImportError::io(gguf_path, e))?;
    let mut reader = BufReader::new(file);
    check_magic(&mut reader, gguf_path)?;
    let content =
        Content::read(&mut reader).map_err(|e| ImportError::from_header_read(gguf_path, e))?;
    let file_len = reader
        .seek(SeekFrom::End(0))
        .map_err(|e| ImportError::io(gguf_path, e))?;
    writer::check_extent(gguf_path, &content, file_len)?;
    let meta = Metadata::new(gguf_path, &content.metadata);

    let architecture = meta.str("general.architecture")?;
    if architecture != "llama" {
        return Err(ImportError::UnsupportedArchitecture {
            path: gguf_path.to_path_buf(),
            architecture: architecture.to_string(),
        });
    }
    let vocab = GgufVocab::from_metadata(&meta)?;
    let vocab_size = tensors::embedding_rows(gguf_path, &content.tensor_infos)?;
    if vocab.tokens.len() > vocab_size {
        return Err(ImportError::InvalidTokenizer {
            path: gguf_path.to_path_buf(),
            reason: format!(
                "{} tokens but only {vocab_size} embedding rows",
                vocab.tokens.len()
            ),
        });
    }
    if let Some(n) = meta.opt_u64("llama.vocab_size")? {
        if usize::try_from(n).ok() != Some(vocab_size) {
            return Err(meta.invalid(
                "llama.vocab_size",
                format!("{n}, but token_embd.weight has {vocab_size} rows"),
            ));
        }
    }
    let params = LlamaParams::from_metadata(&meta, vocab_size)?;
    let plan = tensors::plan(gguf_path, &params, &content.tensor_infos)?;
    let tokenizer_text = tokenizer_json(&vocab, gguf_path)?;
    let config = HfLlamaConfig::new(&params, vocab.ids, plan.tied, plan.attention_bias);

    std::fs::create_dir_all(out_dir).map_err(|e| ImportError::io(out_dir, e))?;
    let mut files = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), ImportError> {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| ImportError::io(&path, e))?;
        files.push(name.to_string());
        Ok(())
    };
    write(
        "config.json",
        &to_json(&config, &out_dir.join("config.json"))?,
    )?;
    write("tokenizer.json", tokenizer_text.as_bytes())?;
    let tok_cfg = tokenizer_config_json(&vocab, params.context_length);
    write(
        "tokenizer_config.json",
        &to_json(&tok_cfg, &out_dir.join("tokenizer_config.json"))?,
    )?;
    if let Some(template) = &vocab.chat_template {
        write("chat_template.jinja", template.as_bytes())?;
    }
    let tokenizer_path = out_dir.join("tokenizer.json");
    tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(|e| {
        ImportError::InvalidTokenizer {
            path: tokenizer_path.clone(),
            reason: format!("written tokenizer.json does not load: {e}"),
        }
    })?;

    let st_path = out_dir.join("model.safetensors");
    let written = writer::write_safetensors(&mut reader, &content, &plan, gguf_path, &st_path)?;
    files.insert(0, "model.safetensors".to_string());
    tracing::info!(
        source = %gguf_path.display(),
        out = %out_dir.display(),
        tensors = written.tensors,
        parameters = written.parameters,
        "imported GGUF"
    );
    Ok(ImportReport {
        source: gguf_path.to_path_buf(),
        output_dir: out_dir.to_path_buf(),
        architecture: architecture.to_string(),
        vocab_size,
        num_layers: params.num_layers,
        tie_word_embeddings: plan.tied,
        tensors_written: written.tensors,
        parameter_count: written.parameters,
        safetensors_bytes: written.bytes,
        files,
    })
}

/// Refuses files that do not start with `GGUF`, then rewinds.
fn check_magic<R: Read + Seek>(reader: &mut R, path: &Path) -> Result<(), ImportError> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImportError::io(path, e)),
        }
    }
    if got < magic.len() {
        return Err(ImportError::NotGguf {
            path: path.to_path_buf(),
            reason: format!("only {got} bytes long"),
        });
    }
    if &magic != b"GGUF" {
        return Err(ImportError::NotGguf {
            path: path.to_path_buf(),
            reason: format!("starts with {magic:02x?}, not \"GGUF\""),
        });
    }
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| ImportError::io(path, e))?;
    Ok(())
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>, ImportError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ImportError::Json {
        path: path.to_path_buf(),
        source: e,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

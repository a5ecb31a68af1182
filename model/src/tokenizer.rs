//! The model's tokenizer (`tokenizer.json`) and the special tokens and chat
//! template declared in `tokenizer_config.json` / `chat_template.jinja`.
//!
//! Every file is read under its size cap (`crate::limits`) and never through
//! a symbolic link.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::chat::ChatTemplate;
use crate::error::{ModelError, Result};
use crate::limits::{
    exists, read_capped, MAX_TEMPLATE_BYTES, MAX_TOKENIZER_BYTES, MAX_TOKENIZER_CONFIG_BYTES,
};

/// A loaded tokenizer with its special tokens.
pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    /// BOS token text, if declared.
    pub bos_token: Option<String>,
    /// EOS token text, if declared.
    pub eos_token: Option<String>,
    /// Ids that end a generation (EOS from the tokenizer config and model config).
    pub eos_ids: Vec<u32>,
    /// The chat template, if the model has one.
    pub chat_template: Option<ChatTemplate>,
    /// `model_max_length` from the tokenizer config, if sane.
    pub model_max_length: Option<usize>,
}

fn token_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(String::from),
        _ => None,
    }
}

impl TextTokenizer {
    /// Loads `tokenizer.json` (and, when present, `tokenizer_config.json` and
    /// `chat_template.jinja`) from `dir`; `config_eos` are EOS ids from `config.json`.
    pub fn load(dir: &Path, config_eos: &[u32]) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        let text = read_capped(&path, MAX_TOKENIZER_BYTES, "the tokenizer (tokenizer.json)")?;
        let inner = text
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| ModelError::Tokenizer {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        drop(text);
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg: Value = if exists(&cfg_path) {
            let text = read_capped(
                &cfg_path,
                MAX_TOKENIZER_CONFIG_BYTES,
                "the tokenizer's configuration",
            )?;
            serde_json::from_str(&text).map_err(|e| ModelError::Tokenizer {
                path: cfg_path.clone(),
                reason: format!("malformed JSON: {e}"),
            })?
        } else {
            Value::Null
        };
        let bos_token = token_text(cfg.get("bos_token"));
        let eos_token = token_text(cfg.get("eos_token"));
        let mut eos_ids: Vec<u32> = config_eos.to_vec();
        if let Some(id) = eos_token.as_deref().and_then(|t| inner.token_to_id(t)) {
            if !eos_ids.contains(&id) {
                eos_ids.push(id);
            }
        }
        let template_file = dir.join("chat_template.jinja");
        let template_src = if exists(&template_file) {
            Some(read_capped(
                &template_file,
                MAX_TEMPLATE_BYTES,
                "the chat template",
            )?)
        } else {
            match cfg.get("chat_template") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(list)) => list
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                    .or_else(|| list.first())
                    .and_then(|t| t.get("template"))
                    .and_then(Value::as_str)
                    .map(String::from),
                _ => None,
            }
        };
        let chat_template = template_src
            .map(|src| ChatTemplate::new(&src, bos_token.clone(), eos_token.clone()))
            .transpose()?;
        let model_max_length = cfg
            .get("model_max_length")
            .and_then(Value::as_f64)
            .filter(|&n| n > 0.0 && n < 1e9)
            .map(|n| n as usize);
        Ok(Self {
            inner,
            path,
            bos_token,
            eos_token,
            eos_ids,
            chat_template,
            model_max_length,
        })
    }

    /// Encodes `text` (with the tokenizer's post-processor when `add_special_tokens`).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| self.err(e))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Decodes ids, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(|e| self.err(e))
    }

    /// The id of a token string, if in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    fn err(&self, e: impl std::fmt::Display) -> ModelError {
        ModelError::Tokenizer {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }
}

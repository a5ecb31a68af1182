//! Rebuilds Hugging Face `tokenizer.json` / `tokenizer_config.json` from a GGUF's `tokenizer.*` metadata.
//!
//! Only byte-level BPE (`tokenizer.ggml.model = "gpt2"`) is converted. The pre-tokenizer follows
//! `tokenizer.ggml.pre`, expressed the way the Hugging Face originals express it.

use std::path::Path;
use std::str::FromStr;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{json, Value};

use super::config::SpecialTokenIds;
use super::metadata::Metadata;
use super::ImportError;

/// llama.cpp token types (`tokenizer.ggml.token_type`).
const TOKEN_TYPE_UNKNOWN: i64 = 2;
const TOKEN_TYPE_CONTROL: i64 = 3;
const TOKEN_TYPE_USER_DEFINED: i64 = 4;

/// The Llama-3 pre-tokenizer regex, as in Meta's `tokenizer.json`.
const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How text is split before byte-level BPE, from `tokenizer.ggml.pre`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2's regex (`gpt2`, `gpt-2`, `default`, or no `tokenizer.ggml.pre` at all).
    Gpt2,
    /// GPT-2's regex after splitting every digit on its own (`smollm`).
    Smollm,
    /// Llama-3's regex, digits in groups of up to three (`llama-bpe`, `llama3`, `llama-v3`).
    LlamaBpe,
}

impl PreTokenizer {
    /// The pre-tokenizer for a `tokenizer.ggml.pre` value; `None` for types not supported.
    pub fn from_gguf_name(pre: Option<&str>) -> Option<Self> {
        match pre {
            None | Some("default" | "gpt2" | "gpt-2") => Some(Self::Gpt2),
            Some("smollm") => Some(Self::Smollm),
            Some("llama-bpe" | "llama3" | "llama-v3") => Some(Self::LlamaBpe),
            Some(_) => None,
        }
    }

    fn to_json(self) -> Value {
        let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
        match self {
            Self::Gpt2 => byte_level(true),
            Self::Smollm => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": true},
                byte_level(true),
            ]}),
            Self::LlamaBpe => json!({"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": false},
                byte_level(false),
            ]}),
        }
    }
}

/// The tokenizer part of a GGUF's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufVocab {
    /// How text is pre-tokenized.
    pub pre: PreTokenizer,
    /// Token strings by id, byte-level encoded (`Ġ` for a space) as in the Hugging Face vocabulary.
    pub tokens: Vec<String>,
    /// llama.cpp token types by id (3 = control, 4 = user-defined), when the file has them.
    pub token_types: Option<Vec<i64>>,
    /// BPE merges by rank, each `"left right"`.
    pub merges: Vec<String>,
    /// Special token ids.
    pub ids: SpecialTokenIds,
    /// Whether encoding prepends the BOS token (default: true for Llama-3, false otherwise).
    pub add_bos_token: bool,
    /// Whether encoding appends the EOS token (default: false).
    pub add_eos_token: bool,
    /// The Jinja chat template, when the file has one.
    pub chat_template: Option<String>,
}

impl GgufVocab {
    /// Reads and checks the `tokenizer.*` keys.
    pub(crate) fn from_metadata(meta: &Metadata<'_>) -> Result<Self, ImportError> {
        let path = meta.path().to_path_buf();
        let model = meta.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(ImportError::UnsupportedTokenizerModel {
                path,
                model: model.to_string(),
            });
        }
        let pre_name = meta.opt_str("tokenizer.ggml.pre")?;
        let pre = PreTokenizer::from_gguf_name(pre_name).ok_or_else(|| {
            ImportError::UnsupportedPreTokenizer {
                path: path.clone(),
                pre: pre_name.unwrap_or_default().to_string(),
            }
        })?;
        if pre_name.is_none() || pre_name == Some("default") {
            tracing::warn!(file = %path.display(), "no specific tokenizer.ggml.pre; using GPT-2 pre-tokenization");
        }
        let tokens = meta.str_array("tokenizer.ggml.tokens")?;
        if tokens.is_empty() {
            return Err(meta.invalid("tokenizer.ggml.tokens", "the token list is empty"));
        }
        let token_types = meta.opt_int_array("tokenizer.ggml.token_type")?;
        if let Some(types) = &token_types {
            if types.len() != tokens.len() {
                return Err(meta.invalid(
                    "tokenizer.ggml.token_type",
                    format!("{} types for {} tokens", types.len(), tokens.len()),
                ));
            }
        }
        let id = |key: &str| -> Result<Option<u32>, ImportError> {
            match meta.opt_u32(key)? {
                Some(i) if usize::try_from(i).map_or(true, |i| i >= tokens.len()) => Err(meta
                    .invalid(
                        key,
                        format!(
                            "token id {i} is outside the {}-token vocabulary",
                            tokens.len()
                        ),
                    )),
                other => Ok(other),
            }
        };
        let ids = SpecialTokenIds {
            bos: id("tokenizer.ggml.bos_token_id")?,
            eos: id("tokenizer.ggml.eos_token_id")?,
            pad: id("tokenizer.ggml.padding_token_id")?,
            unk: id("tokenizer.ggml.unknown_token_id")?,
        };
        Ok(Self {
            pre,
            merges: meta.str_array("tokenizer.ggml.merges")?,
            ids,
            add_bos_token: meta
                .opt_bool("tokenizer.ggml.add_bos_token")?
                .unwrap_or(pre == PreTokenizer::LlamaBpe),
            add_eos_token: meta
                .opt_bool("tokenizer.ggml.add_eos_token")?
                .unwrap_or(false),
            chat_template: meta.opt_str("tokenizer.chat_template")?.map(str::to_string),
            token_types,
            tokens,
        })
    }

    /// The token string of `id`, if in range.
    pub fn token(&self, id: Option<u32>) -> Option<&str> {
        let i = usize::try_from(id?).ok()?;
        self.tokens.get(i).map(String::as_str)
    }

    /// Ids that become Hugging Face added tokens, with whether each is special.
    fn added_tokens(&self) -> Vec<(usize, bool)> {
        let declared: Vec<usize> = [self.ids.bos, self.ids.eos, self.ids.pad, self.ids.unk]
            .into_iter()
            .flatten()
            .filter_map(|i| usize::try_from(i).ok())
            .collect();
        (0..self.tokens.len())
            .filter_map(|i| {
                let ty = self.token_types.as_ref().and_then(|t| t.get(i).copied());
                match ty {
                    Some(TOKEN_TYPE_CONTROL | TOKEN_TYPE_UNKNOWN) => Some((i, true)),
                    Some(TOKEN_TYPE_USER_DEFINED) => Some((i, declared.contains(&i))),
                    _ if declared.contains(&i) => Some((i, true)),
                    _ => None,
                }
            })
            .collect()
    }

    fn post_processor(&self, source: &Path) -> Result<Value, ImportError> {
        let byte_level = json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true});
        if !self.add_bos_token && !self.add_eos_token {
            return Ok(byte_level);
        }
        let special = |flag: bool,
                       id: Option<u32>,
                       what: &str|
         -> Result<Option<(String, u32)>, ImportError> {
            if !flag {
                return Ok(None);
            }
            match (id, self.token(id)) {
                (Some(id), Some(tok)) => Ok(Some((tok.to_string(), id))),
                _ => Err(ImportError::InvalidTokenizer {
                    path: source.to_path_buf(),
                    reason: format!(
                        "tokenizer.ggml.add_{what}_token is set but the file names no {what} token"
                    ),
                }),
            }
        };
        let bos = special(self.add_bos_token, self.ids.bos, "bos")?;
        let eos = special(self.add_eos_token, self.ids.eos, "eos")?;
        let piece =
            |tok: &str, type_id: u32| json!({"SpecialToken": {"id": tok, "type_id": type_id}});
        let seq = |id: &str, type_id: u32| json!({"Sequence": {"id": id, "type_id": type_id}});
        let mut single = Vec::new();
        let mut pair = Vec::new();
        for (name, type_id, out) in [("A", 0, &mut single), ("B", 1, &mut pair)] {
            bos.iter().for_each(|(t, _)| out.push(piece(t, type_id)));
            out.push(seq(name, type_id));
            eos.iter().for_each(|(t, _)| out.push(piece(t, type_id)));
        }
        let pair: Vec<Value> = single.iter().cloned().chain(pair).collect();
        let mut specials = serde_json::Map::new();
        for (tok, id) in bos.iter().chain(eos.iter()) {
            specials.insert(
                tok.clone(),
                json!({"id": tok, "ids": [id], "tokens": [tok]}),
            );
        }
        Ok(json!({"type": "Sequence", "processors": [
            byte_level,
            {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials},
        ]}))
    }
}

/// `tokenizer.json` of `vocab`, checked to load with the `tokenizers` crate. `source` names the
/// GGUF in errors.
pub fn tokenizer_json(vocab: &GgufVocab, source: &Path) -> Result<String, ImportError> {
    let invalid = |reason: String| ImportError::InvalidTokenizer {
        path: source.to_path_buf(),
        reason,
    };
    let mut seen = std::collections::HashMap::with_capacity(vocab.tokens.len());
    for (i, t) in vocab.tokens.iter().enumerate() {
        if let Some(first) = seen.insert(t.as_str(), i) {
            return Err(invalid(format!(
                "token {t:?} appears twice (ids {first} and {i})"
            )));
        }
    }
    // The legacy string form splits on every space and skips lines starting with "#version".
    let legacy_ok = |m: &String| m.split(' ').count() == 2 && !m.starts_with("#version");
    let merges = if vocab.merges.iter().all(legacy_ok) {
        Merges::Strings(&vocab.merges)
    } else {
        Merges::Pairs(
            vocab
                .merges
                .iter()
                .map(|m| {
                    split_merge(m).ok_or_else(|| invalid(format!("merge {m:?} is not two tokens")))
                })
                .collect::<Result<_, _>>()?,
        )
    };
    let added_tokens = vocab
        .added_tokens()
        .into_iter()
        .map(|(id, special)| AddedToken {
            id,
            content: &vocab.tokens[id],
            single_word: false,
            lstrip: false,
            rstrip: false,
            normalized: false,
            special,
        })
        .collect();
    let file = TokenizerFile {
        version: "1.0",
        truncation: None,
        padding: None,
        added_tokens,
        normalizer: None,
        pre_tokenizer: vocab.pre.to_json(),
        post_processor: vocab.post_processor(source)?,
        decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        model: Bpe {
            kind: "BPE",
            dropout: None,
            unk_token: None,
            continuing_subword_prefix: None,
            end_of_word_suffix: None,
            fuse_unk: false,
            byte_fallback: false,
            ignore_merges: vocab.pre == PreTokenizer::LlamaBpe,
            vocab: OrderedVocab(&vocab.tokens),
            merges,
        },
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|e| invalid(format!("cannot serialise: {e}")))?;
    let tok = tokenizers::Tokenizer::from_str(&text)
        .map_err(|e| invalid(format!("does not load: {e}")))?;
    let size = tok.get_vocab_size(true);
    if size != vocab.tokens.len() {
        return Err(invalid(format!(
            "rebuilt vocabulary has {size} tokens, the file {}",
            vocab.tokens.len()
        )));
    }
    Ok(text)
}

/// `tokenizer_config.json` of `vocab` with the given `model_max_length`.
pub fn tokenizer_config_json(vocab: &GgufVocab, model_max_length: usize) -> Value {
    let mut cfg = serde_json::Map::new();
    for (key, id) in [
        ("bos_token", vocab.ids.bos),
        ("eos_token", vocab.ids.eos),
        ("pad_token", vocab.ids.pad),
        ("unk_token", vocab.ids.unk),
    ] {
        if let Some(tok) = vocab.token(id) {
            cfg.insert(key.to_string(), json!(tok));
        }
    }
    cfg.insert("add_bos_token".to_string(), json!(vocab.add_bos_token));
    cfg.insert("add_eos_token".to_string(), json!(vocab.add_eos_token));
    cfg.insert("model_max_length".to_string(), json!(model_max_length));
    cfg.insert("clean_up_tokenization_spaces".to_string(), json!(false));
    cfg.insert(
        "tokenizer_class".to_string(),
        json!("PreTrainedTokenizerFast"),
    );
    if let Some(t) = &vocab.chat_template {
        cfg.insert("chat_template".to_string(), json!(t));
    }
    Value::Object(cfg)
}

/// Splits a merge at its first space after the first character, as llama.cpp does.
fn split_merge(m: &str) -> Option<(&str, &str)> {
    let first = m.chars().next()?;
    let rest = &m[first.len_utf8()..];
    let pos = rest.find(' ')? + first.len_utf8();
    let (a, b) = (&m[..pos], &m[pos + 1..]);
    (!b.is_empty()).then_some((a, b))
}

#[derive(Serialize)]
struct TokenizerFile<'a> {
    version: &'static str,
    truncation: Option<()>,
    padding: Option<()>,
    added_tokens: Vec<AddedToken<'a>>,
    normalizer: Option<()>,
    pre_tokenizer: Value,
    post_processor: Value,
    decoder: Value,
    model: Bpe<'a>,
}

#[derive(Serialize)]
struct AddedToken<'a> {
    id: usize,
    content: &'a str,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
    special: bool,
}

#[derive(Serialize)]
struct Bpe<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    dropout: Option<f32>,
    unk_token: Option<&'a str>,
    continuing_subword_prefix: Option<&'a str>,
    end_of_word_suffix: Option<&'a str>,
    fuse_unk: bool,
    byte_fallback: bool,
    ignore_merges: bool,
    vocab: OrderedVocab<'a>,
    merges: Merges<'a>,
}

/// Merges as `"a b"` strings (readable by every `tokenizers` version) or as pairs when a token
/// itself contains a space.
#[derive(Serialize)]
#[serde(untagged)]
enum Merges<'a> {
    Strings(&'a [String]),
    Pairs(Vec<(&'a str, &'a str)>),
}

/// The vocabulary as a JSON object in id order.
struct OrderedVocab<'a>(&'a [String]);

impl Serialize for OrderedVocab<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (id, tok) in self.0.iter().enumerate() {
            map.serialize_entry(tok, &id)?;
        }
        map.end()
    }
}

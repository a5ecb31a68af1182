//! The OpenAI API's request bodies and the checks on its answers: chat
//! completions for generation, completions with `echo` and `logprobs` for
//! prompt log-probabilities (OpenAI's legacy `logprobs` object: `tokens`,
//! `token_logprobs`, `text_offset` in characters of the prompt).

use gauntlet_evals::backend::{Generation, Sampling, Token};
use gauntlet_evals::ChatMessage;
use serde_json::{json, Value};

use crate::endpoint::Dialect;
use crate::RemoteError;

/// A chat-completions request.
pub(crate) fn chat_body(
    model: &str,
    messages: &[ChatMessage],
    sampling: &Sampling<'_>,
    seed: u64,
    dialect: Dialect,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": messages,
        "max_tokens": sampling.max_new_tokens,
        "temperature": 0,
        "seed": seed,
    });
    extras(&mut body, sampling, dialect);
    body
}

/// A completions request on raw text.
pub(crate) fn completion_body(
    model: &str,
    prompt: &str,
    sampling: &Sampling<'_>,
    seed: u64,
    dialect: Dialect,
) -> Value {
    let mut body = json!({
        "model": model,
        "prompt": prompt,
        "max_tokens": sampling.max_new_tokens,
        "temperature": 0,
        "seed": seed,
        "logprobs": 1,
    });
    extras(&mut body, sampling, dialect);
    body
}

/// A completions request for the prompt's own log-probabilities.
pub(crate) fn echo_body(model: &str, prompt: &str, seed: u64, dialect: Dialect) -> Value {
    // llama.cpp and OpenAI read `max_tokens: 0` as "no limit": they generate
    // one token, which is ignored; gauntlet serve generates none.
    let max_tokens = match dialect {
        Dialect::Gauntlet => 0,
        _ => 1,
    };
    json!({
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": seed,
        "echo": true,
        "logprobs": 1,
    })
}

/// The server's extensions for the repetition penalty and ignoring EOS.
fn extras(body: &mut Value, sampling: &Sampling<'_>, dialect: Dialect) {
    let penalty = f64::from(sampling.repetition_penalty);
    match dialect {
        Dialect::Gauntlet | Dialect::Vllm => {
            if penalty != 1.0 {
                body["repetition_penalty"] = json!(penalty);
            }
            if sampling.ignore_eos {
                body["ignore_eos"] = json!(true);
            }
        }
        Dialect::LlamaCpp => body["repeat_penalty"] = json!(penalty),
        Dialect::OpenAi => {}
    }
}

/// Fails unless the answer names the model asked for (or a dated snapshot
/// of it, `asked-2025-01-01`); an answer without a model name passes.
pub(crate) fn check_model(v: &Value, asked: &str) -> Result<(), RemoteError> {
    match v.get("model").and_then(Value::as_str) {
        Some(m) if m != asked && !m.starts_with(&format!("{asked}-")) => {
            Err(RemoteError::WrongModel {
                asked: asked.to_string(),
                answered: m.to_string(),
            })
        }
        _ => Ok(()),
    }
}

fn malformed(url: &str, reason: impl Into<String>) -> RemoteError {
    RemoteError::Malformed {
        url: url.to_string(),
        reason: reason.into(),
    }
}

fn choices<'a>(v: &'a Value, url: &str) -> Result<&'a [Value], RemoteError> {
    v.get("choices")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| malformed(url, "no `choices` array"))
}

/// A chat answer as a generation: an empty choice list or a refusal is an
/// empty text with the reason (each eval scores it as it scores empty text).
pub(crate) fn parse_chat(v: &Value, asked: &str, url: &str) -> Result<Generation, RemoteError> {
    check_model(v, asked)?;
    let Some(choice) = choices(v, url)?.first() else {
        return Ok(refused("the answer holds no choice"));
    };
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| malformed(url, "a choice without `message`"))?;
    if let Some(r) = message.get("refusal").and_then(Value::as_str) {
        return Ok(refused(&format!("refused: {r}")));
    }
    if choice.get("finish_reason").and_then(Value::as_str) == Some("content_filter") {
        return Ok(refused("stopped by the content filter"));
    }
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err(malformed(url, "`message.content` is not text")),
    };
    Ok(Generation {
        text,
        tokens: Vec::new(),
        refusal: None,
    })
}

fn refused(why: &str) -> Generation {
    Generation {
        text: String::new(),
        tokens: Vec::new(),
        refusal: Some(why.to_string()),
    }
}

/// A completions answer on raw text, with its tokens when log-probs came.
pub(crate) fn parse_completion(
    v: &Value,
    asked: &str,
    url: &str,
) -> Result<Generation, RemoteError> {
    check_model(v, asked)?;
    let Some(choice) = choices(v, url)?.first() else {
        return Ok(refused("the answer holds no choice"));
    };
    let text = choice
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(url, "a choice without `text`"))?
        .to_string();
    let tokens = choice
        .pointer("/logprobs/tokens")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(Value::as_str)
                .map(|t| Token::Piece(t.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Generation {
        text,
        tokens,
        refusal: None,
    })
}

/// The prompt's tokens as the server echoed them (a leading BOS omitted):
/// each token's character offset in the prompt and its log-probability
/// (`None` for the first).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Echoed {
    /// Character offset of each prompt token.
    pub offsets: Vec<usize>,
    /// Log-probability of each prompt token given the ones before it.
    pub logprobs: Vec<Option<f32>>,
    /// llama-cpp-python pairs each echoed token with the distribution after
    /// it unless the prompt began with the model's BOS token (which it does
    /// not echo): then these log-probs are one position off and unusable.
    pub misaligned: bool,
}

impl Echoed {
    /// The log-probs of the tokens (among the first `max_tokens`) that start
    /// at or after character `from`: the scored tail of a prompt.
    pub fn scored_from(&self, from: usize, max_tokens: usize) -> Vec<f32> {
        self.offsets
            .iter()
            .zip(&self.logprobs)
            .take(max_tokens)
            .filter(|(&o, _)| o >= from)
            .filter_map(|(_, &l)| l)
            .collect()
    }
}

/// Checks an echoed completion of `prompt`.
pub(crate) fn parse_echo(
    v: &Value,
    asked: &str,
    url: &str,
    prompt: &str,
    dialect: Dialect,
) -> Result<Echoed, RemoteError> {
    let prompt_chars = prompt.chars().count();
    check_model(v, asked)?;
    let choice = choices(v, url)?
        .first()
        .ok_or_else(|| malformed(url, "the answer holds no choice"))?;
    let lp = choice
        .get("logprobs")
        .filter(|l| l.is_object())
        .ok_or_else(|| RemoteError::MissingLogprobs {
            url: url.to_string(),
            logprobs: 0,
            tokens: prompt_tokens(v).unwrap_or(1),
        })?;
    let array = |field: &str| {
        lp.get(field)
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(url, format!("`logprobs.{field}` is not an array")))
    };
    let tokens = array("tokens")?;
    let values = array("token_logprobs")?;
    let offsets = array("text_offset")?;
    if values.len() < tokens.len() || offsets.len() < tokens.len() {
        return Err(RemoteError::MissingLogprobs {
            url: url.to_string(),
            logprobs: values.len().min(offsets.len()),
            tokens: tokens.len(),
        });
    }
    let mut out = Echoed {
        offsets: Vec::new(),
        logprobs: Vec::new(),
        misaligned: false,
    };
    // The generated tokens follow the prompt's (servers that cannot echo
    // without generating add one).
    let generated = completion_tokens(v).min(tokens.len());
    let echoed = tokens.len() - generated;
    for (i, (o, l)) in offsets.iter().zip(values).take(echoed).enumerate() {
        let offset = o
            .as_u64()
            .ok_or_else(|| malformed(url, "a text offset is not a number"))?
            as usize;
        if offset >= prompt_chars || out.offsets.last().is_some_and(|&p| offset < p) {
            break;
        }
        let logprob = match l {
            Value::Null if i == 0 => None,
            Value::Null => {
                return Err(RemoteError::MissingLogprobs {
                    url: url.to_string(),
                    logprobs: i,
                    tokens: tokens.len(),
                })
            }
            other => Some(
                other
                    .as_f64()
                    .ok_or_else(|| malformed(url, "a log-prob is not a number"))?
                    as f32,
            ),
        };
        out.offsets.push(offset);
        out.logprobs.push(logprob);
    }
    // llama-cpp-python measures offsets in its detokenized text, where
    // special tokens (`<|im_start|>`…) are empty and some are not echoed at
    // all: the prompt's tail (the text scored, which holds no special token)
    // sits `shift` characters early. Its end in those offsets is the first
    // generated token's offset or, when the model stopped at once (no token
    // listed), the last prompt token's offset plus its length; rebasing on it
    // puts every token of the tail at its place in the prompt, and the
    // context's tokens stay before the tail, whose start is all the evals use.
    let mut shift = 0;
    if dialect == Dialect::LlamaCpp {
        let generated_at = offsets
            .get(echoed)
            .filter(|_| generated > 0)
            .and_then(Value::as_u64)
            .map(|e| e as usize);
        let last = out.offsets.len().checked_sub(1);
        let end = generated_at.or_else(|| {
            let i = last?;
            Some(out.offsets[i] + tokens[i].as_str().map_or(0, |t| t.chars().count()))
        });
        if let Some(end) = end {
            if last.is_some_and(|i| out.offsets[i] > end) {
                return Err(malformed(
                    url,
                    "a prompt token's offset is past the prompt's end",
                ));
            }
            shift = prompt_chars.saturating_sub(end);
        }
    }
    for o in &mut out.offsets {
        *o += shift;
    }
    // A BOS token leading the prompt's text is counted by the server and not
    // echoed. Without one, the prompt's text begins with the first token
    // echoed and nothing is missing from the list (the generated token does
    // not fit in it then). A tokenizer that adds the BOS itself looks the
    // same when a token was generated: refused too, the safe side.
    if dialect == Dialect::LlamaCpp {
        let first = tokens.first().and_then(Value::as_str).unwrap_or("");
        out.misaligned = !first.is_empty()
            && prompt.starts_with(first)
            && prompt_tokens(v).is_some_and(|p| tokens.len() >= p);
    }
    let n = out.offsets.len();
    // The server's own count may include a BOS that the echo omits (and, for
    // llama-cpp-python, the special tokens it omits).
    if n == 0 || (dialect != Dialect::LlamaCpp && prompt_tokens(v).is_some_and(|p| n + 1 < p)) {
        return Err(RemoteError::MissingLogprobs {
            url: url.to_string(),
            logprobs: n,
            tokens: prompt_tokens(v).unwrap_or(n + 1),
        });
    }
    Ok(out)
}

/// `usage.prompt_tokens`, when given.
fn prompt_tokens(v: &Value) -> Option<usize> {
    v.pointer("/usage/prompt_tokens")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
}

/// `usage.completion_tokens` (0 when absent).
fn completion_tokens(v: &Value) -> usize {
    v.pointer("/usage/completion_tokens")
        .and_then(Value::as_u64)
        .map_or(0, |n| n as usize)
}

/// `(prompt_tokens, completion_tokens)` of an answer's `usage` (zeros when absent).
pub(crate) fn usage(v: &Value) -> (u64, u64) {
    let get = |k: &str| {
        v.pointer(&format!("/usage/{k}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    (get("prompt_tokens"), get("completion_tokens"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const URL: &str = "http://x/v1/completions";

    #[test]
    fn echo_keeps_the_prompt_tokens_only() {
        let v = json!({"model": "m", "choices": [{"text": "ab!", "logprobs": {
            "tokens": ["a", "b", "!"], "token_logprobs": [null, -1.5, -0.5],
            "text_offset": [0, 1, 2]}}], "usage": {"prompt_tokens": 2}});
        let e = parse_echo(&v, "m", URL, "ab", Dialect::OpenAi).unwrap();
        assert_eq!(e.offsets, [0, 1]);
        assert_eq!(e.logprobs, [None, Some(-1.5)]);
    }

    #[test]
    fn echo_with_one_generated_token_drops_it() {
        // OpenAI's shape: the generated token sits at the prompt's end.
        let v = json!({"model": "m", "choices": [{"text": "ab!", "logprobs": {
            "tokens": ["a", "b", "!"], "token_logprobs": [null, -1.5, -0.5],
            "text_offset": [0, 1, 2]}}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1}});
        let e = parse_echo(&v, "m", URL, "ab", Dialect::OpenAi).unwrap();
        assert_eq!(e.offsets, [0, 1]);
        assert_eq!(e.logprobs, [None, Some(-1.5)]);
    }

    #[test]
    fn llama_cpp_offsets_without_special_tokens_are_rebased_on_the_end() {
        // What llama-cpp-python 0.3 answers for
        // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nab": the
        // first and third special tokens are not echoed, the second is
        // empty, and offsets count the text without them; "." is generated.
        let prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nab";
        let v = json!({"model": "m", "choices": [{"text": "x", "logprobs": {
            "tokens": ["user", "\n", "Hi", "", "\n", "assistant", "\n", "a", "b", "."],
            "token_logprobs": [null, -1.0, -2.0, -3.0, -0.5, -0.1, -0.2, -4.0, -5.0, -0.3],
            "text_offset": [0, 4, 5, 7, 7, 8, 17, 18, 19, 20]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 1}});
        let chars = prompt.chars().count();
        let e = parse_echo(&v, "m", URL, prompt, Dialect::LlamaCpp).unwrap();
        assert_eq!(e.logprobs.len(), 9, "the generated token is dropped");
        let context = chars - 2;
        assert_eq!(
            e.scored_from(context, usize::MAX),
            [-4.0, -5.0],
            "exactly the tail's tokens"
        );
        assert_eq!(e.offsets[7], context);
        // The model stopped at once: nothing generated, nothing listed.
        let stopped = json!({"model": "m", "choices": [{"text": "", "logprobs": {
            "tokens": ["user", "\n", "Hi", "", "\n", "assistant", "\n", "a", "b"],
            "token_logprobs": [null, -1.0, -2.0, -3.0, -0.5, -0.1, -0.2, -4.0, -5.0],
            "text_offset": [0, 4, 5, 7, 7, 8, 17, 18, 19]}}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 0}});
        let s = parse_echo(&stopped, "m", URL, prompt, Dialect::LlamaCpp).unwrap();
        assert_eq!(s.offsets, e.offsets);
        assert_eq!(s.logprobs, e.logprobs);
        assert!(!e.misaligned && !s.misaligned, "the prompt began with BOS");
        // Raw text: no BOS; the server lists every prompt token and not the
        // generated one (llama-cpp-python 0.3's answer for "ab").
        let raw = json!({"model": "m", "choices": [{"text": "c", "logprobs": {
            "tokens": ["a", "b"], "token_logprobs": [null, -5.0], "text_offset": [0, 1]}}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1}});
        assert!(
            parse_echo(&raw, "m", URL, "ab", Dialect::LlamaCpp)
                .unwrap()
                .misaligned
        );
        assert!(
            !parse_echo(&raw, "m", URL, "ab", Dialect::OpenAi)
                .unwrap()
                .misaligned
        );
    }

    #[test]
    fn echo_with_fewer_logprobs_than_tokens_is_an_error() {
        let v = json!({"model": "m", "choices": [{"text": "abc", "logprobs": {
            "tokens": ["a", "b", "c"], "token_logprobs": [null, -1.0],
            "text_offset": [0, 1, 2]}}]});
        assert!(matches!(
            parse_echo(&v, "m", URL, "abc", Dialect::OpenAi),
            Err(RemoteError::MissingLogprobs {
                logprobs: 2,
                tokens: 3,
                ..
            })
        ));
        let short = json!({"choices": [{"text": "abc", "logprobs": {
            "tokens": ["a"], "token_logprobs": [null], "text_offset": [0]}}],
            "usage": {"prompt_tokens": 3}});
        assert!(parse_echo(&short, "m", URL, "abc", Dialect::OpenAi).is_err());
        let none = json!({"choices": [{"text": "abc", "logprobs": null}]});
        assert!(parse_echo(&none, "m", URL, "abc", Dialect::OpenAi).is_err());
    }

    #[test]
    fn chat_refusals_and_empty_choices_are_empty_texts() {
        let v = json!({"model": "m", "choices": []});
        assert!(parse_chat(&v, "m", URL).unwrap().refusal.is_some());
        let v = json!({"model": "m", "choices": [{"message": {"content": null, "refusal": "no"}}]});
        let g = parse_chat(&v, "m", URL).unwrap();
        assert_eq!((g.text.as_str(), g.refusal.is_some()), ("", true));
        let v = json!({"model": "m-2024-01-01", "choices": [{"message": {"content": "B"}}]});
        assert_eq!(parse_chat(&v, "m", URL).unwrap().text, "B");
        let v = json!({"model": "other", "choices": [{"message": {"content": "B"}}]});
        assert!(matches!(
            parse_chat(&v, "m", URL),
            Err(RemoteError::WrongModel { .. })
        ));
        assert!(parse_chat(&json!({"model": "m"}), "m", URL).is_err());
    }

    #[test]
    fn dialects_name_the_penalty_their_way() {
        let s = Sampling {
            repetition_penalty: 1.1,
            ignore_eos: true,
            ..Sampling::default()
        };
        let g = chat_body("m", &[], &s, 0, Dialect::Gauntlet);
        assert!(g.get("repetition_penalty").is_some() && g["ignore_eos"] == true);
        let l = chat_body("m", &[], &s, 0, Dialect::LlamaCpp);
        assert!(l.get("repeat_penalty").is_some() && l.get("ignore_eos").is_none());
        let o = chat_body("m", &[], &s, 0, Dialect::OpenAi);
        assert!(o.get("repetition_penalty").is_none() && o.get("repeat_penalty").is_none());
    }
}

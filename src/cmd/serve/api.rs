//! The HTTP routes: OpenAI's request and answer shapes on top of the model's
//! thread ([`worker`](super::worker)). Prompts are encoded here exactly as
//! the local eval backend encodes them (chat: the template with its
//! generation prompt, no added special tokens; raw text: the tokenizer's
//! default special tokens), so an eval sees the same ids through the server
//! as through the runtime.

use std::sync::mpsc::Sender;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gauntlet_evals::ChatMessage;
use gauntlet_model::tokenizer::TextTokenizer;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::worker::{GenSettings, Job};

/// What every route shares.
pub struct State {
    /// The model's name at this endpoint.
    pub name: String,
    /// The raw tokenizer, for the character offsets of echoed tokens.
    pub tokenizer: tokenizers::Tokenizer,
    /// The tokenizer with the chat template and special tokens.
    pub chat: Arc<TextTokenizer>,
    /// Longest sequence the model takes, in tokens.
    pub max_context: usize,
    /// The model's thread.
    pub jobs: Sender<Job>,
}

/// The routes, under `/v1`.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/completions", post(completions))
        .with_state(state)
}

/// An OpenAI-style error answer.
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = if self.status.is_client_error() {
            "invalid_request_error"
        } else {
            "server_error"
        };
        let body = json!({"error": {"message": self.message, "type": kind, "code": null}});
        (self.status, Json(body)).into_response()
    }
}

async fn models(Extract(state): Extract<Arc<State>>) -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": [{"id": state.name, "object": "model", "created": 0, "owned_by": "gauntlet"}],
    }))
}

/// Fields both endpoints take. Sampling is always greedy: `temperature`,
/// `top_p` and `seed` are accepted and have no effect.
#[derive(Deserialize)]
struct Common {
    model: Option<String>,
    max_tokens: Option<usize>,
    max_completion_tokens: Option<usize>,
    #[serde(default)]
    stop: Option<Stop>,
    repetition_penalty: Option<f32>,
    #[serde(default)]
    ignore_eos: bool,
    #[serde(default = "one")]
    n: usize,
}

fn one() -> usize {
    1
}

/// `stop`: one string or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

impl Stop {
    fn list(&self) -> Vec<&str> {
        match self {
            Stop::One(s) => vec![s.as_str()],
            Stop::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Deserialize)]
struct ChatRequest {
    messages: Vec<ChatMessage>,
    #[serde(flatten)]
    common: Common,
}

#[derive(Deserialize)]
struct CompletionRequest {
    prompt: Value,
    #[serde(default)]
    echo: bool,
    logprobs: Option<Value>,
    #[serde(flatten)]
    common: Common,
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("invalid request: {e}")))
}

impl State {
    /// Checks the fields every request shares.
    fn check(&self, c: &Common) -> Result<(), ApiError> {
        if let Some(m) = &c.model {
            if m != &self.name {
                return Err(ApiError {
                    status: StatusCode::NOT_FOUND,
                    message: format!(
                        "the model {m:?} does not exist here (serving {:?})",
                        self.name
                    ),
                });
            }
        }
        if c.n != 1 {
            return Err(ApiError::bad("only n = 1 is supported (greedy decoding)"));
        }
        if c.repetition_penalty
            .is_some_and(|p| !(p.is_finite() && p > 0.0))
        {
            return Err(ApiError::bad(
                "repetition_penalty must be a positive number",
            ));
        }
        Ok(())
    }

    /// The generation settings of a request whose prompt has `prompt_len`
    /// tokens; `default_max` when the request names no limit.
    fn settings(
        &self,
        c: &Common,
        prompt_len: usize,
        default_max: usize,
    ) -> Result<GenSettings, ApiError> {
        if prompt_len > self.max_context {
            return Err(ApiError::bad(format!(
                "the prompt has {prompt_len} tokens; the model's context is {}",
                self.max_context
            )));
        }
        let room = self.max_context - prompt_len;
        let asked = c
            .max_completion_tokens
            .or(c.max_tokens)
            .unwrap_or(default_max);
        Ok(GenSettings {
            max_new_tokens: asked.min(room),
            repetition_penalty: c.repetition_penalty.unwrap_or(1.0),
            ignore_eos: c.ignore_eos,
        })
    }

    async fn generate(
        &self,
        prompt: Vec<u32>,
        settings: GenSettings,
    ) -> Result<Vec<u32>, ApiError> {
        if settings.max_new_tokens == 0 {
            return Ok(Vec::new());
        }
        if prompt.is_empty() {
            return Err(ApiError::bad("the prompt is empty"));
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Generate {
            prompt,
            settings,
            reply,
        })?;
        answer
            .await
            .map_err(|_| ApiError::internal("the model's thread stopped"))?
            .map_err(ApiError::internal)
    }

    async fn score(&self, tokens: Vec<u32>) -> Result<Vec<f32>, ApiError> {
        if tokens.len() < 2 {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Score { tokens, reply })?;
        answer
            .await
            .map_err(|_| ApiError::internal("the model's thread stopped"))?
            .map_err(ApiError::internal)
    }

    fn send(&self, job: Job) -> Result<(), ApiError> {
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the model's thread stopped"))
    }

    fn decode(&self, ids: &[u32]) -> Result<String, ApiError> {
        self.chat
            .decode(ids)
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// One token's text (special tokens included).
    fn piece(&self, id: u32) -> String {
        self.tokenizer.decode(&[id], false).unwrap_or_default()
    }
}

/// `text` cut before the first of `stop`, and whether it was cut.
fn apply_stop(mut text: String, stop: &Option<Stop>) -> (String, bool) {
    let Some(stop) = stop else {
        return (text, false);
    };
    let cut = stop
        .list()
        .into_iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s))
        .min();
    match cut {
        Some(at) => {
            text.truncate(at);
            (text, true)
        }
        None => (text, false),
    }
}

fn finish_reason(generated: usize, settings: &GenSettings, stopped: bool) -> &'static str {
    if !stopped && generated >= settings.max_new_tokens {
        "length"
    } else {
        "stop"
    }
}

fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion,
           "total_tokens": prompt + completion})
}

async fn chat_completions(
    Extract(state): Extract<Arc<State>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: ChatRequest = parse(&body)?;
    state.check(&req.common)?;
    if req.messages.is_empty() {
        return Err(ApiError::bad("`messages` is empty"));
    }
    let template = state.chat.chat_template.as_ref().ok_or_else(|| {
        ApiError::bad(format!(
            "{} has no chat template: use /v1/completions",
            state.name
        ))
    })?;
    let text = template
        .render(&req.messages, true)
        .map_err(|e| ApiError::bad(format!("chat template: {e}")))?;
    let prompt = state
        .chat
        .encode(&text, false)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let prompt_len = prompt.len();
    let settings = state.settings(&req.common, prompt_len, usize::MAX)?;
    let ids = state.generate(prompt, settings).await?;
    let (content, stopped) = apply_stop(state.decode(&ids)?, &req.common.stop);
    Ok(Json(json!({
        "id": format!("chatcmpl-{}", request_id(&body)),
        "object": "chat.completion",
        "created": 0,
        "model": state.name,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish_reason(ids.len(), &settings, stopped),
        }],
        "usage": usage(prompt_len, ids.len()),
    })))
}

/// The legacy completions endpoint: raw text in; with `echo` the prompt
/// comes back, and with `logprobs` each token's log-probability given the
/// ones before it (the first is null), the prompt's tokens too under `echo`.
async fn completions(
    Extract(state): Extract<Arc<State>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CompletionRequest = parse(&body)?;
    state.check(&req.common)?;
    let prompt_text = match &req.prompt {
        Value::String(s) => s.clone(),
        Value::Array(v) if v.len() == 1 && v[0].is_string() => {
            v[0].as_str().unwrap_or_default().to_string()
        }
        _ => return Err(ApiError::bad("`prompt` must be one string")),
    };
    let logprobs = match &req.logprobs {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(_)) | Some(Value::Bool(true)) => true,
        Some(_) => return Err(ApiError::bad("`logprobs` must be a number")),
    };
    let encoding = state
        .tokenizer
        .encode_char_offsets(prompt_text.as_str(), true)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut prompt: Vec<u32> = encoding.get_ids().to_vec();
    let mut prompt_offsets: Vec<usize> = encoding.get_offsets().iter().map(|o| o.0).collect();
    let mut prompt_text = prompt_text;
    // Gauntlet's extension: a pure scoring request (`echo`, `max_tokens: 0`)
    // longer than the context is scored on its first `max_context` tokens,
    // as the runtime's own loss truncates; anything else is refused below.
    let scoring_only = req.echo && req.common.max_tokens == Some(0);
    if scoring_only && prompt.len() > state.max_context {
        let cut = prompt_offsets[state.max_context];
        prompt.truncate(state.max_context);
        prompt_offsets.truncate(state.max_context);
        prompt_text = prompt_text.chars().take(cut).collect();
    }
    let prompt_len = prompt.len();
    let settings = state.settings(&req.common, prompt_len, 16)?;
    let ids = state.generate(prompt.clone(), settings).await?;
    let generated_text = state.decode(&ids)?;
    let (generated_text, stopped) = apply_stop(generated_text, &req.common.stop);
    let text = if req.echo {
        format!("{prompt_text}{generated_text}")
    } else {
        generated_text.clone()
    };
    let logprobs_json = if logprobs {
        let mut all = prompt.clone();
        all.extend_from_slice(&ids);
        let scored = state.score(all.clone()).await?;
        // scored[k] is the log-prob of all[k + 1].
        let lp = |k: usize| -> Value {
            match k.checked_sub(1).and_then(|i| scored.get(i)) {
                Some(&v) => json!(v),
                None => Value::Null,
            }
        };
        let prompt_chars = prompt_text.chars().count();
        let mut tokens = Vec::new();
        let mut token_logprobs = Vec::new();
        let mut text_offset = Vec::new();
        let first = if req.echo { 0 } else { prompt_len };
        let base = if req.echo { prompt_chars } else { 0 };
        for k in first..all.len() {
            tokens.push(json!(state.piece(all[k])));
            token_logprobs.push(lp(k));
            let offset = if k < prompt_len {
                prompt_offsets.get(k).copied().unwrap_or(prompt_chars)
            } else {
                let before = state.decode(&ids[..k - prompt_len])?;
                base + before.chars().count()
            };
            text_offset.push(json!(offset));
        }
        json!({"tokens": tokens, "token_logprobs": token_logprobs,
               "text_offset": text_offset, "top_logprobs": null})
    } else {
        Value::Null
    };
    Ok(Json(json!({
        "id": format!("cmpl-{}", request_id(&body)),
        "object": "text_completion",
        "created": 0,
        "model": state.name,
        "choices": [{
            "index": 0,
            "text": text,
            "logprobs": logprobs_json,
            "finish_reason": finish_reason(ids.len(), &settings, stopped),
        }],
        "usage": usage(prompt_len, ids.len()),
    })))
}

/// A stable id for a request: the first hex digits of its body's hash (the
/// same request gets the same id, as greedy decoding gives it the same
/// answer).
fn request_id(body: &[u8]) -> String {
    // FNV-1a: enough to tell requests apart in logs.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_strings_cut_at_the_first() {
        let stop = Some(Stop::Many(vec!["\n".into(), "END".into()]));
        assert_eq!(apply_stop("a END b\nc".into(), &stop), ("a ".into(), true));
        assert_eq!(apply_stop("abc".into(), &stop), ("abc".into(), false));
        assert_eq!(apply_stop("abc".into(), &None), ("abc".into(), false));
    }

    #[test]
    fn request_ids_are_stable() {
        assert_eq!(request_id(b"x"), request_id(b"x"));
        assert_ne!(request_id(b"x"), request_id(b"y"));
    }
}

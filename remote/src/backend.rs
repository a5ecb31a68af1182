//! [`Remote`]: the eval capabilities on an OpenAI-compatible endpoint. Every
//! call sends its requests concurrently (at most `concurrency` in flight) on
//! the client's own single-threaded runtime and returns the results in input
//! order.

use std::future::Future;

use futures_util::stream::{self, StreamExt};
use gauntlet_evals::backend::{
    Backend, Generate, Generation, Prompt, Sampling, Score, ScoreInput, Tokenize, Usage,
};
use gauntlet_evals::{ChatMessage, ModelError};
use serde_json::Value;

use crate::cache::Cache;
use crate::endpoint::{Endpoint, RemoteOptions};
use crate::http::{Answer, Http};
use crate::openai::{self, Echoed};
use crate::RemoteError;

/// Renders a conversation with the model's chat template and generation
/// prompt (the caller loads the template; the endpoint's own is not
/// reachable through the API).
pub type ChatRender = Box<dyn Fn(&[ChatMessage]) -> Result<String, String>>;

/// A raw text is cut to at most this many characters per token it should
/// keep before it is sent: no tokenizer averages more, so the first tokens
/// are those of the whole text while the request stays within the server's
/// context.
const CHARS_PER_TOKEN: usize = 8;

/// A model behind an OpenAI-compatible endpoint.
pub struct Remote {
    endpoint: Endpoint,
    options: RemoteOptions,
    http: Http,
    runtime: tokio::runtime::Runtime,
    chat: Option<ChatRender>,
    logprobs: bool,
    ledger: Ledger,
}

impl Remote {
    /// Connects to `endpoint`: checks that it answers and serves the model
    /// (`/models`), and probes whether it returns prompt log-probabilities.
    /// A server that is down is an error here, before any work.
    pub fn connect(endpoint: Endpoint, options: RemoteOptions) -> Result<Remote, RemoteError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RemoteError::Client(e.to_string()))?;
        let cache = options.cache.as_deref().map(Cache::open).transpose()?;
        let http = Http::new(
            &endpoint.base_url,
            options.api_key.clone(),
            options.timeout,
            options.retry,
            cache,
        )?;
        let mut remote = Remote {
            endpoint,
            options,
            http,
            runtime,
            chat: None,
            logprobs: false,
            ledger: Ledger::default(),
        };
        remote.check_model()?;
        remote.logprobs = remote.probe_logprobs()?;
        tracing::info!(
            endpoint = %remote.endpoint.spec(),
            logprobs = remote.logprobs,
            "connected"
        );
        Ok(remote)
    }

    /// Scores continuations of chat prompts rendered by `render`.
    pub fn with_chat_template(mut self, render: ChatRender) -> Self {
        self.chat = Some(render);
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether the server returns prompt log-probabilities.
    pub fn offers_logprobs(&self) -> bool {
        self.logprobs
    }

    /// Requests sent to the server so far (the others came from the cache).
    pub fn fresh_requests(&self) -> u64 {
        self.ledger.fresh
    }

    /// `/models`: fails when the list is given and lacks the model; a
    /// server without the route passes.
    fn check_model(&mut self) -> Result<(), RemoteError> {
        let asked = self.endpoint.model.clone();
        let url = self.http.url("/models");
        let listed = self.runtime.block_on(self.http.call("/models", None, |v| {
            v.get("data")
                .and_then(Value::as_array)
                .map(|d| {
                    d.iter()
                        .filter_map(|m| m.get("id").and_then(Value::as_str))
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .ok_or_else(|| RemoteError::Malformed {
                    url: url.clone(),
                    reason: "no `data` list".into(),
                })
        }));
        match listed {
            Ok((served, _)) if !served.is_empty() && !served.contains(&asked) => {
                Err(RemoteError::UnknownModel { asked, served })
            }
            Ok(_) => Ok(()),
            Err(e @ (RemoteError::Unreachable { .. } | RemoteError::Timeout { .. })) => Err(e),
            Err(e) if e.is_transient() => Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "no usable /models; not checked");
                Ok(())
            }
        }
    }

    /// One echoed completion of a short text: log-probs for its tokens?
    fn probe_logprobs(&mut self) -> Result<bool, RemoteError> {
        let prompt = "The capital of France is Paris.";
        let body = openai::echo_body(
            &self.endpoint.model,
            prompt,
            self.options.seed,
            self.options.dialect,
        );
        let asked = self.endpoint.model.clone();
        let url = self.http.url("/completions");
        let dialect = self.options.dialect;
        let probe = self
            .runtime
            .block_on(self.http.call("/completions", Some(&body), |v| {
                let e = openai::parse_echo(v, &asked, &url, prompt, dialect)?;
                if e.logprobs.len() < 2 {
                    return Err(RemoteError::MissingLogprobs {
                        url: url.clone(),
                        logprobs: e.logprobs.len(),
                        tokens: 2,
                    });
                }
                Ok(())
            }));
        match probe {
            Ok(_) => Ok(true),
            Err(e @ (RemoteError::Unreachable { .. } | RemoteError::Timeout { .. })) => Err(e),
            Err(e @ RemoteError::WrongModel { .. }) => Err(e),
            Err(e) => {
                tracing::info!(error = %e, "the endpoint returns no prompt log-probs");
                Ok(false)
            }
        }
    }

    fn render(&self, messages: &[ChatMessage]) -> Result<String, RemoteError> {
        let render = self.chat.as_ref().ok_or_else(|| {
            RemoteError::Unsupported(format!(
                "scoring after a chat prompt needs the model's chat template, which {} does not offer \
                 (give it with --chat-template)",
                self.endpoint.spec()
            ))
        })?;
        render(messages).map_err(|e| RemoteError::Unsupported(format!("chat template: {e}")))
    }

    /// Refuses log-probs that the server paired with the wrong position
    /// (llama-cpp-python on a prompt without its BOS token).
    fn check_aligned(&self, echoed: &[Echoed]) -> Result<(), RemoteError> {
        if echoed.iter().any(|e| e.misaligned) {
            return Err(RemoteError::Unsupported(format!(
                "{} (llama-cpp-python) scores the echoed tokens of a prompt that does not begin \
                 with the model's BOS token one position off; raw-text log-probs from it are wrong",
                self.endpoint.spec()
            )));
        }
        Ok(())
    }

    /// Echoes every prompt; `prompts[i] = (text, context characters)`.
    fn echo(
        &mut self,
        prompts: &[String],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Echoed>, RemoteError> {
        if !self.logprobs {
            return Err(RemoteError::Unsupported(format!(
                "{} returns no prompt log-probs",
                self.endpoint.spec()
            )));
        }
        let model = &self.endpoint.model;
        let (seed, dialect) = (self.options.seed, self.options.dialect);
        let url = self.http.url("/completions");
        let bodies: Vec<Value> = prompts
            .iter()
            .map(|p| openai::echo_body(model, p, seed, dialect))
            .collect();
        let http = &self.http;
        run(
            &self.runtime,
            &self.options,
            &mut self.ledger,
            prompts.len(),
            |i| {
                let (body, prompt, url) = (&bodies[i], prompts[i].as_str(), &url);
                async move {
                    http.call("/completions", Some(body), |v| {
                        openai::parse_echo(v, model, url, prompt, dialect)
                    })
                    .await
                }
            },
            progress,
        )
    }
}

/// What a remote's answers have cost, and how many came from the server.
#[derive(Default)]
struct Ledger {
    usage: Usage,
    fresh: u64,
}

/// Runs `n` requests, at most `concurrency` at once; `job(i)` makes request
/// `i`. Results in order; the first error stops the call (what finished is
/// in the cache).
fn run<T, F, Fut>(
    runtime: &tokio::runtime::Runtime,
    options: &RemoteOptions,
    ledger: &mut Ledger,
    n: usize,
    job: F,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<T>, RemoteError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<(T, Answer), RemoteError>>,
{
    let concurrency = options.concurrency.max(1);
    runtime.block_on(async {
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        let mut results = stream::iter(0..n)
            .map(|i| {
                let f = job(i);
                async move { (i, f.await) }
            })
            .buffer_unordered(concurrency);
        while let Some((i, r)) = results.next().await {
            let (value, answer) = r?;
            let (p, c) = openai::usage(&answer.body);
            ledger.usage.requests += 1;
            ledger.usage.prompt_tokens += p;
            ledger.usage.completion_tokens += c;
            if let Some(pr) = options.prices {
                // Prices are per million tokens: p·price/1e6 USD = p·price·1e3 nano-USD.
                let nano = (p as f64 * pr.prompt + c as f64 * pr.completion) * 1e3;
                ledger.usage.cost_nano_usd += nano.round().max(0.0) as u64;
            }
            if !answer.cached {
                ledger.fresh += 1;
            }
            out[i] = Some(value);
            progress(1);
        }
        Ok(out.into_iter().flatten().collect())
    })
}

/// The first `n` characters of `text`.
fn head(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

fn model_error(e: RemoteError) -> ModelError {
    Box::new(e)
}

impl Backend for Remote {
    fn describe(&self) -> String {
        format!("the endpoint {}", self.endpoint.spec())
    }

    fn generator(&mut self) -> Option<&mut dyn Generate> {
        Some(self)
    }

    fn scorer(&mut self) -> Option<&mut dyn Score> {
        if self.logprobs {
            Some(self)
        } else {
            None
        }
    }

    fn tokenizer(&mut self) -> Option<&mut dyn Tokenize> {
        None
    }

    fn usage(&self) -> Usage {
        self.ledger.usage
    }
}

impl Generate for Remote {
    fn generate(
        &mut self,
        prompts: &[Prompt],
        sampling: &Sampling<'_>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Generation>, ModelError> {
        // Raw texts cut to a number of tokens: the cut comes from the
        // echoed offsets of each text's tokens.
        let mut texts: Vec<Option<String>> = vec![None; prompts.len()];
        let cuts: Vec<(usize, &str, usize)> = prompts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Prompt::Text {
                    text,
                    max_tokens: Some(n),
                } => Some((i, text.as_str(), *n)),
                _ => None,
            })
            .collect();
        if !cuts.is_empty() {
            let sent: Vec<String> = cuts
                .iter()
                .map(|(_, t, n)| head(t, n * CHARS_PER_TOKEN).to_string())
                .collect();
            let echoed = self.echo(&sent, &mut |_| {}).map_err(model_error)?;
            for ((i, _, n), (text, e)) in cuts.iter().zip(sent.iter().zip(echoed)) {
                let cut = e
                    .offsets
                    .get(*n)
                    .map_or(text.as_str(), |&at| head(text, at));
                texts[*i] = Some(cut.to_string());
            }
        }
        let model = self.endpoint.model.clone();
        let (seed, dialect) = (self.options.seed, self.options.dialect);
        let bodies: Vec<(&'static str, Value)> = prompts
            .iter()
            .zip(&texts)
            .map(|(p, cut)| match (p, cut) {
                (Prompt::Chat(m), _) => (
                    "/chat/completions",
                    openai::chat_body(&model, m, sampling, seed, dialect),
                ),
                (_, Some(text)) | (Prompt::Text { text, .. }, None) => (
                    "/completions",
                    openai::completion_body(&model, text, sampling, seed, dialect),
                ),
            })
            .collect();
        let urls: Vec<String> = bodies.iter().map(|(p, _)| self.http.url(p)).collect();
        let http = &self.http;
        let result = run(
            &self.runtime,
            &self.options,
            &mut self.ledger,
            prompts.len(),
            |i| {
                let ((path, body), url, model) = (&bodies[i], &urls[i], &model);
                async move {
                    http.call(path, Some(body), |v| {
                        if *path == "/chat/completions" {
                            openai::parse_chat(v, model, url)
                        } else {
                            openai::parse_completion(v, model, url)
                        }
                    })
                    .await
                }
            },
            progress,
        );
        let out = result.map_err(model_error)?;
        let refused = out.iter().filter(|g| g.refusal.is_some()).count();
        if refused > 0 {
            tracing::warn!(
                refused,
                "answers without text (refusals, empty choices): scored as empty"
            );
        }
        Ok(out)
    }
}

impl Score for Remote {
    fn logprobs(
        &mut self,
        inputs: &[ScoreInput],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut prompts = Vec::with_capacity(inputs.len());
        let mut context_chars = Vec::with_capacity(inputs.len());
        for input in inputs {
            let prefix = match &input.context {
                None => String::new(),
                Some(m) => self.render(m).map_err(model_error)?,
            };
            context_chars.push(prefix.chars().count());
            prompts.push(prefix + head(&input.text, input.max_tokens * CHARS_PER_TOKEN));
        }
        let echoed = self.echo(&prompts, progress).map_err(model_error)?;
        self.check_aligned(&echoed).map_err(model_error)?;
        Ok(echoed
            .into_iter()
            .zip(inputs)
            .zip(context_chars)
            .map(|((e, input), context)| e.scored_from(context, input.max_tokens))
            .collect())
    }

    fn choice_logprobs(
        &mut self,
        contexts: &[Vec<ChatMessage>],
        choices: &[String],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut prompts = Vec::with_capacity(contexts.len() * choices.len());
        let mut context_chars = Vec::with_capacity(contexts.len());
        for m in contexts {
            let prefix = self.render(m).map_err(model_error)?;
            context_chars.push(prefix.chars().count());
            for c in choices {
                prompts.push(format!("{prefix}{c}"));
            }
        }
        let per = choices.len().max(1);
        let mut done = 0;
        let echoed = self
            .echo(&prompts, &mut |n| {
                done += n;
                if done % per == 0 {
                    progress(1);
                }
            })
            .map_err(model_error)?;
        self.check_aligned(&echoed).map_err(model_error)?;
        Ok(echoed
            .chunks(per)
            .zip(context_chars)
            .map(|(per_choice, context)| {
                per_choice
                    .iter()
                    .map(|e| {
                        let lps = e.scored_from(context, usize::MAX);
                        if lps.is_empty() {
                            f32::NEG_INFINITY
                        } else {
                            lps.iter().sum()
                        }
                    })
                    .collect()
            })
            .collect())
    }

    fn scores_chat(&self) -> bool {
        self.chat.is_some()
    }
}

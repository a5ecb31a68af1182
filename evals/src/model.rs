//! The token-level contract of a local model runtime.
//!
//! A runtime takes token ids and returns log-probabilities or generated ids;
//! text goes through the same trait's tokenizer and chat template. Evals do
//! not call it directly: [`Local`](crate::backend::Local) turns any
//! [`LanguageModel`] into the capabilities evals ask for, so an eval never
//! depends on candle or tokenizers.

use std::time::Duration;

/// An error raised by a model runtime, boxed so this crate stays backend-free.
pub type ModelError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One sequence to score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreRequest {
    /// The token ids of the whole sequence (context and scored part).
    pub tokens: Vec<u32>,
    /// The first position whose log-probability is wanted (clamped to ≥ 1).
    ///
    /// Positions before it are context only: the runtime skips the lm-head
    /// there, which is most of the work for short references after long prompts.
    pub score_from: usize,
}

impl ScoreRequest {
    /// Scores every position `1..n` of `tokens`.
    pub fn full(tokens: Vec<u32>) -> Self {
        Self {
            tokens,
            score_from: 1,
        }
    }
}

/// A message of a chat conversation (`role` is `system`, `user` or `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: String,
    /// What is said.
    pub content: String,
}

impl ChatMessage {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".into(),
            content: content.into(),
        }
    }

    /// A system turn.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system".into(),
            content: content.into(),
        }
    }
}

/// A predicate over the text generated so far for one prompt; `true` stops it.
///
/// Evals use it to stop a generation as soon as its result can no longer change
/// (for example once a multiple-choice letter has been emitted and closed).
pub type StopWhen<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// How to decode: greedy, with the transformers definition of repetition penalty.
#[derive(Clone)]
pub struct GenerateOptions<'a> {
    /// At most this many new tokens per prompt.
    pub max_new_tokens: usize,
    /// Repetition penalty (1.0 = off): logits of tokens already in the prompt or
    /// output are divided by it when positive and multiplied when negative.
    pub repetition_penalty: f32,
    /// Extra stop tokens besides the model's EOS tokens.
    pub stop_tokens: Vec<u32>,
    /// Optional wall-clock limit for the whole call; sequences stop where they are.
    pub time_limit: Option<Duration>,
    /// Optional early stop predicate on the decoded new text, after each token.
    pub stop_when: Option<StopWhen<'a>>,
    /// Keep generating past EOS (benchmarks use it to fix the output length).
    pub ignore_eos: bool,
}

impl std::fmt::Debug for GenerateOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerateOptions")
            .field("max_new_tokens", &self.max_new_tokens)
            .field("repetition_penalty", &self.repetition_penalty)
            .field("stop_tokens", &self.stop_tokens)
            .field("time_limit", &self.time_limit)
            .field("stop_when", &self.stop_when.is_some())
            .field("ignore_eos", &self.ignore_eos)
            .finish()
    }
}

impl Default for GenerateOptions<'_> {
    fn default() -> Self {
        Self {
            max_new_tokens: 20,
            repetition_penalty: 1.0,
            stop_tokens: Vec::new(),
            time_limit: None,
            stop_when: None,
            ignore_eos: false,
        }
    }
}

/// A causal language model with its tokenizer and chat template, at the
/// level of token ids.
pub trait LanguageModel {
    /// For each request, `log p(t_k | t_<k)` for `k` in `max(score_from, 1)..n`.
    ///
    /// Fails when the model produces NaN or infinite values.
    fn token_logprobs(&mut self, batch: &[ScoreRequest]) -> Result<Vec<Vec<f32>>, ModelError>;

    /// For each prompt, `log p(c | prompt)` of each candidate next token `c`
    /// (in `candidates` order).
    ///
    /// The default scores `prompt ++ [c]` once per candidate
    /// ([`continuation_logprobs`]); a runtime overrides it to run
    /// each prompt once and read every candidate off the same last position.
    fn next_token_logprobs(
        &mut self,
        prompts: &[Vec<u32>],
        candidates: &[u32],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let singles: Vec<Vec<u32>> = candidates.iter().map(|&c| vec![c]).collect();
        continuation_logprobs(self, prompts, &singles)
    }

    /// Greedy continuation of each prompt; returns only the new tokens, without
    /// the stop token that ended a sequence.
    fn generate(
        &mut self,
        prompts: &[Vec<u32>],
        opts: &GenerateOptions<'_>,
    ) -> Result<Vec<Vec<u32>>, ModelError>;

    /// Encodes text as `tokenizer(text)` does in transformers (with the
    /// tokenizer's default special tokens when `add_special_tokens`).
    fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, ModelError>;

    /// Decodes ids to text, skipping special tokens.
    fn decode(&self, ids: &[u32]) -> Result<String, ModelError>;

    /// Renders the model's chat template and encodes the result (no extra
    /// special tokens: the template writes them).
    fn encode_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>, ModelError>;

    /// The longest sequence the model accepts, in tokens.
    fn max_context(&self) -> usize;

    /// The fewest prompts this runtime should generate together when an eval
    /// batches its prompts (a GPU wants many more than a CPU); `None` keeps
    /// each eval's own batch size.
    fn generation_batch(&self) -> Option<usize> {
        None
    }
}

/// The batch size an eval uses: its own, raised to the model's preference.
pub fn batch_size(model: &(impl LanguageModel + ?Sized), own: usize) -> usize {
    model.generation_batch().map_or(own, |b| b.max(own)).max(1)
}

/// For each prompt, the summed log-probability of each continuation after it
/// (in `continuations` order), through [`LanguageModel::token_logprobs`];
/// an empty continuation gets `-inf`.
pub fn continuation_logprobs<M: LanguageModel + ?Sized>(
    model: &mut M,
    prompts: &[Vec<u32>],
    continuations: &[Vec<u32>],
) -> Result<Vec<Vec<f32>>, ModelError> {
    if continuations.is_empty() {
        return Ok(vec![Vec::new(); prompts.len()]);
    }
    let requests: Vec<ScoreRequest> = prompts
        .iter()
        .flat_map(|p| {
            continuations.iter().map(move |c| ScoreRequest {
                tokens: p.iter().chain(c).copied().collect(),
                score_from: p.len(),
            })
        })
        .collect();
    let lps = model.token_logprobs(&requests)?;
    Ok(lps
        .chunks(continuations.len())
        .map(|per_prompt| {
            per_prompt
                .iter()
                .map(|lp| {
                    if lp.is_empty() {
                        f32::NEG_INFINITY
                    } else {
                        lp.iter().sum()
                    }
                })
                .collect()
        })
        .collect())
}

//! What an eval needs from a model, split into capabilities a backend may or
//! may not have: [`Generate`] (continue chat conversations or raw text),
//! [`Score`] (log-probabilities of a continuation) and [`Tokenize`].
//!
//! The local runtime has them all ([`Local`] over any token-level
//! [`LanguageModel`](crate::LanguageModel)); an OpenAI-compatible endpoint
//! generates, scores only where the server returns prompt log-probabilities,
//! and never tokenises. An eval states what it needs
//! ([`Eval::needs`](crate::Eval::needs)) and [`require`] turns a missing
//! capability into a clear [`EvalError::Unsupported`] before any work starts.
//!
//! A backend receives a task's whole workload in one call (every prompt,
//! every sequence) and batches it its own way: the local runtime in
//! length-sorted batches and token-budgeted packs, a remote endpoint as
//! concurrent requests.

mod local;

use serde::Serialize;

use crate::error::EvalError;
use crate::model::{ChatMessage, ModelError};

pub use local::Local;

/// Something an eval may need from a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Continuing chat conversations and raw text ([`Generate`]).
    Generate,
    /// Log-probabilities of the tokens of a text ([`Score`]).
    Logprobs,
    /// Log-probabilities of a continuation after a chat prompt: [`Score`]
    /// with the model's chat template known to the caller.
    ChatLogprobs,
    /// Turning text into the model's token ids ([`Tokenize`]).
    Tokenize,
}

impl Capability {
    /// What the capability is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::Generate => "text generation",
            Capability::Logprobs => "log-probs",
            Capability::ChatLogprobs => "log-probs after a chat prompt (the model's chat template)",
            Capability::Tokenize => "tokenisation",
        }
    }
}

/// What to continue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// A conversation, rendered with the model's chat template and its
    /// generation prompt.
    Chat(Vec<ChatMessage>),
    /// Raw text, encoded with the tokenizer's default special tokens, cut to
    /// its first `max_tokens` tokens when given.
    Text {
        /// The text.
        text: String,
        /// Keep only this many leading tokens.
        max_tokens: Option<usize>,
    },
}

impl Prompt {
    /// A single user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Prompt::Chat(vec![ChatMessage::user(content)])
    }
}

/// An early-stop predicate: `(prompt index, text generated so far)`; `true`
/// means the eval's result for that prompt can no longer change.
pub type Settled<'a> = &'a (dyn Fn(usize, &str) -> bool + Sync);

/// How to generate: greedy (temperature 0) always.
#[derive(Clone, Copy)]
pub struct Sampling<'a> {
    /// At most this many new tokens per prompt.
    pub max_new_tokens: usize,
    /// Repetition penalty (1.0 = off), as transformers defines it.
    pub repetition_penalty: f32,
    /// Keep generating past end-of-sequence (where the backend can).
    pub ignore_eos: bool,
    /// Optional early stop; a backend may ignore it (results are the same).
    pub settled: Option<Settled<'a>>,
    /// Prompts the eval would generate together; a backend's own preference
    /// (a GPU's larger batches, a remote endpoint's concurrency) may change it.
    pub batch_hint: usize,
}

impl std::fmt::Debug for Sampling<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampling")
            .field("max_new_tokens", &self.max_new_tokens)
            .field("repetition_penalty", &self.repetition_penalty)
            .field("ignore_eos", &self.ignore_eos)
            .field("settled", &self.settled.is_some())
            .field("batch_hint", &self.batch_hint)
            .finish()
    }
}

impl Default for Sampling<'_> {
    fn default() -> Self {
        Self {
            max_new_tokens: 20,
            repetition_penalty: 1.0,
            ignore_eos: false,
            settled: None,
            batch_hint: 16,
        }
    }
}

/// A generated token as the backend knows it: its id where ids are known,
/// else its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Token {
    /// A token id (the local runtime).
    Id(u32),
    /// A token's text (a remote endpoint's log-probs).
    Piece(String),
}

/// One prompt's continuation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Generation {
    /// The new text, without the stop token.
    pub text: String,
    /// The new tokens, when the backend reports them (empty otherwise).
    pub tokens: Vec<Token>,
    /// Why the backend produced no text, when it says so (a refusal, an
    /// answer without a choice): the eval scores the empty text.
    pub refusal: Option<String>,
}

/// One text whose tokens are scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreInput {
    /// `None`: the text is scored from its second token (encoded with the
    /// tokenizer's default special tokens). `Some`: the conversation is
    /// rendered with the chat template and generation prompt, and every
    /// token of the text after it is scored.
    pub context: Option<Vec<ChatMessage>>,
    /// The scored text.
    pub text: String,
    /// Context and text together are cut to their first `max_tokens` tokens.
    pub max_tokens: usize,
}

/// Cost and size of what a backend was asked, for accounting.
///
/// The cost is kept in whole nano-dollars so that sums do not depend on the
/// order in which concurrent answers arrive (a re-run from the cache reports
/// the same figure to the last digit); it serialises as `cost_usd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Requests answered (from the cache included).
    pub requests: u64,
    /// Prompt tokens the answers counted.
    pub prompt_tokens: u64,
    /// Generated tokens the answers counted.
    pub completion_tokens: u64,
    /// Their price in nano-dollars (10^-9 USD), when prices are known.
    pub cost_nano_usd: u64,
}

impl Usage {
    /// The usage accrued since `earlier`.
    pub fn since(self, earlier: Usage) -> Usage {
        Usage {
            requests: self.requests.saturating_sub(earlier.requests),
            prompt_tokens: self.prompt_tokens.saturating_sub(earlier.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_sub(earlier.completion_tokens),
            cost_nano_usd: self.cost_nano_usd.saturating_sub(earlier.cost_nano_usd),
        }
    }

    /// The price in US dollars.
    pub fn cost_usd(&self) -> f64 {
        self.cost_nano_usd as f64 / 1e9
    }
}

impl Serialize for Usage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Usage", 4)?;
        st.serialize_field("requests", &self.requests)?;
        st.serialize_field("prompt_tokens", &self.prompt_tokens)?;
        st.serialize_field("completion_tokens", &self.completion_tokens)?;
        st.serialize_field("cost_usd", &self.cost_usd())?;
        st.end()
    }
}

/// Continuing prompts greedily.
pub trait Generate {
    /// Continues every prompt; outputs in prompt order. `progress` is told
    /// how many prompts finished.
    fn generate(
        &mut self,
        prompts: &[Prompt],
        sampling: &Sampling<'_>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Generation>, ModelError>;
}

/// Log-probabilities of given text.
pub trait Score {
    /// For each input, `log p(t | everything before t)` of each scored token,
    /// in order (empty when no token is left to score). `progress` is told
    /// how many inputs finished.
    fn logprobs(
        &mut self,
        inputs: &[ScoreInput],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError>;

    /// For each chat context, the log-probability of each choice's text as the
    /// start of the answer (summed over its tokens), in `choices` order.
    fn choice_logprobs(
        &mut self,
        contexts: &[Vec<ChatMessage>],
        choices: &[String],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError>;

    /// Whether chat contexts can be scored (the chat template is known).
    fn scores_chat(&self) -> bool;
}

/// Turning text into token ids.
pub trait Tokenize {
    /// The ids of `text` (with the tokenizer's default special tokens when
    /// `add_special_tokens`).
    fn tokenize(&mut self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, ModelError>;
}

/// A model as evals see it: a name and whichever capabilities it has.
pub trait Backend {
    /// What it is, for messages (`the local model /m`, `the endpoint …`).
    fn describe(&self) -> String;

    /// Its generation, if it has one.
    fn generator(&mut self) -> Option<&mut dyn Generate>;

    /// Its scoring, if it has one.
    fn scorer(&mut self) -> Option<&mut dyn Score>;

    /// Its tokenizer, if it has one.
    fn tokenizer(&mut self) -> Option<&mut dyn Tokenize>;

    /// What its answers have cost so far (zero for a local model).
    fn usage(&self) -> Usage {
        Usage::default()
    }

    /// Whether it offers `capability`.
    fn offers(&mut self, capability: Capability) -> bool {
        match capability {
            Capability::Generate => self.generator().is_some(),
            Capability::Logprobs => self.scorer().is_some(),
            Capability::ChatLogprobs => self.scorer().is_some_and(|s| s.scores_chat()),
            Capability::Tokenize => self.tokenizer().is_some(),
        }
    }
}

/// Fails with [`EvalError::Unsupported`] naming the first capability of
/// `needs` that `backend` lacks: "`eval` needs log-probs, which `backend`
/// does not offer".
pub fn require(
    backend: &mut dyn Backend,
    eval: &str,
    needs: &[Capability],
) -> Result<(), EvalError> {
    for &c in needs {
        if !backend.offers(c) {
            return Err(EvalError::Unsupported {
                eval: eval.to_string(),
                capability: c,
                backend: backend.describe(),
            });
        }
    }
    Ok(())
}

/// The backend's generation, or [`EvalError::Unsupported`].
pub fn generator<'a>(
    backend: &'a mut dyn Backend,
    eval: &str,
) -> Result<&'a mut dyn Generate, EvalError> {
    let name = backend.describe();
    backend.generator().ok_or_else(|| EvalError::Unsupported {
        eval: eval.to_string(),
        capability: Capability::Generate,
        backend: name,
    })
}

/// The backend's scoring, or [`EvalError::Unsupported`].
pub fn scorer<'a>(
    backend: &'a mut dyn Backend,
    eval: &str,
) -> Result<&'a mut dyn Score, EvalError> {
    let name = backend.describe();
    backend.scorer().ok_or_else(|| EvalError::Unsupported {
        eval: eval.to_string(),
        capability: Capability::Logprobs,
        backend: name,
    })
}

/// The backend's tokenizer, or [`EvalError::Unsupported`].
pub fn tokenizer<'a>(
    backend: &'a mut dyn Backend,
    eval: &str,
) -> Result<&'a mut dyn Tokenize, EvalError> {
    let name = backend.describe();
    backend.tokenizer().ok_or_else(|| EvalError::Unsupported {
        eval: eval.to_string(),
        capability: Capability::Tokenize,
        backend: name,
    })
}

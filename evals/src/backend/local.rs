//! [`Local`]: the capabilities of a token-level [`LanguageModel`] (the candle
//! runtime, or a test double): prompts encoded with its tokenizer and chat
//! template, generated in length-sorted batches (as large as the runtime
//! prefers), scored in token-budgeted packs, choices read off one forward
//! pass per prompt.

use super::{Backend, Generate, Generation, Prompt, Sampling, Score, ScoreInput, Token, Tokenize};
use crate::model::{
    batch_size, continuation_logprobs, ChatMessage, GenerateOptions, LanguageModel, ModelError,
    ScoreRequest,
};

/// Tokens handed to the runtime per scoring call unless told otherwise: the
/// runtime packs them without padding.
pub const DEFAULT_BATCH_TOKENS: usize = 8192;

/// Prompts scored per call by [`Score::choice_logprobs`] (raised to the
/// runtime's preference).
const CHOICE_BATCH: usize = 16;

/// A token-level model seen through the eval capabilities.
pub struct Local<'a> {
    model: &'a mut dyn LanguageModel,
    name: String,
    batch_tokens: usize,
}

impl<'a> Local<'a> {
    /// Wraps `model`; `name` says which model it is in messages.
    pub fn new(model: &'a mut dyn LanguageModel, name: impl Into<String>) -> Self {
        Self {
            model,
            name: name.into(),
            batch_tokens: DEFAULT_BATCH_TOKENS,
        }
    }

    /// Scores about `tokens` tokens per runtime call (smaller: finer
    /// progress; larger: fewer calls).
    pub fn with_batch_tokens(mut self, tokens: usize) -> Self {
        self.batch_tokens = tokens.max(1);
        self
    }

    fn encode_prompt(&self, prompt: &Prompt) -> Result<Vec<u32>, ModelError> {
        match prompt {
            Prompt::Chat(messages) => self.model.encode_chat(messages, true),
            Prompt::Text { text, max_tokens } => {
                let mut ids = self.model.encode(text, true)?;
                if let Some(n) = max_tokens {
                    ids.truncate(*n);
                }
                Ok(ids)
            }
        }
    }

    /// The runtime request of one input, or `None` when it scores nothing.
    fn request(&self, input: &ScoreInput) -> Result<Option<ScoreRequest>, ModelError> {
        let max = input.max_tokens.min(self.model.max_context()).max(2);
        let (mut tokens, context) = match &input.context {
            None => (self.model.encode(&input.text, true)?, 1),
            Some(messages) => {
                let mut t = self.model.encode_chat(messages, true)?;
                let context = t.len();
                t.extend(self.model.encode(&input.text, false)?);
                (t, context)
            }
        };
        if tokens.len() > max {
            tracing::debug!(tokens = tokens.len(), max, "scored sequence truncated");
            tokens.truncate(max);
        }
        let score_from = context.max(1);
        if score_from >= tokens.len() {
            return Ok(None);
        }
        Ok(Some(ScoreRequest { tokens, score_from }))
    }
}

impl Backend for Local<'_> {
    fn describe(&self) -> String {
        format!("the local model {}", self.name)
    }

    fn generator(&mut self) -> Option<&mut dyn Generate> {
        Some(self)
    }

    fn scorer(&mut self) -> Option<&mut dyn Score> {
        Some(self)
    }

    fn tokenizer(&mut self) -> Option<&mut dyn Tokenize> {
        Some(self)
    }
}

impl Generate for Local<'_> {
    fn generate(
        &mut self,
        prompts: &[Prompt],
        sampling: &Sampling<'_>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Generation>, ModelError> {
        let encoded = prompts
            .iter()
            .map(|p| self.encode_prompt(p))
            .collect::<Result<Vec<_>, _>>()?;
        // Similar lengths together: less cache padding in a batch.
        let mut order: Vec<usize> = (0..prompts.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![Generation::default(); prompts.len()];
        let batch = batch_size(&*self.model, sampling.batch_hint);
        for chunk in order.chunks(batch) {
            let longest = chunk.iter().map(|&i| encoded[i].len()).max().unwrap_or(0);
            let room = self.model.max_context().saturating_sub(longest).max(1);
            // The runtime's predicate sees no prompt index: a batch stops a
            // sequence only once its text is settled for every prompt of the
            // batch, which is exact when they share one rule.
            let all_settled = |t: &str| {
                sampling
                    .settled
                    .is_some_and(|f| chunk.iter().all(|&i| f(i, t)))
            };
            let opts = GenerateOptions {
                max_new_tokens: sampling.max_new_tokens.min(room),
                repetition_penalty: sampling.repetition_penalty,
                ignore_eos: sampling.ignore_eos,
                stop_when: sampling.settled.map(|_| &all_settled as _),
                ..GenerateOptions::default()
            };
            let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| encoded[i].clone()).collect();
            let outs = self.model.generate(&batch, &opts)?;
            for (&i, ids) in chunk.iter().zip(outs) {
                out[i] = Generation {
                    text: self.model.decode(&ids)?,
                    tokens: ids.into_iter().map(Token::Id).collect(),
                    refusal: None,
                };
            }
            progress(chunk.len());
        }
        Ok(out)
    }
}

impl Score for Local<'_> {
    fn logprobs(
        &mut self,
        inputs: &[ScoreInput],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut requests = Vec::with_capacity(inputs.len());
        let mut index = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            if let Some(r) = self.request(input)? {
                requests.push(r);
                index.push(i);
            }
        }
        let skipped = inputs.len() - requests.len();
        if skipped > 0 {
            tracing::warn!(skipped, "inputs with no token left to score skipped");
            progress(skipped);
        }
        let mut out = vec![Vec::new(); inputs.len()];
        let mut start = 0;
        while start < requests.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < requests.len()
                && (end == start || tokens + requests[end].tokens.len() <= self.batch_tokens)
            {
                tokens += requests[end].tokens.len();
                end += 1;
            }
            let lps = self.model.token_logprobs(&requests[start..end])?;
            for (k, lp) in lps.into_iter().enumerate() {
                out[index[start + k]] = lp;
            }
            progress(end - start);
            start = end;
        }
        Ok(out)
    }

    fn choice_logprobs(
        &mut self,
        contexts: &[Vec<ChatMessage>],
        choices: &[String],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let tokens = choices
            .iter()
            .map(|c| self.model.encode(c, false))
            .collect::<Result<Vec<_>, _>>()?;
        let single: Option<Vec<u32>> = tokens
            .iter()
            .map(|t| (t.len() == 1).then(|| t[0]))
            .collect();
        let mut out = Vec::with_capacity(contexts.len());
        for chunk in contexts.chunks(batch_size(&*self.model, CHOICE_BATCH)) {
            let prompts = chunk
                .iter()
                .map(|m| self.model.encode_chat(m, true))
                .collect::<Result<Vec<_>, _>>()?;
            out.extend(match &single {
                // Every choice is one token: one pass per prompt.
                Some(ids) => self.model.next_token_logprobs(&prompts, ids)?,
                // Multi-token choices: score each continuation in full.
                None => continuation_logprobs(&mut *self.model, &prompts, &tokens)?,
            });
            progress(chunk.len());
        }
        Ok(out)
    }

    fn scores_chat(&self) -> bool {
        true
    }
}

impl Tokenize for Local<'_> {
    fn tokenize(&mut self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, ModelError> {
        self.model.encode(text, add_special_tokens)
    }
}

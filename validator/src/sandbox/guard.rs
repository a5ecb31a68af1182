//! [`Guarded`]: the model as the suite sees it inside the sandbox. It caps
//! the context at the competition's sequence length, turns a prompt longer
//! than that into a per-sample outcome (an empty completion, logged and
//! counted) instead of a prefill sized by the miner's chat template, and
//! remembers a device failure so that it is reported as the validator's
//! fault rather than scored as the model's.

use gauntlet_evals::{ChatMessage, GenerateOptions, LanguageModel, ModelError, ScoreRequest};
use gauntlet_model::Model;

/// A loaded model behind the sandbox's limits.
pub(crate) struct Guarded<'a> {
    model: &'a mut Model,
    /// The longest sequence scored or generated, in tokens.
    limit: usize,
    /// Prompts refused for their length.
    pub overlong: u64,
    /// The first device failure seen, if any.
    pub device_fault: Option<String>,
}

impl<'a> Guarded<'a> {
    /// `model` limited to `sequence_length` tokens (or its own context when
    /// shorter).
    pub(crate) fn new(model: &'a mut Model, sequence_length: usize) -> Self {
        let limit = model.max_context().min(sequence_length).max(2);
        Guarded {
            model,
            limit,
            overlong: 0,
            device_fault: None,
        }
    }

    /// Records `e` when it is the device's failure; passes it on.
    fn watch(&mut self, e: gauntlet_model::ModelError) -> ModelError {
        if e.is_device_fault() && self.device_fault.is_none() {
            self.device_fault = Some(e.to_string());
        }
        Box::new(e)
    }
}

impl LanguageModel for Guarded<'_> {
    fn token_logprobs(&mut self, batch: &[ScoreRequest]) -> Result<Vec<Vec<f32>>, ModelError> {
        if let Some(long) = batch.iter().find(|r| r.tokens.len() > self.limit) {
            // The evals truncate to `max_context`; anything longer is a bug
            // upstream, refused rather than computed.
            return Err(format!(
                "a scoring request of {} tokens exceeds the context of {}",
                long.tokens.len(),
                self.limit
            )
            .into());
        }
        self.model.score(batch).map_err(|e| self.watch(e))
    }

    fn next_token_logprobs(
        &mut self,
        prompts: &[Vec<u32>],
        candidates: &[u32],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        // Keep the end of an over-long prompt (the question and the answer
        // slot): the sample is scored on what fits.
        let keep = self.limit.saturating_sub(1).max(1);
        let cut: Vec<Vec<u32>> = prompts
            .iter()
            .map(|p| {
                if p.len() > keep {
                    self.overlong += 1;
                    tracing::warn!(
                        tokens = p.len(),
                        keep,
                        "prompt longer than the context: its start is dropped"
                    );
                    p[p.len() - keep..].to_vec()
                } else {
                    p.clone()
                }
            })
            .collect();
        let model = &mut *self.model;
        LanguageModel::next_token_logprobs(model, &cut, candidates).map_err(|e| {
            match e.downcast::<gauntlet_model::ModelError>() {
                Ok(m) => self.watch(*m),
                Err(other) => other,
            }
        })
    }

    fn generate(
        &mut self,
        prompts: &[Vec<u32>],
        opts: &GenerateOptions<'_>,
    ) -> Result<Vec<Vec<u32>>, ModelError> {
        let room = self.limit.saturating_sub(opts.max_new_tokens);
        let fits: Vec<usize> = (0..prompts.len())
            .filter(|&i| prompts[i].len() <= room)
            .collect();
        for (i, p) in prompts.iter().enumerate() {
            if p.len() > room {
                self.overlong += 1;
                tracing::warn!(
                    prompt = i,
                    tokens = p.len(),
                    room,
                    "prompt longer than the context: an empty completion"
                );
            }
        }
        let mut out = vec![Vec::new(); prompts.len()];
        if fits.is_empty() {
            return Ok(out);
        }
        let batch: Vec<Vec<u32>> = fits.iter().map(|&i| prompts[i].clone()).collect();
        let generated = self
            .model
            .generate_tokens(&batch, opts)
            .map_err(|e| self.watch(e))?;
        for (i, g) in fits.into_iter().zip(generated) {
            out[i] = g;
        }
        Ok(out)
    }

    fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, ModelError> {
        LanguageModel::encode(&*self.model, text, add_special_tokens)
    }

    fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        LanguageModel::decode(&*self.model, ids)
    }

    fn encode_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<Vec<u32>, ModelError> {
        self.model.encode_chat(messages, add_generation_prompt)
    }

    fn max_context(&self) -> usize {
        self.limit
    }

    fn generation_batch(&self) -> Option<usize> {
        self.model.generation_batch()
    }
}

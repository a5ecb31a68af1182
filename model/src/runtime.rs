//! [`Model`]: a model directory loaded for inference — decoder, tokenizer and
//! chat template — implementing the evals' [`LanguageModel`] trait.

use std::path::{Path, PathBuf};

use candle_core::Device;
use gauntlet_evals::{ChatMessage, GenerateOptions, LanguageModel, ScoreRequest};

use crate::config::ModelConfig;
use crate::decoder::Decoder;
use crate::error::{ModelError, Result};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

/// Where to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// The CPU, in f32.
    #[default]
    Cpu,
    /// The first CUDA GPU (needs the `cuda` feature).
    Cuda,
}

impl DeviceKind {
    /// The candle device.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => Ok(Device::new_cuda(0)?),
        }
    }
}

/// Keeps large freed blocks in the heap instead of returning them to the OS.
///
/// A forward pass allocates tens of megabytes per intermediate tensor; glibc
/// serves those with fresh `mmap`s, so every layer pays page faults and kernel
/// zeroing for memory it just freed. Raising the mmap and trim thresholds lets
/// freed blocks be reused. Called once, on the first model load.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes allocator parameters; the values are
            // within glibc's documented ranges.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            }
        });
    }
}

/// A loaded model ready to score and generate.
pub struct Model {
    decoder: Decoder,
    tokenizer: TextTokenizer,
    dir: PathBuf,
}

impl Model {
    /// Loads the Hugging Face model directory `dir`.
    pub fn load(dir: &Path, device: DeviceKind) -> Result<Self> {
        Self::load_with_tokenizer(dir, None, device)
    }

    /// Loads `dir` with the tokenizer and chat template of `tokenizer_dir`
    /// instead of its own, when given: a competition with a fixed tokenizer
    /// scores every model through the same one (the model's own tokenizer
    /// files are ignored).
    pub fn load_with_tokenizer(
        dir: &Path,
        tokenizer_dir: Option<&Path>,
        device: DeviceKind,
    ) -> Result<Self> {
        tune_allocator();
        if !dir.is_dir() {
            return Err(ModelError::Missing {
                path: dir.to_path_buf(),
                what: "a model directory",
            });
        }
        let cfg = ModelConfig::from_file(&dir.join("config.json"))?;
        let tokenizer = TextTokenizer::load(tokenizer_dir.unwrap_or(dir), &cfg.eos_token_ids)?;
        if tokenizer.vocab_size() > cfg.vocab_size {
            tracing::warn!(
                tokenizer = tokenizer.vocab_size(),
                model = cfg.vocab_size,
                "the tokenizer knows more tokens than the model's vocabulary"
            );
        }
        let weights = Weights::open(dir)?;
        let decoder = Decoder::from_weights(&weights, cfg, &device.device()?)?;
        Ok(Self {
            decoder,
            tokenizer,
            dir: dir.to_path_buf(),
        })
    }

    /// The directory it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        self.decoder.config()
    }

    /// Scores full sequences (typed-error twin of the trait method).
    pub fn score(&self, batch: &[ScoreRequest]) -> Result<Vec<Vec<f32>>> {
        crate::score::score(&self.decoder, batch)
    }

    /// Generates (typed-error twin of the trait method).
    pub fn generate_tokens(
        &self,
        prompts: &[Vec<u32>],
        opts: &GenerateOptions<'_>,
    ) -> Result<Vec<Vec<u32>>> {
        let decode = |ids: &[u32]| self.tokenizer.decode(ids).unwrap_or_default();
        crate::generate::generate(
            &self.decoder,
            prompts,
            opts,
            &self.tokenizer.eos_ids,
            &decode,
        )
    }

    /// Renders the chat template for `messages`.
    pub fn render_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String> {
        let t = self.tokenizer.chat_template.as_ref().ok_or_else(|| {
            ModelError::ChatTemplate(format!(
                "{} has no chat template (tokenizer_config.json `chat_template` or chat_template.jinja)",
                self.dir.display()
            ))
        })?;
        t.render(messages, add_generation_prompt)
    }
}

impl LanguageModel for Model {
    fn token_logprobs(
        &mut self,
        batch: &[ScoreRequest],
    ) -> std::result::Result<Vec<Vec<f32>>, gauntlet_evals::ModelError> {
        Ok(self.score(batch)?)
    }

    fn next_token_logprobs(
        &mut self,
        prompts: &[Vec<u32>],
        candidates: &[u32],
    ) -> std::result::Result<Vec<Vec<f32>>, gauntlet_evals::ModelError> {
        Ok(crate::score::next_token_logprobs(
            &self.decoder,
            prompts,
            candidates,
        )?)
    }

    fn generate(
        &mut self,
        prompts: &[Vec<u32>],
        opts: &GenerateOptions<'_>,
    ) -> std::result::Result<Vec<Vec<u32>>, gauntlet_evals::ModelError> {
        Ok(self.generate_tokens(prompts, opts)?)
    }

    fn encode(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> std::result::Result<Vec<u32>, gauntlet_evals::ModelError> {
        Ok(self.tokenizer.encode(text, add_special_tokens)?)
    }

    fn decode(&self, ids: &[u32]) -> std::result::Result<String, gauntlet_evals::ModelError> {
        Ok(self.tokenizer.decode(ids)?)
    }

    fn encode_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> std::result::Result<Vec<u32>, gauntlet_evals::ModelError> {
        let text = self.render_chat(messages, add_generation_prompt)?;
        Ok(self.tokenizer.encode(&text, false)?)
    }

    fn max_context(&self) -> usize {
        let c = self.config().max_position_embeddings;
        self.tokenizer.model_max_length.map_or(c, |m| m.min(c))
    }
}

//! [`Model`]: a model directory loaded for inference — decoder, tokenizer and
//! chat template — implementing the evals' [`LanguageModel`] trait.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use gauntlet_evals::{ChatMessage, GenerateOptions, LanguageModel, ScoreRequest};

use crate::config::ModelConfig;
use crate::decoder::Decoder;
use crate::error::{ModelError, Result};
use crate::tokenizer::TextTokenizer;
use crate::weights::Weights;

/// Where to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// The CPU.
    #[default]
    Cpu,
    /// The first CUDA GPU (needs the `cuda` feature).
    Cuda,
}

impl DeviceKind {
    /// The candle device, or a clear error naming why it cannot be used.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(ModelError::DeviceUnavailable {
                        device: "cuda".into(),
                        reason: "this gauntlet was built without CUDA support \
                                 (build it with `cargo build --release --features cuda`)"
                            .into(),
                    });
                }
                Device::new_cuda(0).map_err(|e| ModelError::DeviceUnavailable {
                    device: "cuda:0".into(),
                    reason: format!(
                        "{e} (is the NVIDIA driver installed, and are libcublas, \
                         libcurand and libnvrtc of CUDA 13 on the library path?)"
                    ),
                })
            }
        }
    }

    /// The precision models compute in on this device unless told otherwise:
    /// bf16 on CUDA (as validators run 8B models), f32 on the CPU.
    pub fn default_precision(self) -> Precision {
        match self {
            Self::Cpu => Precision::F32,
            Self::Cuda => Precision::Bf16,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }
}

/// The floating-point type a model computes in. Weights are converted to it
/// once at load; log-softmax and loss accumulation always run in f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit IEEE floats.
    F32,
    /// bfloat16 (8-bit exponent, 7-bit mantissa).
    Bf16,
    /// IEEE half precision.
    F16,
}

impl Precision {
    /// The candle dtype.
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::Bf16 => DType::BF16,
            Self::F16 => DType::F16,
        }
    }

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
            Self::F16 => "f16",
        }
    }

    /// Parses `f32`, `bf16` or `f16`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" => Some(Self::F32),
            "bf16" | "bfloat16" => Some(Self::Bf16),
            "f16" | "float16" | "half" => Some(Self::F16),
            _ => None,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a model runs and in which precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    /// The device.
    pub device: DeviceKind,
    /// The compute precision; `None` takes the device's default.
    pub precision: Option<Precision>,
}

impl Placement {
    /// `device` in `precision`, or in the device's default when `None`.
    pub fn new(device: DeviceKind, precision: Option<Precision>) -> Self {
        Self { device, precision }
    }

    /// The precision used: the one asked for, else the device's default.
    pub fn precision(self) -> Precision {
        self.precision
            .unwrap_or_else(|| self.device.default_precision())
    }
}

impl From<DeviceKind> for Placement {
    fn from(device: DeviceKind) -> Self {
        Self::new(device, None)
    }
}

/// Prompts generated together on a GPU.
pub const GPU_GENERATION_BATCH: usize = 64;

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
    /// Loads the Hugging Face model directory `dir` on `placement` (a
    /// [`DeviceKind`] alone takes its default precision).
    pub fn load(dir: &Path, placement: impl Into<Placement>) -> Result<Self> {
        Self::load_with_tokenizer(dir, None, placement)
    }

    /// Loads `dir` with the tokenizer and chat template of `tokenizer_dir`
    /// instead of its own, when given: a competition with a fixed tokenizer
    /// scores every model through the same one (the model's own tokenizer
    /// files are ignored).
    pub fn load_with_tokenizer(
        dir: &Path,
        tokenizer_dir: Option<&Path>,
        placement: impl Into<Placement>,
    ) -> Result<Self> {
        let placement = placement.into();
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
        let device = placement.device.device()?;
        let decoder = Decoder::from_weights(&weights, cfg, &device, placement.precision().dtype())?;
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

    /// The precision the model computes in.
    pub fn precision(&self) -> Precision {
        match self.decoder.dtype() {
            DType::BF16 => Precision::Bf16,
            DType::F16 => Precision::F16,
            _ => Precision::F32,
        }
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

    /// A GPU decodes 64 rows for about the price of one (each step reads
    /// every weight once); the CPU keeps each eval's smaller batches.
    fn generation_batch(&self) -> Option<usize> {
        (!self.decoder.device().is_cpu()).then_some(GPU_GENERATION_BATCH)
    }
}

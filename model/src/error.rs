//! Errors of the model runtime, each naming the file and the problem.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than what the runtime reads of it (see `crate::limits`).
    #[error("{path}: {bytes} bytes, more than the {max} allowed for this file")]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// The cap.
        max: u64,
    },
    /// A file of the model directory is a symbolic link (never followed: it
    /// could point anywhere on the validator's machine).
    #[error("{path}: a symbolic link, not a file")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A required file is missing from the model directory.
    #[error("{path}: missing ({what})")]
    Missing {
        /// The file that was looked for.
        path: PathBuf,
        /// What it should have held.
        what: &'static str,
    },
    /// `config.json` is not valid JSON or lacks a required field.
    #[error("{path}: malformed config: {reason}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The architecture named in `config.json` is not supported.
    #[error("{path}: unsupported architecture {name:?} (supported: {supported})")]
    UnsupportedArchitecture {
        /// The config file.
        path: PathBuf,
        /// The architecture it names.
        name: String,
        /// The supported ones.
        supported: &'static str,
    },
    /// A safetensors file is truncated, malformed or claims absurd sizes.
    #[error("{path}: bad safetensors file: {reason}")]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor the architecture needs is absent.
    #[error("{path}: missing tensor {name}")]
    MissingTensor {
        /// The weights file or index consulted.
        path: PathBuf,
        /// The tensor name.
        name: String,
    },
    /// A tensor has the wrong shape.
    #[error("{path}: tensor {name} has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The weights file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// The shape the config implies.
        expected: Vec<usize>,
    },
    /// A tensor has a dtype the runtime does not accept.
    #[error("{path}: tensor {name} has dtype {dtype}, expected a float type (F32, F16, BF16)")]
    TensorDtype {
        /// The weights file.
        path: PathBuf,
        /// The tensor name.
        name: String,
        /// Its dtype.
        dtype: String,
    },
    /// The tokenizer could not be loaded or used.
    #[error("{path}: tokenizer: {reason}")]
    Tokenizer {
        /// The tokenizer file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The chat template could not be parsed or rendered.
    #[error("chat template: {0}")]
    ChatTemplate(String),
    /// The chat template exceeded a resource limit: it ran out of fuel or
    /// rendered more than the runtime accepts (`crate::limits`).
    #[error("chat template: {0}")]
    TemplateLimit(String),
    /// The model produced NaN or infinite values.
    #[error("model produced non-finite values ({what})")]
    NonFinite {
        /// Where they appeared.
        what: String,
    },
    /// An input is unusable (empty, out of vocabulary, …).
    #[error("bad input: {0}")]
    Input(String),
    /// The device asked for cannot be used (a binary built without its
    /// feature, no driver or library, no such GPU): the validator's own fault.
    #[error("device {device} unavailable: {reason}")]
    DeviceUnavailable {
        /// The device asked for.
        device: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The model cannot run in the requested precision on this device.
    #[error("{what} cannot run in {dtype} on {device}")]
    UnsupportedPrecision {
        /// The precision asked for.
        dtype: String,
        /// The device.
        device: String,
        /// What needs it.
        what: String,
    },
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

impl ModelError {
    /// Whether the error comes from the machine running the model (the device,
    /// its memory or its libraries) rather than from the model's files or the
    /// inputs: such an error is never a miner's fault.
    pub fn is_device_fault(&self) -> bool {
        match self {
            Self::DeviceUnavailable { .. } => true,
            Self::Candle(e) => candle_is_device_fault(e),
            _ => false,
        }
    }

    /// Wraps an I/O error with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Whether a candle error comes from the device (CUDA, out of memory, a
/// library) rather than from shapes or values.
fn candle_is_device_fault(e: &candle_core::Error) -> bool {
    match e {
        candle_core::Error::NotCompiledWithCudaSupport
        | candle_core::Error::NotCompiledWithMetalSupport => true,
        candle_core::Error::WithBacktrace { inner, .. } => candle_is_device_fault(inner),
        candle_core::Error::Context { inner, .. } => candle_is_device_fault(inner),
        candle_core::Error::Cuda(_) => true,
        other => {
            let text = other.to_string();
            text.contains("CUDA_ERROR") || text.contains("out of memory")
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

//! Errors of the GGUF import: every variant names the file and what is wrong with it.

use std::path::{Path, PathBuf};

/// Why a GGUF file could not be imported into a Hugging Face model directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file does not start with the GGUF magic bytes (or is too short to hold them).
    #[error("{path}: not a GGUF file ({reason})")]
    NotGguf {
        /// The file that was read.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The file ends before the header, metadata or tensor data it declares.
    #[error("{path}: truncated GGUF file ({reason})")]
    Truncated {
        /// The file that was read.
        path: PathBuf,
        /// What could not be read.
        reason: String,
    },
    /// The file is a GGUF but its header or tensor table is malformed.
    #[error("{path}: malformed GGUF file ({reason})")]
    Malformed {
        /// The file that was read.
        path: PathBuf,
        /// What is malformed.
        reason: String,
    },
    /// `general.architecture` names an architecture this importer does not convert.
    #[error("{path}: unsupported architecture {architecture:?} (supported: \"llama\")")]
    UnsupportedArchitecture {
        /// The file that was read.
        path: PathBuf,
        /// The architecture found in the metadata.
        architecture: String,
    },
    /// A required metadata key is absent.
    #[error("{path}: missing metadata key {key:?}")]
    MissingMetadata {
        /// The file that was read.
        path: PathBuf,
        /// The absent key.
        key: String,
    },
    /// A metadata value has the wrong type or an impossible value.
    #[error("{path}: invalid metadata {key:?}: {reason}")]
    InvalidMetadata {
        /// The file that was read.
        path: PathBuf,
        /// The offending key.
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// `tokenizer.ggml.model` names a tokenizer model this importer does not rebuild.
    #[error("{path}: unsupported tokenizer model {model:?} (supported: \"gpt2\" byte-level BPE)")]
    UnsupportedTokenizerModel {
        /// The file that was read.
        path: PathBuf,
        /// The tokenizer model found in the metadata.
        model: String,
    },
    /// `tokenizer.ggml.pre` names a pre-tokenizer this importer cannot express.
    #[error(
        "{path}: unsupported pre-tokenizer {pre:?} (supported: smollm, gpt2/gpt-2/default, llama-bpe/llama3)"
    )]
    UnsupportedPreTokenizer {
        /// The file that was read.
        path: PathBuf,
        /// The pre-tokenizer type found in the metadata.
        pre: String,
    },
    /// The vocabulary cannot be turned into a `tokenizer.json` that loads.
    #[error("{path}: cannot rebuild the tokenizer: {reason}")]
    InvalidTokenizer {
        /// The file that was read.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The model uses a feature the importer does not convert (mixture of experts, rope scaling, …).
    #[error("{path}: unsupported model feature: {feature}")]
    UnsupportedFeature {
        /// The file that was read.
        path: PathBuf,
        /// The feature and where it shows.
        feature: String,
    },
    /// A tensor the architecture requires is absent.
    #[error("{path}: missing tensor {name:?}")]
    MissingTensor {
        /// The file that was read.
        path: PathBuf,
        /// The GGUF name of the absent tensor.
        name: String,
    },
    /// A tensor has no place in the Hugging Face Llama layout.
    #[error("{path}: unexpected tensor {name:?} ({reason})")]
    UnexpectedTensor {
        /// The file that was read.
        path: PathBuf,
        /// The GGUF name of the tensor.
        name: String,
        /// Why it has no place.
        reason: String,
    },
    /// A tensor's shape disagrees with the hyper-parameters in the metadata.
    #[error(
        "{path}: tensor {name:?} has shape {found:?}, expected {expected:?} from the metadata"
    )]
    ShapeMismatch {
        /// The file that was read.
        path: PathBuf,
        /// The GGUF name of the tensor.
        name: String,
        /// The shape the metadata implies, `[out, in]` order.
        expected: Vec<usize>,
        /// The shape stored in the file, `[out, in]` order.
        found: Vec<usize>,
    },
    /// Reading, dequantising or re-ordering a tensor failed.
    #[error("{path}: tensor {name:?}: {source}")]
    Tensor {
        /// The file that was read.
        path: PathBuf,
        /// The GGUF name of the tensor.
        name: String,
        /// The underlying candle error (boxed: it is large).
        #[source]
        source: Box<candle_core::Error>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising a JSON output file failed.
    #[error("{path}: cannot serialise JSON: {source}")]
    Json {
        /// The file being written.
        path: PathBuf,
        /// The underlying serde error.
        #[source]
        source: serde_json::Error,
    },
}

impl ImportError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Classifies an error of `gguf_file::Content::read` as truncation or malformation.
    pub(crate) fn from_header_read(path: &Path, err: candle_core::Error) -> Self {
        let mut reason = without_backtrace(&err).to_string();
        if reason == "failed to fill whole buffer" {
            reason = "the file ends inside the header".to_string();
        }
        if is_truncation(&err) {
            Self::Truncated {
                path: path.to_path_buf(),
                reason,
            }
        } else {
            Self::Malformed {
                path: path.to_path_buf(),
                reason,
            }
        }
    }

    /// Classifies an error reading tensor `name`'s data as truncation or a tensor error.
    pub(crate) fn from_tensor_read(path: &Path, name: &str, err: candle_core::Error) -> Self {
        if is_truncation(&err) {
            let reason = format!("tensor {name:?}: {}", without_backtrace(&err));
            Self::Truncated {
                path: path.to_path_buf(),
                reason,
            }
        } else {
            Self::Tensor {
                path: path.to_path_buf(),
                name: name.to_string(),
                source: Box::new(err),
            }
        }
    }
}

/// True when a candle error comes from reading past the end of the file.
fn is_truncation(err: &candle_core::Error) -> bool {
    use candle_core::Error as E;
    match err {
        E::Io(e) => e.kind() == std::io::ErrorKind::UnexpectedEof,
        E::WithBacktrace { inner, .. } | E::Context { inner, .. } | E::WithPath { inner, .. } => {
            is_truncation(inner)
        }
        E::Msg(m) => m.contains("remaining"),
        _ => false,
    }
}

/// The error without a captured backtrace, so messages stay one line.
fn without_backtrace(err: &candle_core::Error) -> &candle_core::Error {
    match err {
        candle_core::Error::WithBacktrace { inner, .. } => without_backtrace(inner),
        other => other,
    }
}

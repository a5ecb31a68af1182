//! Gauntlet's model runtime on candle.
//!
//! Loads a Hugging Face causal-LM directory (`config.json`, `*.safetensors`,
//! `tokenizer.json`, chat template) into one decoder parameterised for Llama,
//! Mistral, Qwen2, Phi3, Gemma and Gemma2; scores token log-probabilities over
//! packed, unpadded batches with a chunked lm-head, computing a prefix shared
//! by a whole batch once; generates greedily with a KV cache; checks a
//! validator's constraints; and imports GGUF files.

pub mod attention;
pub mod chat;
pub mod config;
pub mod constraints;
pub mod cpu;
pub mod decoder;
pub mod error;
pub mod fastops;
pub mod generate;
pub mod gguf;
pub mod layer;
pub mod limits;
pub mod logsumexp;
pub mod matvec;
pub mod ops;
pub mod prefix;
pub mod rope;
pub mod runtime;
pub mod score;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokenizer;
pub mod weights;

pub use config::{Architecture, ModelConfig};
pub use error::{ModelError, Result};
pub use runtime::{DeviceKind, Model, Placement, Precision};

//! Gauntlet model stores: where miners publish models and validators fetch them.
//!
//! A model is a repository `namespace/name` pinned to an immutable revision, a
//! [`ModelId`]. The [`ModelStore`] trait uploads a directory as a new revision and
//! downloads a revision under a size cap; two stores implement it:
//!
//! - [`LocalHub`]: a hub in a local directory, the embedded default (no network).
//!   Commit ids are content-addressed, so the same files give the same id.
//! - [`HfHub`]: the Hugging Face Hub, or any server speaking its API (`HF_ENDPOINT`,
//!   `HF_TOKEN`), with retries, resumable downloads and per-file checksums.
//!
//! Downloads land in `<cache>/<namespace>/<name>/<commit>/`, which holds the revision's
//! files and nothing else: work in progress lives in `<cache>/.partial/` and a revision
//! appears there by one rename once complete. [`LocalModel::repo_hash`] is the repo
//! hash of REFERENCE §3 over those files; [`secure_hash`] binds it to a miner's hotkey.
//!
//! ```
//! use gauntlet_hub::{repo_hash_dir, secure_hash, LocalHub, ModelStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let model_dir = tmp.path().join("my-model");
//! std::fs::create_dir_all(&model_dir)?;
//! std::fs::write(model_dir.join("config.json"), r#"{"model_type": "llama"}"#)?;
//! std::fs::write(model_dir.join("model.safetensors"), [0u8; 64])?;
//!
//! let hub = LocalHub::open(tmp.path().join("hub"))?;
//! let id = hub.upload(&model_dir, "miner1", "tiny-llama").await?;
//! assert_eq!(id.commit.len(), 40);
//!
//! // Same files, same commit id.
//! assert_eq!(hub.upload(&model_dir, "miner1", "tiny-llama").await?, id);
//!
//! let model = hub.download(&id, 15 << 30).await?;
//! assert_eq!(model.repo_hash, repo_hash_dir(&model_dir)?);
//! assert_eq!(model.total_bytes, 23 + 64);
//! let commitment_hash = secure_hash(&model.repo_hash, "5GrwvaEF5zXb26Fz9rcQpDWS5ZLp7tSeYvvtVBj9TBzJcK6L");
//! assert_eq!(commitment_hash.len(), 44);
//!
//! // A size cap refuses before copying anything.
//! assert!(matches!(
//!     hub.download(&id, 10).await,
//!     Err(gauntlet_hub::HubError::TooLarge { bytes: 87, max: 10 })
//! ));
//! # Ok(())
//! # }
//! ```

mod budget;
mod cache;
pub mod error;
pub mod hash;
mod hf;
mod id;
mod local;
mod revision;
mod store;

pub use budget::CacheBudget;
pub use error::HubError;
pub use hash::{combine_file_hashes, file_hash, repo_hash, repo_hash_dir, secure_hash};
pub use hf::{HfHub, Progress, ProgressFn, RemoteFile, RepoKind, RetryPolicy, DEFAULT_ENDPOINT};
pub use id::{
    validate_commit, validate_repo, ModelId, COMMIT_HEX_CHARS, MAX_REPO_CHARS, MIN_REPO_CHARS,
};
pub use local::LocalHub;
pub use store::{ExpectedHash, LocalModel, ModelStore, MAX_REPO_FILES};

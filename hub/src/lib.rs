//! Gauntlet model stores: where miners publish models and validators fetch them.
//!
//! Today this crate is the pure core shared by every store: the repo hash and the
//! `secure_hash` that binds a revision to one miner's hotkey (REFERENCE §3), and
//! [`HubError`]. The `ModelStore` trait with `LocalHub` (a directory hub) and
//! `HfHub` (the Hugging Face Hub) come in a later stage.
//!
//! ```
//! use gauntlet_hub::{repo_hash, secure_hash};
//!
//! let files = [("config.json", &b"{}"[..]), ("model.safetensors", &b"\0\0"[..])];
//! let hash = repo_hash(files)?;
//! let bound = secure_hash(&hash, "5GrwvaEF5zXb26Fz9rcQpDWS5ZLp7tSeYvvtVBj9TBzJcK6L");
//! assert_eq!(hash.len(), 44);
//! assert_ne!(hash, bound);
//! # Ok::<(), gauntlet_hub::HubError>(())
//! ```

pub mod error;
pub mod hash;

pub use error::HubError;
pub use hash::{combine_file_hashes, file_hash, repo_hash, repo_hash_dir, secure_hash};

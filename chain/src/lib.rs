//! Gauntlet chains: what miners commit and how weights become emission.
//!
//! Today this crate holds the pure cores: the on-chain model [`Commitment`]
//! (`namespace:name:commit:secure_hash:competition_id`, REFERENCE §3) with its
//! validation, and one Yuma consensus [`yuma::epoch`] (REFERENCE §5). The `Chain`
//! trait with `LocalChain` (SQLite), `SubtensorChain` (subxt) and wallets come in a
//! later stage.
//!
//! ```
//! use gauntlet_chain::Commitment;
//!
//! let text = "acme:tiny-llama:0123456789abcdef0123456789abcdef01234567:\
//!             47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:4";
//! let c: Commitment = text.parse()?;
//! assert_eq!(c.repo_id(), "acme/tiny-llama");
//! assert_eq!(c.to_string(), text);
//! assert!("../etc:passwd".parse::<Commitment>().is_err());
//! # Ok::<(), gauntlet_chain::CommitmentError>(())
//! ```

pub mod commitment;
pub mod error;
pub mod yuma;

pub use commitment::{Commitment, CommitmentError, RepoPart};
pub use error::ChainError;

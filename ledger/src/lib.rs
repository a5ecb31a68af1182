//! Verifiable evaluation for Gauntlet: committed items, signed per-sample ledgers.
//!
//! Before a round, a validator fixes the round's [`Item`]s and commits their Merkle
//! [`merkle::root`] on chain ([`commitment`]). After evaluating each model it writes a
//! [`LedgerRecord`] (every sample's item hash, output and score, the aggregates, the model and
//! the round), chained to its previous record by `prev_hash` and signed with its hotkey
//! ([`SignedRecord`]). Anyone holding the ledger, the items and the chain can then check
//! ([`Ledger::verify`]) that nothing was changed, dropped, reordered or made up.
//!
//! ```
//! use gauntlet_ledger::{Item, ItemSet, KeypairSigner, Ledger, SignedRecord, Expectations};
//! # use gauntlet_ledger::testing::record_for;
//! let items = ItemSet { items: vec![Item { task: "t".into(), index: 0,
//!     item: serde_json::json!({"text": "hello"}), private: false }] };
//! let signer = KeypairSigner::from_seed(&[7; 32])?;
//! let record = record_for(&items, 1, &[0.5], gauntlet_ledger::Digest::ZERO);
//! let signed = SignedRecord::sign(record, &signer)?;
//! let ledger = Ledger::from_jsonl(&signed.to_line(), "ledger.jsonl")?;
//! assert_eq!(ledger.verify(&Expectations::default())?, 1);
//! # Ok::<(), gauntlet_ledger::LedgerError>(())
//! ```

pub mod canonical;
pub mod commitment;
mod digest;
mod dir;
mod error;
mod item;
pub mod merkle;
mod record;
mod sign;
pub mod testing;
mod verify;

pub use digest::{Digest, DigestParseError};
pub use dir::{
    LedgerDir, PublishedRounds, RoundCompetition, RoundManifest, LEDGER_FILE, MAX_LEDGER_FILE_BYTES,
};
pub use error::{LedgerError, Locus};
pub use item::{Item, ItemSet};
pub use record::{
    finite, CompetitionRef, LedgerRecord, ModelRef, Output, RoundRef, RuntimeRef, SampleEntry,
    TaskAggregate, ValidatorRef, FORMAT_VERSION,
};
pub use sign::{ss58, verify_signature, KeypairSigner, SignedRecord, Signer, SIGNING_CONTEXT};
pub use verify::{Expectations, Ledger, RoundKey};

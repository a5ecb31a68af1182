//! [`LedgerError`]: every way a ledger or an item set can fail, each naming where.

use std::fmt;

use crate::digest::Digest;

/// Which record an error is about: the round, the competition and the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locus {
    /// The ledger file (or other source) and its line.
    pub source_name: String,
    /// The 1-based line of the record.
    pub line: usize,
    /// The round's sync block.
    pub sync_block: u64,
    /// The competition id.
    pub competition: u16,
    /// The model's uid.
    pub uid: u16,
    /// The model's hotkey.
    pub hotkey: String,
}

impl fmt::Display for Locus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}: round {} competition {} model uid {} ({})",
            self.source_name, self.line, self.sync_block, self.competition, self.uid, self.hotkey
        )
    }
}

/// Why a ledger, a record or an item set is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A line is not the JSON expected (a truncated or corrupted file among others).
    #[error("{source_name} line {line}: malformed: {reason}")]
    Malformed {
        /// The file or source.
        source_name: String,
        /// The 1-based line.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// A ledger directory's file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// A value could not be encoded as JSON (never for records built by this crate).
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The signature is not the record's validator's signature of the record's bytes: a
    /// field was changed after signing, or another key signed.
    #[error("{at}: field signature: not {hotkey}'s signature of this record (changed after signing, or signed by another key)")]
    BadSignature {
        /// The record.
        at: Box<Locus>,
        /// The validator the record names.
        hotkey: String,
    },
    /// The line's `hash` is not the SHA-256 of its record's bytes.
    #[error("{at}: field hash: the line says {recorded}, the record hashes to {computed}")]
    HashField {
        /// The record.
        at: Box<Locus>,
        /// What the line says.
        recorded: String,
        /// What the record hashes to.
        computed: Digest,
    },
    /// The record's validator is not the one expected, or its SS58 and public key disagree.
    #[error("{at}: field {field}: expected {expected}, found {found}")]
    WrongValidator {
        /// The record.
        at: Box<Locus>,
        /// `validator.hotkey` or `validator.public_key`.
        field: &'static str,
        /// What it should be.
        expected: String,
        /// What it is.
        found: String,
    },
    /// The record's `prev_hash` is not the hash of the record before it: a record was
    /// dropped, inserted or moved (two rounds swapped, among others).
    #[error("{at}: field prev_hash: expected {expected} (the record before it), found {found}")]
    ChainBroken {
        /// The record.
        at: Box<Locus>,
        /// The hash of the previous record (zero for the first).
        expected: Digest,
        /// The record's `prev_hash`.
        found: Digest,
    },
    /// The record's `items_root` is not the root the validator committed on chain.
    #[error("{at}: field items_root: {found} is not the root committed on chain, {committed}")]
    RootNotCommitted {
        /// The record.
        at: Box<Locus>,
        /// The committed root.
        committed: Digest,
        /// The record's root.
        found: Digest,
    },
    /// No root was committed on chain for the record's round.
    #[error("{at}: field items_root: no root committed on chain for this round")]
    NoCommitment {
        /// The record.
        at: Box<Locus>,
    },
    /// The published items do not hash to the record's (committed) root.
    #[error("{at}: field items_root: the published items hash to {computed}, not {found}")]
    ItemsDoNotMatchRoot {
        /// The record.
        at: Box<Locus>,
        /// The root of the items given.
        computed: Digest,
        /// The record's root.
        found: Digest,
    },
    /// A sample's field does not match the published item or the other samples.
    #[error("{at}: sample {task}#{index}: field {field}: {reason}")]
    Sample {
        /// The record.
        at: Box<Locus>,
        /// The sample's task.
        task: String,
        /// The sample's index in the task.
        index: u64,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A task aggregate disagrees with the record's samples.
    #[error("{at}: task {task}: field {field}: {reason}")]
    Aggregate {
        /// The record.
        at: Box<Locus>,
        /// The task.
        task: String,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl LedgerError {
    pub(crate) fn encode(e: serde_json::Error) -> LedgerError {
        LedgerError::Encode(e.to_string())
    }

    /// The record the error is about, when it is about one.
    pub fn locus(&self) -> Option<&Locus> {
        match self {
            LedgerError::Malformed { .. } | LedgerError::Io { .. } | LedgerError::Encode(_) => None,
            LedgerError::BadSignature { at, .. }
            | LedgerError::HashField { at, .. }
            | LedgerError::WrongValidator { at, .. }
            | LedgerError::ChainBroken { at, .. }
            | LedgerError::RootNotCommitted { at, .. }
            | LedgerError::NoCommitment { at }
            | LedgerError::ItemsDoNotMatchRoot { at, .. }
            | LedgerError::Sample { at, .. }
            | LedgerError::Aggregate { at, .. } => Some(at.as_ref()),
        }
    }
}

//! What a validator decided about a model: a miner's fault is a value here,
//! never an error.

use gauntlet_constants::Uid;
use serde::{Deserialize, Serialize};

/// The outcome of handling one model in a round. Every variant but
/// `Evaluated` means the model scores +inf (it loses every comparison).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// The model ran; its score is in the evaluation.
    Evaluated,
    /// The commitment string did not parse (too long, bad hex, unknown
    /// competition, path traversal, …).
    InvalidCommitment {
        /// Why.
        reason: String,
    },
    /// The hub refused, timed out or the revision is too large.
    DownloadFailed {
        /// Why.
        reason: String,
    },
    /// The downloaded revision's secure hash differs from the committed one.
    HashMismatch {
        /// The hash computed from the files and the miner's hotkey.
        computed: String,
        /// The hash in the commitment.
        committed: String,
    },
    /// The revision's files are identical to a model committed earlier.
    Copy {
        /// The uid of the original.
        of: Uid,
    },
    /// The model breaks the competition's constraints or does not load.
    Disqualified {
        /// Every violation, explained.
        reason: String,
    },
    /// The process evaluating the model died (a signal, a panic, an abort),
    /// or the validator itself stopped twice while evaluating it.
    Crashed {
        /// How it ended.
        reason: String,
    },
    /// Checking, loading and evaluating the model took longer than the
    /// competition's deadline; the process was killed.
    TimedOut {
        /// The deadline, in seconds.
        seconds: u64,
    },
    /// The model's files made the checks run out of the memory the sandbox
    /// allows (a model that passed the checks and then ran out of memory is
    /// the validator's problem, not a verdict).
    OutOfMemory {
        /// What ran out, and the limit.
        reason: String,
    },
}

impl Verdict {
    /// A short label (`evaluated`, `copy`, …) for tables and the state file.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Evaluated => "evaluated",
            Verdict::InvalidCommitment { .. } => "invalid_commitment",
            Verdict::DownloadFailed { .. } => "download_failed",
            Verdict::HashMismatch { .. } => "hash_mismatch",
            Verdict::Copy { .. } => "copy",
            Verdict::Disqualified { .. } => "disqualified",
            Verdict::Crashed { .. } => "crashed",
            Verdict::TimedOut { .. } => "timed_out",
            Verdict::OutOfMemory { .. } => "out_of_memory",
        }
    }

    /// The explanation, for a rejected model.
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Evaluated => None,
            Verdict::InvalidCommitment { reason }
            | Verdict::DownloadFailed { reason }
            | Verdict::Disqualified { reason }
            | Verdict::Crashed { reason }
            | Verdict::OutOfMemory { reason } => Some(reason.clone()),
            Verdict::TimedOut { seconds } => Some(format!(
                "not finished within the competition's {seconds} s per model"
            )),
            Verdict::HashMismatch {
                computed,
                committed,
            } => Some(format!(
                "secure hash {computed} of the downloaded files does not match the committed {committed}"
            )),
            Verdict::Copy { of } => Some(format!("identical to the earlier model of uid {of}")),
        }
    }

    /// The uid copied, for a copy.
    pub fn copy_of(&self) -> Option<Uid> {
        match self {
            Verdict::Copy { of } => Some(*of),
            _ => None,
        }
    }
}

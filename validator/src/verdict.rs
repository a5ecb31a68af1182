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
        }
    }

    /// The explanation, for a rejected model.
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Evaluated => None,
            Verdict::InvalidCommitment { reason }
            | Verdict::DownloadFailed { reason }
            | Verdict::Disqualified { reason } => Some(reason.clone()),
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

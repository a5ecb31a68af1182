//! The on-chain model commitment of a miner (REFERENCE §3).
//!
//! A miner publishes `namespace:name:commit:secure_hash:competition_id` on chain:
//! the hub repo `namespace/name`, its pinned 40-hex revision, the secure hash that
//! binds the revision's content to the miner's hotkey, and the competition entered.
//! Commitments are untrusted input: the validator turns the repo id into download
//! URLs and directory names, so anything that could traverse paths is refused, and
//! every field must be in its one canonical form, so that [`Commitment`]'s `Display`
//! gives back exactly the string parsed.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gauntlet_constants::{CompetitionId, MAX_COMMITMENT_BYTES};

/// Fewest characters in the repo id `namespace/name` (the reference's bound).
pub const REPO_ID_MIN_CHARS: usize = 4;
/// Most characters in the repo id `namespace/name` (the reference's bound).
pub const REPO_ID_MAX_CHARS: usize = 38;
/// Characters in a hub revision id (a git commit SHA-1 in hex).
pub const COMMIT_HEX_CHARS: usize = 40;
/// Bytes of a secure hash once base64-decoded (a SHA-256 digest).
pub const SECURE_HASH_BYTES: usize = 32;

/// The prefix of a validator's items commitment (`gauntlet-items:1:<sync
/// block>:<root>`, see `gauntlet-ledger`): a validator publishes its round's
/// Merkle root under its hotkey, and readers of miners' commitments skip it.
pub const VALIDATOR_ITEMS_PREFIX: &str = "gauntlet-items:";

/// Whether a raw commitment is a validator's items commitment rather than a
/// miner's model: such a commitment is no miner's fault and gets no verdict.
pub fn is_validator_commitment(data: &str) -> bool {
    data.starts_with(VALIDATOR_ITEMS_PREFIX)
}

/// Which half of the repo id a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoPart {
    /// The owner (user or organisation) before the `/`.
    Namespace,
    /// The repository name after the `/`.
    Name,
}

impl fmt::Display for RepoPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RepoPart::Namespace => "namespace",
            RepoPart::Name => "name",
        })
    }
}

/// Why a commitment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommitmentError {
    /// The commitment is longer than the chain allows.
    #[error("commitment is {len} bytes, more than the {max} allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit, [`MAX_COMMITMENT_BYTES`].
        max: usize,
    },
    /// The raw commitment bytes are not UTF-8.
    #[error("commitment is not valid UTF-8")]
    NotUtf8,
    /// The commitment does not have exactly five `:`-separated fields.
    #[error("commitment has {found} ':'-separated fields, expected 5")]
    FieldCount {
        /// How many fields it has.
        found: usize,
    },
    /// The namespace or the name is empty.
    #[error("the {part} is empty")]
    EmptyRepoPart {
        /// Which part.
        part: RepoPart,
    },
    /// The namespace or the name contains `..`, which could traverse paths.
    #[error("the {part} contains \"..\" (path traversal)")]
    PathTraversal {
        /// Which part.
        part: RepoPart,
    },
    /// The namespace or the name has a character outside `[A-Za-z0-9._-]` (a `/`, `\`,
    /// NUL, control or non-ASCII character among them).
    #[error("the {part} contains {ch:?}, outside [A-Za-z0-9._-]")]
    RepoChar {
        /// Which part.
        part: RepoPart,
        /// The first offending character.
        ch: char,
    },
    /// The namespace or the name starts or ends with `.` or `-` (a hidden file or
    /// something that reads as an option; the hub forbids both).
    #[error("the {part} starts or ends with {ch:?}")]
    RepoEdge {
        /// Which part.
        part: RepoPart,
        /// The offending first or last character.
        ch: char,
    },
    /// The namespace or the name contains `--`, the separator of hub cache paths
    /// (`models--namespace--name`); the hub forbids it too.
    #[error("the {part} contains \"--\"")]
    DoubleDash {
        /// Which part.
        part: RepoPart,
    },
    /// The repo id `namespace/name` is too short or too long.
    #[error("repo id is {len} characters, expected {REPO_ID_MIN_CHARS}..={REPO_ID_MAX_CHARS}")]
    RepoIdLength {
        /// Its length in characters, the `/` included.
        len: usize,
    },
    /// The commit does not have 40 characters.
    #[error("commit is {len} characters, expected {COMMIT_HEX_CHARS}")]
    CommitLength {
        /// Its length in characters.
        len: usize,
    },
    /// The commit has a character that is not lowercase hex.
    #[error("commit contains {ch:?}, expected lowercase hex")]
    CommitChar {
        /// The first offending character.
        ch: char,
    },
    /// The secure hash is not canonical standard base64 with padding.
    #[error("secure hash is not canonical padded base64")]
    SecureHashEncoding,
    /// The secure hash decodes to the wrong number of bytes.
    #[error("secure hash decodes to {len} bytes, expected {SECURE_HASH_BYTES}")]
    SecureHashLength {
        /// The decoded length in bytes.
        len: usize,
    },
    /// The competition id is not a canonical decimal `u16` (digits only, no sign, no
    /// leading zero, at most 65535).
    #[error("competition id {value:?} is not a decimal u16")]
    CompetitionId {
        /// The field as committed.
        value: String,
    },
}

/// A validated model commitment. Fields are private so that every value is valid;
/// `Display` writes the canonical string, which [`Commitment::parse`] reads back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Commitment {
    namespace: String,
    name: String,
    commit: String,
    secure_hash: String,
    competition_id: CompetitionId,
}

impl Commitment {
    /// Builds a commitment from its parts, with the same validation as [`parse`]
    /// (the formatted string must fit in [`MAX_COMMITMENT_BYTES`] too).
    ///
    /// [`parse`]: Commitment::parse
    pub fn new(
        namespace: &str,
        name: &str,
        commit: &str,
        secure_hash: &str,
        competition_id: CompetitionId,
    ) -> Result<Self, CommitmentError> {
        validate_repo(namespace, name)?;
        validate_commit(commit)?;
        validate_secure_hash(secure_hash)?;
        let commitment = Commitment {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            commit: commit.to_owned(),
            secure_hash: secure_hash.to_owned(),
            competition_id,
        };
        let len = commitment.to_string().len();
        if len > MAX_COMMITMENT_BYTES {
            return Err(CommitmentError::TooLong {
                len,
                max: MAX_COMMITMENT_BYTES,
            });
        }
        Ok(commitment)
    }

    /// Parses and validates `namespace:name:commit:secure_hash:competition_id`.
    pub fn parse(text: &str) -> Result<Self, CommitmentError> {
        // The length first: nothing else is looked at in an oversized input.
        if text.len() > MAX_COMMITMENT_BYTES {
            return Err(CommitmentError::TooLong {
                len: text.len(),
                max: MAX_COMMITMENT_BYTES,
            });
        }
        let fields: Vec<&str> = text.split(':').collect();
        let [namespace, name, commit, secure_hash, competition] = fields[..] else {
            return Err(CommitmentError::FieldCount {
                found: fields.len(),
            });
        };
        // Fields are checked left to right, so the first fault is the one reported.
        validate_repo(namespace, name)?;
        validate_commit(commit)?;
        validate_secure_hash(secure_hash)?;
        let competition_id = parse_competition_id(competition)?;
        // Every field is canonical, so the formatted string is `text` and fits.
        Ok(Commitment {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            commit: commit.to_owned(),
            secure_hash: secure_hash.to_owned(),
            competition_id,
        })
    }

    /// Parses raw commitment bytes as read from the chain.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, CommitmentError> {
        if bytes.len() > MAX_COMMITMENT_BYTES {
            return Err(CommitmentError::TooLong {
                len: bytes.len(),
                max: MAX_COMMITMENT_BYTES,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| CommitmentError::NotUtf8)?;
        Commitment::parse(text)
    }

    /// The repo owner.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The repo name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The repo id, `namespace/name`.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The pinned hub revision: 40 lowercase hex characters.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The secure hash: standard padded base64 of 32 bytes.
    pub fn secure_hash(&self) -> &str {
        &self.secure_hash
    }

    /// The competition entered.
    pub fn competition_id(&self) -> CompetitionId {
        self.competition_id
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}:{}",
            self.namespace, self.name, self.commit, self.secure_hash, self.competition_id
        )
    }
}

impl FromStr for Commitment {
    type Err = CommitmentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Commitment::parse(s)
    }
}

fn validate_repo(namespace: &str, name: &str) -> Result<(), CommitmentError> {
    validate_repo_part(RepoPart::Namespace, namespace)?;
    validate_repo_part(RepoPart::Name, name)?;
    // Both parts are ASCII by now, so bytes are characters; +1 for the '/'.
    let len = namespace.len() + 1 + name.len();
    if !(REPO_ID_MIN_CHARS..=REPO_ID_MAX_CHARS).contains(&len) {
        return Err(CommitmentError::RepoIdLength { len });
    }
    Ok(())
}

fn validate_repo_part(part: RepoPart, s: &str) -> Result<(), CommitmentError> {
    if s.is_empty() {
        return Err(CommitmentError::EmptyRepoPart { part });
    }
    if s.contains("..") {
        return Err(CommitmentError::PathTraversal { part });
    }
    if let Some(ch) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(CommitmentError::RepoChar { part, ch });
    }
    for ch in [s.chars().next(), s.chars().next_back()]
        .into_iter()
        .flatten()
    {
        if matches!(ch, '.' | '-') {
            return Err(CommitmentError::RepoEdge { part, ch });
        }
    }
    if s.contains("--") {
        return Err(CommitmentError::DoubleDash { part });
    }
    Ok(())
}

fn validate_commit(commit: &str) -> Result<(), CommitmentError> {
    if let Some(ch) = commit.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(CommitmentError::CommitChar { ch });
    }
    if commit.len() != COMMIT_HEX_CHARS {
        return Err(CommitmentError::CommitLength { len: commit.len() });
    }
    Ok(())
}

fn validate_secure_hash(hash: &str) -> Result<(), CommitmentError> {
    // The STANDARD engine already refuses missing or extra padding and non-zero
    // trailing bits; comparing the re-encoding makes canonical form explicit.
    let bytes = STANDARD
        .decode(hash)
        .map_err(|_| CommitmentError::SecureHashEncoding)?;
    if bytes.len() != SECURE_HASH_BYTES {
        return Err(CommitmentError::SecureHashLength { len: bytes.len() });
    }
    if STANDARD.encode(&bytes) != hash {
        return Err(CommitmentError::SecureHashEncoding);
    }
    Ok(())
}

fn parse_competition_id(field: &str) -> Result<CompetitionId, CommitmentError> {
    let err = || CommitmentError::CompetitionId {
        value: field.to_owned(),
    };
    let canonical = !field.is_empty()
        && field.bytes().all(|b| b.is_ascii_digit())
        && (field == "0" || !field.starts_with('0'));
    if !canonical {
        return Err(err());
    }
    field.parse::<u16>().map(CompetitionId).map_err(|_| err())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;

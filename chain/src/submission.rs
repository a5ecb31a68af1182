//! What became of a set of weights: applied at once, or committed for the chain
//! to reveal later (commit–reveal v4), and where such a commit stands.

use gauntlet_constants::Block;
use serde::{Deserialize, Serialize};

/// What the chain did with [`Chain::set_weights`](crate::Chain::set_weights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightsSubmission {
    /// The weights are on chain now (plain `set_weights`; the local chain).
    Set,
    /// The weights were committed timelock-encrypted; the chain decrypts and
    /// applies them itself once drand publishes the commit's reveal round.
    Committed(WeightsCommit),
}

/// A timelock-encrypted commit of weights (`commit_timelocked_weights`), as the
/// validator records it until the chain has revealed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsCommit {
    /// The uids committed, ascending.
    pub uids: Vec<u16>,
    /// Their `u16` weights, in the order of `uids`.
    pub values: Vec<u16>,
    /// The version key inside the encrypted payload.
    pub version_key: u64,
    /// The drand quicknet round whose signature decrypts the commit.
    pub reveal_round: u64,
    /// The commit–reveal version sent with it (the chain's `CommitRevealWeightsVersion`).
    pub commit_reveal_version: u16,
    /// The best block when the commit was sent (it lands in a later one).
    pub block: Block,
    /// BLAKE2b-256 of the encrypted blob, as the chain's
    /// `TimelockedWeightsCommitted` event names it; hex in JSON.
    #[serde(with = "hex32")]
    pub blob_hash: [u8; 32],
}

impl WeightsCommit {
    /// `(uid, weight)` pairs of the commit.
    pub fn pairs(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        self.uids.iter().copied().zip(self.values.iter().copied())
    }
}

/// Where a [`WeightsCommit`] stands on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitStatus {
    /// The chain still holds it, waiting for its reveal round.
    Pending,
    /// The chain no longer holds it and the hotkey's weights on chain are the
    /// committed ones: revealed and applied.
    Revealed,
    /// The chain no longer holds it and the weights on chain are others: it
    /// expired undecrypted, or the runtime refused the weights when revealing.
    Dropped,
}

impl CommitStatus {
    /// The status's name in the validator's state and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitStatus::Pending => "pending",
            CommitStatus::Revealed => "revealed",
            CommitStatus::Dropped => "dropped",
        }
    }

    /// Parses [`CommitStatus::as_str`]'s names.
    pub fn parse(name: &str) -> Option<CommitStatus> {
        match name {
            "pending" => Some(CommitStatus::Pending),
            "revealed" => Some(CommitStatus::Revealed),
            "dropped" => Some(CommitStatus::Dropped),
            _ => None,
        }
    }
}

/// 32 bytes as 64 lowercase hex digits in serde.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.trim_start_matches("0x"), &mut out)
            .map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_serialise_with_a_hex_hash_and_round_trip() {
        let commit = WeightsCommit {
            uids: vec![1, 2],
            values: vec![65535, 3],
            version_key: 4_020,
            reveal_round: 1_000,
            commit_reveal_version: 4,
            block: Block(77),
            blob_hash: [0xab; 32],
        };
        let json = serde_json::to_value(&commit).expect("serialise");
        assert_eq!(json["blob_hash"], "ab".repeat(32));
        assert_eq!(json["block"], 77);
        let back: WeightsCommit = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, commit);
        assert_eq!(back.pairs().collect::<Vec<_>>(), [(1, 65535), (2, 3)]);
        let submission = serde_json::to_value(WeightsSubmission::Committed(commit)).expect("json");
        assert_eq!(submission["kind"], "committed");
        assert_eq!(submission["reveal_round"], 1_000);
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            CommitStatus::Pending,
            CommitStatus::Revealed,
            CommitStatus::Dropped,
        ] {
            assert_eq!(CommitStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CommitStatus::parse("set"), None);
    }
}

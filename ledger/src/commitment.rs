//! The validator's on-chain commitment of a round's items.
//!
//! `gauntlet-items:1:<sync block>:<root hex>` (at most 105 bytes, under the chain's 128): the
//! root is the Merkle root ([`crate::merkle::root`]) of the round's competition roots, in
//! competition id order, each competition root being the Merkle root of that competition's
//! item hashes. Miners' commitment readers skip strings with this prefix.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::merkle;

/// The prefix of a validator's items commitment.
pub const PREFIX: &str = "gauntlet-items:";

/// The version of the commitment format.
pub const VERSION: u32 = 1;

/// A round's items commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemsCommitment {
    /// The round's sync block.
    pub sync_block: u64,
    /// The root over the round's competition roots.
    pub root: Digest,
}

impl ItemsCommitment {
    /// The commitment of a round whose competitions have these `(id, root)` pairs.
    pub fn of_round(sync_block: u64, competitions: &[(u16, Digest)]) -> ItemsCommitment {
        ItemsCommitment {
            sync_block,
            root: round_root(competitions),
        }
    }
}

/// The Merkle root of a round's competition roots, taken in competition id order.
pub fn round_root(competitions: &[(u16, Digest)]) -> Digest {
    let mut sorted = competitions.to_vec();
    sorted.sort_by_key(|(id, _)| *id);
    let roots: Vec<Digest> = sorted.into_iter().map(|(_, r)| r).collect();
    merkle::root(&roots)
}

/// Whether a raw commitment string is a validator's items commitment (of any version).
pub fn is_items_commitment(data: &str) -> bool {
    data.starts_with(PREFIX)
}

impl fmt::Display for ItemsCommitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{VERSION}:{}:{}", self.sync_block, self.root)
    }
}

/// Why a string is not an items commitment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a gauntlet-items:{VERSION} commitment: {0}")]
pub struct ItemsCommitmentError(pub String);

impl FromStr for ItemsCommitment {
    type Err = ItemsCommitmentError;

    fn from_str(s: &str) -> Result<ItemsCommitment, ItemsCommitmentError> {
        let err = |why: &str| ItemsCommitmentError(why.to_string());
        let rest = s.strip_prefix(PREFIX).ok_or_else(|| err("no prefix"))?;
        let mut parts = rest.split(':');
        let (Some(version), Some(block), Some(root), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err("expected version:block:root"));
        };
        if version != VERSION.to_string() {
            return Err(err("unknown version"));
        }
        let sync_block = block.parse().map_err(|_| err("block is not a number"))?;
        let root = root.parse().map_err(|_| err("root is not 64 hex digits"))?;
        Ok(ItemsCommitment { sync_block, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_fits_the_chain() {
        let c = ItemsCommitment::of_round(7200, &[(2, Digest::of(b"b")), (1, Digest::of(b"a"))]);
        let s = c.to_string();
        assert!(s.len() <= 128, "{}", s.len());
        assert!(is_items_commitment(&s));
        assert_eq!(s.parse::<ItemsCommitment>(), Ok(c));
        // Order of the pairs given does not matter; ids do.
        assert_eq!(
            c.root,
            round_root(&[(1, Digest::of(b"a")), (2, Digest::of(b"b"))])
        );
        assert!("gauntlet-items:2:1:00".parse::<ItemsCommitment>().is_err());
        assert!("ns:name:c:h:1".parse::<ItemsCommitment>().is_err());
    }
}

//! Protocol constants and id newtypes shared by every Gauntlet crate.
//!
//! This crate depends only on `serde` (the newtypes serialise as their plain
//! numbers): everything here is plain data that the chain, the validator and
//! the evals agree on. Numbers come from the
//! reference subnet (SN37 "finetuning" v3.1.0); see `docs/PROTOCOL.md`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A subnet id on a Bittensor chain (`NetUid` is a plain `u16` on subtensor).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NetUid(pub u16);

/// A neuron's position (uid) inside one subnet.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Uid(pub u16);

/// A block number on the chain.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Block(pub u64);

/// A competition's stable numeric id; ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompetitionId(pub u16);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}
display_inner!(NetUid, Uid, Block, CompetitionId);

/// Seconds per block on subtensor (and on the local chain's wall clock).
pub const BLOCK_TIME_SECS: u64 = 12;

/// The first sync block of the reference validator; sync blocks follow every
/// [`SYNC_BLOCK_CADENCE`] blocks after it.
pub const SYNC_BLOCK_GENESIS: Block = Block(3_138_611);

/// Blocks between two sync blocks (72 minutes at 12 s a block).
pub const SYNC_BLOCK_CADENCE: u64 = 360;

/// Maximum length in bytes of an on-chain commitment string.
pub const MAX_COMMITMENT_BYTES: usize = 128;

/// Minimum blocks between two weight sets of one hotkey (the reference's rate limit).
pub const WEIGHTS_RATE_LIMIT_BLOCKS: u64 = 100;

/// Gauntlet's protocol version (major, minor, patch) for the weights version key.
pub const PROTOCOL_VERSION: (u64, u64, u64) = (3, 1, 0);

/// The weights version key: `1000·major + 10·minor + patch`.
pub const fn version_key(major: u64, minor: u64, patch: u64) -> u64 {
    1000 * major + 10 * minor + patch
}

/// The largest on-chain weight after max-upscaling (weights are `u16`).
pub const MAX_WEIGHT: u16 = u16::MAX;

/// The sync block at or before `block` (the block whose hash seeds a round):
/// the latest block `GENESIS + k·CADENCE ≤ block` for an integer `k`.
///
/// The cadence also runs backwards from genesis, so a young chain (a local
/// chain, a test network) has sync blocks too and never asks for the hash of
/// a future block; blocks before the first such block (`GENESIS mod CADENCE`,
/// i.e. 131) map to block 0.
pub fn sync_block(block: Block) -> Block {
    let offset = (i128::from(block.0) - i128::from(SYNC_BLOCK_GENESIS.0))
        .rem_euclid(i128::from(SYNC_BLOCK_CADENCE));
    // `offset < CADENCE`, so it fits a u64.
    Block(block.0.saturating_sub(offset as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_key_matches_reference_formula() {
        assert_eq!(version_key(3, 1, 0), 3010);
        assert_eq!(version_key(1, 2, 3), 1023);
    }

    #[test]
    fn sync_block_rounds_down_to_cadence() {
        assert_eq!(sync_block(Block(0)), Block(0));
        assert_eq!(sync_block(Block(130)), Block(0));
        assert_eq!(sync_block(Block(131)), Block(131));
        assert_eq!(sync_block(Block(10_023)), Block(9_851));
        assert_eq!(sync_block(Block(3_138_610)), Block(3_138_611 - 360));
        assert_eq!(sync_block(SYNC_BLOCK_GENESIS), SYNC_BLOCK_GENESIS);
        assert_eq!(sync_block(Block(3_138_611 + 359)), SYNC_BLOCK_GENESIS);
        assert_eq!(sync_block(Block(3_138_611 + 360)), Block(3_138_971));
        assert_eq!(sync_block(Block(3_138_611 + 725)), Block(3_138_611 + 720));
    }

    #[test]
    fn sync_blocks_are_on_the_cadence_and_never_in_the_future() {
        for b in (0..4_000_000u64).step_by(997) {
            let s = sync_block(Block(b));
            assert!(s.0 <= b && b - s.0 < SYNC_BLOCK_CADENCE, "{b} -> {s}");
            if s.0 > 0 {
                assert_eq!(
                    s.0 % SYNC_BLOCK_CADENCE,
                    SYNC_BLOCK_GENESIS.0 % SYNC_BLOCK_CADENCE
                );
            }
        }
    }
}

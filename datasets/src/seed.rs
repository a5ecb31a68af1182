//! The 32-byte data seed of an evaluation round and how it becomes one
//! independent random stream per task label.
//!
//! Derivations (all sha256, fixed forever: changing one changes every sample):
//! - [`Seed::from_block_hash`]: `sha256(block_hash)` (DESIGN.md: the seed of a
//!   sync block is the sha256 of its hash).
//! - [`Seed::from_u64`]: `sha256("gauntlet/seed/u64" ‖ s as 8 little-endian bytes)`,
//!   for `--seed S` on the command line and for tests.
//! - [`Seed::rng`]: ChaCha20 keyed with `sha256(seed ‖ label as UTF-8)`.

use std::fmt;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::rng::SampleRng;

/// Domain tag of [`Seed::from_u64`].
const U64_TAG: &[u8] = b"gauntlet/seed/u64";

/// The seed every validator derives identically for one round.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed([u8; 32]);

impl Seed {
    /// Wraps raw bytes as a seed (no hashing).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// The seed of a number: `sha256("gauntlet/seed/u64" ‖ s.to_le_bytes())`.
    pub fn from_u64(s: u64) -> Self {
        let mut h = Sha256::new();
        h.update(U64_TAG);
        h.update(s.to_le_bytes());
        Seed(h.finalize().into())
    }

    /// The seed of a sync block: `sha256(block_hash)`.
    pub fn from_block_hash(hash: &[u8; 32]) -> Self {
        Seed(Sha256::digest(hash).into())
    }

    /// Parses 64 hex digits (as [`Seed::hex`] writes them).
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).ok()?;
        Some(Seed(out))
    }

    /// The seed's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The seed as 64 lower-case hex digits.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The random stream of one task: ChaCha20 (rand_chacha's `ChaCha20Rng`,
    /// stream 0, counter from 0) keyed with `sha256(seed ‖ label)`. Streams of
    /// different labels are independent, so a task's draws do not depend on
    /// which other tasks exist or in which order they run.
    pub fn rng(&self, label: &str) -> SampleRng {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(label.as_bytes());
        SampleRng::new(ChaCha20Rng::from_seed(h.finalize().into()))
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed({})", self.hex())
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    // Known answers computed independently with Python's hashlib:
    // sha256(b"gauntlet/seed/u64" + (0).to_bytes(8, "little")) etc.
    #[test]
    fn derivations_are_pinned() {
        assert_eq!(
            Seed::from_u64(0).hex(),
            "590617822c5b3e65949ff67b0d26c83dd83e418decaa1d96be5586da802adf20"
        );
        assert_eq!(
            Seed::from_block_hash(&[0u8; 32]).hex(),
            // sha256 of 32 zero bytes
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn hex_round_trips() {
        let s = Seed::from_u64(42);
        assert_eq!(Seed::from_hex(&s.hex()), Some(s));
        assert_eq!(Seed::from_hex("zz"), None);
        assert_eq!(Seed::from_hex(&"ab".repeat(31)), None);
        assert_eq!(format!("{s}"), s.hex());
    }

    #[test]
    fn different_inputs_give_different_seeds() {
        assert_ne!(Seed::from_u64(1), Seed::from_u64(2));
        assert_ne!(Seed::from_u64(0).as_bytes(), &[0u8; 32]);
    }
}

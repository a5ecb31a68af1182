//! Uniform draws on a ChaCha20 stream, defined here rather than through
//! `rand`'s `gen_range` (whose algorithm may change between versions): the
//! samples of a round are part of the protocol, so the mapping from the
//! stream to draws must never move.
//!
//! Every draw consumes whole 64-bit words of the stream ([`SampleRng::next_u64`]:
//! eight key-stream bytes read little-endian, the ChaCha20 key stream of the
//! label's key with a zero nonce and the block counter starting at 0).

use std::collections::HashMap;

use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha20Rng;

/// A deterministic random source for one task (see [`crate::Seed::rng`]).
#[derive(Debug, Clone)]
pub struct SampleRng {
    inner: ChaCha20Rng,
}

impl SampleRng {
    /// Wraps a ChaCha20 generator.
    pub fn new(inner: ChaCha20Rng) -> Self {
        SampleRng { inner }
    }

    /// The next 64 bits of the stream.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform draw in `0..n` by rejection sampling. With
    /// `t = 2^64 mod n`, draw `x = next_u64()` until `x >= t` (the accepted
    /// `2^64 - t` values are a multiple of `n`), then return `x mod n`.
    /// `n = 1` consumes one word and returns 0; `n = 0` returns 0 and
    /// consumes nothing.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let x = self.next_u64();
            if x >= threshold {
                return x % n;
            }
        }
    }

    /// A uniform draw in `lo..=hi`: `lo + below(hi - lo + 1)`; `lo` when
    /// `hi <= lo` (no draw).
    pub fn in_range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// `min(k, len)` distinct indices of `0..len`, in draw order, by a
    /// partial Fisher–Yates shuffle: starting from the identity, for `i` in
    /// `0..k` swap position `i` with `i + below(len - i)`; the result is the
    /// first `k` positions. (Only displaced positions are stored, so drawing a
    /// few indices of a large pool costs `O(k)`.)
    pub fn choose_indices(&mut self, len: usize, k: usize) -> Vec<usize> {
        let k = k.min(len);
        let mut moved: HashMap<usize, usize> = HashMap::with_capacity(k);
        let mut out = Vec::with_capacity(k);
        for i in 0..k {
            let j = i + self.below((len - i) as u64) as usize;
            let at_i = moved.get(&i).copied().unwrap_or(i);
            let at_j = moved.get(&j).copied().unwrap_or(j);
            out.push(at_j);
            // Position i is never read again; position j now holds i's value.
            moved.insert(j, at_i);
        }
        out
    }

    /// Fisher–Yates shuffle: for `i` from `len - 1` down to 1, swap position
    /// `i` with `below(i + 1)` (the order the evals crate documents).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// This stream as the `FnMut(u64) -> u64` draw source the evals crate's
    /// samplers take: `n ↦ below(n)`.
    pub fn as_draw(&mut self) -> impl FnMut(u64) -> u64 + '_ {
        move |n| self.below(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::Seed;
    use proptest::prelude::*;
    use rand_chacha::rand_core::SeedableRng;

    /// ChaCha20 with an all-zero key and nonce: the first key-stream bytes are
    /// `76 b8 e0 ad a0 f1 3d 90 …` (the classic test vector).
    #[test]
    fn stream_is_plain_chacha20() {
        let mut rng = SampleRng::new(ChaCha20Rng::from_seed([0; 32]));
        assert_eq!(rng.next_u64(), 0x903d_f1a0_ade0_b876);
        assert_eq!(rng.next_u64(), 0x28bd_8653_e56a_5d40);
    }

    /// Known answers computed independently in Python (hashlib + the
    /// `cryptography` package's ChaCha20, same rejection rule). The draw for
    /// `n = 2^63 + 1` rejects its first word, exercising the rejection path.
    #[test]
    fn draws_are_pinned() {
        let seed = Seed::from_u64(7);
        let mut rng = seed.rng("WORD_SORTING");
        assert_eq!(rng.clone().next_u64(), 0x97ff_25fa_c38f_a84e);
        let draws: Vec<u64> = [10, 1000, 3, (1u64 << 63) + 1, 7]
            .iter()
            .map(|&n| rng.below(n))
            .collect();
        assert_eq!(draws, [2, 829, 1, 4_174_221_941_829_584_692, 2]);
    }

    #[test]
    fn labels_give_independent_streams() {
        let seed = Seed::from_u64(1);
        assert_ne!(seed.rng("A").next_u64(), seed.rng("B").next_u64());
        assert_eq!(seed.rng("A").next_u64(), seed.rng("A").next_u64());
    }

    #[test]
    fn degenerate_ranges_do_not_draw() {
        let mut a = Seed::from_u64(3).rng("x");
        let mut b = a.clone();
        assert_eq!(a.below(0), 0);
        assert_eq!(a.in_range(5, 5), 5);
        assert_eq!(a.in_range(9, 2), 9);
        assert_eq!(a.next_u64(), b.next_u64());
        assert!(a.in_range(0, u64::MAX) == b.next_u64());
    }

    #[test]
    fn shuffle_and_draw_closure_follow_below() {
        let seed = Seed::from_u64(9);
        let mut v: Vec<u32> = (0..50).collect();
        seed.rng("s").shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);

        let mut r1 = seed.rng("d");
        let mut r2 = seed.rng("d");
        let mut draw = r1.as_draw();
        let a: Vec<u64> = (1..20).map(&mut draw).collect();
        let b: Vec<u64> = (1..20).map(|n| r2.below(n)).collect();
        assert_eq!(a, b);
    }

    /// The documented dense algorithm, to check the sparse one against.
    fn dense_choose(rng: &mut SampleRng, len: usize, k: usize) -> Vec<usize> {
        let k = k.min(len);
        let mut idx: Vec<usize> = (0..len).collect();
        for i in 0..k {
            let j = i + rng.below((len - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(k);
        idx
    }

    #[test]
    fn choose_indices_is_pinned() {
        // Python: same stream, partial Fisher–Yates on list(range(100)).
        let got = Seed::from_u64(7).rng("WORD_SORTING").choose_indices(100, 5);
        assert_eq!(got, [82, 72, 12, 66, 89]);
    }

    proptest! {
        #[test]
        fn sparse_choose_matches_dense(seed in any::<u64>(), len in 0usize..200, k in 0usize..220) {
            let s = Seed::from_u64(seed);
            prop_assert_eq!(s.rng("x").choose_indices(len, k), dense_choose(&mut s.rng("x"), len, k));
        }


        #[test]
        fn below_is_in_range(seed in any::<u64>(), n in 1u64..) {
            let mut rng = Seed::from_u64(seed).rng("p");
            for _ in 0..8 {
                prop_assert!(rng.below(n) < n);
            }
        }

        #[test]
        fn in_range_is_inclusive(seed in any::<u64>(), lo in 0u64..1000, span in 0u64..50) {
            let mut rng = Seed::from_u64(seed).rng("r");
            let x = rng.in_range(lo, lo + span);
            prop_assert!(x >= lo && x <= lo + span);
        }

        #[test]
        fn choose_indices_are_distinct(seed in any::<u64>(), len in 0usize..300, k in 0usize..320) {
            let got = Seed::from_u64(seed).rng("c").choose_indices(len, k);
            prop_assert_eq!(got.len(), k.min(len));
            let mut s = got.clone();
            s.sort_unstable();
            s.dedup();
            prop_assert_eq!(s.len(), got.len());
            prop_assert!(got.iter().all(|&i| i < len));
        }
    }
}

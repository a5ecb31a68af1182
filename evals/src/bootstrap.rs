//! The paired bootstrap: a confidence interval on the mean per-sample score
//! difference of two models evaluated on the same samples.
//!
//! Both models answered the same items, so their difference is measured item
//! by item (`a[i] − b[i]`), which cancels the items' own difficulty; the
//! interval is the percentile interval of the mean difference over
//! `resamples` resamplings of the items with replacement. The resampling is
//! driven by a seed (the round's), so every validator computes the same
//! interval. Samples either model could not score are left out.

use serde::{Deserialize, Serialize};

/// Resamplings used by default: enough for stable 95 % percentiles.
pub const DEFAULT_RESAMPLES: usize = 1_000;

/// A paired bootstrap interval of `mean(a − b)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedInterval {
    /// The observed mean difference (`a − b`; negative: `a` has the lower loss).
    pub mean_diff: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// The confidence level, e.g. 0.95.
    pub level: f64,
    /// Samples both models scored.
    pub samples: usize,
}

impl PairedInterval {
    /// Whether `a`'s loss is lower than `b`'s with this confidence (the whole
    /// interval below zero).
    pub fn a_better(&self) -> bool {
        self.high < 0.0
    }
}

/// SplitMix64: a small, fully specified generator, so that the interval is
/// the same on every platform and in any reimplementation.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by rejection so no index is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// The paired bootstrap interval of `mean(a − b)` at `level` (e.g. 0.95), from
/// `resamples` resamplings driven by `seed`. `None` when no sample was scored
/// by both (or `resamples` is 0). `a` and `b` are per-sample scores in the
/// same item order; `None` or non-finite entries are left out.
pub fn paired_interval(
    a: &[Option<f64>],
    b: &[Option<f64>],
    seed: u64,
    resamples: usize,
    level: f64,
) -> Option<PairedInterval> {
    let diffs: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Some(x - y),
            _ => None,
        })
        .collect();
    if diffs.is_empty() || resamples == 0 {
        return None;
    }
    let n = diffs.len();
    let mean_diff = diffs.iter().sum::<f64>() / n as f64;
    let mut rng = SplitMix64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            let total: f64 = (0..n).map(|_| diffs[rng.below(n as u64) as usize]).sum();
            total / n as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let level = level.clamp(0.0, 1.0);
    let tail = (1.0 - level) / 2.0;
    let at = |q: f64| {
        let i = ((q * (resamples - 1) as f64).round() as usize).min(resamples - 1);
        means[i]
    };
    Some(PairedInterval {
        mean_diff,
        low: at(tail),
        high: at(1.0 - tail),
        level,
        samples: n,
    })
}

/// A 64-bit bootstrap seed from a 32-byte round seed and the pair's uids, so
/// every pair gets its own stream and every validator the same one.
pub fn pair_seed(round_seed: &[u8; 32], uid_a: u16, uid_b: u16) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&round_seed[..8]);
    u64::from_le_bytes(first) ^ (u64::from(uid_a) << 32) ^ u64::from(uid_b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    #[test]
    fn a_clearly_better_model_has_an_interval_below_zero() {
        let a: Vec<f64> = (0..200).map(|i| 1.0 + (i % 7) as f64 * 0.01).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.2).collect();
        let ci = paired_interval(&some(&a), &some(&b), 7, DEFAULT_RESAMPLES, 0.95).expect("ci");
        assert!((ci.mean_diff + 0.2).abs() < 1e-12);
        assert!(ci.a_better(), "{ci:?}");
        assert_eq!(ci.samples, 200);
    }

    #[test]
    fn identical_models_are_not_separated() {
        // Differences of ±0.5 around zero: the interval straddles it.
        let a: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 1.5 } else { 0.5 })
            .collect();
        let b = vec![1.0; 100];
        let ci = paired_interval(&some(&a), &some(&b), 3, DEFAULT_RESAMPLES, 0.95).expect("ci");
        assert!(ci.low < 0.0 && ci.high > 0.0, "{ci:?}");
        assert!(!ci.a_better());
    }

    #[test]
    fn same_seed_same_interval_other_seed_may_differ() {
        let a: Vec<f64> = (0..50).map(|i| (i * 37 % 11) as f64).collect();
        let b: Vec<f64> = (0..50).map(|i| (i * 17 % 13) as f64).collect();
        let x = paired_interval(&some(&a), &some(&b), 1, 500, 0.9);
        assert_eq!(x, paired_interval(&some(&a), &some(&b), 1, 500, 0.9));
        assert_ne!(x, paired_interval(&some(&a), &some(&b), 2, 500, 0.9));
    }

    #[test]
    fn unscored_samples_are_left_out() {
        let a = vec![Some(1.0), None, Some(f64::INFINITY), Some(2.0)];
        let b = vec![Some(0.0), Some(1.0), Some(1.0), None];
        let ci = paired_interval(&a, &b, 0, 100, 0.95).expect("ci");
        assert_eq!(ci.samples, 1);
        assert_eq!((ci.low, ci.high, ci.mean_diff), (1.0, 1.0, 1.0));
        assert!(paired_interval(&[None], &[Some(1.0)], 0, 100, 0.95).is_none());
        assert!(paired_interval(&a, &b, 0, 0, 0.95).is_none());
    }
}

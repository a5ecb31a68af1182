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

use crate::normalize::Normalization;

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

/// One task of a paired competition-score bootstrap: both models' per-sample
/// scores on the task's samples (same order), how its raw score is normalised
/// and its effective weight in the combined score.
#[derive(Debug, Clone, Copy)]
pub struct TaskPair<'a> {
    /// Model `a`'s per-sample scores.
    pub a: &'a [Option<f64>],
    /// Model `b`'s, on the same samples.
    pub b: &'a [Option<f64>],
    /// The task's normalisation.
    pub normalization: Normalization,
    /// Its effective weight (weights of the tasks that ran, renormalised).
    pub weight: f64,
}

/// One task's paired `(a, b)` scores, its normalisation and its weight.
type Stratum = (Vec<(f64, f64)>, Normalization, f64);

/// Both models' mean score over a task's pairs (as drawn, or resampled).
type TaskMeans<'a> = dyn FnMut(&[(f64, f64)]) -> (f64, f64) + 'a;

/// The paired bootstrap interval of the *competition score* difference
/// `score(a) − score(b)`: per-sample scores of different tasks are in
/// different units (a 0/1 miss, a loss in nats), so each resampling draws
/// every task's samples with replacement (stratified by task, the same draw
/// for both models), takes each task's mean per-sample score as its raw
/// score, normalises it and combines the tasks by weight, exactly as the
/// competition score is made. `mean_diff` is that difference on the samples
/// as drawn; `samples` counts the samples both models scored. Samples either
/// model could not score are left out; `None` when a weighted task has none.
///
/// Each task's raw score is the mean of its per-sample scores for every
/// method but the synthetic IFEval, whose duplicate-answer guard can raise
/// its raw score above that mean: there the interval is the mean's.
pub fn paired_score_interval(
    tasks: &[TaskPair<'_>],
    seed: u64,
    resamples: usize,
    level: f64,
) -> Option<PairedInterval> {
    let mut strata: Vec<Stratum> = Vec::new();
    for t in tasks {
        if t.weight <= 0.0 {
            continue;
        }
        let pairs: Vec<(f64, f64)> =
            t.a.iter()
                .zip(t.b)
                .filter_map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Some((*x, *y)),
                    _ => None,
                })
                .collect();
        if pairs.is_empty() {
            return None;
        }
        strata.push((pairs, t.normalization, t.weight));
    }
    if strata.is_empty() || resamples == 0 {
        return None;
    }
    let combined = |means: &mut TaskMeans<'_>| -> f64 {
        strata
            .iter()
            .map(|(pairs, norm, w)| {
                let (ma, mb) = means(pairs);
                w * (norm.apply(ma) - norm.apply(mb))
            })
            .sum()
    };
    let mean_diff = combined(&mut |pairs| {
        let n = pairs.len() as f64;
        let (sa, sb) = pairs
            .iter()
            .fold((0.0, 0.0), |(x, y), (a, b)| (x + a, y + b));
        (sa / n, sb / n)
    });
    let mut rng = SplitMix64(seed);
    let mut diffs: Vec<f64> = (0..resamples)
        .map(|_| {
            combined(&mut |pairs| {
                let n = pairs.len();
                let (mut sa, mut sb) = (0.0, 0.0);
                for _ in 0..n {
                    let (a, b) = pairs[rng.below(n as u64) as usize];
                    sa += a;
                    sb += b;
                }
                (sa / n as f64, sb / n as f64)
            })
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let level = level.clamp(0.0, 1.0);
    let tail = (1.0 - level) / 2.0;
    let at = |q: f64| diffs[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Some(PairedInterval {
        mean_diff,
        low: at(tail),
        high: at(1.0 - tail),
        level,
        samples: strata.iter().map(|(p, _, _)| p.len()).sum(),
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
    fn the_score_interval_resamples_each_task_through_its_normalisation() {
        use crate::normalize::InverseExponential;
        // Task 1: 0/1 misses, a misses 10 % fewer; task 2: losses in nats,
        // a's 0.05 lower, normalised by an inverse exponential.
        let miss_a: Vec<f64> = (0..100).map(|i| f64::from(i % 10 < 3)).collect();
        let miss_b: Vec<f64> = (0..100).map(|i| f64::from(i % 10 < 4)).collect();
        let loss_b: Vec<f64> = (0..100).map(|i| 3.0 + (i % 5) as f64 * 0.1).collect();
        let loss_a: Vec<f64> = loss_b.iter().map(|x| x - 0.05).collect();
        let ie = Normalization::InverseExponential(InverseExponential { ceiling: 20.0 });
        let (ma, mb, la, lb) = (some(&miss_a), some(&miss_b), some(&loss_a), some(&loss_b));
        let tasks = [
            TaskPair {
                a: &ma,
                b: &mb,
                normalization: Normalization::None,
                weight: 0.6,
            },
            TaskPair {
                a: &la,
                b: &lb,
                normalization: ie,
                weight: 0.4,
            },
        ];
        let ci = paired_score_interval(&tasks, 5, DEFAULT_RESAMPLES, 0.95).expect("ci");
        let expected = 0.6 * (0.3 - 0.4) + 0.4 * (ie.apply(3.15) - ie.apply(3.2));
        assert!((ci.mean_diff - expected).abs() < 1e-12, "{ci:?}");
        assert!(ci.low <= ci.mean_diff && ci.mean_diff <= ci.high);
        assert_eq!(ci.samples, 200);
        assert!(ci.a_better(), "{ci:?}");
        assert_eq!(
            Some(ci),
            paired_score_interval(&tasks, 5, DEFAULT_RESAMPLES, 0.95)
        );
        // Against itself: exactly zero, nothing separates them.
        let same = [TaskPair {
            a: &ma,
            b: &ma,
            normalization: Normalization::None,
            weight: 1.0,
        }];
        let z = paired_score_interval(&same, 5, 200, 0.95).expect("ci");
        assert_eq!((z.low, z.high, z.mean_diff), (0.0, 0.0, 0.0));
        // A weighted task neither model scored: no interval.
        let none = vec![None; 3];
        let lost = [TaskPair {
            a: &none,
            b: &none,
            normalization: Normalization::None,
            weight: 1.0,
        }];
        assert!(paired_score_interval(&lost, 5, 200, 0.95).is_none());
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

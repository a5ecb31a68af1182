//! The validator's scoring math: from losses to on-chain weights (REFERENCE §4),
//! and the ArithmeticDecrease split of a funding pool (REFERENCE §6).
//!
//! One round of one competition: [`win_rates`] compares every pair of models with
//! an advantage for the earlier commit, [`winner_weights`] gives the round to the
//! best win rate, [`ema`] folds the round into the competition's moving average, and
//! [`subnet_weights`] merges competitions by reward share; [`upscale_u16`] turns the
//! result into the `u16` values set on chain. Everything here is pure and
//! deterministic: the same inputs give bit-identical outputs on every validator.
//!
//! Losses are **lower is better**. A failed evaluation is a loss of `+inf`; any
//! non-finite loss (`NaN`, `±inf`) counts as a failure and loses every comparison.
//!
//! ```
//! use gauntlet_evals::weights::{upscale_u16, win_rates, winner_weights};
//!
//! // (loss, commit block); a flat 1 % advantage for the earlier commit.
//! let models = [(2.00, 100), (1.99, 200), (f64::INFINITY, 50)];
//! let eps = |_block: u64| 0.01;
//! // 2.00 × 0.99 = 1.98 < 1.99: the earlier model wins the close race.
//! assert_eq!(win_rates(&models, eps), vec![1.0, 0.5, 0.0]);
//! let round = winner_weights(&models, eps);
//! assert_eq!(round, vec![1.0, 0.0, 0.0]);
//! assert_eq!(upscale_u16(&round), vec![65535, 0, 0]);
//! ```

/// Weight of the new round in a competition's moving average:
/// `new = (1 − α)·old + α·round`, with `α = 0.1` (the reference's `alpha = 0.9`
/// is the weight of the old value).
pub const EMA_ALPHA: f64 = 0.1;

/// Entries of a competition's normalised weights below this share are zeroed
/// before competitions are merged (the reference's `min_comp_weight_threshold`):
/// at most five models of a competition keep weight.
pub const MIN_COMPETITION_WEIGHT: f64 = 0.18;

/// ArithmeticDecrease pays at most this many ranks.
pub const ARITHMETIC_DECREASE_MAX_RANKS: usize = 10;

/// Whether model `i` beats model `j`: the model committed strictly earlier has its
/// loss multiplied by `1 − epsilon(its block)`, and `i` wins iff its (adjusted) loss
/// is strictly lower.
///
/// Tie-breaks: with equal blocks neither has an advantage, so equal losses mean
/// neither wins; a zero loss cannot be improved by the advantage, so two zero losses
/// never beat each other. A non-finite loss is `+inf` and gets no advantage: it beats
/// nothing and everything finite beats it. `epsilon` is clamped to `[0, 1]` and a NaN
/// epsilon is 0. Losses are assumed non-negative (the advantage of a negative loss
/// would count against it, as in the reference).
pub fn beats<F: Fn(u64) -> f64>(
    (loss_i, block_i): (f64, u64),
    (loss_j, block_j): (f64, u64),
    epsilon: F,
) -> bool {
    let adjusted = |loss: f64, block: u64, other: u64| {
        if !loss.is_finite() {
            f64::INFINITY
        } else if block < other {
            loss * (1.0 - clamp_epsilon(epsilon(block)))
        } else {
            loss
        }
    };
    adjusted(loss_i, block_i, block_j) < adjusted(loss_j, block_j, block_i)
}

/// Whether model `i` beats model `j` when a win must also be significant (a
/// competition's `significance`). `interval()` gives the confidence interval
/// `(low, high)` of `loss_i − loss_j` over the samples both answered, or
/// `None` when there is none (then no win is significant); it is called only
/// when a nominal win ([`beats`]) needs confirming.
///
/// The burden of proof is on the later commit, as the epsilon advantage has
/// it: a later model (or one of the same block) beats another only when it
/// [`beats`] it and the whole interval lies below `−epsilon · loss_j` (the
/// margin it had to clear; 0 for the same block); an earlier model beats a
/// later one unless the later one's win is significant (with `beats`' rule
/// where the later one does not win at all). A non-finite loss beats nothing.
pub fn beats_significantly<F, I>(
    (loss_i, block_i): (f64, u64),
    (loss_j, block_j): (f64, u64),
    epsilon: F,
    interval: I,
) -> bool
where
    F: Fn(u64) -> f64,
    I: FnOnce() -> Option<(f64, f64)>,
{
    let (mi, mj) = ((loss_i, block_i), (loss_j, block_j));
    if !loss_i.is_finite() {
        return false;
    }
    if !loss_j.is_finite() {
        return true;
    }
    if block_i < block_j {
        if !beats(mj, mi, &epsilon) {
            return beats(mi, mj, &epsilon);
        }
        // j − i lies in (−high, −low): j's win is significant when −low
        // clears i's margin.
        let margin = clamp_epsilon(epsilon(block_i)) * loss_i;
        return !interval().is_some_and(|(low, _)| -low < -margin);
    }
    if !beats(mi, mj, &epsilon) {
        return false;
    }
    let margin = if block_j < block_i {
        clamp_epsilon(epsilon(block_j)) * loss_j
    } else {
        0.0
    };
    interval().is_some_and(|(_, high)| high < -margin)
}

/// Each model's share of pairwise wins: `wins / (n − 1)`, in `[0, 1]`.
///
/// `models` are `(loss, commit block)`; `epsilon(block)` is the advantage of a model
/// committed at `block` (the caller binds the current block, e.g. a `LinearDecay`).
/// A single model gets 1.0 (the reference reports 0.0 for a lone model; either way
/// it takes the round); no models give an empty vector.
pub fn win_rates<F: Fn(u64) -> f64>(models: &[(f64, u64)], epsilon: F) -> Vec<f64> {
    win_rates_by(models.len(), |i, j| beats(models[i], models[j], &epsilon))
}

/// Each of `n` models' share of pairwise wins under the relation `beats(i, j)`
/// (asked once for every ordered pair `i ≠ j`, `i` then `j` in index order):
/// [`win_rates`] with [`beats`], or with [`beats_significantly`].
pub fn win_rates_by(n: usize, mut beats: impl FnMut(usize, usize) -> bool) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    (0..n)
        .map(|i| {
            let wins = (0..n).filter(|&j| i != j && beats(i, j)).count();
            wins as f64 / (n - 1) as f64
        })
        .collect()
}

/// Winner takes all: weight 1 shared equally by the models with the highest win
/// rate (exact ties share), 0 for the rest. NaN rates never win; all zero when no
/// rate is a number.
pub fn round_weights(win_rates: &[f64]) -> Vec<f64> {
    let best = win_rates
        .iter()
        .copied()
        .filter(|r| !r.is_nan())
        .fold(f64::NEG_INFINITY, f64::max);
    let winners = win_rates.iter().filter(|&&r| r == best).count();
    win_rates
        .iter()
        .map(|&r| if r == best { 1.0 / winners as f64 } else { 0.0 })
        .collect()
}

/// A round of one competition from `(loss, commit block)`: [`win_rates`] then
/// [`round_weights`], except that a failed model (non-finite loss) can never win.
///
/// When every model failed the round gives no weight at all (the reference would
/// give it to the first uid); the moving average then decays.
pub fn winner_weights<F: Fn(u64) -> f64>(models: &[(f64, u64)], epsilon: F) -> Vec<f64> {
    winner_of_rates(models, &win_rates(models, epsilon))
}

/// [`winner_weights`] from win rates already computed (one per model).
pub fn winner_of_rates(models: &[(f64, u64)], rates: &[f64]) -> Vec<f64> {
    let rates: Vec<f64> = rates
        .iter()
        .copied()
        .zip(models)
        .map(|(rate, (loss, _))| if loss.is_finite() { rate } else { f64::NAN })
        .collect();
    round_weights(&rates)
}

/// Folds a round into a competition's moving average, per uid:
/// `(1 − EMA_ALPHA)·previous + EMA_ALPHA·round`.
///
/// The round is normalised first (all zero if it sums to zero). Without a previous
/// average the round itself starts it, as in the reference. Vectors of different
/// lengths (uids added since) are padded with zeros.
pub fn ema(previous: Option<&[f64]>, round: &[f64]) -> Vec<f64> {
    let round = normalized(round);
    let Some(previous) = previous else {
        return round;
    };
    let n = previous.len().max(round.len());
    (0..n)
        .map(|i| {
            let old = sanitized(previous.get(i).copied().unwrap_or(0.0));
            let new = round.get(i).copied().unwrap_or(0.0);
            (1.0 - EMA_ALPHA) * old + EMA_ALPHA * new
        })
        .collect()
}

/// The subnet's weights per uid from `(reward share, weights per uid)` of each
/// competition: each competition's weights are normalised, entries below
/// `threshold` (normally [`MIN_COMPETITION_WEIGHT`]) zeroed and the rest
/// renormalised, then scaled by the reward share and summed; the sum is normalised.
///
/// The result sums to 1, or is all zero when nothing has weight. Negative or
/// non-finite weights and shares count as 0.
pub fn subnet_weights<'a, I>(competitions: I, threshold: f64) -> Vec<f64>
where
    I: IntoIterator<Item = (f64, &'a [f64])>,
{
    let mut total: Vec<f64> = Vec::new();
    for (share, weights) in competitions {
        let share = sanitized(share);
        let mut weights = normalized(weights);
        weights
            .iter_mut()
            .filter(|w| **w < threshold)
            .for_each(|w| *w = 0.0);
        let weights = normalized(&weights);
        if total.len() < weights.len() {
            total.resize(weights.len(), 0.0);
        }
        for (t, w) in total.iter_mut().zip(&weights) {
            *t += w * share;
        }
    }
    normalized(&total)
}

/// Weights as `u16` for the chain, max-upscaled: the largest becomes 65535 and the
/// rest `round(w / max · 65535)`, rounding half to even (Python's `round`, which the
/// reference SDK uses). The order of weights is kept (ties may appear, never
/// inversions). All zero when no weight is positive; negative and non-finite
/// weights count as 0.
pub fn upscale_u16(weights: &[f64]) -> Vec<u16> {
    let max = weights.iter().copied().map(sanitized).fold(0.0, f64::max);
    if max <= 0.0 {
        return vec![0; weights.len()];
    }
    weights
        .iter()
        .map(|&w| {
            let scaled = (sanitized(w) / max * f64::from(u16::MAX)).round_ties_even();
            // In [0, 65535] by construction; `as` saturates in any case.
            scaled as u16
        })
        .collect()
}

/// Splits `funds` over `entrants` ranked models (index 0 = rank 1, the best) by the
/// ArithmeticDecrease rule: with `K = min(entrants, 10)`, rank `r ≤ K` gets
/// `⌊funds·(K + 1 − r) / (K(K + 1)/2)⌋` and the remainder of the integer division
/// goes to rank 1; ranks after `K` get 0. The amounts sum to exactly `funds`
/// (no entrants: an empty vector, nothing paid).
pub fn arithmetic_decrease(funds: u64, entrants: usize) -> Vec<u64> {
    let k = entrants.min(ARITHMETIC_DECREASE_MAX_RANKS);
    let mut amounts = vec![0u64; entrants];
    if k == 0 {
        return amounts;
    }
    // u128 keeps funds × (K + 1 − r) exact for any u64 amount.
    let denominator = (k * (k + 1) / 2) as u128;
    for (r, amount) in amounts.iter_mut().take(k).enumerate() {
        let parts = (k - r) as u128; // K + 1 − rank, rank = r + 1
                                     // ≤ funds, so it fits in u64.
        *amount = (u128::from(funds) * parts / denominator) as u64;
    }
    let paid: u64 = amounts.iter().sum();
    amounts[0] += funds - paid;
    amounts
}

/// Negative, NaN and infinite values as 0.
fn sanitized(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

fn clamp_epsilon(e: f64) -> f64 {
    if e.is_nan() {
        0.0
    } else {
        e.clamp(0.0, 1.0)
    }
}

/// Sanitised `v / sum(v)`, all zero when the sum is not positive.
fn normalized(v: &[f64]) -> Vec<f64> {
    let v: Vec<f64> = v.iter().copied().map(sanitized).collect();
    let sum: f64 = v.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        v.iter().map(|x| x / sum).collect()
    } else {
        vec![0.0; v.len()]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    const EPS: fn(u64) -> f64 = |block| 0.05 - 0.01 * block as f64;

    #[test]
    fn epsilon_favours_the_earlier_commit_only() {
        let eps = |_| 0.1;
        assert!(beats((1.05, 1), (1.0, 2), eps)); // 0.945 < 1.0
        assert!(!beats((1.0, 2), (1.05, 1), eps));
        // 1.2 × 0.9 = 1.08 > 1.0: the advantage is not enough.
        assert!(!beats((1.2, 1), (1.0, 2), eps));
        // Equal blocks: no advantage; equal losses: nobody wins.
        assert!(!beats((1.0, 3), (1.0, 3), eps));
        assert!(beats((0.9, 3), (1.0, 3), eps));
        // A zero loss cannot be improved; failures lose to everything.
        assert!(!beats((0.0, 1), (0.0, 2), eps));
        assert!(beats((1e9, 9), (f64::INFINITY, 1), |_| 1.0));
        assert!(beats((1e9, 9), (f64::NAN, 1), eps));
        assert!(!beats((f64::NEG_INFINITY, 1), (5.0, 2), eps));
        assert!(!beats((f64::INFINITY, 1), (f64::INFINITY, 2), eps));
        // Out-of-range epsilons are clamped; NaN is no advantage.
        assert!(beats((3.0, 1), (1.0, 2), |_| 7.0));
        assert!(!beats((1.0, 1), (1.0, 2), |_| f64::NAN));
    }

    #[test]
    fn a_challenger_must_win_significantly_beyond_the_epsilon_margin() {
        let eps = |_b: u64| 0.01;
        let (old, new) = ((2.0, 100), (1.9, 200));
        // new − old = −0.1; the margin is 0.01 · 2.0 = 0.02.
        let sure = || Some((-0.15, -0.05));
        let unsure = || Some((-0.15, 0.01));
        let within_margin = || Some((-0.15, -0.01));
        assert!(beats_significantly(new, old, eps, sure));
        assert!(!beats_significantly(old, new, eps, || Some((0.05, 0.15))));
        // Not significant: the earlier model keeps the pair.
        assert!(!beats_significantly(new, old, eps, unsure));
        assert!(beats_significantly(old, new, eps, || Some((-0.01, 0.15))));
        // Significantly lower, but not by the margin: still the earlier one's.
        assert!(!beats_significantly(new, old, eps, within_margin));
        assert!(beats_significantly(old, new, eps, || Some((0.01, 0.15))));
        // No interval (no common samples): nothing is significant.
        assert!(!beats_significantly(new, old, eps, || None));
        assert!(beats_significantly(old, new, eps, || None));
        // A challenger that does not even win nominally asks for no interval.
        let worse = (2.5, 200);
        assert!(!beats_significantly(worse, old, eps, || unreachable!()));
        assert!(beats_significantly(old, worse, eps, || unreachable!()));
        // Same block: the lower loss wins only when significant; else a draw.
        let (a, b) = ((1.0, 5), (1.1, 5));
        assert!(beats_significantly(a, b, eps, || Some((-0.2, -0.01))));
        assert!(!beats_significantly(a, b, eps, || Some((-0.2, 0.01))));
        assert!(!beats_significantly(b, a, eps, || Some((-0.01, 0.2))));
        // A failed model beats nothing, and everything finite beats it.
        let failed = (f64::INFINITY, 1);
        assert!(!beats_significantly(failed, new, eps, || None));
        assert!(beats_significantly(new, failed, eps, || None));
        // With every interval sure, the rates are the reference's.
        let models = [(2.0, 100), (1.9, 200), (1.0, 300), (f64::INFINITY, 50)];
        let rates = win_rates_by(models.len(), |i, j| {
            let d = models[i].0 - models[j].0;
            beats_significantly(models[i], models[j], eps, || Some((d, d)))
        });
        assert_eq!(rates, win_rates(&models, eps));
    }

    #[test]
    fn win_rates_edge_cases() {
        assert!(win_rates(&[], EPS).is_empty());
        assert_eq!(win_rates(&[(f64::INFINITY, 0)], EPS), [1.0]);
        let models = [(1.0, 0), (2.0, 0), (3.0, 0), (f64::NAN, 0), (3.0, 0)];
        assert_eq!(win_rates(&models, |_| 0.0), [1.0, 0.75, 0.25, 0.0, 0.25]);
    }

    #[test]
    fn round_weights_share_ties() {
        assert_eq!(
            round_weights(&[0.5, 1.0, 1.0, f64::NAN]),
            [0.0, 0.5, 0.5, 0.0]
        );
        assert_eq!(round_weights(&[f64::NAN]), [0.0]);
        assert!(round_weights(&[]).is_empty());
        // Only failures: no weight. One failure among models: never the winner.
        assert_eq!(
            winner_weights(&[(f64::INFINITY, 0), (f64::NAN, 1)], EPS),
            [0.0, 0.0]
        );
        assert_eq!(winner_weights(&[(f64::INFINITY, 0)], EPS), [0.0]);
        assert_eq!(winner_weights(&[(1.0, 0), (1.0, 0)], EPS), [0.5, 0.5]);
    }

    #[test]
    fn ema_matches_the_reference() {
        assert_eq!(ema(None, &[0.0, 2.0, 2.0]), [0.0, 0.5, 0.5]);
        let next = ema(Some(&[0.0, 0.5, 0.5]), &[1.0, 0.0]);
        assert!(next
            .iter()
            .zip([0.1, 0.45, 0.45])
            .all(|(a, b)| close(*a, b)));
        // A round without weight decays the average.
        let decayed = ema(Some(&[1.0]), &[0.0]);
        assert!(close(decayed[0], 0.9));
    }

    #[test]
    fn subnet_weights_threshold_and_shares() {
        // Competition A (share 0.75): 0.1 is below 0.18 and dropped. B (0.25): one winner.
        let a = [0.6, 0.3, 0.1, 0.0];
        let b = [0.0, 0.0, 0.0, 1.0];
        let w = subnet_weights([(0.75, &a[..]), (0.25, &b[..])], MIN_COMPETITION_WEIGHT);
        let want = [0.5, 0.25, 0.0, 0.25];
        assert!(w.iter().zip(want).all(|(a, b)| close(*a, b)), "{w:?}");
        // Everything below the threshold, or no competitions: all zero.
        let flat = [0.1; 10];
        assert_eq!(subnet_weights([(1.0, &flat[..])], 0.18), [0.0; 10]);
        assert!(subnet_weights([], 0.18).is_empty());
    }

    #[test]
    fn upscale_rounds_half_to_even() {
        assert_eq!(upscale_u16(&[0.5, 1.0, 0.0]), [32768, 65535, 0]); // 32767.5 → even
        assert_eq!(upscale_u16(&[0.25, 1.0]), [16384, 65535]); // 16383.75
        assert_eq!(upscale_u16(&[0.0, -1.0, f64::NAN]), [0, 0, 0]);
        assert_eq!(upscale_u16(&[3.0, f64::INFINITY]), [65535, 0]);
    }

    #[test]
    fn arithmetic_decrease_examples() {
        assert!(arithmetic_decrease(100, 0).is_empty());
        assert_eq!(arithmetic_decrease(100, 1), [100]);
        // K = 3: shares 3/6, 2/6, 1/6 of 100 = 50, 33, 16; remainder 1 to rank 1.
        assert_eq!(arithmetic_decrease(100, 3), [51, 33, 16]);
        // Only ten ranks are paid: 55 parts.
        let twelve = arithmetic_decrease(55, 12);
        assert_eq!(twelve, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
        assert_eq!(
            arithmetic_decrease(u64::MAX, 10)
                .iter()
                .map(|&x| x as u128)
                .sum::<u128>(),
            u64::MAX as u128
        );
    }

    /// A loss: mostly finite, sometimes a tie at 1.0, sometimes a failure.
    fn loss() -> impl Strategy<Value = f64> {
        prop_oneof![
            1 => Just(f64::INFINITY),
            1 => Just(f64::NAN),
            1 => Just(1.0),
            7 => 0.0..5.0f64,
        ]
    }

    fn models() -> impl Strategy<Value = Vec<(f64, u64)>> {
        prop::collection::vec((loss(), 0u64..5), 0..9)
    }

    /// Weights with about a third exact zeros.
    fn weights(n: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![1 => Just(0.0), 2 => 0.0..1.0f64], n)
    }

    proptest! {
        #[test]
        fn win_rates_in_unit_interval_and_deterministic(models in models()) {
            let rates = win_rates(&models, EPS);
            prop_assert_eq!(rates.len(), models.len());
            prop_assert!(rates.iter().all(|r| (0.0..=1.0).contains(r)));
            prop_assert_eq!(&rates, &win_rates(&models, EPS));
            // Failed models never win a comparison.
            for (rate, (loss, _)) in rates.iter().zip(&models) {
                if !loss.is_finite() && models.len() > 1 {
                    prop_assert_eq!(*rate, 0.0);
                }
            }
        }

        #[test]
        fn earlier_of_equal_losses_wins(
            loss in 1e-6..10.0f64,
            early in 0u64..1000,
            late in 1000u64..2000,
            eps in 0.001..0.05f64,
        ) {
            prop_assert_eq!(win_rates(&[(loss, late), (loss, early)], |_| eps), [0.0, 1.0]);
        }

        #[test]
        fn round_weights_sum_to_one_or_zero(models in models()) {
            let total: f64 = winner_weights(&models, EPS).iter().sum();
            if models.iter().any(|(l, _)| l.is_finite()) {
                prop_assert!(close(total, 1.0));
            } else {
                prop_assert_eq!(total, 0.0);
            }
        }

        #[test]
        fn subnet_weights_sum_to_one_or_zero(
            comps in (0usize..12).prop_flat_map(|n| {
                prop::collection::vec((0.0..1.0f64, weights(n)), 0..4)
            }),
        ) {
            let w = subnet_weights(comps.iter().map(|(s, v)| (*s, &v[..])), MIN_COMPETITION_WEIGHT);
            let total: f64 = w.iter().sum();
            prop_assert!(close(total, 1.0) || w.iter().all(|&x| x == 0.0));
            for (_, v) in &comps {
                let averaged = ema(Some(v), &w);
                prop_assert!(averaged.iter().all(|x| x.is_finite() && *x >= 0.0));
            }
        }

        #[test]
        fn upscale_keeps_order_and_max(w in (1usize..12).prop_flat_map(weights)) {
            let up = upscale_u16(&w);
            if w.iter().any(|&x| x > 0.0) {
                prop_assert_eq!(up.iter().max(), Some(&u16::MAX));
            }
            for (wi, ui) in w.iter().zip(&up) {
                for (wj, uj) in w.iter().zip(&up) {
                    prop_assert!(wi > wj || ui <= uj);
                }
            }
        }

        #[test]
        fn allocation_sums_to_funds(funds in any::<u64>(), shift in 0u32..64, n in 0usize..25) {
            let funds = funds >> shift;
            let amounts = arithmetic_decrease(funds, n);
            prop_assert_eq!(amounts.len(), n);
            if n > 0 {
                let paid: u128 = amounts.iter().map(|&a| u128::from(a)).sum();
                prop_assert_eq!(paid, u128::from(funds));
                prop_assert!(amounts.windows(2).all(|p| p[0] >= p[1]));
            }
        }
    }
}

//! Fast, accurate `log Σ exp` over rows of logits.
//!
//! The lm-head of a 135M model produces 49,152 logits per scored token; the
//! log-softmax over them costs as much as a third of the lm-head matmul when
//! done with the scalar `f32::exp`. This module uses a branch-free polynomial
//! `exp` (relative error below 2e-7 on the range used) that the compiler
//! vectorises, compiled for AVX-512 or AVX2+FMA when the CPU has them
//! ([`crate::cpu`]).

use crate::cpu::Madd;

crate::cpu::multiversion!(
    /// `max + ln Σ exp(x - max)` of one row; `NaN` when the row holds a NaN.
    pub fn logsumexp = logsumexp_generic(row: &[f32]) -> f32
);

#[inline(always)]
fn logsumexp_generic<M: Madd>(row: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut maxes = [f32::NEG_INFINITY; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    let mut nan = false;
    for c in chunks.clone() {
        for i in 0..LANES {
            nan |= c[i].is_nan();
            maxes[i] = maxes[i].max(c[i]);
        }
    }
    let mut m = f32::NEG_INFINITY;
    for &x in tail {
        nan |= x.is_nan();
        m = m.max(x);
    }
    for x in maxes {
        m = m.max(x);
    }
    if nan || !m.is_finite() {
        return if nan { f32::NAN } else { m };
    }
    let mut sums = [0f32; LANES];
    for c in chunks {
        for i in 0..LANES {
            sums[i] += exp_neg::<M>(c[i] - m);
        }
    }
    let mut s: f32 = tail.iter().map(|&x| exp_neg::<M>(x - m)).sum();
    for x in sums {
        s += x;
    }
    m + s.ln()
}

/// `e^x` for `x ≤ 0` (inputs below -87, `-inf` included, give 0), branch-free
/// so that loops over it vectorise.
#[inline(always)]
pub(crate) fn exp_neg<M: Madd>(x: f32) -> f32 {
    let tiny = x < -87.0;
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let x = x.max(-87.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes expf polynomial on [-ln2/2, ln2/2].
    let p = 1.987_569_1e-4_f32;
    let p = M::madd(p, r, 1.398_199_9e-3);
    let p = M::madd(p, r, 8.333_452e-3);
    let p = M::madd(p, r, 4.166_579_6e-2);
    let p = M::madd(p, r, 1.666_666_5e-1);
    let p = M::madd(p, r, 5e-1);
    let p = M::madd(p * r, r, r) + 1.0;
    let bits = ((n as i32 + 127) as u32) << 23;
    let y = p * f32::from_bits(bits);
    if tiny {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{Fused, Split};

    #[test]
    fn exp_matches_std_within_2e7_relative_fused_or_not() {
        let mut x = -87.0f32;
        while x <= 0.0 {
            let b = x.exp();
            for a in [exp_neg::<Fused>(x), exp_neg::<Split>(x)] {
                assert!(((a - b) / b).abs() < 2e-7, "x={x} fast={a} std={b}");
            }
            x += 0.01;
        }
    }

    #[test]
    fn logsumexp_matches_f64_reference() {
        let row: Vec<f32> = (0..49_157)
            .map(|i| ((i * 7919) % 1000) as f32 / 37.0 - 9.0)
            .collect();
        let m = row
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, |a, b| a.max(b as f64));
        let s: f64 = row.iter().map(|&x| (x as f64 - m).exp()).sum();
        let want = m + s.ln();
        assert!((logsumexp(&row) as f64 - want).abs() < 1e-4);
        assert!((logsumexp_generic::<Split>(&row) as f64 - want).abs() < 1e-4);
    }

    #[test]
    fn logsumexp_reports_nan_and_handles_infinities() {
        assert!(logsumexp(&[0.0, f32::NAN, 1.0]).is_nan());
        assert_eq!(logsumexp(&[f32::NEG_INFINITY; 3]), f32::NEG_INFINITY);
        assert_eq!(logsumexp(&[1.0, f32::INFINITY]), f32::INFINITY);
    }
}

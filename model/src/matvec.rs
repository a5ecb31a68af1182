//! `x·Wᵀ` for a few rows of `x` (the decoding step of generation), as a candle
//! custom op on the CPU.
//!
//! General matmul kernels pack the weight matrix on every call; with one to a
//! few rows that packing costs more than the product itself and doubles the
//! memory traffic. Here every weight row is read exactly once, straight from
//! its row-major storage, and dotted with all rows of `x` while it is in
//! registers, so a decoding step runs at the speed of streaming the weights.
//! One AVX2+FMA kernel (picked at run time, also on AVX-512 CPUs) and a
//! portable one that never calls libm.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu::{Madd, Split};
use crate::fastops::slice;

/// Largest number of rows of `x` this op is used for.
pub const MAX_ROWS: usize = 16;

/// Parallel tasks per thread: enough that a matrix whose rows do not split
/// evenly (576 rows on 2 threads) still keeps every thread busy to the end.
const TASKS_PER_THREAD: usize = 4;

/// Fewest weight rows handed to one task.
const MIN_ROWS_PER_TASK: usize = 16;

/// `x [m, k] · w[n, k]ᵀ → [m, n]` for `m ≤ MAX_ROWS`, f32, CPU.
pub fn matmul_small(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op2_no_bwd(w, &SmallMatmul)
}

struct SmallMatmul;

impl CustomOp2 for SmallMatmul {
    fn name(&self) -> &'static str {
        "small-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (m, k) = l1.shape().dims2()?;
        let (n, k2) = l2.shape().dims2()?;
        if k != k2 || m > MAX_ROWS {
            candle_core::bail!("small-matmul: shapes {:?} and {:?}", l1.shape(), l2.shape());
        }
        let x = slice(s1, l1)?;
        let w = slice(s2, l2)?;
        // out_t[j][r] then transposed: each task writes one contiguous block.
        let tasks = rayon::current_num_threads() * TASKS_PER_THREAD;
        let rows_per_task = n.div_ceil(tasks).max(MIN_ROWS_PER_TASK);
        let mut out_t = vec![0f32; n * m];
        out_t
            .par_chunks_mut(rows_per_task * m)
            .enumerate()
            .for_each(|(task, block)| {
                let j0 = task * rows_per_task;
                for (jj, dst) in block.chunks_mut(m).enumerate() {
                    let row = &w[(j0 + jj) * k..(j0 + jj + 1) * k];
                    dots(row, x, m, k, dst);
                }
            });
        let mut out = vec![0f32; m * n];
        for (j, col) in out_t.chunks(m).enumerate() {
            for (r, &v) in col.iter().enumerate() {
                out[r * n + j] = v;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((m, n))))
    }
}

/// `dst[r] = row · x[r]` for the `m` rows of `x` (`m × k`, row-major).
fn dots(row: &[f32], x: &[f32], m: usize, k: usize, dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::cpu::CpuPath;
        // 256-bit vectors on AVX-512 CPUs too: decoding streams the weights
        // from memory, and on the AMD EPYC (Zen 5) these machines run, a
        // 512-bit version of this kernel decoded batch 8 about 15 % slower
        // (docs/PERFORMANCE.md).
        if CpuPath::detect() >= CpuPath::Avx2 {
            // SAFETY: the CPU has AVX2 and FMA; slices are bounds-checked inside.
            return unsafe { avx2::dots(row, x, m, k, dst) };
        }
    }
    for (r, d) in dst.iter_mut().enumerate().take(m) {
        let xr = &x[r * k..(r + 1) * k];
        *d = dot_portable(row, xr);
    }
}

/// Eight independent partial sums, multiplied and added separately: the
/// compiler vectorises this for whatever the baseline target offers and
/// never calls libm (see [`crate::cpu`]).
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] = Split::madd(x[i], y[i], acc[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Rows of `x` are taken 8, 4, 2 or 1 at a time (sixteen 256-bit
    /// registers hold eight rows' one accumulator each, or four rows' two,
    /// plus the weights); each pass shares every load of the weight row
    /// between its rows. Eight rows in one pass read the weights once, not
    /// twice: batch-8 decoding ran about 4 % faster (alternating runs on the
    /// AMD EPYC, docs/PERFORMANCE.md). A single row keeps four accumulators
    /// so that the FMA latency is hidden.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dots(row: &[f32], x: &[f32], m: usize, k: usize, dst: &mut [f32]) {
        let mut r0 = 0;
        while r0 < m {
            let left = m - r0;
            // SAFETY (all arms): rows r0..r0+R exist since R <= left.
            r0 += unsafe {
                if left >= 8 {
                    pass::<8, 1>(row, x, r0, k, dst)
                } else if left >= 4 {
                    pass::<4, 2>(row, x, r0, k, dst)
                } else if left >= 2 {
                    pass::<2, 2>(row, x, r0, k, dst)
                } else {
                    pass::<1, 4>(row, x, r0, k, dst)
                }
            };
        }
    }

    /// Rows `r0..r0+R` of `x` against `row`, `U` accumulators of 8 floats per
    /// row. Returns `R`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn pass<const R: usize, const U: usize>(
        row: &[f32],
        x: &[f32],
        r0: usize,
        k: usize,
        dst: &mut [f32],
    ) -> usize {
        assert!(row.len() == k && x.len() >= (r0 + R) * k && dst.len() >= r0 + R);
        let step = 8 * U;
        let full = k / step * step;
        let mut acc = [[_mm256_setzero_ps(); U]; R];
        let wp = row.as_ptr();
        let xp = unsafe { x.as_ptr().add(r0 * k) };
        let mut c = 0;
        while c < full {
            // SAFETY: c + step <= k, and the assert above bounds every x row;
            // a prefetch of an address past the row is harmless.
            _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(c + 512) as *const i8);
            let mut w = [_mm256_setzero_ps(); U];
            for (u, wu) in w.iter_mut().enumerate() {
                *wu = unsafe { _mm256_loadu_ps(wp.add(c + 8 * u)) };
            }
            for (r, ar) in acc.iter_mut().enumerate() {
                for (u, a) in ar.iter_mut().enumerate() {
                    let xv = unsafe { _mm256_loadu_ps(xp.add(r * k + c + 8 * u)) };
                    *a = _mm256_fmadd_ps(w[u], xv, *a);
                }
            }
            c += step;
        }
        for (r, ar) in acc.iter().enumerate() {
            let xr = &x[(r0 + r) * k..(r0 + r + 1) * k];
            let tail: f32 = row[full..]
                .iter()
                .zip(&xr[full..])
                .map(|(a, b)| a * b)
                .sum();
            let mut sum = ar[0];
            for a in &ar[1..] {
                sum = _mm256_add_ps(sum, *a);
            }
            dst[r0 + r] = hsum(sum) + tail;
        }
        R
    }

    /// The sum of the eight lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The x86 kernel agrees with the portable one (when this CPU can run it).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_kernel_matches_the_portable_one() {
        use crate::cpu::CpuPath;
        let (n, k) = (37usize, 203usize);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919) % 211) as f32 / 50.0 - 2.0)
            .collect();
        let x: Vec<f32> = (0..MAX_ROWS * k)
            .map(|i| ((i * 104_729) % 97) as f32 / 20.0 - 2.4)
            .collect();
        for m in 1..=MAX_ROWS {
            let want: Vec<f32> = (0..n)
                .flat_map(|j| (0..m).map(move |r| (j, r)))
                .map(|(j, r)| dot_portable(&w[j * k..(j + 1) * k], &x[r * k..(r + 1) * k]))
                .collect();
            if CpuPath::supported() >= CpuPath::Avx2 {
                let mut got = vec![0f32; n * m];
                for (j, dst) in got.chunks_mut(m).enumerate() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked above).
                    unsafe { avx2::dots(&w[j * k..(j + 1) * k], &x[..m * k], m, k, dst) };
                }
                for (a, b) in want.iter().zip(&got) {
                    assert!(
                        (a - b).abs() <= 1e-4 * (1.0 + a.abs()),
                        "avx2 m={m}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn matches_candle_matmul_for_every_row_count() {
        let dev = Device::Cpu;
        for m in 1..=MAX_ROWS {
            for k in [16usize, 37, 576] {
                let n = 131;
                let x = Tensor::randn(0f32, 1.0, (m, k), &dev).expect("x");
                let w = Tensor::randn(0f32, 1.0, (n, k), &dev).expect("w");
                let want: Vec<Vec<f32>> = x
                    .matmul(&w.t().expect("t"))
                    .expect("mm")
                    .to_vec2()
                    .expect("v");
                let got: Vec<Vec<f32>> = matmul_small(&x, &w).expect("small").to_vec2().expect("v");
                // The portable path too, whatever this CPU would pick.
                let (xs, ws): (Vec<f32>, Vec<f32>) = (
                    x.flatten_all().expect("f").to_vec1().expect("v"),
                    w.flatten_all().expect("f").to_vec1().expect("v"),
                );
                let portable: Vec<f32> = (0..m)
                    .flat_map(|r| {
                        let xr = &xs[r * k..(r + 1) * k];
                        (0..n)
                            .map(|j| dot_portable(&ws[j * k..(j + 1) * k], xr))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                for ((a, b), c) in want
                    .iter()
                    .flatten()
                    .zip(got.iter().flatten())
                    .zip(&portable)
                {
                    assert!(
                        (a - b).abs() <= 1e-3 * (1.0 + a.abs()),
                        "m={m} k={k}: {a} vs {b}"
                    );
                    assert!(
                        (a - c).abs() <= 1e-3 * (1.0 + a.abs()),
                        "portable m={m} k={k}: {a} vs {c}"
                    );
                }
            }
        }
    }
}

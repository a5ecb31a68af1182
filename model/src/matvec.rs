//! `x·Wᵀ` for a few rows of `x` (the decoding step of generation), as a candle
//! custom op on the CPU.
//!
//! General matmul kernels pack the weight matrix on every call; with one to a
//! few rows that packing costs more than the product itself and doubles the
//! memory traffic. Here every weight row is read exactly once, straight from
//! its row-major storage, and dotted with all rows of `x` while it is in
//! registers, so a decoding step runs at the speed of streaming the weights.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::fastops::slice;

/// Largest number of rows of `x` this op is used for.
pub const MAX_ROWS: usize = 16;

/// Weight rows per parallel task.
const ROWS_PER_TASK: usize = 256;

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
        let mut out_t = vec![0f32; n * m];
        out_t
            .par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(|(task, block)| {
                let j0 = task * ROWS_PER_TASK;
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
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F is available; slices are bounds-checked inside.
            unsafe { avx512::dots(row, x, m, k, dst) };
            return;
        }
    }
    for (r, d) in dst.iter_mut().enumerate().take(m) {
        let xr = &x[r * k..(r + 1) * k];
        *d = dot_portable(row, xr);
    }
}

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
            acc[i] = x[i].mul_add(y[i], acc[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Rows of `x` are taken 8, 4, 2 or 1 at a time; each pass shares every
    /// 16-float load of the weight row between its rows.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn dots(row: &[f32], x: &[f32], m: usize, k: usize, dst: &mut [f32]) {
        let mut r0 = 0;
        while r0 < m {
            let left = m - r0;
            // SAFETY (all arms): rows r0..r0+R exist since R <= left.
            r0 += unsafe {
                if left >= 8 {
                    pass::<8>(row, x, r0, k, dst)
                } else if left >= 4 {
                    pass::<4>(row, x, r0, k, dst)
                } else if left >= 2 {
                    pass::<2>(row, x, r0, k, dst)
                } else {
                    pass::<1>(row, x, r0, k, dst)
                }
            };
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn pass<const R: usize>(
        row: &[f32],
        x: &[f32],
        r0: usize,
        k: usize,
        dst: &mut [f32],
    ) -> usize {
        assert!(row.len() == k && x.len() >= (r0 + R) * k && dst.len() >= r0 + R);
        let full = k / 16 * 16;
        let mut acc = [_mm512_setzero_ps(); R];
        let wp = row.as_ptr();
        let xp = unsafe { x.as_ptr().add(r0 * k) };
        let mut c = 0;
        while c < full {
            // SAFETY: c + 16 <= k, and the assert above bounds every x row;
            // a prefetch of an address past the row is harmless.
            let w = unsafe {
                _mm_prefetch::<_MM_HINT_T0>(wp.wrapping_add(c + 1024) as *const i8);
                _mm512_loadu_ps(wp.add(c))
            };
            for (r, a) in acc.iter_mut().enumerate() {
                let xv = unsafe { _mm512_loadu_ps(xp.add(r * k + c)) };
                *a = _mm512_fmadd_ps(w, xv, *a);
            }
            c += 16;
        }
        for (r, a) in acc.iter().enumerate() {
            let xr = &x[(r0 + r) * k..(r0 + r + 1) * k];
            let tail: f32 = row[full..]
                .iter()
                .zip(&xr[full..])
                .map(|(a, b)| a * b)
                .sum();
            dst[r0 + r] = _mm512_reduce_add_ps(*a) + tail;
        }
        R
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

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
                for (a, b) in want.iter().flatten().zip(got.iter().flatten()) {
                    assert!(
                        (a - b).abs() <= 1e-3 * (1.0 + a.abs()),
                        "m={m} k={k}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

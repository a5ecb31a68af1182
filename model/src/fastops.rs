//! Element-wise kernels that candle runs with scalar `expf` — the softmax of
//! attention scores and the SiLU-gated MLP product — as custom ops over the
//! vectorised [`exp_neg`](crate::logsumexp::exp_neg), compiled for AVX-512 or
//! AVX2 when the CPU has them. On other devices they fall back to candle's ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::logsumexp::exp_neg;

/// Rows handed to one parallel task.
const CHUNK: usize = 1 << 14;

/// Softmax over the last dimension.
pub fn softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    if !x.device().is_cpu() || x.dtype() != candle_core::DType::F32 {
        return candle_nn::ops::softmax_last_dim(x);
    }
    x.contiguous()?.apply_op1_no_bwd(&Softmax)
}

/// `silu(gate) · up`.
pub fn silu_mul(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    if !gate.device().is_cpu() || gate.dtype() != candle_core::DType::F32 {
        return gate.silu()? * up;
    }
    gate.contiguous()?
        .apply_op2_no_bwd(&up.contiguous()?, &SiluMul)
}

/// The contiguous f32 data of a CPU operand.
pub(crate) fn slice<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("custom op: operand must be contiguous"),
    }
}

macro_rules! multiversion {
    ($name:ident, $generic:ident, ($($arg:ident: $ty:ty),*)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    #[target_feature(enable = "avx512f")]
                    unsafe fn v4($($arg: $ty),*) { $generic($($arg),*) }
                    // SAFETY: the CPU has AVX-512F.
                    return unsafe { v4($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn v3($($arg: $ty),*) { $generic($($arg),*) }
                    // SAFETY: the CPU has AVX2 and FMA.
                    return unsafe { v3($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

#[inline(always)]
fn softmax_row_generic(src: &[f32], dst: &mut [f32]) {
    let m = src.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for (d, &s) in dst.iter_mut().zip(src) {
        let e = exp_neg(s - m);
        *d = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for d in dst.iter_mut() {
        *d *= inv;
    }
}
multiversion!(softmax_row, softmax_row_generic, (src: &[f32], dst: &mut [f32]));

#[inline(always)]
fn silu_mul_generic(g: &[f32], u: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(g).zip(u) {
        // sigmoid(x) from e = exp(-|x|), which never overflows.
        let e = exp_neg(-x.abs());
        let s = if x >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        *o = x * s * y;
    }
}
multiversion!(silu_mul_slice, silu_mul_generic, (g: &[f32], u: &[f32], out: &mut [f32]));

struct Softmax;

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "fast-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = slice(s, l)?;
        let cols = l.shape().dims().last().copied().unwrap_or(1).max(1);
        let mut out = vec![0f32; src.len()];
        let rows_per_task = (CHUNK / cols).max(1) * cols;
        out.par_chunks_mut(rows_per_task)
            .zip(src.par_chunks(rows_per_task))
            .for_each(|(d, s)| {
                for (dr, sr) in d.chunks_mut(cols).zip(s.chunks(cols)) {
                    softmax_row(sr, dr);
                }
            });
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }
}

struct SiluMul;

impl CustomOp2 for SiluMul {
    fn name(&self) -> &'static str {
        "fast-silu-mul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if l1.shape() != l2.shape() {
            candle_core::bail!(
                "silu_mul: shapes {:?} and {:?} differ",
                l1.shape(),
                l2.shape()
            );
        }
        let g = slice(s1, l1)?;
        let u = slice(s2, l2)?;
        let mut out = vec![0f32; g.len()];
        out.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK).zip(u.par_chunks(CHUNK)))
            .for_each(|(o, (g, u))| silu_mul_slice(g, u, o));
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn softmax_matches_candle_including_masked_rows() {
        let x = Tensor::randn(0f32, 3.0, (5, 7, 300), &Device::Cpu).expect("x");
        let mask: Vec<f32> = (0..300)
            .map(|i| if i % 3 == 0 { f32::NEG_INFINITY } else { 0.0 })
            .collect();
        let mask = Tensor::from_vec(mask, 300, &Device::Cpu).expect("mask");
        let x = x.broadcast_add(&mask).expect("masked");
        let want: Vec<f32> = candle_nn::ops::softmax_last_dim(&x)
            .expect("s")
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v");
        let got: Vec<f32> = softmax_last_dim(&x)
            .expect("s")
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v");
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn silu_mul_matches_candle() {
        let g = Tensor::randn(0f32, 20.0, (3, 1000), &Device::Cpu).expect("g");
        let u = Tensor::randn(0f32, 1.0, (3, 1000), &Device::Cpu).expect("u");
        let want: Vec<f32> = (g.silu().expect("silu") * &u)
            .expect("mul")
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v");
        let got: Vec<f32> = silu_mul(&g, &u)
            .expect("op")
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v");
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}

//! The SiLU-gated MLP product, which candle runs with scalar `expf`, as a
//! custom op over the vectorised `exp_neg` of [`crate::logsumexp`], compiled
//! for AVX-512 or AVX2 when the CPU has them ([`crate::cpu`]). On other
//! devices and dtypes it falls back to candle's ops. (The attention softmax
//! lives in [`crate::ops`].)

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::cpu::{multiversion, Madd};
use crate::logsumexp::exp_neg;

/// Rows handed to one parallel task.
const CHUNK: usize = 1 << 14;

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

#[inline(always)]
fn silu_mul_generic<M: Madd>(g: &[f32], u: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(g).zip(u) {
        // sigmoid(x) from e = exp(-|x|), which never overflows.
        let e = exp_neg::<M>(-x.abs());
        let s = if x >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        *o = x * s * y;
    }
}
multiversion!(fn silu_mul_slice = silu_mul_generic(g: &[f32], u: &[f32], out: &mut [f32]));

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

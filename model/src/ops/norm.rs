//! RMSNorm with the rounding of transformers in every precision.
//!
//! Statistics are computed in f32 and the weight is kept in f32. In half
//! precision Llama-style models round the normalised value to the storage
//! type before multiplying by the weight (`weight * x.to(dtype)`); Gemma-style
//! models (whose weight holds `1 + w`) multiply in f32 and round once. In f32
//! candle's kernel is used unchanged.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::{round_to, storage_of, FloatRows};

/// How the normalised value meets the weight in half precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormStyle {
    /// `weight · round(x / rms)` (Llama, Mistral, Qwen2, Phi3).
    RoundFirst,
    /// `round(x / rms · weight)` in f32 (Gemma, whose weight holds `1 + w`).
    F32Product,
}

/// Normalises the last dimension of `x` (any float dtype) with the f32
/// `weight`; the result has `x`'s dtype.
pub fn rms_norm(
    x: &Tensor,
    weight: &Tensor,
    eps: f32,
    style: NormStyle,
) -> candle_core::Result<Tensor> {
    if x.dtype() == DType::F32 {
        return candle_nn::ops::rms_norm(x, weight, eps);
    }
    x.contiguous()?
        .apply_op2_no_bwd(&weight.contiguous()?, &RmsNorm { eps, style })
}

struct RmsNorm {
    eps: f32,
    style: NormStyle,
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "gauntlet-rms-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let cols = l1.shape().dims().last().copied().unwrap_or(1).max(1);
        let x = FloatRows::of(s1, l1)?;
        let w = match (s2, l2.contiguous_offsets()) {
            (CpuStorage::F32(v), Some((a, b))) if b - a == cols => &v[a..b],
            _ => candle_core::bail!("rms-norm: the weight must be {cols} contiguous f32"),
        };
        let dtype = s1.dtype();
        let rows = x.len() / cols;
        let out: Vec<f32> = (0..rows)
            .into_par_iter()
            .flat_map_iter(|r| {
                let mut row = Vec::with_capacity(cols);
                x.read(r * cols..(r + 1) * cols, &mut row);
                let ss: f32 = row.iter().map(|v| v * v).sum();
                let inv = 1.0 / (ss / cols as f32 + self.eps).sqrt();
                for (v, &g) in row.iter_mut().zip(w) {
                    let n = *v * inv;
                    *v = match self.style {
                        NormStyle::RoundFirst => round_to(dtype, n) * g,
                        NormStyle::F32Product => n * g,
                    };
                }
                row
            })
            .collect();
        Ok((storage_of(dtype, out)?, l1.shape().clone()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        use candle_core::cuda_backend::CudaStorageSlice as S;
        let cols = l1.shape().dims().last().copied().unwrap_or(1).max(1);
        let n = l1.shape().elem_count();
        let (Some((a1, b1)), Some((a2, b2))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("rms-norm: operands must be contiguous");
        };
        let S::F32(w) = &s2.slice else {
            candle_core::bail!("rms-norm: the weight must be f32");
        };
        if b2 - a2 != cols {
            candle_core::bail!("rms-norm: weight of {} for rows of {cols}", b2 - a2);
        }
        let w = w.slice(a2..b2);
        let dev = s1.device.clone();
        let dtype = super::cuda::dtype_of(&s1.slice);
        let cfg = super::cuda::per_row(n / cols, super::cuda::threads_for(cols))?;
        let (cols32, round_first) = (cols as u32, u32::from(self.style == NormStyle::RoundFirst));
        macro_rules! go {
            ($v:expr, $t:ty) => {{
                let x = $v.slice(a1..b1);
                // SAFETY: every element is written by the kernel.
                let y = unsafe { dev.alloc::<$t>(n)? };
                super::cuda::launch!(dev, "rmsnorm", dtype, cfg;
                    &x, &w, &y, &cols32, &self.eps, &round_first);
                candle_core::CudaStorage::wrap_cuda_slice(y, dev.clone())
            }};
        }
        let out = match &s1.slice {
            S::BF16(v) => go!(v, half::bf16),
            S::F16(v) => go!(v, half::f16),
            S::F32(v) => go!(v, f32),
            _ => candle_core::bail!("rms-norm: unsupported dtype {dtype:?}"),
        };
        Ok((out, l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn half_precision_rounds_as_transformers() {
        let (rows, cols) = (3usize, 64usize);
        let x: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 31) % 17) as f32 / 3.0 - 2.5)
            .collect();
        let w: Vec<f32> = (0..cols).map(|i| 0.5 + (i % 5) as f32 * 0.25).collect();
        let xt = Tensor::from_vec(x, (rows, cols), &Device::Cpu).expect("x");
        let wt = Tensor::from_vec(w.clone(), cols, &Device::Cpu).expect("w");
        for dtype in [DType::BF16, DType::F16] {
            let xh = xt.to_dtype(dtype).expect("half");
            let xs: Vec<Vec<f32>> = xh
                .to_dtype(DType::F32)
                .and_then(|t| t.to_vec2())
                .expect("v");
            for style in [NormStyle::RoundFirst, NormStyle::F32Product] {
                let got: Vec<Vec<f32>> = rms_norm(&xh, &wt, 1e-5, style)
                    .and_then(|t| t.to_dtype(DType::F32))
                    .and_then(|t| t.to_vec2())
                    .expect("norm");
                for (row, out) in xs.iter().zip(&got) {
                    let ss: f32 = row.iter().map(|v| v * v).sum();
                    let inv = 1.0 / (ss / cols as f32 + 1e-5).sqrt();
                    for ((v, g), o) in row.iter().zip(&w).zip(out) {
                        let want = match style {
                            NormStyle::RoundFirst => round_to(dtype, round_to(dtype, v * inv) * g),
                            NormStyle::F32Product => round_to(dtype, v * inv * g),
                        };
                        assert_eq!(want, *o, "{dtype:?} {style:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn f32_is_candles_rms_norm() {
        let x = Tensor::randn(0f32, 1.0, (4, 32), &Device::Cpu).expect("x");
        let w = Tensor::randn(0f32, 1.0, 32, &Device::Cpu).expect("w");
        let a: Vec<Vec<f32>> = rms_norm(&x, &w, 1e-6, NormStyle::RoundFirst)
            .and_then(|t| t.to_vec2())
            .expect("a");
        let b: Vec<Vec<f32>> = candle_nn::ops::rms_norm(&x, &w, 1e-6)
            .and_then(|t| t.to_vec2())
            .expect("b");
        assert_eq!(a, b);
    }
}

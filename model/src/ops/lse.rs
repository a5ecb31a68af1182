//! `log p(target)` for each row of logits: log-sum-exp and gather in one pass,
//! in f32 whatever the logits' dtype; on a GPU only one float per row leaves
//! the device.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::FloatRows;
use crate::logsumexp::logsumexp;

/// `logits[r, targets[r]] − log Σ_j exp(logits[r, j])` for each row `r` of
/// `logits` `[n, vocab]`, after the soft-cap `c · tanh(x / c)` when `cap` is
/// given; NaN for a row holding a NaN. Targets must be below `vocab`.
pub fn lse_gather(
    logits: &Tensor,
    targets: &[u32],
    cap: Option<f32>,
) -> candle_core::Result<Vec<f32>> {
    let (n, vocab) = logits.dims2()?;
    if targets.len() != n {
        candle_core::bail!("lse-gather: {} targets for {n} rows", targets.len());
    }
    if let Some(t) = targets.iter().find(|&&t| t as usize >= vocab) {
        candle_core::bail!("lse-gather: target {t} outside the vocabulary of {vocab}");
    }
    let t = Tensor::new(targets, logits.device())?;
    let out = logits.contiguous()?.apply_op2_no_bwd(
        &t,
        &LseGather {
            cap: cap.unwrap_or(0.0),
        },
    )?;
    out.to_vec1()
}

struct LseGather {
    cap: f32,
}

impl CustomOp2 for LseGather {
    fn name(&self) -> &'static str {
        "lse-gather"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, vocab) = l1.shape().dims2()?;
        let rows = FloatRows::of(s1, l1)?;
        let targets = match (s2, l2.contiguous_offsets()) {
            (CpuStorage::U32(v), Some((a, b))) => &v[a..b],
            _ => candle_core::bail!("lse-gather: targets must be contiguous u32"),
        };
        let out: Vec<f32> = (0..n)
            .into_par_iter()
            .map(|r| {
                let mut row = Vec::with_capacity(vocab);
                rows.read(r * vocab..(r + 1) * vocab, &mut row);
                if self.cap > 0.0 {
                    for x in &mut row {
                        *x = self.cap * (*x / self.cap).tanh();
                    }
                }
                row[targets[r] as usize] - logsumexp(&row)
            })
            .collect();
        Ok((CpuStorage::F32(out), Shape::from(n)))
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
        let (n, vocab) = l1.shape().dims2()?;
        let (Some((a1, b1)), Some((a2, b2))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("lse-gather: operands must be contiguous");
        };
        let S::U32(t) = &s2.slice else {
            candle_core::bail!("lse-gather: targets must be u32");
        };
        let t = t.slice(a2..b2);
        let dev = s1.device.clone();
        let dtype = super::cuda::dtype_of(&s1.slice);
        let cfg = super::cuda::per_row(n, 1024)?;
        let vocab32 = vocab as u32;
        // SAFETY: the kernel writes all n outputs.
        let out = unsafe { dev.alloc::<f32>(n)? };
        macro_rules! go {
            ($v:expr) => {{
                let x = $v.slice(a1..b1);
                super::cuda::launch!(dev, "lse_gather", dtype, cfg; &x, &t, &out, &vocab32, &self.cap);
            }};
        }
        match &s1.slice {
            S::BF16(v) => go!(v),
            S::F16(v) => go!(v),
            S::F32(v) => go!(v),
            _ => candle_core::bail!("lse-gather: unsupported dtype {dtype:?}"),
        }
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(out, dev),
            Shape::from(n),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn matches_log_softmax_in_every_dtype_and_reports_nan() {
        let (n, vocab) = (4usize, 1000usize);
        let v: Vec<f32> = (0..n * vocab)
            .map(|i| ((i * 7919) % 1009) as f32 / 50.0 - 10.0)
            .collect();
        let targets = [0u32, 999, 17, 500];
        let t = Tensor::from_vec(v, (n, vocab), &Device::Cpu).expect("logits");
        for dtype in [DType::F32, DType::BF16, DType::F16] {
            let l = t.to_dtype(dtype).expect("dtype");
            for cap in [None, Some(7.5f32)] {
                let mut want_in = l.to_dtype(DType::F32).expect("f32");
                if let Some(c) = cap {
                    want_in = ((want_in / c as f64).and_then(|x| x.tanh()).expect("tanh")
                        * c as f64)
                        .expect("cap");
                }
                let want: Vec<Vec<f32>> = candle_nn::ops::log_softmax(&want_in, 1)
                    .and_then(|x| x.to_vec2())
                    .expect("ls");
                let got = lse_gather(&l, &targets, cap).expect("lse");
                for (r, &tg) in targets.iter().enumerate() {
                    let w = want[r][tg as usize];
                    assert!(
                        (w - got[r]).abs() < 1e-4,
                        "{dtype:?} {cap:?} row {r}: {w} vs {}",
                        got[r]
                    );
                }
            }
        }
        let bad = Tensor::from_vec(vec![0.0f32, f32::NAN, 1.0], (1, 3), &Device::Cpu).expect("t");
        assert!(lse_gather(&bad, &[0], None).expect("nan")[0].is_nan());
        assert!(lse_gather(&bad, &[3], None).is_err());
    }
}

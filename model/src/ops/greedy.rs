//! One greedy generation step on the GPU: the repetition penalty, the argmax
//! (ties to the lowest id, as `torch.argmax`) and the seen-token update in one
//! kernel, so that only the chosen ids — not `batch × vocab` logits — are
//! copied to the host. The CPU path picks on the host
//! ([`crate::generate`]).

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};

/// The penalised greedy token of each row of `logits` `[B, vocab]`, marking it
/// in `seen` (`[B, vocab]` u8, 1 for a token already in the row's context);
/// `None` for a row holding a NaN. CUDA only.
pub fn greedy(
    logits: &Tensor,
    seen: &Tensor,
    penalty: f32,
    cap: Option<f32>,
) -> candle_core::Result<Vec<Option<u32>>> {
    if logits.dims() != seen.dims() || logits.rank() != 2 {
        candle_core::bail!(
            "greedy: logits {:?} and seen {:?}",
            logits.dims(),
            seen.dims()
        );
    }
    let ids: Vec<u32> = logits
        .contiguous()?
        .apply_op2_no_bwd(
            seen,
            &Greedy {
                penalty,
                cap: cap.unwrap_or(0.0),
            },
        )?
        .to_vec1()?;
    Ok(ids
        .into_iter()
        .map(|i| (i != u32::MAX).then_some(i))
        .collect())
}

#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
struct Greedy {
    penalty: f32,
    cap: f32,
}

impl CustomOp2 for Greedy {
    fn name(&self) -> &'static str {
        "greedy"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        candle_core::bail!("greedy: the CPU picks tokens on the host")
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
        let (b, vocab) = l1.shape().dims2()?;
        let (Some((a1, b1)), Some((a2, b2))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("greedy: operands must be contiguous");
        };
        let S::U8(seen) = &s2.slice else {
            candle_core::bail!("greedy: seen must be u8");
        };
        // The kernel marks each chosen token in `seen`: device memory that
        // this op does not otherwise read or hand out, updated in stream order.
        let seen = seen.slice(a2..b2);
        let dev = s1.device.clone();
        let dtype = super::cuda::dtype_of(&s1.slice);
        let cfg = super::cuda::per_row(b, 1024)?;
        let vocab32 = vocab as u32;
        // SAFETY: the kernel writes all b outputs.
        let out = unsafe { dev.alloc::<u32>(b)? };
        macro_rules! go {
            ($v:expr) => {{
                let x = $v.slice(a1..b1);
                super::cuda::launch!(dev, "greedy", dtype, cfg;
                    &x, &seen, &out, &vocab32, &self.penalty, &self.cap);
            }};
        }
        match &s1.slice {
            S::BF16(v) => go!(v),
            S::F16(v) => go!(v),
            S::F32(v) => go!(v),
            _ => candle_core::bail!("greedy: unsupported dtype {dtype:?}"),
        }
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(out, dev),
            Shape::from(b),
        ))
    }
}

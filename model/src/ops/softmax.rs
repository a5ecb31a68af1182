//! Attention probabilities in place, the mask given as one visible key
//! interval per row instead of a tensor of `0`/`-inf`.
//!
//! Every mask the runtime needs — causal within a packed sequence, a shared
//! prefix before it, a sliding window, a generation row's left padding — hides
//! the keys outside one contiguous interval of each query's row, so the
//! interval is all the kernel needs. Scores are scaled and soft-capped in the
//! same pass, in f32 whatever the storage dtype.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Device, InplaceOp2, Layout, Tensor};
use rayon::prelude::*;

use super::round_to;
use crate::cpu::{multiversion, Madd};
use crate::logsumexp::exp_neg;

/// Visible key columns `[lo, hi)` for groups of score rows: row `r` uses
/// interval `(r / div) % len`.
#[derive(Debug, Clone)]
pub struct Intervals {
    /// `[2, len]` u32 on the scores' device: first row `lo`, second `hi`.
    bounds: Tensor,
    len: usize,
    div: usize,
}

impl Intervals {
    /// Intervals `(lo, hi)`, the same for `div` consecutive rows, repeating.
    pub fn new(spans: &[(u32, u32)], div: usize, device: &Device) -> candle_core::Result<Self> {
        if spans.is_empty() || div == 0 {
            candle_core::bail!("intervals: need at least one span and div > 0");
        }
        let mut v: Vec<u32> = spans.iter().map(|s| s.0).collect();
        v.extend(spans.iter().map(|s| s.1));
        Ok(Self {
            bounds: Tensor::from_vec(v, (2, spans.len()), device)?,
            len: spans.len(),
            div,
        })
    }
}

/// Softmax over the last dimension of `scores` (contiguous), in place and
/// returned, after `scale` and the soft-cap `cap` (when given): row `r`
/// keeps the probability mass of its interval and 0 elsewhere.
pub fn masked_softmax(
    scores: Tensor,
    iv: &Intervals,
    scale: f32,
    cap: Option<f32>,
) -> candle_core::Result<Tensor> {
    let scores = scores.contiguous()?;
    scores.inplace_op2(
        &iv.bounds,
        &MaskedSoftmax {
            div: iv.div,
            len: iv.len,
            scale,
            cap: cap.unwrap_or(0.0),
        },
    )?;
    Ok(scores)
}

struct MaskedSoftmax {
    div: usize,
    len: usize,
    scale: f32,
    cap: f32,
}

impl MaskedSoftmax {
    fn interval(&self, bounds: &[u32], row: usize, cols: usize) -> (usize, usize) {
        let k = (row / self.div) % self.len;
        let hi = (bounds[self.len + k] as usize).min(cols);
        ((bounds[k] as usize).min(hi), hi)
    }

    fn transform(&self, v: f32) -> f32 {
        let v = v * self.scale;
        if self.cap > 0.0 {
            self.cap * (v / self.cap).tanh()
        } else {
            v
        }
    }
}

/// Softmax of `row` in place (`-inf` entries give 0).
#[inline(always)]
fn softmax_row_generic<M: Madd>(row: &mut [f32]) {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for d in row.iter_mut() {
        let e = exp_neg::<M>(*d - m);
        *d = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for d in row.iter_mut() {
        *d *= inv;
    }
}
multiversion!(fn softmax_row = softmax_row_generic(row: &mut [f32]));

/// Rows handed to one parallel task, in elements.
const CHUNK: usize = 1 << 14;

impl InplaceOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s: &mut CpuStorage,
        l: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> candle_core::Result<()> {
        let cols = l.shape().dims().last().copied().unwrap_or(1).max(1);
        let Some((o1, o2)) = l.contiguous_offsets() else {
            candle_core::bail!("masked-softmax: scores must be contiguous");
        };
        let bounds = match (b, bl.contiguous_offsets()) {
            (CpuStorage::U32(v), Some((a, e))) => &v[a..e],
            _ => candle_core::bail!("masked-softmax: intervals must be contiguous u32"),
        };
        let rows_per_task = (CHUNK / cols).max(1);
        let identity = self.scale == 1.0 && self.cap <= 0.0;
        match s {
            CpuStorage::F32(v) => {
                v[o1..o2]
                    .par_chunks_mut(rows_per_task * cols)
                    .enumerate()
                    .for_each(|(t, block)| {
                        for (i, row) in block.chunks_mut(cols).enumerate() {
                            let (lo, hi) = self.interval(bounds, t * rows_per_task + i, cols);
                            if !identity {
                                for x in &mut row[lo..hi] {
                                    *x = self.transform(*x);
                                }
                            }
                            softmax_row(&mut row[lo..hi]);
                            row[..lo].fill(0.0);
                            row[hi..].fill(0.0);
                        }
                    });
                Ok(())
            }
            CpuStorage::BF16(v) => {
                self.half_rows(&mut v[o1..o2], cols, bounds, DType::BF16);
                Ok(())
            }
            CpuStorage::F16(v) => {
                self.half_rows(&mut v[o1..o2], cols, bounds, DType::F16);
                Ok(())
            }
            other => candle_core::bail!("masked-softmax: unsupported dtype {:?}", other.dtype()),
        }
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s: &mut candle_core::CudaStorage,
        l: &Layout,
        b: &candle_core::CudaStorage,
        bl: &Layout,
    ) -> candle_core::Result<()> {
        use candle_core::cuda_backend::CudaStorageSlice as S;
        let cols = l.shape().dims().last().copied().unwrap_or(1).max(1);
        let rows = l.shape().elem_count() / cols;
        let (Some((o1, o2)), Some((b1, b2))) = (l.contiguous_offsets(), bl.contiguous_offsets())
        else {
            candle_core::bail!("masked-softmax: operands must be contiguous");
        };
        let S::U32(bounds) = &b.slice else {
            candle_core::bail!("masked-softmax: intervals must be u32");
        };
        let lo = bounds.slice(b1..b1 + self.len);
        let hi = bounds.slice(b1 + self.len..b2);
        let cfg = super::cuda::per_row(rows, super::cuda::threads_for(cols))?;
        let (cols, div, len) = (cols as u32, self.div as u32, self.len as u32);
        let dev = s.device.clone();
        let dtype = super::cuda::dtype_of(&s.slice);
        macro_rules! go {
            ($v:expr) => {{
                let mut view = $v.slice_mut(o1..o2);
                super::cuda::launch!(dev, "masked_softmax", dtype, cfg;
                    &mut view, &lo, &hi, &cols, &div, &len, &self.scale, &self.cap);
            }};
        }
        match &mut s.slice {
            S::F32(v) => go!(v),
            S::BF16(v) => go!(v),
            S::F16(v) => go!(v),
            _ => candle_core::bail!("masked-softmax: unsupported dtype {dtype:?}"),
        }
        Ok(())
    }
}

impl MaskedSoftmax {
    /// The half-precision rows: computed in f32, rounded once on the way out.
    fn half_rows<T>(&self, v: &mut [T], cols: usize, bounds: &[u32], dtype: DType)
    where
        T: Copy + Send + Sync + HalfFloat,
    {
        let rows_per_task = (CHUNK / cols).max(1);
        v.par_chunks_mut(rows_per_task * cols)
            .enumerate()
            .for_each(|(t, block)| {
                let mut buf = Vec::with_capacity(cols);
                for (i, row) in block.chunks_mut(cols).enumerate() {
                    let (lo, hi) = self.interval(bounds, t * rows_per_task + i, cols);
                    buf.clear();
                    buf.extend(row[lo..hi].iter().map(|x| self.transform(x.to_f32())));
                    softmax_row(&mut buf);
                    for (d, &p) in row.iter_mut().skip(lo).zip(&buf) {
                        *d = T::from_f32(round_to(dtype, p));
                    }
                    row[..lo].fill(T::from_f32(0.0));
                    row[hi..].fill(T::from_f32(0.0));
                }
            });
    }
}

/// The half-precision types of the `half` crate.
pub(crate) trait HalfFloat {
    /// To f32 (exact).
    fn to_f32(self) -> f32;
    /// From f32, rounding to nearest.
    fn from_f32(x: f32) -> Self;
}

impl HalfFloat for half::bf16 {
    fn to_f32(self) -> f32 {
        half::bf16::to_f32(self)
    }
    fn from_f32(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
}

impl HalfFloat for half::f16 {
    fn to_f32(self) -> f32 {
        half::f16::to_f32(self)
    }
    fn from_f32(x: f32) -> Self {
        half::f16::from_f32(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(
        scores: &[f32],
        cols: usize,
        spans: &[(u32, u32)],
        div: usize,
        scale: f32,
        cap: f32,
    ) -> Vec<f32> {
        let mut out = vec![0f32; scores.len()];
        for (r, (src, dst)) in scores.chunks(cols).zip(out.chunks_mut(cols)).enumerate() {
            let (lo, hi) = spans[(r / div) % spans.len()];
            let (lo, hi) = (lo as usize, (hi as usize).min(cols));
            let v: Vec<f64> = src[lo..hi]
                .iter()
                .map(|&x| {
                    let x = (x * scale) as f64;
                    if cap > 0.0 {
                        cap as f64 * (x / cap as f64).tanh()
                    } else {
                        x
                    }
                })
                .collect();
            let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let s: f64 = v.iter().map(|x| (x - m).exp()).sum();
            for (d, x) in dst[lo..hi].iter_mut().zip(&v) {
                *d = ((x - m).exp() / s) as f32;
            }
        }
        out
    }

    #[test]
    fn matches_a_float64_reference_in_every_dtype() {
        let (rows, cols) = (12usize, 37usize);
        let scores: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919) % 113) as f32 / 9.0 - 6.0)
            .collect();
        let spans = [(0u32, 1u32), (3, 20), (0, 37), (36, 37)];
        for (div, scale, cap) in [(1usize, 1.0f32, 0.0f32), (3, 0.125, 0.0), (2, 0.5, 5.0)] {
            let want = reference(&scores, cols, &spans, div, scale, cap);
            for dtype in [DType::F32, DType::BF16, DType::F16] {
                let t = Tensor::from_vec(scores.clone(), (rows, cols), &Device::Cpu)
                    .and_then(|t| t.to_dtype(dtype))
                    .expect("scores");
                // Half precision starts from rounded scores: compare with them.
                let start: Vec<f32> = t
                    .to_dtype(DType::F32)
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1())
                    .expect("v");
                let want = if dtype == DType::F32 {
                    want.clone()
                } else {
                    reference(&start, cols, &spans, div, scale, cap)
                };
                let iv = Intervals::new(&spans, div, &Device::Cpu).expect("iv");
                let cap = (cap > 0.0).then_some(cap);
                let got: Vec<f32> = masked_softmax(t, &iv, scale, cap)
                    .and_then(|t| t.to_dtype(DType::F32))
                    .and_then(|t| t.flatten_all())
                    .and_then(|t| t.to_vec1())
                    .expect("softmax");
                let tol = match dtype {
                    DType::F32 => 1e-6,
                    DType::BF16 => 4e-3,
                    _ => 1e-3,
                };
                for (i, (a, b)) in want.iter().zip(&got).enumerate() {
                    assert!(
                        (a - b).abs() <= tol * (1.0 + a.abs()),
                        "{dtype:?} div={div} at {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn equals_an_additive_mask_and_softmax_bit_for_bit_in_f32() {
        // The packed attention path gave these results through a 0/-inf mask
        // tensor and a full-row softmax before; the interval form must not
        // change a single bit.
        let (rows, cols) = (5usize, 300usize);
        let x = Tensor::randn(0f32, 3.0, (rows, cols), &Device::Cpu).expect("x");
        let spans: Vec<(u32, u32)> = (0..rows as u32).map(|r| (r * 7, 200 + r * 20)).collect();
        let mask: Vec<f32> = (0..rows * cols)
            .map(|i| {
                let (r, c) = (i / cols, i % cols);
                if c >= spans[r].0 as usize && c < spans[r].1 as usize {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, (rows, cols), &Device::Cpu).expect("mask");
        let mut want = (&x + &mask)
            .and_then(|t| t.to_vec2::<f32>())
            .expect("masked");
        for row in &mut want {
            softmax_row(row);
        }
        let iv = Intervals::new(&spans, 1, &Device::Cpu).expect("iv");
        let got = masked_softmax(x.copy().expect("copy"), &iv, 1.0, None)
            .and_then(|t| t.to_vec2::<f32>())
            .expect("got");
        assert_eq!(want, got);
    }
}

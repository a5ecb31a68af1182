//! Causal self-attention over packed sequences (no padding) and over a batched
//! KV cache while generating.
//!
//! Packed: several sequences are concatenated along the token axis; each
//! attends only to itself. Queries are processed in blocks of
//! [`QUERY_BLOCK`] rows, and a block only sees keys up to its last row, so the
//! score matrix never exceeds `heads × QUERY_BLOCK × seq_len` and the masked
//! upper triangle beyond a block is never computed.

use std::collections::HashMap;
use std::ops::Range;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::error::Result;

/// Query rows per attention block.
pub const QUERY_BLOCK: usize = 256;

/// Applies `c·tanh(x/c)`.
pub fn softcap(x: &Tensor, cap: f64) -> Result<Tensor> {
    Ok(((x / cap)?.tanh()? * cap)?)
}

/// Shapes shared by every attention call of one model.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
    /// Query heads.
    pub q: usize,
    /// Key/value heads.
    pub kv: usize,
    /// Width of a head.
    pub dim: usize,
    /// Soft-cap on scores, if any.
    pub softcap: Option<f64>,
}

/// Masks of one packed forward pass, shared by all layers.
#[derive(Default)]
pub struct MaskCache {
    masks: HashMap<(usize, usize, usize, usize), Tensor>,
}

impl MaskCache {
    /// The additive mask for queries `qa..qb` against keys `ka..qb` (positions
    /// within one sequence) with an optional window.
    fn get(
        &mut self,
        qa: usize,
        qb: usize,
        ka: usize,
        window: usize,
        device: &Device,
    ) -> Result<Tensor> {
        let key = (qa, qb, ka, window);
        if let Some(m) = self.masks.get(&key) {
            return Ok(m.clone());
        }
        let lk = qb - ka;
        let mut v = Vec::with_capacity((qb - qa) * lk);
        for q in qa..qb {
            for k in ka..qb {
                let ok = k <= q && q - k < window;
                v.push(if ok { 0f32 } else { f32::NEG_INFINITY });
            }
        }
        let m = Tensor::from_vec(v, (qb - qa, lk), device)?;
        self.masks.insert(key, m.clone());
        Ok(m)
    }
}

/// Attention over packed sequences.
///
/// `q` is `[H, T, D]` (already scaled), `k`/`v` `[K, T, D]`; `seqs` are the
/// token ranges of the sequences. Returns `[T, H·D]`.
pub fn packed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[Range<usize>],
    heads: Heads,
    window: Option<usize>,
    masks: &mut MaskCache,
) -> Result<Tensor> {
    let groups = heads.q / heads.kv;
    let window = window.unwrap_or(usize::MAX);
    // (sequence start, qa, qb, ka, mask) for every query block, masks built
    // (or reused) up front so the blocks can run in parallel: one block's
    // matmuls are too small to keep both cores busy on their own.
    let mut blocks = Vec::new();
    for seq in seqs {
        let len = seq.end - seq.start;
        let mut qa = 0;
        while qa < len {
            let qb = (qa + QUERY_BLOCK).min(len);
            let ka = if window == usize::MAX {
                0
            } else {
                (qa + 1).saturating_sub(window)
            };
            let mask = masks.get(qa, qb, ka, window, q.device())?;
            blocks.push((seq.start, qa, qb, ka, mask));
            qa = qb;
        }
    }
    let block =
        |&(start, qa, qb, ka, ref mask): &(usize, usize, usize, usize, Tensor)| -> Result<Tensor> {
            let lq = qb - qa;
            let lk = qb - ka;
            let qb_t = q.narrow(1, start + qa, lq)?.contiguous()?.reshape((
                heads.kv,
                groups * lq,
                heads.dim,
            ))?;
            let kb = k.narrow(1, start + ka, lk)?.contiguous()?;
            let vb = v.narrow(1, start + ka, lk)?.contiguous()?;
            let mut scores = qb_t.matmul(&kb.t()?)?;
            if let Some(cap) = heads.softcap {
                scores = softcap(&scores, cap)?;
            }
            let scores = scores
                .reshape((heads.kv, groups, lq, lk))?
                .broadcast_add(mask)?;
            let probs =
                crate::fastops::softmax_last_dim(&scores)?.reshape((heads.kv, groups * lq, lk))?;
            Ok(probs.matmul(&vb)?.reshape((heads.q, lq, heads.dim))?)
        };
    let outs: Vec<Tensor> = if q.device().is_cpu() {
        blocks.par_iter().map(block).collect::<Result<_>>()?
    } else {
        blocks.iter().map(block).collect::<Result<_>>()?
    };
    let o = Tensor::cat(&outs, 1)?; // [H, T, D]
    let t = o.dim(1)?;
    Ok(o.transpose(0, 1)?
        .contiguous()?
        .reshape((t, heads.q * heads.dim))?)
}

/// One decoding step against a batched cache.
///
/// `q` is `[B, H, D]` (scaled), `k`/`v` `[B, K, L, D]` (the cache up to and
/// including this step), `mask` `[B, 1, 1, L]` additive. Returns `[B, H·D]`.
pub fn cached(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor, heads: Heads) -> Result<Tensor> {
    let b = q.dim(0)?;
    let groups = heads.q / heads.kv;
    let q = q.reshape((b, heads.kv, groups, heads.dim))?;
    let mut scores = q.matmul(&k.t()?)?; // [B, K, g, L]
    if let Some(cap) = heads.softcap {
        scores = softcap(&scores, cap)?;
    }
    let scores = scores.broadcast_add(mask)?;
    let probs = crate::fastops::softmax_last_dim(&scores)?;
    let o = probs.matmul(v)?; // [B, K, g, D]
    Ok(o.reshape((b, heads.q * heads.dim))?)
}

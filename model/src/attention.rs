//! Causal self-attention over packed sequences (no padding) and over a batched
//! KV cache while generating.
//!
//! Packed: several sequences are concatenated along the token axis; each
//! attends only to itself. Queries are processed in blocks of
//! [`QUERY_BLOCK`] rows, and a block only sees keys up to its last row, so the
//! score matrix never exceeds `heads × QUERY_BLOCK × seq_len` and the masked
//! upper triangle beyond a block is never computed.
//!
//! A packed pass may follow a [`Prefix`]: keys and values of tokens that every
//! sequence of the pass starts with, computed once. Each sequence then sees the
//! prefix's keys before its own, so a prompt prefix shared by a batch is not
//! recomputed per sequence.

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

/// One layer's keys and values `[K, P, D]` of a prefix shared by every
/// sequence of a packed pass (positions `0..P`; the sequences continue at `P`).
#[derive(Clone, Copy)]
pub struct Prefix<'a> {
    /// Keys, after RoPE.
    pub k: &'a Tensor,
    /// Values.
    pub v: &'a Tensor,
}

/// The key columns one query block attends to: prefix positions `pa..p`, then
/// the sequence's own tokens `ka..qb` (positions `p + ka..p + qb`).
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct Span {
    qa: usize,
    qb: usize,
    ka: usize,
    pa: usize,
    p: usize,
    window: usize,
}

/// Masks of one packed forward pass, shared by all layers.
#[derive(Default)]
pub struct MaskCache {
    masks: HashMap<Span, Tensor>,
}

impl MaskCache {
    /// The additive mask `[qb - qa, (p - pa) + (qb - ka)]` of a block: causal
    /// within the sequence, every prefix key before it, and keys further than
    /// the window hidden.
    fn get(&mut self, s: Span, device: &Device) -> Result<Tensor> {
        if let Some(m) = self.masks.get(&s) {
            return Ok(m.clone());
        }
        let lk = (s.p - s.pa) + (s.qb - s.ka);
        let mut v = Vec::with_capacity((s.qb - s.qa) * lk);
        for q in s.qa..s.qb {
            let at = s.p + q;
            for k in (s.pa..s.p).chain(s.p + s.ka..s.p + s.qb) {
                let ok = k <= at && at - k < s.window;
                v.push(if ok { 0f32 } else { f32::NEG_INFINITY });
            }
        }
        let m = Tensor::from_vec(v, (s.qb - s.qa, lk), device)?;
        self.masks.insert(s, m.clone());
        Ok(m)
    }
}

/// Attention over packed sequences.
///
/// `q` is `[H, T, D]` (already scaled), `k`/`v` `[K, T, D]`; `seqs` are the
/// token ranges of the sequences, each continuing `prefix` when there is one.
/// Returns `[T, H·D]`.
#[allow(clippy::too_many_arguments)]
pub fn packed(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[Range<usize>],
    prefix: Option<Prefix<'_>>,
    heads: Heads,
    window: Option<usize>,
    masks: &mut MaskCache,
) -> Result<Tensor> {
    let groups = heads.q / heads.kv;
    let window = window.unwrap_or(usize::MAX);
    let p = match prefix {
        Some(pre) => pre.k.dim(1)?,
        None => 0,
    };
    // (sequence start, span, mask) for every query block, masks built (or
    // reused) up front so the blocks can run in parallel: one block's matmuls
    // are too small to keep both cores busy on their own.
    let mut blocks = Vec::new();
    for seq in seqs {
        let len = seq.end - seq.start;
        let mut qa = 0;
        while qa < len {
            let qb = (qa + QUERY_BLOCK).min(len);
            // The oldest key the block's first query still sees.
            let first = (p + qa + 1).saturating_sub(window);
            let span = Span {
                qa,
                qb,
                ka: first.saturating_sub(p),
                pa: first.min(p),
                p,
                window,
            };
            let mask = masks.get(span, q.device())?;
            blocks.push((seq.start, span, mask));
            qa = qb;
        }
    }
    let block = |&(start, s, ref mask): &(usize, Span, Tensor)| -> Result<Tensor> {
        let lq = s.qb - s.qa;
        let lk = (s.p - s.pa) + (s.qb - s.ka);
        let qb_t = q.narrow(1, start + s.qa, lq)?.contiguous()?.reshape((
            heads.kv,
            groups * lq,
            heads.dim,
        ))?;
        let own = |t: &Tensor| t.narrow(1, start + s.ka, s.qb - s.ka);
        let (kb, vb) = match prefix {
            Some(pre) if s.pa < s.p => {
                let pk = pre.k.narrow(1, s.pa, s.p - s.pa)?;
                let pv = pre.v.narrow(1, s.pa, s.p - s.pa)?;
                (
                    Tensor::cat(&[&pk, &own(k)?], 1)?,
                    Tensor::cat(&[&pv, &own(v)?], 1)?,
                )
            }
            _ => (own(k)?.contiguous()?, own(v)?.contiguous()?),
        };
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

//! Causal self-attention over packed sequences (no padding) and over a batched
//! KV cache while generating.
//!
//! Packed: several sequences are concatenated along the token axis; each
//! attends only to itself. Queries are processed in blocks of
//! [`QUERY_BLOCK`] rows ([`QUERY_BLOCK_GPU`] on a GPU), and a block only sees keys up to its last row, so the
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
use crate::ops::{masked_softmax, Intervals};

/// Query rows per attention block on the CPU (small blocks keep the score
/// matrix in cache and give both cores work).
pub const QUERY_BLOCK: usize = 256;

/// Query rows per attention block on a GPU: larger matmuls, at the cost of
/// computing (then masking) up to one block's width past the diagonal.
pub const QUERY_BLOCK_GPU: usize = 512;

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

/// The visible-key intervals of one packed forward pass, shared by all
/// layers (built once per distinct block shape, on the device).
#[derive(Default)]
pub struct IntervalCache {
    intervals: HashMap<Span, Intervals>,
}

impl IntervalCache {
    /// The intervals of a block's `qb - qa` query rows over its keys: prefix
    /// positions `pa..p` then the sequence's own `p + ka..p + qb`. Query `q`
    /// (position `p + q`) sees the keys at or before it and, with a window,
    /// less than `window` positions back; positions only grow along the key
    /// axis, so that is one interval per row.
    fn get(&mut self, s: Span, device: &Device) -> Result<Intervals> {
        if let Some(iv) = self.intervals.get(&s) {
            return Ok(iv.clone());
        }
        let prefix = s.p - s.pa;
        let spans: Vec<(u32, u32)> = (s.qa..s.qb)
            .map(|q| {
                let at = s.p + q;
                let first = (at + 1).saturating_sub(s.window);
                let hidden_prefix = first.saturating_sub(s.pa).min(prefix);
                let hidden_own = first.saturating_sub(s.p + s.ka).min(s.qb - s.ka);
                let lo = hidden_prefix + hidden_own;
                let hi = prefix + (q + 1 - s.ka);
                (lo as u32, hi as u32)
            })
            .collect();
        let iv = Intervals::new(&spans, 1, device)?;
        self.intervals.insert(s, iv.clone());
        Ok(iv)
    }
}

/// Attention over packed sequences.
///
/// `q` is `[H, T, D]`, `k`/`v` `[K, T, D]`; scores are multiplied by `scale`
/// in the softmax (1 when the queries are already scaled); `seqs` are the
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
    scale: f32,
    masks: &mut IntervalCache,
) -> Result<Tensor> {
    let groups = heads.q / heads.kv;
    let window = window.unwrap_or(usize::MAX);
    let p = match prefix {
        Some(pre) => pre.k.dim(1)?,
        None => 0,
    };
    // (sequence start, span, intervals) for every query block, intervals
    // built (or reused) up front so the blocks can run in parallel: one block's matmuls
    // are too small to keep both cores busy on their own.
    let block_rows = if q.device().is_cpu() {
        QUERY_BLOCK
    } else {
        QUERY_BLOCK_GPU
    };
    let mut blocks = Vec::new();
    for seq in seqs {
        let len = seq.end - seq.start;
        let mut qa = 0;
        while qa < len {
            let qb = (qa + block_rows).min(len);
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
            let iv = masks.get(span, q.device())?;
            blocks.push((seq.start, span, iv));
            qa = qb;
        }
    }
    let cap = heads.softcap.map(|c| c as f32);
    let block = |&(start, s, ref iv): &(usize, Span, Intervals)| -> Result<Tensor> {
        let lq = s.qb - s.qa;
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
        // Rows of the scores are (kv head, group, query): interval `r % lq`.
        let scores = qb_t.matmul(&kb.t()?)?;
        let probs = masked_softmax(scores, iv, scale, cap)?;
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
/// `q` is `[B, H, D]`, `k`/`v` `[B, K, L, D]` (the cache up to and including
/// this step), `visible` one key interval per batch row; scores are multiplied
/// by `scale` in the softmax. Returns `[B, H·D]`.
pub fn cached(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    visible: &Intervals,
    heads: Heads,
    scale: f32,
) -> Result<Tensor> {
    let b = q.dim(0)?;
    let groups = heads.q / heads.kv;
    let q = q.reshape((b, heads.kv, groups, heads.dim))?;
    let scores = q.matmul(&k.t()?)?; // [B, K, g, L]: interval `r / (K·g)`
    let cap = heads.softcap.map(|c| c as f32);
    let probs = masked_softmax(scores, visible, scale, cap)?;
    let o = probs.matmul(v)?; // [B, K, g, D]
    Ok(o.reshape((b, heads.q * heads.dim))?)
}

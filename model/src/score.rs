//! Log-probabilities of given tokens, computed without ever holding the
//! `[batch, seq, vocab]` logits: sequences are packed (no padding), and the
//! lm-head runs in chunks of rows, only on positions whose probability is asked
//! for.

use std::ops::Range;

use candle_core::Tensor;
use gauntlet_evals::ScoreRequest;
use rayon::prelude::*;

use crate::decoder::Decoder;
use crate::error::{ModelError, Result};
use crate::logsumexp::logsumexp;

/// Rows of hidden states sent through the lm-head at once (`rows × vocab`
/// floats: 64 MiB for a 49,152-token vocabulary).
pub const LM_HEAD_CHUNK: usize = 256;

/// Tokens packed into one forward pass (a sequence longer than this runs alone).
pub const PACK_TOKENS: usize = 4096;

/// Scores `requests`, packing them into forward passes of up to
/// [`PACK_TOKENS`] tokens. Output `i` holds `log p(t_k | t_<k)` for
/// `k ∈ max(score_from,1)..n` of request `i`.
pub fn score(decoder: &Decoder, requests: &[ScoreRequest]) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); requests.len()];
    let mut pack: Vec<usize> = Vec::new();
    let mut pack_tokens = 0;
    for (i, r) in requests.iter().enumerate() {
        if r.tokens.is_empty() {
            return Err(ModelError::Input(format!("request {i} has no tokens")));
        }
        if !pack.is_empty() && pack_tokens + r.tokens.len() > PACK_TOKENS {
            score_pack(decoder, requests, &pack, &mut out)?;
            pack.clear();
            pack_tokens = 0;
        }
        pack.push(i);
        pack_tokens += r.tokens.len();
    }
    if !pack.is_empty() {
        score_pack(decoder, requests, &pack, &mut out)?;
    }
    Ok(out)
}

fn score_pack(
    decoder: &Decoder,
    requests: &[ScoreRequest],
    pack: &[usize],
    out: &mut [Vec<f32>],
) -> Result<()> {
    let mut ids = Vec::new();
    let mut seqs: Vec<Range<usize>> = Vec::with_capacity(pack.len());
    // (request, row of the hidden state, target token)
    let mut rows: Vec<u32> = Vec::new();
    let mut targets: Vec<(usize, u32)> = Vec::new();
    for &i in pack {
        let r = &requests[i];
        let start = ids.len();
        ids.extend_from_slice(&r.tokens);
        seqs.push(start..ids.len());
        for k in r.score_from.max(1)..r.tokens.len() {
            rows.push((start + k - 1) as u32);
            targets.push((i, r.tokens[k]));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let hidden = decoder.forward_packed(&ids, &seqs, None)?;
    let device = decoder.device().clone();
    for (chunk_rows, chunk_targets) in rows
        .chunks(LM_HEAD_CHUNK)
        .zip(targets.chunks(LM_HEAD_CHUNK))
    {
        let idx = Tensor::new(chunk_rows, &device)?;
        let h = hidden.index_select(&idx, 0)?;
        let logits = decoder.logits(&h)?;
        let vocab = logits.dim(1)?;
        let flat: Vec<f32> = logits.flatten_all()?.to_vec1()?;
        let logps: Vec<f32> = flat
            .par_chunks(vocab)
            .zip(chunk_targets.par_iter())
            .map(|(row, &(_, t))| row[t as usize] - logsumexp(row))
            .collect();
        for (&(i, _), lp) in chunk_targets.iter().zip(logps) {
            if !lp.is_finite() {
                return Err(ModelError::NonFinite {
                    what: format!("log-probabilities of sequence {i}"),
                });
            }
            out[i].push(lp);
        }
    }
    Ok(())
}

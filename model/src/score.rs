//! Log-probabilities of given tokens, computed without ever holding the
//! `[batch, seq, vocab]` logits: sequences are packed (no padding), and the
//! lm-head runs in chunks of rows, only on positions whose probability is asked
//! for.

use std::ops::Range;

use candle_core::{DType, Tensor};
use gauntlet_evals::ScoreRequest;
use rayon::prelude::*;

use crate::decoder::Decoder;
use crate::error::{ModelError, Result};
use crate::logsumexp::logsumexp;
use crate::ops::lse_gather;
use crate::prefix::shared_prefix_len;

/// Rows of hidden states sent through the lm-head at once on the CPU
/// (`rows × vocab` floats: 48 MiB for a 49,152-token vocabulary).
pub const LM_HEAD_CHUNK: usize = 256;

/// The same on a GPU, where larger matmuls run closer to the peak
/// (`rows × vocab` half floats: 256 MiB at a 128k vocabulary).
pub const LM_HEAD_CHUNK_GPU: usize = 1024;

/// Tokens packed into one forward pass (a sequence longer than this runs alone).
pub const PACK_TOKENS: usize = 4096;

/// Scores `requests`, packing them into forward passes of up to
/// [`PACK_TOKENS`] tokens. Output `i` holds `log p(t_k | t_<k)` for
/// `k ∈ max(score_from,1)..n` of request `i`.
pub fn score(decoder: &Decoder, requests: &[ScoreRequest]) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); requests.len()];
    for pack in packs(requests.iter().map(|r| r.tokens.as_slice()))? {
        score_pack(decoder, requests, &pack, &mut out)?;
    }
    Ok(out)
}

/// Groups sequences (by index, in order) into packs of at most
/// [`PACK_TOKENS`] tokens; a longer sequence forms a pack of its own. An
/// empty sequence is an input error.
fn packs<'a>(seqs: impl Iterator<Item = &'a [u32]>) -> Result<Vec<Vec<usize>>> {
    let mut out = Vec::new();
    let mut pack: Vec<usize> = Vec::new();
    let mut pack_tokens = 0;
    for (i, s) in seqs.enumerate() {
        if s.is_empty() {
            return Err(ModelError::Input(format!("sequence {i} has no tokens")));
        }
        if !pack.is_empty() && pack_tokens + s.len() > PACK_TOKENS {
            out.push(std::mem::take(&mut pack));
            pack_tokens = 0;
        }
        pack.push(i);
        pack_tokens += s.len();
    }
    if !pack.is_empty() {
        out.push(pack);
    }
    Ok(out)
}

/// For each prompt, `log p(c | prompt)` of every candidate token `c`: packed
/// forward passes, and the lm-head on each prompt's last position only (one
/// row per prompt, whatever the number of candidates).
pub fn next_token_logprobs(
    decoder: &Decoder,
    prompts: &[Vec<u32>],
    candidates: &[u32],
) -> Result<Vec<Vec<f32>>> {
    let vocab = decoder.config().vocab_size;
    if let Some(c) = candidates.iter().find(|&&c| c as usize >= vocab) {
        return Err(ModelError::Input(format!(
            "candidate token {c} is outside the vocabulary of {vocab}"
        )));
    }
    let mut out = vec![Vec::new(); prompts.len()];
    for pack in packs(prompts.iter().map(Vec::as_slice))? {
        let seqs: Vec<(&[u32], usize)> = pack
            .iter()
            .map(|&i| (prompts[i].as_slice(), prompts[i].len() - 1))
            .collect();
        let (hidden, rows) = run_pack(decoder, &seqs)?;
        let last: Vec<u32> = rows
            .iter()
            .zip(&pack)
            .map(|(r, &i)| r.row(prompts[i].len() - 1))
            .collect();
        let h = hidden.index_select(&Tensor::new(last.as_slice(), decoder.device())?, 0)?;
        let logits = decoder.raw_logits(&h)?;
        // One log-softmax-and-gather per candidate: a handful of passes over
        // the rows, and only `prompts × candidates` floats leave the device.
        let mut per_candidate = Vec::with_capacity(candidates.len());
        for &c in candidates {
            per_candidate.push(lse_gather(
                &logits,
                &vec![c; pack.len()],
                decoder.final_softcap(),
            )?);
        }
        for (r, &i) in pack.iter().enumerate() {
            let lps: Vec<f32> = per_candidate.iter().map(|lp| lp[r]).collect();
            if lps.iter().any(|x| x.is_nan()) {
                return Err(ModelError::NonFinite {
                    what: format!("next-token logits of prompt {i}"),
                });
            }
            out[i] = lps;
        }
    }
    Ok(out)
}

fn score_pack(
    decoder: &Decoder,
    requests: &[ScoreRequest],
    pack: &[usize],
    out: &mut [Vec<f32>],
) -> Result<()> {
    // Position k is predicted from the hidden state at k - 1, so everything
    // before `score_from - 1` may come from a shared prefix.
    let seqs: Vec<(&[u32], usize)> = pack
        .iter()
        .map(|&i| {
            let r = &requests[i];
            (
                r.tokens.as_slice(),
                (r.score_from.max(1) - 1).min(r.tokens.len() - 1),
            )
        })
        .collect();
    if pack
        .iter()
        .all(|&i| requests[i].score_from.max(1) >= requests[i].tokens.len())
    {
        return Ok(());
    }
    let (hidden, placed) = run_pack(decoder, &seqs)?;
    // (request, target token) for each row of the hidden state gathered.
    let mut rows: Vec<u32> = Vec::new();
    let mut targets: Vec<(usize, u32)> = Vec::new();
    for (&i, at) in pack.iter().zip(&placed) {
        let r = &requests[i];
        for k in r.score_from.max(1)..r.tokens.len() {
            rows.push(at.row(k - 1));
            targets.push((i, r.tokens[k]));
        }
    }
    let idx = Tensor::new(rows.as_slice(), decoder.device())?;
    let h = hidden.index_select(&idx, 0)?;
    let toks: Vec<u32> = targets.iter().map(|&(_, t)| t).collect();
    let logps = if decoder.device().is_cpu()
        && decoder.dtype() == DType::F32
        && decoder.final_softcap().is_none()
    {
        lm_head_logprobs_cpu(&h, decoder.lm_head(), &toks)?
    } else {
        lm_head_logprobs_generic(decoder, &h, &toks)?
    };
    for (&(i, _), lp) in targets.iter().zip(logps) {
        if !lp.is_finite() {
            return Err(ModelError::NonFinite {
                what: format!("log-probabilities of sequence {i}"),
            });
        }
        out[i].push(lp);
    }
    Ok(())
}

/// Where a sequence's hidden states sit in a pack's output.
struct Placed {
    start: usize,
    shared: usize,
}

impl Placed {
    /// The output row of the sequence's token `k` (`k ≥ shared`).
    fn row(&self, k: usize) -> u32 {
        (self.start + k - self.shared) as u32
    }
}

/// Runs the sequences `(tokens, shareable)` of one pack (each non-empty) as a
/// packed forward pass, computing the prefix they all share (up to each one's
/// `shareable` positions, whose hidden states are not needed) only once.
fn run_pack(decoder: &Decoder, seqs: &[(&[u32], usize)]) -> Result<(Tensor, Vec<Placed>)> {
    let shared = shared_prefix_len(seqs.iter().copied());
    let longest = seqs.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    let mut ids = Vec::new();
    let mut ranges: Vec<Range<usize>> = Vec::with_capacity(seqs.len());
    let mut placed = Vec::with_capacity(seqs.len());
    for (t, _) in seqs {
        let start = ids.len();
        ids.extend_from_slice(&t[shared..]);
        ranges.push(start..ids.len());
        placed.push(Placed { start, shared });
    }
    let hidden = match seqs.first() {
        Some((first, _)) if shared > 0 => {
            let prefix = decoder.prefill_prefix(&first[..shared], longest)?;
            decoder.forward_packed_after(&prefix, &ids, &ranges, longest, None)?
        }
        _ => decoder.forward_packed(&ids, &ranges, None)?,
    };
    Ok((hidden, placed))
}

/// `log p(target)` per row of `h`, chunk by chunk: the lm-head in the compute
/// dtype, then the fused log-softmax and gather in f32 (on a GPU only the
/// per-token results are copied back).
fn lm_head_logprobs_generic(decoder: &Decoder, h: &Tensor, targets: &[u32]) -> Result<Vec<f32>> {
    let chunk_rows = if decoder.device().is_cpu() {
        LM_HEAD_CHUNK
    } else {
        LM_HEAD_CHUNK_GPU
    };
    let mut out = Vec::with_capacity(targets.len());
    for (c, chunk) in targets.chunks(chunk_rows).enumerate() {
        let rows = h.narrow(0, c * chunk_rows, chunk.len())?;
        let logits = decoder.raw_logits(&rows)?;
        out.extend(lse_gather(&logits, chunk, decoder.final_softcap())?);
    }
    Ok(out)
}

/// The CPU fast path: `gemm` writes each chunk's logits into one reused
/// buffer (no allocation, zeroing or copy per chunk), then a vectorised
/// log-sum-exp reduces every row in parallel.
fn lm_head_logprobs_cpu(h: &Tensor, w: &Tensor, targets: &[u32]) -> Result<Vec<f32>> {
    let (vocab, hidden) = w.dims2()?;
    let h: Vec<f32> = h.flatten_all()?.to_vec1()?;
    let (storage, layout) = w.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else {
        return Err(ModelError::Input(
            "lm-head weights are not on the CPU".into(),
        ));
    };
    let Some((a, b)) = layout.contiguous_offsets() else {
        return Err(ModelError::Input(
            "lm-head weights are not contiguous".into(),
        ));
    };
    let w = &cpu.as_slice::<f32>()?[a..b];
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let mut buf = vec![0f32; LM_HEAD_CHUNK.min(targets.len()) * vocab];
    let mut out = Vec::with_capacity(targets.len());
    for (c, chunk) in targets.chunks(LM_HEAD_CHUNK).enumerate() {
        let m = chunk.len();
        let lhs = &h[c * LM_HEAD_CHUNK * hidden..(c * LM_HEAD_CHUNK + m) * hidden];
        // SAFETY: dst holds m×vocab floats (row stride vocab), lhs m×hidden
        // (row stride hidden), rhs = wᵀ read from w's vocab×hidden row-major
        // storage (row stride 1, column stride hidden); all in bounds.
        unsafe {
            gemm::gemm(
                m,
                vocab,
                hidden,
                buf.as_mut_ptr(),
                1,
                vocab as isize,
                false,
                lhs.as_ptr(),
                1,
                hidden as isize,
                w.as_ptr(),
                hidden as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
        out.extend(
            buf[..m * vocab]
                .par_chunks(vocab)
                .zip(chunk.par_iter())
                .map(|(row, &t)| row[t as usize] - logsumexp(row))
                .collect::<Vec<_>>(),
        );
    }
    Ok(out)
}

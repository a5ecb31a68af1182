//! Batched greedy generation with a KV cache.
//!
//! All prompts are prefilled in one packed forward pass (no padding; a prefix
//! they all share computed only once), their keys and values copied
//! right-aligned into a batched cache, and
//! then every unfinished sequence advances one token per step. The lm-head runs
//! on the last position only. Finished sequences leave the batch, so a batch is
//! never slowed down by its longest member's padding.

use std::ops::Range;
use std::time::Instant;

use candle_core::{Device, Tensor};
use gauntlet_evals::GenerateOptions;

use crate::decoder::{Decoder, KvCache, StepMasks};
use crate::error::{ModelError, Result};
use crate::prefix::shared_prompt_prefix;

/// Continues each prompt greedily; returns the new tokens of each (without the
/// stop token). `decode` renders tokens for `opts.stop_when`.
pub fn generate(
    decoder: &Decoder,
    prompts: &[Vec<u32>],
    opts: &GenerateOptions<'_>,
    eos: &[u32],
    decode: &dyn Fn(&[u32]) -> String,
) -> Result<Vec<Vec<u32>>> {
    let n = prompts.len();
    let mut outputs: Vec<Vec<u32>> = vec![Vec::new(); n];
    if n == 0 || opts.max_new_tokens == 0 {
        return Ok(outputs);
    }
    if let Some(i) = prompts.iter().position(Vec::is_empty) {
        return Err(ModelError::Input(format!("prompt {i} is empty")));
    }
    let start = Instant::now();
    let cfg = decoder.config();
    let device = decoder.device().clone();
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let cap = longest + opts.max_new_tokens;

    // Prefill: one packed pass; each prompt's keys/values go right-aligned into
    // the cache so that every row writes its next token at the same slot. A
    // prefix all prompts share (a chat template's system turn, a task's
    // instruction) is computed once and copied into every row.
    let shared = shared_prompt_prefix(prompts);
    let prefix = if shared > 0 {
        Some(decoder.prefill_prefix(&prompts[0][..shared], longest)?)
    } else {
        None
    };
    let mut ids = Vec::new();
    let mut seqs: Vec<Range<usize>> = Vec::with_capacity(n);
    for p in prompts {
        let s = ids.len();
        ids.extend_from_slice(&p[shared..]);
        seqs.push(s..ids.len());
    }
    let mut cache = KvCache::new(cfg, n, cap, &device)?;
    let pad: Vec<usize> = prompts.iter().map(|p| longest - p.len()).collect();
    {
        let mut sink = |layer: usize, k: &Tensor, v: &Tensor| -> Result<()> {
            let (hk, d) = (k.dim(0)?, k.dim(2)?);
            let mut ks = Vec::with_capacity(n);
            let mut vs = Vec::with_capacity(n);
            for (s, &p) in seqs.iter().zip(&pad) {
                let mut kparts = Vec::with_capacity(3);
                let mut vparts = Vec::with_capacity(3);
                if p > 0 {
                    let z = Tensor::zeros((hk, p, d), k.dtype(), k.device())?;
                    kparts.push(z.clone());
                    vparts.push(z);
                }
                if let Some(pre) = &prefix {
                    kparts.push(pre.k[layer].clone());
                    vparts.push(pre.v[layer].clone());
                }
                kparts.push(k.narrow(1, s.start, s.end - s.start)?);
                vparts.push(v.narrow(1, s.start, s.end - s.start)?);
                ks.push(Tensor::cat(&kparts, 1)?);
                vs.push(Tensor::cat(&vparts, 1)?);
            }
            cache.write(layer, 0, &Tensor::stack(&ks, 0)?, &Tensor::stack(&vs, 0)?)
        };
        let hidden = match &prefix {
            Some(pre) => {
                decoder.forward_packed_after(pre, &ids, &seqs, longest, Some(&mut sink))?
            }
            None => decoder.forward_packed(&ids, &seqs, Some(&mut sink))?,
        };
        let last: Vec<u32> = seqs.iter().map(|s| (s.end - 1) as u32).collect();
        let h = hidden.index_select(&Tensor::new(last.as_slice(), &device)?, 0)?;
        let mut active: Vec<usize> = (0..n).collect();
        let mut seen: Vec<Vec<bool>> = prompts
            .iter()
            .map(|p| {
                let mut s = vec![false; cfg.vocab_size];
                for &t in p {
                    if let Some(x) = s.get_mut(t as usize) {
                        *x = true;
                    }
                }
                s
            })
            .collect();
        let mut logits = decoder.logits(&h)?;
        let mut slot = longest;
        loop {
            let next = pick(&logits, &active, &mut seen, opts.repetition_penalty)?;
            let mut keep: Vec<u32> = Vec::with_capacity(active.len());
            let mut still = Vec::with_capacity(active.len());
            for (row, (&seq, tok)) in active.iter().zip(next).enumerate() {
                let stop =
                    !opts.ignore_eos && (eos.contains(&tok) || opts.stop_tokens.contains(&tok));
                if !stop {
                    outputs[seq].push(tok);
                }
                let done = stop
                    || outputs[seq].len() >= opts.max_new_tokens
                    || opts
                        .stop_when
                        .is_some_and(|f| f(decode(&outputs[seq]).as_str()));
                if !done {
                    keep.push(row as u32);
                    still.push(seq);
                }
            }
            let timed_out = opts.time_limit.is_some_and(|l| start.elapsed() >= l);
            if still.is_empty() || timed_out {
                break;
            }
            if still.len() != active.len() {
                cache.retain(&keep)?;
            }
            active = still;
            let step_ids: Vec<u32> = active
                .iter()
                .map(|&s| outputs[s].last().copied().unwrap_or(0))
                .collect();
            let positions: Vec<u32> = active
                .iter()
                .map(|&s| (prompts[s].len() + outputs[s].len() - 1) as u32)
                .collect();
            let masks = step_masks(&active, &pad, slot, cfg.sliding_window, &device)?;
            // LongRoPE picks its table by the current length, as transformers does.
            let step_len = positions
                .iter()
                .copied()
                .max()
                .map_or(1, |p| p as usize + 1);
            let h =
                decoder.forward_step(&step_ids, &positions, slot, &mut cache, &masks, step_len)?;
            logits = decoder.logits(&h)?;
            slot += 1;
        }
    }
    Ok(outputs)
}

/// Greedy choice per active row with the transformers repetition penalty
/// (a logit of an already seen token is divided by the penalty when positive,
/// multiplied when negative). Ties go to the lowest id, as `argmax` does.
fn pick(
    logits: &Tensor,
    active: &[usize],
    seen: &mut [Vec<bool>],
    penalty: f32,
) -> Result<Vec<u32>> {
    let rows: Vec<Vec<f32>> = logits.to_vec2()?;
    let mut out = Vec::with_capacity(rows.len());
    for (mut row, &seq) in rows.into_iter().zip(active) {
        if row.iter().any(|x| x.is_nan()) {
            return Err(ModelError::NonFinite {
                what: format!("logits while generating for prompt {seq}"),
            });
        }
        if penalty != 1.0 {
            for (x, &s) in row.iter_mut().zip(&seen[seq]) {
                if s {
                    *x = if *x < 0.0 { *x * penalty } else { *x / penalty };
                }
            }
        }
        let mut best = 0usize;
        for (i, &x) in row.iter().enumerate() {
            if x > row[best] {
                best = i;
            }
        }
        if let Some(s) = seen[seq].get_mut(best) {
            *s = true;
        }
        out.push(best as u32);
    }
    Ok(out)
}

/// Additive masks `[B, 1, 1, slot+1]` hiding each row's left padding (and, for
/// windowed layers, keys outside the window).
fn step_masks(
    active: &[usize],
    pad: &[usize],
    slot: usize,
    window: Option<usize>,
    device: &Device,
) -> Result<StepMasks> {
    let build = |w: usize| -> Result<Tensor> {
        let mut m = Vec::with_capacity(active.len() * (slot + 1));
        for &s in active {
            for j in 0..=slot {
                let visible = j >= pad[s] && slot - j < w;
                m.push(if visible { 0f32 } else { f32::NEG_INFINITY });
            }
        }
        Ok(Tensor::from_vec(m, (active.len(), 1, 1, slot + 1), device)?)
    };
    Ok(StepMasks {
        full: build(usize::MAX)?,
        windowed: window.map(build).transpose()?,
    })
}

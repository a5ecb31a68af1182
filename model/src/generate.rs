//! Batched greedy generation with a KV cache.
//!
//! All prompts are prefilled in one packed forward pass (no padding; a prefix
//! they all share computed only once), their keys and values copied
//! right-aligned into a batched cache, and
//! then every unfinished sequence advances one token per step. The lm-head runs
//! on the last position only.
//!
//! The cache keeps one row per prompt. On the CPU a finished sequence leaves
//! the batch at once (its row is dropped from the cache), since every row
//! costs compute there. On a GPU the rows stay where they are — no cache is
//! reallocated when a sequence finishes — and a finished row rides along
//! unread: a decoding step reads every weight once whatever the batch, so the
//! extra rows cost almost nothing. The greedy choice, the repetition penalty
//! and the NaN check run on the GPU, and only the chosen ids come back.

use std::ops::Range;
use std::time::Instant;

use candle_core::Tensor;
use gauntlet_evals::GenerateOptions;

use crate::decoder::{Decoder, KvCache, StepMasks};
use crate::error::{ModelError, Result};
use crate::ops::Intervals;
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
    let mut cache = KvCache::new(cfg, n, cap, &device, decoder.dtype())?;
    let on_host = device.is_cpu();
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
        // `rows[r]`: the prompt whose sequence cache row `r` holds; `live`:
        // the rows still generating.
        let mut rows: Vec<usize> = (0..n).collect();
        let mut live: Vec<bool> = vec![true; n];
        let mut picker = Picker::new(decoder, prompts, on_host)?;
        let mut logits = decoder.raw_logits(&h)?;
        let mut slot = longest;
        loop {
            let next = picker.pick(&logits, &rows, opts.repetition_penalty)?;
            let mut keep: Vec<u32> = Vec::with_capacity(rows.len());
            for (row, (&seq, tok)) in rows.iter().zip(next).enumerate() {
                if !live[row] {
                    continue;
                }
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
                if done {
                    live[row] = false;
                } else {
                    keep.push(row as u32);
                }
            }
            let timed_out = opts.time_limit.is_some_and(|l| start.elapsed() >= l);
            if keep.is_empty() || timed_out {
                break;
            }
            if on_host && keep.len() != rows.len() {
                cache.retain(&keep)?;
                picker.retain(&keep);
                rows = keep.iter().map(|&r| rows[r as usize]).collect();
                live = vec![true; rows.len()];
            }
            // A finished row (GPU only) repeats its last token at its next
            // position; its results are never read.
            let step_ids: Vec<u32> = rows
                .iter()
                .map(|&s| outputs[s].last().copied().unwrap_or(0))
                .collect();
            let positions: Vec<u32> = rows
                .iter()
                .map(|&s| (prompts[s].len() + outputs[s].len()).saturating_sub(1) as u32)
                .collect();
            let masks = step_masks(&rows, &pad, slot, cfg.sliding_window, decoder)?;
            // LongRoPE picks its table by the current length, as transformers does.
            let step_len = positions
                .iter()
                .copied()
                .max()
                .map_or(1, |p| p as usize + 1);
            let h =
                decoder.forward_step(&step_ids, &positions, slot, &mut cache, &masks, step_len)?;
            logits = decoder.raw_logits(&h)?;
            slot += 1;
        }
    }
    Ok(outputs)
}

/// Chooses each row's next token: greedy with the transformers repetition
/// penalty (a logit of an already seen token is divided by the penalty when
/// positive, multiplied when negative), ties to the lowest id as `argmax`.
enum Picker {
    /// On the host, from f32 logits: the seen tokens of each cache row.
    Host {
        seen: Vec<Vec<bool>>,
        cap: Option<f32>,
    },
    /// On the device: `[rows, vocab]` u8 seen flags, updated by the kernel.
    Device { seen: Tensor, cap: Option<f32> },
}

impl Picker {
    fn new(decoder: &Decoder, prompts: &[Vec<u32>], on_host: bool) -> Result<Self> {
        let vocab = decoder.config().vocab_size;
        let cap = decoder.final_softcap();
        let flags = |p: &Vec<u32>| {
            let mut s = vec![false; vocab];
            for &t in p {
                if let Some(x) = s.get_mut(t as usize) {
                    *x = true;
                }
            }
            s
        };
        if on_host {
            return Ok(Self::Host {
                seen: prompts.iter().map(flags).collect(),
                cap,
            });
        }
        let bytes: Vec<u8> = prompts
            .iter()
            .flat_map(|p| flags(p).into_iter().map(u8::from))
            .collect();
        let seen = Tensor::from_vec(bytes, (prompts.len(), vocab), decoder.device())?;
        Ok(Self::Device { seen, cap })
    }

    /// The next token of each cache row; `rows[r]` is the row's prompt (for
    /// error messages).
    fn pick(&mut self, logits: &Tensor, rows: &[usize], penalty: f32) -> Result<Vec<u32>> {
        match self {
            Self::Host { seen, cap } => {
                let logits = logits.to_dtype(candle_core::DType::F32)?;
                let logits = match cap {
                    Some(c) => crate::attention::softcap(&logits, *c as f64)?,
                    None => logits,
                };
                pick(&logits, rows, seen, penalty)
            }
            Self::Device { seen, cap } => crate::ops::greedy(logits, seen, penalty, *cap)?
                .into_iter()
                .zip(rows)
                .map(|(t, &seq)| {
                    t.ok_or_else(|| ModelError::NonFinite {
                        what: format!("logits while generating for prompt {seq}"),
                    })
                })
                .collect(),
        }
    }

    /// Keeps only the cache rows `keep` (host picker; the device keeps all).
    fn retain(&mut self, keep: &[u32]) {
        if let Self::Host { seen, .. } = self {
            *seen = keep
                .iter()
                .map(|&r| std::mem::take(&mut seen[r as usize]))
                .collect();
        }
    }
}

/// The host pick over f32 `logits` `[rows, vocab]`; `seen[r]` belongs to cache
/// row `r`.
fn pick(logits: &Tensor, rows: &[usize], seen: &mut [Vec<bool>], penalty: f32) -> Result<Vec<u32>> {
    let logits: Vec<Vec<f32>> = logits.to_vec2()?;
    let mut out = Vec::with_capacity(logits.len());
    for (r, (mut row, &seq)) in logits.into_iter().zip(rows).enumerate() {
        if row.iter().any(|x| x.is_nan()) {
            return Err(ModelError::NonFinite {
                what: format!("logits while generating for prompt {seq}"),
            });
        }
        if penalty != 1.0 {
            for (x, &s) in row.iter_mut().zip(&seen[r]) {
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
        if let Some(s) = seen[r].get_mut(best) {
            *s = true;
        }
        out.push(best as u32);
    }
    Ok(out)
}

/// The visible keys of each cache row at this step: from the row's first
/// real token (after its left padding) to `slot`, and for windowed layers
/// only the last `window` of them.
fn step_masks(
    rows: &[usize],
    pad: &[usize],
    slot: usize,
    window: Option<usize>,
    decoder: &Decoder,
) -> Result<StepMasks> {
    let groups = decoder.config().num_heads;
    let build = |w: usize| -> Result<Intervals> {
        let spans: Vec<(u32, u32)> = rows
            .iter()
            .map(|&s| {
                let lo = pad[s].max((slot + 1).saturating_sub(w));
                (lo as u32, (slot + 1) as u32)
            })
            .collect();
        // Score rows are (batch row, kv head, group): `num_heads` per row.
        Ok(Intervals::new(&spans, groups, decoder.device())?)
    };
    Ok(StepMasks {
        full: build(usize::MAX)?,
        windowed: window.map(build).transpose()?,
    })
}

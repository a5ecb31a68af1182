//! The decoder-only transformer: one implementation parameterised by
//! [`ModelConfig`] for every supported family.
//!
//! Two entry points: [`Decoder::forward_packed`] runs several sequences
//! concatenated along the token axis (no padding anywhere) and returns the final
//! hidden states — optionally after a [`SharedPrefix`] computed once for all of
//! them ([`Decoder::prefill_prefix`]); [`Decoder::forward_step`] advances a
//! batch of generations by one token against a [`KvCache`]. Logits are computed separately, only for the
//! rows that need them ([`Decoder::logits`]).

use std::ops::Range;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::attention::{self, Heads, IntervalCache, Prefix};
use crate::config::ModelConfig;
use crate::error::{ModelError, Result};
use crate::layer::{Layer, On, RmsNorm};
use crate::ops::Intervals;
use crate::rope::Rope;
use crate::weights::Weights;

/// Receives each layer's keys and values `[K, T, D]` (after RoPE) during a
/// packed forward pass; generation uses it to fill its cache.
pub type KvSink<'a> = &'a mut dyn FnMut(usize, &Tensor, &Tensor) -> Result<()>;

/// A loaded model.
pub struct Decoder {
    cfg: ModelConfig,
    embed: Tensor,
    lm_head: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    rope: Rope,
    heads: Heads,
    device: Device,
    dtype: DType,
    /// Applied to queries before attention (f32), else 1.
    q_scale: f64,
    /// Applied to scores inside the softmax (half precision, in f32 as
    /// transformers' attention kernels do), else 1.
    softmax_scale: f32,
}

/// Per-layer keys and values `[K, P, D]` of `P` tokens that several sequences
/// start with, computed once by [`Decoder::prefill_prefix`].
pub struct SharedPrefix {
    /// Keys of each layer, after RoPE.
    pub k: Vec<Tensor>,
    /// Values of each layer.
    pub v: Vec<Tensor>,
}

impl SharedPrefix {
    /// Number of prefix tokens.
    pub fn len(&self) -> usize {
        self.k.first().and_then(|k| k.dim(1).ok()).unwrap_or(0)
    }

    /// Whether the prefix holds no token.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The visible keys of each row of one generation step: `[pad, slot]`, and
/// the window's part of it for windowed layers.
pub struct StepMasks {
    /// For layers attending to the whole context.
    pub full: Intervals,
    /// For layers with a sliding window (when the model has one).
    pub windowed: Option<Intervals>,
}

/// Per-layer keys and values of a batch of generations, `[B, K, cap, D]` in
/// the compute dtype.
pub struct KvCache {
    k: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl KvCache {
    /// A zeroed cache for `batch` sequences of up to `cap` positions.
    pub fn new(
        cfg: &ModelConfig,
        batch: usize,
        cap: usize,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        let shape = (batch, cfg.num_kv_heads, cap, cfg.head_dim);
        let mut k = Vec::with_capacity(cfg.num_layers);
        let mut v = Vec::with_capacity(cfg.num_layers);
        for _ in 0..cfg.num_layers {
            k.push(Tensor::zeros(shape, dtype, device)?);
            v.push(Tensor::zeros(shape, dtype, device)?);
        }
        Ok(Self { k, v })
    }

    /// Writes `k`/`v` `[B, K, n, D]` of layer `layer` at position `at`.
    pub fn write(&mut self, layer: usize, at: usize, k: &Tensor, v: &Tensor) -> Result<()> {
        self.k[layer].slice_set(&k.contiguous()?, 2, at)?;
        self.v[layer].slice_set(&v.contiguous()?, 2, at)?;
        Ok(())
    }

    /// Keeps only the batch rows `rows` (in that order).
    pub fn retain(&mut self, rows: &[u32]) -> Result<()> {
        let idx = Tensor::new(rows, self.k[0].device())?;
        for t in self.k.iter_mut().chain(self.v.iter_mut()) {
            *t = t.index_select(&idx, 0)?;
        }
        Ok(())
    }
}

impl Decoder {
    /// Loads the weights of `dir` for `cfg` on `device`, computing in `dtype`.
    pub fn load(dir: &Path, cfg: ModelConfig, device: &Device, dtype: DType) -> Result<Self> {
        let w = Weights::open(dir)?;
        Self::from_weights(&w, cfg, device, dtype)
    }

    /// Builds the model from opened weights, computing in `dtype` (f32, bf16
    /// or f16): matrices and embeddings are converted to it once, norms stay
    /// in f32.
    pub fn from_weights(
        w: &Weights,
        cfg: ModelConfig,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        if !matches!(dtype, DType::F32 | DType::BF16 | DType::F16) {
            return Err(ModelError::UnsupportedPrecision {
                dtype: format!("{dtype:?}"),
                device: format!("{device:?}"),
                what: "the runtime".into(),
            });
        }
        let (v, h) = (cfg.vocab_size, cfg.hidden_size);
        let on = On { device, dtype };
        let embed = w.get("model.embed_tokens.weight", &[v, h], dtype, device)?;
        let lm_head = if cfg.tie_word_embeddings {
            embed.clone()
        } else {
            w.get("lm_head.weight", &[v, h], dtype, device)?
        };
        let layers = (0..cfg.num_layers)
            .map(|i| Layer::load(w, &cfg, i, on))
            .collect::<Result<Vec<_>>>()?;
        let norm = RmsNorm::load(w, "model.norm.weight", &cfg, device)?;
        let (q_scale, softmax_scale) = if dtype == DType::F32 {
            (cfg.attention_scale, 1.0)
        } else {
            (1.0, cfg.attention_scale as f32)
        };
        let heads = Heads {
            q: cfg.num_heads,
            kv: cfg.num_kv_heads,
            dim: cfg.head_dim,
            softcap: cfg.attn_logit_softcapping,
        };
        Ok(Self {
            rope: Rope::new(&cfg),
            norm,
            embed,
            lm_head,
            layers,
            heads,
            device: device.clone(),
            dtype,
            q_scale,
            softmax_scale,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// The lm-head matrix `[vocab, hidden]` (the embeddings when tied).
    pub fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype the model computes in.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The final logit soft-cap (Gemma2), if any.
    pub fn final_softcap(&self) -> Option<f32> {
        self.cfg.final_logit_softcapping.map(|c| c as f32)
    }

    fn embed(&self, ids: &[u32]) -> Result<Tensor> {
        if let Some(&bad) = ids.iter().find(|&&t| t as usize >= self.cfg.vocab_size) {
            return Err(ModelError::Input(format!(
                "token id {bad} is outside the vocabulary ({})",
                self.cfg.vocab_size
            )));
        }
        let idx = Tensor::new(ids, &self.device)?;
        let x = self.embed.index_select(&idx, 0)?;
        if self.cfg.scale_embeddings {
            // Gemma rounds the normaliser to the activation dtype first.
            let s = (self.cfg.hidden_size as f32).sqrt() as f64;
            return Ok((x * s)?);
        }
        Ok(x)
    }

    /// Splits `[n, (H+2K)·D]` into roped, scaled `q` `[n, H, D]`, roped `k` and
    /// `v` `[n, K, D]`.
    fn qkv(&self, x: &Tensor, layer: &Layer, cos: &Tensor, sin: &Tensor) -> Result<[Tensor; 3]> {
        let n = x.dim(0)?;
        let Heads {
            q: hq,
            kv: hk,
            dim: d,
            ..
        } = self.heads;
        let qkv = layer.qkv.forward(x)?;
        let q = qkv
            .narrow(1, 0, hq * d)?
            .contiguous()?
            .reshape((1, n, hq, d))?;
        let k = qkv
            .narrow(1, hq * d, hk * d)?
            .contiguous()?
            .reshape((1, n, hk, d))?;
        let v = qkv.narrow(1, (hq + hk) * d, hk * d)?.reshape((n, hk, d))?;
        let q = candle_nn::rotary_emb::rope_thd(&q, cos, sin)?;
        let q = if self.q_scale != 1.0 {
            (q * self.q_scale)?
        } else {
            q
        };
        let k = candle_nn::rotary_emb::rope_thd(&k, cos, sin)?;
        Ok([q.reshape((n, hq, d))?, k.reshape((n, hk, d))?, v])
    }

    /// Residual MLP half of a layer (shared by both paths).
    fn mlp_block(&self, layer: &Layer, h: Tensor) -> Result<Tensor> {
        let m = layer.mlp(&layer.pre_mlp_norm.forward(&h)?)?;
        let m = match &layer.post_mlp_norm {
            Some(n) => n.forward(&m)?,
            None => m,
        };
        Ok((h + m)?)
    }

    fn attn_residual(&self, layer: &Layer, x: &Tensor, a: &Tensor) -> Result<Tensor> {
        let o = layer.o.forward(a)?;
        let o = match &layer.post_attn_out_norm {
            Some(n) => n.forward(&o)?,
            None => o,
        };
        Ok((x + o)?)
    }

    /// Runs the packed sequences `seqs` (ranges into `ids`) and returns the
    /// final-normed hidden states `[T, hidden]`.
    pub fn forward_packed(
        &self,
        ids: &[u32],
        seqs: &[Range<usize>],
        sink: Option<KvSink<'_>>,
    ) -> Result<Tensor> {
        self.packed(ids, seqs, None, 0, sink)
    }

    /// Computes the keys and values of `ids`, a prefix shared by sequences of
    /// up to `max_len` tokens (LongRoPE picks its table by the full length).
    pub fn prefill_prefix(&self, ids: &[u32], max_len: usize) -> Result<SharedPrefix> {
        let mut k = Vec::with_capacity(self.layers.len());
        let mut v = Vec::with_capacity(self.layers.len());
        let mut sink = |_: usize, kk: &Tensor, vv: &Tensor| -> Result<()> {
            k.push(kk.clone());
            v.push(vv.clone());
            Ok(())
        };
        let whole = 0..ids.len();
        self.packed(
            ids,
            std::slice::from_ref(&whole),
            None,
            max_len,
            Some(&mut sink),
        )?;
        Ok(SharedPrefix { k, v })
    }

    /// [`Decoder::forward_packed`] for sequences that each continue `prefix`
    /// (their tokens sit at positions `prefix.len()..`); `max_len` is the full
    /// length of the longest, prefix included. The sink sees only the
    /// sequences' own keys and values.
    pub fn forward_packed_after(
        &self,
        prefix: &SharedPrefix,
        ids: &[u32],
        seqs: &[Range<usize>],
        max_len: usize,
        sink: Option<KvSink<'_>>,
    ) -> Result<Tensor> {
        if prefix.k.len() != self.layers.len() || prefix.v.len() != self.layers.len() {
            return Err(ModelError::Input(
                "the shared prefix belongs to another model".into(),
            ));
        }
        self.packed(ids, seqs, Some(prefix), max_len, sink)
    }

    fn packed(
        &self,
        ids: &[u32],
        seqs: &[Range<usize>],
        prefix: Option<&SharedPrefix>,
        rope_len: usize,
        mut sink: Option<KvSink<'_>>,
    ) -> Result<Tensor> {
        let offset = prefix.map_or(0, SharedPrefix::len);
        let mut positions = Vec::with_capacity(ids.len());
        let mut max_len = rope_len;
        for s in seqs {
            let end = offset + s.end.saturating_sub(s.start);
            positions.extend(offset as u32..end as u32);
            max_len = max_len.max(end);
        }
        if positions.len() != ids.len() {
            return Err(ModelError::Input(
                "sequence ranges do not cover the batch".into(),
            ));
        }
        let (cos, sin) = self
            .rope
            .tables(&positions, max_len, &self.device, self.dtype)?;
        let mut masks = IntervalCache::default();
        let mut x = self.embed(ids)?;
        for (i, layer) in self.layers.iter().enumerate() {
            let h = layer.input_norm.forward(&x)?;
            let [q, k, v] = self.qkv(&h, layer, &cos, &sin)?;
            let q = q.transpose(0, 1)?.contiguous()?;
            let k = k.transpose(0, 1)?.contiguous()?;
            let v = v.transpose(0, 1)?.contiguous()?;
            if let Some(sink) = sink.as_mut() {
                sink(i, &k, &v)?;
            }
            let pre = prefix.map(|p| Prefix {
                k: &p.k[i],
                v: &p.v[i],
            });
            let a = attention::packed(
                &q,
                &k,
                &v,
                seqs,
                pre,
                self.heads,
                layer.window,
                self.softmax_scale,
                &mut masks,
            )?;
            let h = self.attn_residual(layer, &x, &a)?;
            x = self.mlp_block(layer, h)?;
        }
        self.norm.forward(&x)
    }

    /// One generation step: `ids[b]` sits at position `positions[b]` of its
    /// sequence and is written to cache slot `slot`; `masks` hide each row's
    /// padding. Returns final-normed hidden states `[B, hidden]`.
    pub fn forward_step(
        &self,
        ids: &[u32],
        positions: &[u32],
        slot: usize,
        cache: &mut KvCache,
        masks: &StepMasks,
        max_len: usize,
    ) -> Result<Tensor> {
        let b = ids.len();
        let (cos, sin) = self
            .rope
            .tables(positions, max_len, &self.device, self.dtype)?;
        let mut x = self.embed(ids)?;
        for (i, layer) in self.layers.iter().enumerate() {
            let h = layer.input_norm.forward(&x)?;
            let [q, k, v] = self.qkv(&h, layer, &cos, &sin)?;
            let (hk, d) = (self.heads.kv, self.heads.dim);
            cache.write(
                i,
                slot,
                &k.reshape((b, hk, 1, d))?,
                &v.reshape((b, hk, 1, d))?,
            )?;
            let kc = cache.k[i].narrow(2, 0, slot + 1)?;
            let vc = cache.v[i].narrow(2, 0, slot + 1)?;
            let mask = match (&layer.window, &masks.windowed) {
                (Some(_), Some(w)) => w,
                _ => &masks.full,
            };
            let a = attention::cached(&q, &kc, &vc, mask, self.heads, self.softmax_scale)?;
            let h = self.attn_residual(layer, &x, &a)?;
            x = self.mlp_block(layer, h)?;
        }
        self.norm.forward(&x)
    }

    /// Logits `[n, vocab]` in the compute dtype for hidden states
    /// `[n, hidden]`, before Gemma2's final soft-cap ([`Self::final_softcap`],
    /// which the log-prob and greedy kernels apply in f32). Callers pass only
    /// the rows they need, in chunks.
    pub fn raw_logits(&self, hidden: &Tensor) -> Result<Tensor> {
        crate::layer::Linear {
            weight: self.lm_head.clone(),
            bias: None,
        }
        .forward(hidden)
    }

    /// Logits `[n, vocab]` in f32, with Gemma2's final soft-cap.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let l = self.raw_logits(hidden)?.to_dtype(DType::F32)?;
        match self.cfg.final_logit_softcapping {
            Some(c) => attention::softcap(&l, c),
            None => Ok(l),
        }
    }
}

//! Rotary position embeddings: inverse frequencies per scaling scheme and the
//! cos/sin tables for arbitrary (packed) positions.
//!
//! Frequencies are computed in f32 as transformers does, so positions far into
//! a long context round the same way as the reference implementation.

use candle_core::{DType, Device, Tensor};

use crate::config::{ModelConfig, RopeScaling};
use crate::error::Result;

/// Inverse frequencies of one model, for short and (LongRoPE) long contexts.
#[derive(Debug, Clone)]
pub struct Rope {
    short: Vec<f32>,
    long: Option<(usize, Vec<f32>)>,
    attention_factor: f32,
}

impl Rope {
    /// Builds the tables of `cfg`.
    pub fn new(cfg: &ModelConfig) -> Self {
        let dim = cfg.head_dim;
        let base = cfg.rope_theta as f32;
        let plain: Vec<f32> = (0..dim / 2)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / dim as f32))
            .collect();
        match &cfg.rope_scaling {
            RopeScaling::None => Self::plain(plain),
            RopeScaling::Linear { factor } => {
                Self::plain(plain.iter().map(|f| f / *factor as f32).collect())
            }
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            } => {
                let (factor, low, high, orig) = (
                    *factor as f32,
                    *low_freq_factor as f32,
                    *high_freq_factor as f32,
                    *original_max_position_embeddings as f32,
                );
                let low_wavelen = orig / low;
                let high_wavelen = orig / high;
                let scaled = plain
                    .iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f32::consts::PI / f;
                        if wavelen < high_wavelen {
                            f
                        } else if wavelen > low_wavelen {
                            f / factor
                        } else {
                            let smooth = (orig / wavelen - low) / (high - low);
                            (1.0 - smooth) * f / factor + smooth * f
                        }
                    })
                    .collect();
                Self::plain(scaled)
            }
            RopeScaling::LongRope {
                short_factor,
                long_factor,
                original_max_position_embeddings,
            } => {
                let apply = |factors: &[f64]| -> Vec<f32> {
                    plain
                        .iter()
                        .enumerate()
                        .map(|(i, &f)| f / factors.get(i).copied().unwrap_or(1.0) as f32)
                        .collect()
                };
                let orig = *original_max_position_embeddings;
                let scale = cfg.max_position_embeddings as f32 / orig.max(1) as f32;
                let attention_factor = if scale <= 1.0 {
                    1.0
                } else {
                    (1.0 + scale.ln() / (orig.max(2) as f32).ln()).sqrt()
                };
                Self {
                    short: apply(short_factor),
                    long: Some((orig, apply(long_factor))),
                    attention_factor,
                }
            }
        }
    }

    fn plain(inv_freq: Vec<f32>) -> Self {
        Self {
            short: inv_freq,
            long: None,
            attention_factor: 1.0,
        }
    }

    /// `(cos, sin)`, each `[positions.len(), head_dim / 2]`, for sequences whose
    /// longest is `max_len` tokens (LongRoPE switches tables on it): computed
    /// in f32 and rounded to `dtype`, as transformers does.
    pub fn tables(
        &self,
        positions: &[u32],
        max_len: usize,
        device: &Device,
        dtype: DType,
    ) -> Result<(Tensor, Tensor)> {
        let inv = match &self.long {
            Some((orig, long)) if max_len > *orig => long,
            _ => &self.short,
        };
        let half = inv.len();
        let mut cos = Vec::with_capacity(positions.len() * half);
        let mut sin = Vec::with_capacity(positions.len() * half);
        for &p in positions {
            for &f in inv {
                let angle = p as f32 * f;
                cos.push(angle.cos() * self.attention_factor);
                sin.push(angle.sin() * self.attention_factor);
            }
        }
        let n = positions.len();
        Ok((
            Tensor::from_vec(cos, (n, half), device)?.to_dtype(dtype)?,
            Tensor::from_vec(sin, (n, half), device)?.to_dtype(dtype)?,
        ))
    }
}

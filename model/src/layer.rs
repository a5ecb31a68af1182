//! One decoder layer's weights, loaded from Hugging Face tensor names into the
//! fused layout the runtime computes with (`qkv` and `gate_up` in one matmul).

use candle_core::{DType, Device, Tensor};

use crate::config::{Activation, ModelConfig};
use crate::error::Result;
use crate::ops::NormStyle;
use crate::weights::Weights;

/// A linear map `y = x·Wᵀ + b` with `W` stored `[out, in]` in the compute
/// dtype.
#[derive(Debug, Clone)]
pub struct Linear {
    /// The weight, `[out, in]`.
    pub weight: Tensor,
    /// The optional bias, `[out]`.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// Applies the map to `x` of shape `[n, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = if x.device().is_cpu()
            && x.dtype() == DType::F32
            && x.dim(0)? <= crate::matvec::MAX_ROWS
        {
            crate::matvec::matmul_small(&x.contiguous()?, &self.weight)?
        } else {
            x.matmul(&self.weight.t()?)?
        };
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }
}

/// An RMSNorm whose f32 weight already includes Gemma's `1 +` offset.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    /// Per-channel scale, always f32.
    pub weight: Tensor,
    /// Epsilon.
    pub eps: f32,
    /// How half-precision results round.
    pub style: NormStyle,
}

impl RmsNorm {
    /// Normalises the last dimension of `x`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(crate::ops::rms_norm(x, &self.weight, self.eps, self.style)?)
    }

    /// Loads the norm `name` of `cfg` (its weight in f32, the offset added in
    /// f32 as Gemma does).
    pub fn load(w: &Weights, name: &str, cfg: &ModelConfig, device: &Device) -> Result<Self> {
        let mut weight = w.get(name, &[cfg.hidden_size], DType::F32, device)?;
        if cfg.norm_weight_offset {
            weight = (weight + 1.0)?;
        }
        Ok(Self {
            weight,
            eps: cfg.rms_norm_eps as f32,
            style: if cfg.norm_weight_offset {
                NormStyle::F32Product
            } else {
                NormStyle::RoundFirst
            },
        })
    }
}

/// The weights of one decoder layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Norm before attention.
    pub input_norm: RmsNorm,
    /// Fused q, k, v projection: `[(H + 2K)·D, hidden]`.
    pub qkv: Linear,
    /// Attention output projection.
    pub o: Linear,
    /// Norm applied to the attention output (Gemma2) — else `None`.
    pub post_attn_out_norm: Option<RmsNorm>,
    /// Norm before the MLP (`post_attention_layernorm` in Llama naming).
    pub pre_mlp_norm: RmsNorm,
    /// Fused gate and up projections: `[2·I, hidden]`.
    pub gate_up: Linear,
    /// MLP down projection.
    pub down: Linear,
    /// Norm applied to the MLP output (Gemma2) — else `None`.
    pub post_mlp_norm: Option<RmsNorm>,
    /// The activation of the gate.
    pub activation: Activation,
    /// Sliding attention window of this layer.
    pub window: Option<usize>,
}

/// Where and in which dtype a layer's matrices are loaded.
#[derive(Debug, Clone, Copy)]
pub struct On<'a> {
    /// The device.
    pub device: &'a Device,
    /// The compute dtype.
    pub dtype: DType,
}

fn linear(
    w: &Weights,
    prefix: &str,
    out: usize,
    inp: usize,
    bias: bool,
    on: On<'_>,
) -> Result<Linear> {
    Ok(Linear {
        weight: w.get(
            &format!("{prefix}.weight"),
            &[out, inp],
            on.dtype,
            on.device,
        )?,
        bias: if bias {
            Some(w.get(&format!("{prefix}.bias"), &[out], on.dtype, on.device)?)
        } else {
            None
        },
    })
}

fn cat_linear(parts: &[Linear]) -> Result<Linear> {
    let weights: Vec<&Tensor> = parts.iter().map(|l| &l.weight).collect();
    let bias = if parts.iter().all(|l| l.bias.is_some()) {
        let b: Vec<&Tensor> = parts.iter().filter_map(|l| l.bias.as_ref()).collect();
        Some(Tensor::cat(&b, 0)?)
    } else {
        None
    };
    Ok(Linear {
        weight: Tensor::cat(&weights, 0)?,
        bias,
    })
}

impl Layer {
    /// Loads layer `i` of `cfg` from `w`.
    pub fn load(w: &Weights, cfg: &ModelConfig, i: usize, on: On<'_>) -> Result<Self> {
        let device = on.device;
        let p = format!("model.layers.{i}");
        let h = cfg.hidden_size;
        let (q, kv) = (
            cfg.num_heads * cfg.head_dim,
            cfg.num_kv_heads * cfg.head_dim,
        );
        let inter = cfg.intermediate_size;
        let (qkv, gate_up) = if cfg.fused_projections {
            (
                linear(
                    w,
                    &format!("{p}.self_attn.qkv_proj"),
                    q + 2 * kv,
                    h,
                    cfg.qkv_bias,
                    on,
                )?,
                linear(
                    w,
                    &format!("{p}.mlp.gate_up_proj"),
                    2 * inter,
                    h,
                    cfg.mlp_bias,
                    on,
                )?,
            )
        } else {
            let a = format!("{p}.self_attn");
            let m = format!("{p}.mlp");
            (
                cat_linear(&[
                    linear(w, &format!("{a}.q_proj"), q, h, cfg.qkv_bias, on)?,
                    linear(w, &format!("{a}.k_proj"), kv, h, cfg.qkv_bias, on)?,
                    linear(w, &format!("{a}.v_proj"), kv, h, cfg.qkv_bias, on)?,
                ])?,
                cat_linear(&[
                    linear(w, &format!("{m}.gate_proj"), inter, h, cfg.mlp_bias, on)?,
                    linear(w, &format!("{m}.up_proj"), inter, h, cfg.mlp_bias, on)?,
                ])?,
            )
        };
        let norm = |n: &str| RmsNorm::load(w, &format!("{p}.{n}.weight"), cfg, device);
        let (post_attn_out_norm, pre_mlp_norm, post_mlp_norm) = if cfg.sandwich_norms {
            (
                Some(norm("post_attention_layernorm")?),
                norm("pre_feedforward_layernorm")?,
                Some(norm("post_feedforward_layernorm")?),
            )
        } else {
            (None, norm("post_attention_layernorm")?, None)
        };
        Ok(Self {
            input_norm: norm("input_layernorm")?,
            qkv,
            o: linear(w, &format!("{p}.self_attn.o_proj"), h, q, cfg.o_bias, on)?,
            post_attn_out_norm,
            pre_mlp_norm,
            gate_up,
            down: linear(w, &format!("{p}.mlp.down_proj"), h, inter, cfg.mlp_bias, on)?,
            post_mlp_norm,
            activation: cfg.activation,
            window: cfg.layer_window(i),
        })
    }

    /// The gated MLP on `x` `[n, hidden]`.
    pub fn mlp(&self, x: &Tensor) -> Result<Tensor> {
        let gu = self.gate_up.forward(x)?;
        let inter = gu.dim(1)? / 2;
        let gate = gu.narrow(1, 0, inter)?;
        let up = gu.narrow(1, inter, inter)?;
        let h = match self.activation {
            Activation::Silu => crate::fastops::silu_mul(&gate, &up)?,
            Activation::GeluTanh => (gate.gelu()? * up)?,
            Activation::Gelu => (gate.gelu_erf()? * up)?,
        };
        self.down.forward(&h)
    }
}

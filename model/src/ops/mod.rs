//! Fused operations of the runtime, one implementation per device: CPU code
//! here, and CUDA kernels (`kernels.cu`, compiled to PTX by the build script
//! when the `cuda` feature is on) that do in one pass what candle would do in
//! several or on the host.
//!
//! - [`rms_norm`]: RMSNorm that rounds as transformers does in half precision;
//! - [`masked_softmax`]: attention probabilities with the mask computed from
//!   per-row key intervals instead of read from a mask tensor;
//! - [`lse_gather`]: `log p(target)` per row of logits, in f32;
//! - [`greedy`] (CUDA): penalised argmax of a generation step on the device.

mod greedy;
mod lse;
mod norm;
mod softmax;

pub use greedy::greedy;
pub use lse::lse_gather;
pub use norm::{rms_norm, NormStyle};
pub use softmax::{masked_softmax, Intervals};

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout};

/// Rows of a CPU operand, whatever its float dtype, read as f32.
pub(crate) enum FloatRows<'a> {
    /// f32 storage, borrowed.
    F32(&'a [f32]),
    /// bf16 storage.
    Bf16(&'a [half::bf16]),
    /// f16 storage.
    F16(&'a [half::f16]),
}

impl<'a> FloatRows<'a> {
    /// The contiguous float data of `s`.
    pub(crate) fn of(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<Self> {
        let Some((a, b)) = l.contiguous_offsets() else {
            candle_core::bail!("operand must be contiguous");
        };
        Ok(match s {
            CpuStorage::F32(v) => Self::F32(&v[a..b]),
            CpuStorage::BF16(v) => Self::Bf16(&v[a..b]),
            CpuStorage::F16(v) => Self::F16(&v[a..b]),
            other => candle_core::bail!("expected float data, got {:?}", other.dtype()),
        })
    }

    /// Elements `range`, converted to f32 into `out`.
    pub(crate) fn read(&self, range: std::ops::Range<usize>, out: &mut Vec<f32>) {
        out.clear();
        match self {
            Self::F32(v) => out.extend_from_slice(&v[range]),
            Self::Bf16(v) => out.extend(v[range].iter().map(|x| x.to_f32())),
            Self::F16(v) => out.extend(v[range].iter().map(|x| x.to_f32())),
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::F32(v) => v.len(),
            Self::Bf16(v) => v.len(),
            Self::F16(v) => v.len(),
        }
    }
}

/// Rounds `x` through `dtype` (a no-op for f32).
pub(crate) fn round_to(dtype: DType, x: f32) -> f32 {
    match dtype {
        DType::BF16 => half::bf16::from_f32(x).to_f32(),
        DType::F16 => half::f16::from_f32(x).to_f32(),
        _ => x,
    }
}

/// f32 values as CPU storage of `dtype` (bf16, f16 or f32).
pub(crate) fn storage_of(dtype: DType, v: Vec<f32>) -> candle_core::Result<CpuStorage> {
    Ok(match dtype {
        DType::F32 => CpuStorage::F32(v),
        DType::BF16 => CpuStorage::BF16(v.into_iter().map(half::bf16::from_f32).collect()),
        DType::F16 => CpuStorage::F16(v.into_iter().map(half::f16::from_f32).collect()),
        other => candle_core::bail!("no float storage for {other:?}"),
    })
}

#[cfg(feature = "cuda")]
pub(crate) mod cuda {
    //! Loading and launching the kernels of `kernels.cu`.

    use candle_core::cuda_backend::cudarc::driver::LaunchConfig;
    use candle_core::cuda_backend::CudaStorageSlice;
    use candle_core::DType;

    /// The PTX of `kernels.cu`, built for `CUDA_COMPUTE_CAP`.
    pub(crate) const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/gauntlet_kernels.ptx"));

    /// The name of kernel `name` for `dtype` (`name_bf16`, …).
    pub(crate) fn kernel_name(name: &str, dtype: DType) -> candle_core::Result<String> {
        let suffix = match dtype {
            DType::F32 => "f32",
            DType::BF16 => "bf16",
            DType::F16 => "f16",
            other => candle_core::bail!("{name}: unsupported dtype {other:?}"),
        };
        Ok(format!("{name}_{suffix}"))
    }

    /// Launches kernel `$name` for `$dtype` on `$dev` with `$cfg` and the
    /// arguments given (references that outlive the launch).
    macro_rules! launch {
        ($dev:expr, $name:expr, $dtype:expr, $cfg:expr; $($arg:expr),* $(,)?) => {{
            use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
            use candle_core::cuda_backend::WrapErr;
            let name = $crate::ops::cuda::kernel_name($name, $dtype)?;
            let func = $dev.get_or_load_custom_func(&name, "gauntlet", $crate::ops::cuda::PTX)?;
            let mut builder = func.builder();
            $( builder.arg($arg); )*
            // SAFETY: the arguments match the kernel's signature in
            // kernels.cu, and every buffer holds the elements the launch
            // configuration makes the kernel touch (checked by the caller).
            unsafe { builder.launch($cfg) }.w()?;
        }};
    }
    pub(crate) use launch;

    /// One block of `threads` per row.
    pub(crate) fn per_row(rows: usize, threads: u32) -> candle_core::Result<LaunchConfig> {
        let rows =
            u32::try_from(rows).map_err(|_| candle_core::Error::Msg(format!("{rows} rows")))?;
        Ok(LaunchConfig {
            grid_dim: (rows, 1, 1),
            block_dim: (threads, 1, 1),
            shared_mem_bytes: 0,
        })
    }

    /// Threads per row-block for rows of `cols` elements: a multiple of 32,
    /// at least 32 and at most 1024, about four elements per thread.
    pub(crate) fn threads_for(cols: usize) -> u32 {
        ((cols / 4).clamp(32, 1024) as u32)
            .next_power_of_two()
            .min(1024)
    }

    /// The dtype of a CUDA storage slice.
    pub(crate) fn dtype_of(s: &CudaStorageSlice) -> DType {
        match s {
            CudaStorageSlice::BF16(_) => DType::BF16,
            CudaStorageSlice::F16(_) => DType::F16,
            CudaStorageSlice::F32(_) => DType::F32,
            CudaStorageSlice::U32(_) => DType::U32,
            CudaStorageSlice::U8(_) => DType::U8,
            _ => DType::F64,
        }
    }
}

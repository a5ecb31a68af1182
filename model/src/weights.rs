//! Memory-mapped safetensors weights of a model directory (one file or shards).
//!
//! Headers are validated up front (the safetensors crate checks offsets against
//! the file length, so a truncated file or one claiming absurd sizes is refused
//! before any tensor is read); tensors are then read on demand with their shape
//! and dtype checked against what the config implies. The shard index is read
//! under its size cap, its shard names may not leave the directory, and no
//! file is opened through a symbolic link.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use memmap2::Mmap;
use safetensors::tensor::{Dtype, Metadata, TensorInfo};
use safetensors::SafeTensors;

use crate::error::{ModelError, Result};

struct Shard {
    path: PathBuf,
    mmap: Mmap,
    data_start: usize,
    metadata: Metadata,
}

/// The weights of a model: every `*.safetensors` file of its directory.
pub struct Weights {
    shards: Vec<Shard>,
    index: HashMap<String, usize>,
}

/// Shape and dtype of one stored tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorMeta {
    /// The stored dtype (`F32`, `BF16`, …).
    pub dtype: String,
    /// The shape.
    pub shape: Vec<usize>,
}

impl Weights {
    /// Opens the weights of `dir`: the shards listed by
    /// `model.safetensors.index.json` when present, else every `*.safetensors`.
    pub fn open(dir: &Path) -> Result<Self> {
        let files = shard_files(dir)?;
        let mut shards = Vec::with_capacity(files.len());
        let mut index = HashMap::new();
        for path in files {
            let file = crate::limits::open_regular(&path, "a safetensors shard")?;
            // SAFETY: the map is read-only and the file is not modified by this
            // process; a concurrent writer could change bytes under us, which
            // would at worst give wrong numbers, never unsoundness in safe code
            // that only reads plain bytes.
            let mmap = unsafe { Mmap::map(&file) }.map_err(|e| ModelError::io(&path, e))?;
            let (header, metadata) =
                SafeTensors::read_metadata(&mmap).map_err(|e| ModelError::Safetensors {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            for name in metadata.tensors().keys() {
                if index.insert(name.clone(), shards.len()).is_some() {
                    return Err(ModelError::Safetensors {
                        path: path.clone(),
                        reason: format!("tensor {name} appears in more than one file"),
                    });
                }
            }
            shards.push(Shard {
                path,
                mmap,
                data_start: 8 + header,
                metadata,
            });
        }
        Ok(Self { shards, index })
    }

    /// Names and metadata of every tensor, sorted by name.
    pub fn tensors(&self) -> BTreeMap<String, TensorMeta> {
        self.index
            .iter()
            .filter_map(|(name, &i)| {
                let info = self.shards[i].metadata.info(name)?;
                Some((name.clone(), meta(info)))
            })
            .collect()
    }

    /// Whether a tensor exists.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Total bytes of the weight files.
    pub fn total_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.mmap.len() as u64).sum()
    }

    /// Reads a tensor, checks its shape and converts it to `dtype` on `device`.
    pub fn get(
        &self,
        name: &str,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        self.check_shape(name, shape)?;
        self.get_any_shape(name, dtype, device)
    }

    /// Checks a tensor's stored shape against `shape` from the header alone,
    /// before any of its bytes is read.
    pub fn check_shape(&self, name: &str, shape: &[usize]) -> Result<()> {
        let (_, info) = self.info(name)?;
        if info.shape != shape {
            return Err(ModelError::TensorShape {
                path: self.path_of(name),
                name: name.into(),
                found: info.shape.clone(),
                expected: shape.to_vec(),
            });
        }
        Ok(())
    }

    /// Reads a tensor whatever its shape, converted to `dtype` on `device`.
    pub fn get_any_shape(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        let (shard, info) = self.info(name)?;
        let stored = match info.dtype {
            Dtype::F32 => DType::F32,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::BF16,
            Dtype::F64 => DType::F64,
            other => {
                return Err(ModelError::TensorDtype {
                    path: shard.path.clone(),
                    name: name.into(),
                    dtype: format!("{other:?}"),
                })
            }
        };
        let (a, b) = info.data_offsets;
        let bytes = shard
            .mmap
            .get(shard.data_start + a..shard.data_start + b)
            .ok_or_else(|| ModelError::Safetensors {
                path: shard.path.clone(),
                reason: format!("tensor {name} lies outside the file"),
            })?;
        // Straight from the map to the device, converted there: a bf16
        // checkpoint run in bf16 is never widened on the way.
        let t = Tensor::from_raw_buffer(bytes, stored, &info.shape, device)?;
        Ok(t.to_dtype(dtype)?)
    }

    /// A stored float tensor as it lies in the memory map: its dtype, shape
    /// and bytes (little-endian), with nothing converted or copied. The
    /// weight-norm check streams through it in chunks.
    pub fn raw(&self, name: &str) -> Result<RawTensor<'_>> {
        let (shard, info) = self.info(name)?;
        let dtype = match info.dtype {
            Dtype::F32 => FloatDtype::F32,
            Dtype::F16 => FloatDtype::F16,
            Dtype::BF16 => FloatDtype::BF16,
            Dtype::F64 => FloatDtype::F64,
            other => {
                return Err(ModelError::TensorDtype {
                    path: shard.path.clone(),
                    name: name.into(),
                    dtype: format!("{other:?}"),
                })
            }
        };
        let (a, b) = info.data_offsets;
        let bytes = shard
            .data_start
            .checked_add(a)
            .zip(shard.data_start.checked_add(b))
            .and_then(|(a, b)| shard.mmap.get(a..b))
            .ok_or_else(|| ModelError::Safetensors {
                path: shard.path.clone(),
                reason: format!("tensor {name} lies outside the file"),
            })?;
        let elements = info
            .shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.size()));
        if elements != Some(bytes.len()) {
            return Err(ModelError::Safetensors {
                path: shard.path.clone(),
                reason: format!("tensor {name}: its shape and dtype do not match its byte length"),
            });
        }
        Ok(RawTensor {
            dtype,
            shape: &info.shape,
            bytes,
        })
    }

    /// The shard and header entry of `name`.
    fn info(&self, name: &str) -> Result<(&Shard, &TensorInfo)> {
        let Some(&i) = self.index.get(name) else {
            return Err(ModelError::MissingTensor {
                path: self
                    .shards
                    .first()
                    .map(|s| s.path.clone())
                    .unwrap_or_default(),
                name: name.into(),
            });
        };
        let shard = &self.shards[i];
        let info = shard
            .metadata
            .info(name)
            .ok_or_else(|| ModelError::MissingTensor {
                path: shard.path.clone(),
                name: name.into(),
            })?;
        Ok((shard, info))
    }

    /// The file that holds `name` (or the first file), for error messages.
    pub fn path_of(&self, name: &str) -> PathBuf {
        let i = self.index.get(name).copied().unwrap_or(0);
        self.shards
            .get(i)
            .map(|s| s.path.clone())
            .unwrap_or_default()
    }
}

/// The float types a stored tensor may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatDtype {
    /// 64-bit IEEE.
    F64,
    /// 32-bit IEEE.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
}

impl FloatDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F64 => 8,
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
        }
    }

    /// Decodes the little-endian element at the start of `b` (of at least
    /// [`FloatDtype::size`] bytes) to f64.
    pub fn decode(self, b: &[u8]) -> f64 {
        match self {
            Self::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            Self::F32 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Self::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f64(),
            Self::BF16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f64(),
        }
    }
}

/// A stored tensor's bytes in the memory map (see [`Weights::raw`]).
#[derive(Debug, Clone, Copy)]
pub struct RawTensor<'a> {
    /// The stored dtype.
    pub dtype: FloatDtype,
    /// The stored shape.
    pub shape: &'a [usize],
    /// The elements, little-endian, row-major.
    pub bytes: &'a [u8],
}

fn meta(info: &TensorInfo) -> TensorMeta {
    TensorMeta {
        dtype: format!("{:?}", info.dtype),
        shape: info.shape.clone(),
    }
}

fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    if crate::limits::exists(&index) {
        let text =
            crate::limits::read_capped(&index, crate::limits::MAX_INDEX_BYTES, "the shard index")?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::Safetensors {
                path: index.clone(),
                reason: e.to_string(),
            })?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| ModelError::Safetensors {
                path: index.clone(),
                reason: "no `weight_map` object".into(),
            })?;
        let mut files: Vec<String> = map
            .values()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        files.sort();
        files.dedup();
        let mut out = Vec::new();
        for f in files {
            if f.contains('/') || f.contains('\\') || f.starts_with('.') {
                return Err(ModelError::Safetensors {
                    path: index.clone(),
                    reason: format!("shard name {f:?} leaves the model directory"),
                });
            }
            let p = dir.join(&f);
            if !crate::limits::exists(&p) {
                return Err(ModelError::Missing {
                    path: p,
                    what: "a shard listed in model.safetensors.index.json",
                });
            }
            out.push(p);
        }
        return Ok(out);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ModelError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(ModelError::Missing {
            path: dir.join("model.safetensors"),
            what: "the model weights (*.safetensors)",
        });
    }
    Ok(files)
}

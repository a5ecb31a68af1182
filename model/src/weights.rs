//! Memory-mapped safetensors weights of a model directory (one file or shards).
//!
//! Headers are validated up front (the safetensors crate checks offsets against
//! the file length, so a truncated file or one claiming absurd sizes is refused
//! before any tensor is read); tensors are then read on demand with their shape
//! and dtype checked against what the config implies.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
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
            let file = File::open(&path).map_err(|e| ModelError::io(&path, e))?;
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
        let t = self.get_any_shape(name, dtype, device)?;
        if t.dims() != shape {
            return Err(ModelError::TensorShape {
                path: self.path_of(name),
                name: name.into(),
                found: t.dims().to_vec(),
                expected: shape.to_vec(),
            });
        }
        Ok(t)
    }

    /// Reads a tensor whatever its shape, converted to `dtype` on `device`.
    pub fn get_any_shape(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
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

    /// The file that holds `name` (or the first file), for error messages.
    pub fn path_of(&self, name: &str) -> PathBuf {
        let i = self.index.get(name).copied().unwrap_or(0);
        self.shards
            .get(i)
            .map(|s| s.path.clone())
            .unwrap_or_default()
    }
}

fn meta(info: &TensorInfo) -> TensorMeta {
    TensorMeta {
        dtype: format!("{:?}", info.dtype),
        shape: info.shape.clone(),
    }
}

fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
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
            if !p.is_file() {
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

//! Streaming f32 safetensors writer: dequantises one GGUF tensor at a time, so peak memory is
//! one tensor rather than the whole model.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::{DType, Device};

use super::tensors::{unpermute_qk, Plan, Planned, Source};
use super::ImportError;

/// Checks that every tensor's data lies within the file (`file_len` bytes), so a truncated
/// file is refused before anything is written.
pub(crate) fn check_extent(
    path: &Path,
    content: &Content,
    file_len: u64,
) -> Result<(), ImportError> {
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    for name in names {
        let Some(info) = content.tensor_infos.get(name) else {
            continue;
        };
        let (block, size) = (info.ggml_dtype.block_size(), info.ggml_dtype.type_size());
        let dims = info.shape.dims();
        let Some(elems) = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)) else {
            return Err(ImportError::Malformed {
                path: path.to_path_buf(),
                reason: format!("tensor {name:?} has an impossible shape {dims:?}"),
            });
        };
        if block == 0 || elems % block != 0 {
            return Err(ImportError::Malformed {
                path: path.to_path_buf(),
                reason: format!("tensor {name:?}: {elems} elements do not fill blocks of {block}"),
            });
        }
        let end = (elems / block)
            .checked_mul(size)
            .and_then(|n| u64::try_from(n).ok())
            .and_then(|n| {
                content
                    .tensor_data_offset
                    .checked_add(info.offset)?
                    .checked_add(n)
            });
        match end {
            Some(end) if end <= file_len => {}
            _ => {
                return Err(ImportError::Truncated {
                    path: path.to_path_buf(),
                    reason: format!(
                        "tensor {name:?} ends past the end of the file ({file_len} bytes)"
                    ),
                })
            }
        }
    }
    Ok(())
}

/// What [`write_safetensors`] wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written {
    pub(crate) tensors: usize,
    pub(crate) parameters: u64,
    pub(crate) bytes: u64,
}

/// Writes `plan` as f32 safetensors to `out`, one tensor in memory at a time.
pub(crate) fn write_safetensors<R: Read + Seek>(
    reader: &mut R,
    content: &Content,
    plan: &Plan,
    source: &Path,
    out: &Path,
) -> Result<Written, ImportError> {
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".to_string(),
        serde_json::json!({"format": "pt"}),
    );
    let mut offset = 0usize;
    let mut parameters = 0u64;
    for t in &plan.tensors {
        let n: usize = t.shape.iter().product();
        let end = offset + n * 4;
        header.insert(
            t.hf_name.clone(),
            serde_json::json!({"dtype": "F32", "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
        parameters += n as u64;
    }
    let mut header = serde_json::to_vec(&header).map_err(|e| ImportError::Json {
        path: out.to_path_buf(),
        source: e,
    })?;
    header.resize(header.len().next_multiple_of(8), b' ');

    let partial = out.with_extension("safetensors.partial");
    let result = (|| {
        let file = File::create(&partial).map_err(|e| ImportError::io(&partial, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let io = |e| ImportError::io(&partial, e);
        w.write_all(&(header.len() as u64).to_le_bytes())
            .map_err(io)?;
        w.write_all(&header).map_err(io)?;
        let mut buf = Vec::with_capacity(1 << 18);
        for t in &plan.tensors {
            let data = tensor_data(reader, content, t, source)?;
            for chunk in data.chunks(1 << 16) {
                buf.clear();
                chunk
                    .iter()
                    .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
                w.write_all(&buf).map_err(io)?;
            }
        }
        let file = w
            .into_inner()
            .map_err(|e| ImportError::io(&partial, e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&partial, out).map_err(|e| ImportError::io(out, e))
    })();
    if result.is_err() {
        // Best effort: the partial file is useless once the import failed.
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    Ok(Written {
        tensors: plan.tensors.len(),
        parameters,
        bytes: (8 + header.len() + offset) as u64,
    })
}

/// The f32 data of one planned tensor, in Hugging Face layout.
fn tensor_data<R: Read + Seek>(
    reader: &mut R,
    content: &Content,
    t: &Planned,
    source: &Path,
) -> Result<Vec<f32>, ImportError> {
    let n: usize = t.shape.iter().product();
    let Source::Gguf {
        name,
        unpermute_heads,
    } = &t.source
    else {
        return Ok(vec![0.0; n]);
    };
    let qt = content
        .tensor(reader, name, &Device::Cpu)
        .map_err(|e| ImportError::from_tensor_read(source, name, e))?;
    let tensor_err = |e| ImportError::Tensor {
        path: source.to_path_buf(),
        name: name.clone(),
        source: Box::new(e),
    };
    let mut w = qt
        .dequantize(&Device::Cpu)
        .and_then(|w| w.to_dtype(DType::F32))
        .map_err(tensor_err)?;
    if w.dims() != t.shape.as_slice() {
        return Err(ImportError::ShapeMismatch {
            path: source.to_path_buf(),
            name: name.clone(),
            expected: t.shape.clone(),
            found: w.dims().to_vec(),
        });
    }
    if let Some(heads) = unpermute_heads {
        w = unpermute_qk(&w, *heads).map_err(tensor_err)?;
    }
    w.flatten_all()
        .and_then(|w| w.to_vec1::<f32>())
        .map_err(tensor_err)
}

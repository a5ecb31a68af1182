//! The demo's miner models, derived from one base model: the model as is, a
//! perturbed fine-tune, and one that breaks the weight-norm constraint.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};

/// Copies every file of `base` into `out` (a fresh directory).
pub fn copy_model(base: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for entry in std::fs::read_dir(base).with_context(|| format!("reading {}", base.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), out.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Copies `base` into `out`, multiplying by `factor` every tensor whose name
/// contains one of `patterns` (single-file `model.safetensors` models).
pub fn scaled_variant(base: &Path, out: &Path, patterns: &[&str], factor: f64) -> Result<()> {
    copy_model(base, out)?;
    let file = out.join("model.safetensors");
    let tensors = candle_core::safetensors::load(&file, &Device::Cpu)
        .with_context(|| format!("reading {}", file.display()))?;
    let mut changed = 0;
    let mut scaled: Vec<(String, Tensor)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        if patterns.iter().any(|p| name.contains(p)) {
            scaled.push((name, t.affine(factor, 0.0)?));
            changed += 1;
        } else {
            scaled.push((name, t));
        }
    }
    anyhow::ensure!(
        changed > 0,
        "no tensor of {} matches {patterns:?}",
        file.display()
    );
    let map: std::collections::HashMap<String, Tensor> = scaled.into_iter().collect();
    candle_core::safetensors::save(&map, &file)
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(())
}

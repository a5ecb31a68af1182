//! Integration tests of gauntlet-hub: `LocalHub` on temporary directories and `HfHub`
//! against a local server speaking the Hugging Face Hub API.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod fake_hf;
mod hf;
mod local;

use std::path::Path;

/// Writes `files` (relative path, contents) under `root`.
pub fn write_tree(root: &Path, files: &[(&str, Vec<u8>)]) {
    for (rel, data) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

/// A small model directory: text files, a binary weights file, a nested file and an
/// empty one.
pub fn model_files(seed: u8) -> Vec<(&'static str, Vec<u8>)> {
    let weights: Vec<u8> = (0..5000u32)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect();
    vec![
        (
            "config.json",
            format!("{{\"model_type\": \"llama\", \"seed\": {seed}}}\n").into_bytes(),
        ),
        ("model.safetensors", weights),
        ("tokenizer/vocab.txt", b"a\nb\nc\n".to_vec()),
        ("README.md", Vec::new()),
    ]
}

/// Every file under `dir` as (relative path, contents), sorted.
pub fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

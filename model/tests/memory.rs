//! Peak memory of scoring one 4,096-token sequence on SmolLM2-135M stays under
//! 2 GiB: the lm-head runs in chunks and attention in query blocks, so neither
//! `[seq, vocab]` logits nor a full `[heads, seq, seq]` score matrix is held.
//! Its own test binary, so no other test shares the process's peak RSS.

use std::path::PathBuf;

use gauntlet_evals::ScoreRequest;
use gauntlet_model::{DeviceKind, Model};

fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

#[test]
fn scoring_4096_tokens_peaks_under_2_gib() {
    let dir = std::env::var_os("GAUNTLET_SMOLLM2_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gauntlet/smollm2/hf"))
        });
    let Some(dir) = dir.filter(|d| d.join("model.safetensors").is_file()) else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and SmolLM2 (GAUNTLET_SMOLLM2_DIR) is missing");
        }
        eprintln!("skipping: SmolLM2 not found (set GAUNTLET_SMOLLM2_DIR)");
        return;
    };
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipping: no /proc to read peak RSS from");
        return;
    }
    let m = Model::load(&dir, DeviceKind::Cpu).expect("load");
    let tokens: Vec<u32> = (0..4096u32).map(|i| (i * 7919) % 40_000 + 100).collect();
    let out = m.score(&[ScoreRequest::full(tokens)]).expect("score");
    assert_eq!(out[0].len(), 4095);
    let peak = peak_rss_bytes();
    assert!(peak > 0);
    assert!(peak < 2 << 30, "peak RSS {} MiB", peak >> 20);
    eprintln!("peak RSS scoring 4096 tokens: {} MiB", peak >> 20);
}

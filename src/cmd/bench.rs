//! `gauntlet bench`: scoring and generation throughput, peak memory and
//! achieved GFLOP/s against the measured f32 matmul peak of this machine.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use gauntlet_evals::{GenerateOptions, ScoreRequest};
use gauntlet_model::{Model, ModelConfig};
use serde::Serialize;

use super::{print_json, RuntimeArgs};

/// Arguments of `gauntlet bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// Scoring workloads, `SEQUENCESxTOKENS` each (every position scored).
    #[arg(long, value_delimiter = ',', default_value = "8x512", value_parser = parse_shape)]
    score: Vec<(usize, usize)>,
    /// Prompt tokens before each generation.
    #[arg(long, default_value_t = 16)]
    prompt_len: usize,
    /// New tokens per generation run.
    #[arg(long, default_value_t = 64)]
    gen_tokens: usize,
    /// Generation batch sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    gen_batches: Vec<usize>,
    /// Repetitions; the best is reported.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Print the table as JSON.
    #[arg(long)]
    json: bool,
    /// Device and precision.
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// One row of the table.
#[derive(Serialize)]
struct Row {
    workload: String,
    batch: usize,
    seq_len: usize,
    threads: usize,
    seconds: f64,
    tokens_per_s: f64,
    gflops: f64,
    peak_fraction: f64,
    peak_rss_mib: f64,
}

#[derive(Serialize)]
struct Report {
    device: String,
    dtype: String,
    /// The matmul the peak was measured on.
    matmul: String,
    matmul_peak_gflops: f64,
    rows: Vec<Row>,
}

/// Parses `BxN`.
fn parse_shape(s: &str) -> Result<(usize, usize), String> {
    let (b, n) = s
        .split_once('x')
        .ok_or_else(|| format!("{s:?}: expected SEQUENCESxTOKENS, e.g. 8x512"))?;
    let b: usize = b
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: bad sequence count"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: bad token count"))?;
    if b == 0 || n < 2 {
        return Err(format!("{s:?}: need at least 1 sequence of 2 tokens"));
    }
    Ok((b, n))
}

/// Resets the kernel's peak-RSS counter of this process (Linux).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size in MiB (Linux `VmHWM`), 0 elsewhere.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Forward FLOPs of one token at context length `ctx`, with or without the lm-head.
fn flops_per_token(cfg: &ModelConfig, ctx: f64, lm_head: bool) -> f64 {
    let h = cfg.hidden_size as f64;
    let q = (cfg.num_heads * cfg.head_dim) as f64;
    let kv = (cfg.num_kv_heads * cfg.head_dim) as f64;
    let i = cfg.intermediate_size as f64;
    let layer = 2.0 * (h * q + 2.0 * h * kv + q * h + 3.0 * h * i) + 4.0 * q * ctx;
    let head = if lm_head {
        2.0 * h * cfg.vocab_size as f64
    } else {
        0.0
    };
    cfg.num_layers as f64 * layer + head
}

/// The matmul rate of `dtype` on `device`: 2048³ on the CPU, 8192³ on a GPU
/// (where a small product cannot fill the chip). Returns (label, GFLOP/s).
fn matmul_peak(device: &Device, dtype: DType, reps: usize) -> Result<(String, f64)> {
    let n = if device.is_cpu() { 2048 } else { 8192 };
    let a = Tensor::randn(0f32, 1.0, (n, n), device)?.to_dtype(dtype)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), device)?.to_dtype(dtype)?;
    let mut best = f64::MAX;
    for _ in 0..reps.max(2) + 1 {
        device.synchronize()?;
        let t = Instant::now();
        let c = a.matmul(&b)?;
        device.synchronize()?;
        best = best.min(t.elapsed().as_secs_f64());
        drop(c);
    }
    Ok((
        format!("{dtype:?} {n}x{n}x{n}").to_lowercase(),
        2.0 * (n as f64).powi(3) / best / 1e9,
    ))
}

/// `n` pseudo-random ids of a `vocab`-token vocabulary, away from its first
/// and last 500 ids (special tokens) when it is large enough to have them.
fn tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let vocab = vocab.max(1) as u64;
    let (low, span) = if vocab > 2_000 {
        (500, vocab - 1_000)
    } else {
        (0, vocab)
    };
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % span + low) as u32
        })
        .collect()
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let model = Model::load(&args.model, args.runtime.placement())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let cfg = model.config().clone();
    let device = model.decoder().device().clone();
    let threads = rayon::current_num_threads();
    let (matmul, peak) = matmul_peak(&device, model.decoder().dtype(), args.reps)?;
    let mut rows = Vec::new();

    for &(b, n) in &args.score {
        let batch: Vec<ScoreRequest> = (0..b)
            .map(|i| ScoreRequest::full(tokens(n, cfg.vocab_size, i as u64 + 1)))
            .collect();
        // One untimed pass: a GPU loads its kernels on first use.
        model.score(&batch)?;
        reset_peak_rss();
        let mut best = f64::MAX;
        for _ in 0..args.reps {
            let t = Instant::now();
            model.score(&batch)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        let n_tok = (b * n) as f64;
        let flops = n_tok * flops_per_token(&cfg, n as f64 / 2.0, true);
        rows.push(Row {
            workload: "score".into(),
            batch: b,
            seq_len: n,
            threads,
            seconds: best,
            tokens_per_s: n_tok / best,
            gflops: flops / best / 1e9,
            peak_fraction: flops / best / 1e9 / peak,
            peak_rss_mib: peak_rss_mib(),
        });
    }

    let prompt_len = args.prompt_len.max(1);
    for &b in &args.gen_batches {
        let prompts: Vec<Vec<u32>> = (0..b)
            .map(|i| tokens(prompt_len, cfg.vocab_size, 100 + i as u64))
            .collect();
        let opts = GenerateOptions {
            max_new_tokens: args.gen_tokens,
            ignore_eos: true,
            ..GenerateOptions::default()
        };
        model.generate_tokens(&prompts, &opts)?;
        reset_peak_rss();
        let mut best = f64::MAX;
        for _ in 0..args.reps {
            let t = Instant::now();
            model.generate_tokens(&prompts, &opts)?;
            best = best.min(t.elapsed().as_secs_f64());
        }
        let n_new = (b * args.gen_tokens) as f64;
        let ctx = prompt_len as f64 + args.gen_tokens as f64 / 2.0;
        let flops = n_new * flops_per_token(&cfg, ctx, true);
        rows.push(Row {
            workload: "generate".into(),
            batch: b,
            seq_len: prompt_len + args.gen_tokens,
            threads,
            seconds: best,
            tokens_per_s: n_new / best,
            gflops: flops / best / 1e9,
            peak_fraction: flops / best / 1e9 / peak,
            peak_rss_mib: peak_rss_mib(),
        });
    }
    let report = Report {
        device: args.runtime.placement().device.name().into(),
        dtype: model.precision().name().into(),
        matmul,
        matmul_peak_gflops: peak,
        rows,
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "{} on {}: matmul peak ({}, candle) {:.1} GFLOP/s, {threads} threads",
        report.dtype, report.device, report.matmul, report.matmul_peak_gflops
    );
    println!(
        "{:<10} {:>5} {:>7} {:>7} {:>9} {:>10} {:>8} {:>6} {:>9}",
        "workload", "batch", "seq", "threads", "seconds", "tokens/s", "GFLOP/s", "peak%", "RSS MiB"
    );
    for r in &report.rows {
        println!(
            "{:<10} {:>5} {:>7} {:>7} {:>9.3} {:>10.1} {:>8.1} {:>5.0}% {:>9.0}",
            r.workload,
            r.batch,
            r.seq_len,
            r.threads,
            r.seconds,
            r.tokens_per_s,
            r.gflops,
            100.0 * r.peak_fraction,
            r.peak_rss_mib
        );
    }
    Ok(())
}

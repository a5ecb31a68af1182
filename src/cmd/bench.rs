//! `gauntlet bench`: scoring and generation throughput, peak memory and
//! achieved GFLOP/s against the measured f32 matmul peak of this machine.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use gauntlet_evals::{GenerateOptions, ScoreRequest};
use gauntlet_model::{Model, ModelConfig};
use serde::Serialize;

use super::{print_json, DeviceArg};

/// Arguments of `gauntlet bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// Sequences per scoring batch.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Tokens per scored sequence.
    #[arg(long, default_value_t = 512)]
    seq: usize,
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
    /// Where to run.
    #[arg(long, value_enum, default_value_t)]
    device: DeviceArg,
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
    matmul_peak_gflops: f64,
    rows: Vec<Row>,
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

fn matmul_peak(device: &Device, reps: usize) -> Result<f64> {
    let n = 2048;
    let a = Tensor::randn(0f32, 1.0, (n, n), device)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), device)?;
    let mut best = f64::MAX;
    for _ in 0..reps.max(2) {
        let t = Instant::now();
        let c = a.matmul(&b)?;
        let _ = c.to_dtype(DType::F32)?.sum_all()?.to_scalar::<f32>()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

fn tokens(n: usize, vocab: usize, seed: u64) -> Vec<u32> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % (vocab as u64 - 1000) + 500) as u32
        })
        .collect()
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let model = Model::load(&args.model, args.device.into())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let cfg = model.config().clone();
    let device = model.decoder().device().clone();
    let threads = rayon::current_num_threads();
    let peak = matmul_peak(&device, args.reps)?;
    let mut rows = Vec::new();

    let batch: Vec<ScoreRequest> = (0..args.batch)
        .map(|i| ScoreRequest::full(tokens(args.seq, cfg.vocab_size, i as u64 + 1)))
        .collect();
    reset_peak_rss();
    let mut best = f64::MAX;
    for _ in 0..args.reps {
        let t = Instant::now();
        model.score(&batch)?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    let n_tok = (args.batch * args.seq) as f64;
    let flops = n_tok * flops_per_token(&cfg, args.seq as f64 / 2.0, true);
    rows.push(Row {
        workload: "score".into(),
        batch: args.batch,
        seq_len: args.seq,
        threads,
        seconds: best,
        tokens_per_s: n_tok / best,
        gflops: flops / best / 1e9,
        peak_fraction: flops / best / 1e9 / peak,
        peak_rss_mib: peak_rss_mib(),
    });

    let prompt_len = 16;
    for &b in &args.gen_batches {
        let prompts: Vec<Vec<u32>> = (0..b)
            .map(|i| tokens(prompt_len, cfg.vocab_size, 100 + i as u64))
            .collect();
        let opts = GenerateOptions {
            max_new_tokens: args.gen_tokens,
            ignore_eos: true,
            ..GenerateOptions::default()
        };
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
        matmul_peak_gflops: peak,
        rows,
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "f32 matmul peak (2048³, candle): {:.1} GFLOP/s, {threads} threads",
        report.matmul_peak_gflops
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

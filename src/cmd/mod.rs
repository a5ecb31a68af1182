//! One module per subcommand.

pub mod audit;
pub mod backends;
pub mod bench;
pub mod chain_admin;
pub mod check;
pub mod competitions;
pub mod consensus;
pub mod dashboard;
pub mod data;
pub mod demo;
pub mod eval;
pub mod import_gguf;
pub mod leaderboard;
pub mod ledger;
pub mod loss;
pub mod miner;
pub mod miner_eval;
pub mod parquet;
pub mod pool;
pub mod rerun;
pub mod serve;
pub mod validator;
pub mod wallet;

use clap::ValueEnum;
use gauntlet_model::{DeviceKind, Placement, Precision};

/// `--device` values.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum DeviceArg {
    /// The CPU (f32 by default).
    #[default]
    Cpu,
    /// The first CUDA GPU (bf16 by default; build with `--features cuda`).
    Cuda,
}

/// `--dtype` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DtypeArg {
    /// 32-bit floats (the CPU's default).
    F32,
    /// bfloat16 (the GPU's default, as validators run 8B models).
    Bf16,
    /// IEEE half precision.
    F16,
}

impl From<DtypeArg> for Precision {
    fn from(d: DtypeArg) -> Self {
        match d {
            DtypeArg::F32 => Precision::F32,
            DtypeArg::Bf16 => Precision::Bf16,
            DtypeArg::F16 => Precision::F16,
        }
    }
}

/// Where a command that loads models runs them: `--device` and `--dtype`.
#[derive(Debug, Clone, Copy, clap::Args, Default)]
pub struct RuntimeArgs {
    /// Where to run.
    #[arg(long, value_enum, default_value_t)]
    pub device: DeviceArg,
    /// Compute precision (default: bf16 on cuda, f32 on cpu). Log-softmax
    /// and losses accumulate in f32 whatever this is.
    #[arg(long, value_enum)]
    pub dtype: Option<DtypeArg>,
}

impl RuntimeArgs {
    /// The placement these arguments ask for.
    pub fn placement(&self) -> Placement {
        Placement::new(self.device.into(), self.dtype.map(Into::into))
    }
}

impl From<DeviceArg> for DeviceKind {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Cpu => DeviceKind::Cpu,
            DeviceArg::Cuda => DeviceKind::Cuda,
        }
    }
}

/// `text` with control characters and bidirectional overrides escaped
/// (`\u{1b}`, `\u{202e}`), for terminals: a miner-controlled string never
/// moves the cursor, rewrites a line or reorders what follows it.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

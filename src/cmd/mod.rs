//! One module per subcommand.

pub mod backends;
pub mod bench;
pub mod chain_admin;
pub mod check;
pub mod competitions;
pub mod data;
pub mod demo;
pub mod eval;
pub mod import_gguf;
pub mod loss;
pub mod miner;
pub mod miner_eval;
pub mod validator;
pub mod wallet;

use clap::ValueEnum;
use gauntlet_model::DeviceKind;

/// `--device` values.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum DeviceArg {
    /// The CPU (f32).
    #[default]
    Cpu,
    /// The first CUDA GPU (build with `--features cuda`).
    Cuda,
}

impl From<DeviceArg> for DeviceKind {
    fn from(d: DeviceArg) -> Self {
        match d {
            DeviceArg::Cpu => DeviceKind::Cpu,
            DeviceArg::Cuda => DeviceKind::Cuda,
        }
    }
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

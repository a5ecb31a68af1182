//! The sandbox's flags (`validator run`) and its child (`validator
//! evaluate-one`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_hub::CacheBudget;
use gauntlet_model::DeviceKind;
use gauntlet_validator::sandbox::ProcessSandbox;
use gauntlet_validator::Isolation;

/// How `validator run` isolates, bounds and times each model.
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Address-space limit of each model's evaluating process, in MiB
    /// (default: 90 % of the machine's memory on the CPU; none on CUDA,
    /// whose driver reserves more address space than any limit allows).
    #[arg(long)]
    memory_limit_mib: Option<u64>,
    /// Override every competition's per-model deadline, in seconds.
    #[arg(long)]
    pub eval_timeout: Option<u64>,
    /// Deadline of one model's download, in seconds (default: one minute
    /// plus one per GiB of the competition's size cap).
    #[arg(long)]
    pub download_timeout: Option<u64>,
    /// CUDA devices to evaluate on in parallel, one model per device
    /// (e.g. `--gpus 0,1,2,3`; with `--device cuda`).
    #[arg(long, value_delimiter = ',')]
    pub gpus: Vec<u32>,
    /// Most GiB the model cache may hold (least recently used revisions not
    /// in play are evicted first); default: only the disk limits it.
    #[arg(long)]
    cache_max_gib: Option<u64>,
    /// MiB to leave free on the cache's disk after each download.
    #[arg(long, default_value_t = 1024)]
    cache_reserve_mib: u64,
    /// Evaluate models inside the validator's own process: no isolation, no
    /// memory limit, no deadline. For debugging only.
    #[arg(long)]
    in_process: bool,
}

impl SandboxArgs {
    /// The model cache's budget.
    pub fn cache_budget(&self) -> CacheBudget {
        CacheBudget {
            max_bytes: self.cache_max_gib.map(|g| g.saturating_mul(1 << 30)),
            reserve_bytes: self.cache_reserve_mib.saturating_mul(1 << 20),
        }
    }

    /// The isolation asked for: a child of this very executable per model.
    pub fn isolation(&self, device: DeviceKind) -> Result<Isolation> {
        if self.in_process {
            tracing::warn!("--in-process: models run inside the validator, without limits");
            return Ok(Isolation::InProcess);
        }
        let exe = std::env::current_exe().context("finding the gauntlet executable")?;
        let memory = match (self.memory_limit_mib, device) {
            (Some(mib), _) => Some(mib.saturating_mul(1 << 20)),
            (None, DeviceKind::Cuda) => None,
            (None, DeviceKind::Cpu) => default_memory_limit(),
        };
        Ok(Isolation::Process(ProcessSandbox::new(exe, memory)))
    }
}

/// 90 % of `MemTotal` from `/proc/meminfo`, when it can be read.
pub(crate) fn default_memory_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 10 * 9)
}

/// Arguments of the hidden `gauntlet validator evaluate-one`.
#[derive(clap::Args)]
pub struct EvaluateOneArgs {
    /// The job file the validator wrote.
    #[arg(long)]
    job: PathBuf,
}

/// Runs one sandboxed evaluation and exits with its status code.
pub fn evaluate_one(args: EvaluateOneArgs) -> Result<()> {
    let code = gauntlet_validator::sandbox::child_main(&args.job);
    if code == 0 {
        Ok(())
    } else {
        std::process::exit(code)
    }
}

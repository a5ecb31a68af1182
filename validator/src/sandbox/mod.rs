//! Isolation: every model is checked, loaded and evaluated in a child
//! process of the `gauntlet` binary (`gauntlet validator evaluate-one`),
//! under an address-space limit and the competition's wall-clock deadline,
//! so that nothing a miner's files do — a panic, an abort, a runaway loop, an
//! allocation the size of the machine — reaches the validator. The
//! validator's process never parses a miner's file.
//!
//! [`Isolation::InProcess`] runs the same code in the calling process, with
//! no limit: only for tests and tools that ask for it explicitly.

mod child;
mod guard;
mod job;
mod oom;
mod process;

use std::time::Duration;

pub use child::{child_main, evaluate_one};
pub use job::{ChildLine, ChildOutcome, Job, SampleScores};
pub use oom::OomAware;
pub use process::ProcessSandbox;

/// How a validator isolates the evaluation of each model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// One child process per model (the default of `gauntlet validator run`).
    Process(ProcessSandbox),
    /// In the validator's own process, without limits or deadline: a crash
    /// takes the validator with it. For tests.
    InProcess,
}

impl Isolation {
    /// Runs `job` under this isolation; `deadline` and `gpu` apply to child
    /// processes only.
    pub fn run(&self, job: &Job, deadline: Duration, gpu: Option<u32>) -> ChildOutcome {
        match self {
            Isolation::Process(sandbox) => sandbox.run(job, deadline, gpu),
            Isolation::InProcess => evaluate_one(job, &mut || {}),
        }
    }

    /// How many models may be evaluated at once: one per listed GPU for
    /// child processes, one in process.
    pub fn parallelism(&self, gpus: &[u32]) -> usize {
        match self {
            Isolation::Process(_) => gpus.len().max(1),
            Isolation::InProcess => 1,
        }
    }
}

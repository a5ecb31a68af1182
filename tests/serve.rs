//! `gauntlet serve` against the local runtime: INSTRUCT_8B's evals (and
//! multiple choice by likelihood on the same questions) run on SmolLM2
//! through the runtime directly and through `gauntlet serve` with the
//! OpenAI-compatible client, on the same prepared items. They agree:
//! identical multiple-choice letters and IFEval responses, losses within
//! 1e-4 nats. Needs SmolLM2 and the datasets (a failure under CI when
//! missing).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[path = "common/endpoint.rs"]
mod endpoint;

use std::process::Command;
use std::time::Duration;

use gauntlet_competitions::Registry;
use gauntlet_evals::backend::Local;
use gauntlet_evals::EvalMethod;
use gauntlet_model::{DeviceKind, Model};
use gauntlet_remote::{Dialect, RemoteOptions};

use endpoint::{compare, datasets, instruct_8b, prepared, remote, run, smollm2_dir, spawn_until};

/// Samples per task: enough items to compare, few enough for a CPU.
const SAMPLES: u32 = 6;

#[test]
fn instruct_8b_through_gauntlet_serve_agrees_with_the_local_runtime() {
    let (Some(dir), Some(())) = (smollm2_dir(), datasets()) else {
        return;
    };
    let mut serve = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    serve
        .args(["serve", "--port", "0", "--name", "smollm2", "--model"])
        .arg(&dir);
    let (_server, base) = spawn_until(serve, Duration::from_secs(120), |l| {
        l.starts_with("http://")
    });

    let registry = Registry::builtin().unwrap();
    let (active, set) = instruct_8b(&registry);
    let tasks = prepared(&active, &set, SAMPLES);
    let max_tokens = active.competition.constraints.sequence_length as usize;
    let mut model = Model::load(&dir, DeviceKind::Cpu).unwrap();
    let dir_name = dir.display().to_string();
    let mut client = remote(
        &base,
        "smollm2",
        &dir,
        RemoteOptions {
            dialect: Dialect::Gauntlet,
            ..RemoteOptions::default()
        },
    );
    assert!(client.offers_logprobs());
    let mut seen = Vec::new();
    for task in &tasks {
        let method = task.task.method;
        let local = run(
            task,
            &mut Local::new(&mut model, dir_name.clone()),
            max_tokens,
        );
        let served = run(task, &mut client, max_tokens);
        let a = compare(method, &local, &served);
        eprintln!("{} ({method}): {a:?}", task.name);
        assert!(a.items > 0, "{}: nothing compared", task.name);
        match method {
            EvalMethod::MultipleChoice | EvalMethod::IfEval | EvalMethod::GoogleIfeval => {
                assert_eq!(a.same, a.items, "{}: {a:?}", task.name);
                assert_eq!(local.raw_score, served.raw_score, "{}", task.name);
            }
            EvalMethod::MultipleChoiceLikelihood => {
                assert_eq!(a.same, a.items, "{}: {a:?}", task.name);
                assert!(a.max_loss_diff < 1e-4, "{}: {a:?}", task.name);
            }
            _ => {
                assert!(a.max_loss_diff < 1e-4, "{}: {a:?}", task.name);
                assert!(a.raw_diff < 1e-4, "{}: {a:?}", task.name);
            }
        }
        seen.push(method);
    }
    for m in [
        EvalMethod::MultipleChoice,
        EvalMethod::ReferenceLoss,
        EvalMethod::TextLoss,
        EvalMethod::IfEval,
        EvalMethod::MultipleChoiceLikelihood,
    ] {
        assert!(seen.contains(&m), "{m} not run: {seen:?}");
    }
    let usage = gauntlet_evals::backend::Backend::usage(&client);
    assert!(usage.requests > 0 && usage.prompt_tokens > 0, "{usage:?}");
}

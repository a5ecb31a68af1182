//! The same evals against a server no one here wrote: llama-cpp-python's
//! OpenAI-compatible server (`scripts/llama-cpp/setup-venv.sh` installs it)
//! serving the SmolLM2 GGUF that Gauntlet's SmolLM2 directory was imported
//! from. llama.cpp computes in its own kernels (Q4_1 weights, activations
//! quantised to 8 bits), so the agreement is close, not exact; the measured
//! figures are in docs/REMOTE.md and the bounds below hold them with room.
//!
//! Runs when the server's Python is present (`$GAUNTLET_LLAMA_PYTHON`, else
//! `.venv-llama/bin/python`); skips with a message otherwise, unless
//! `GAUNTLET_LLAMA_REQUIRED` is set (then a missing server fails).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[path = "common/endpoint.rs"]
mod endpoint;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use gauntlet_competitions::Registry;
use gauntlet_evals::backend::Local;
use gauntlet_evals::EvalMethod;
use gauntlet_model::{DeviceKind, Model};
use gauntlet_remote::{Dialect, RemoteOptions};

use endpoint::{
    compare, datasets, instruct_8b, prepared, remote, run, smollm2_dir, try_run, wait_for, Killed,
};

/// Samples per task.
const SAMPLES: u32 = 6;

/// The server's Python, when llama-cpp-python is installed there.
fn llama_python() -> Option<PathBuf> {
    let python = std::env::var_os("GAUNTLET_LLAMA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-llama/bin/python")
        });
    let ok = python.is_file()
        && Command::new(&python)
            .args(["-c", "import llama_cpp.server"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let why = format!(
        "llama-cpp-python's server is not installed at {} (run scripts/llama-cpp/setup-venv.sh)",
        python.display()
    );
    if std::env::var_os("GAUNTLET_LLAMA_REQUIRED").is_some() {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    None
}

/// The GGUF the SmolLM2 directory was imported from.
fn gguf() -> Option<PathBuf> {
    let path = std::env::var_os("GAUNTLET_SMOLLM2_GGUF")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            gauntlet_datasets::DataCache::from_env()
                .root
                .join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    endpoint::required(
        path.is_file().then_some(path.clone()),
        &format!(
            "the SmolLM2 GGUF is not at {} (set GAUNTLET_SMOLLM2_GGUF)",
            path.display()
        ),
    )
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn instruct_8b_through_llama_cpp_python_agrees_closely_with_the_local_runtime() {
    let Some(python) = llama_python() else {
        return;
    };
    let (Some(dir), Some(gguf), Some(())) = (smollm2_dir(), gguf(), datasets()) else {
        return;
    };
    let port = free_port();
    let mut child = Killed(
        Command::new(&python)
            .args(["-m", "llama_cpp.server", "--model"])
            .arg(&gguf)
            .args([
                "--model_alias",
                "smollm2",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--n_ctx",
                "8192",
                "--logits_all",
                "true",
                // The repeat penalty's window over every generated token, as
                // transformers has it (llama.cpp's default: the last 64).
                "--last_n_tokens_size",
                "8192",
                "--seed",
                "0",
                "--verbose",
                "false",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(120),
        &mut child,
    );
    let base = format!("http://127.0.0.1:{port}/v1");

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
            dialect: Dialect::LlamaCpp,
            // llama-cpp-python's server runs one request at a time.
            concurrency: 1,
            timeout: Duration::from_secs(600),
            ..RemoteOptions::default()
        },
    );
    assert!(
        client.offers_logprobs(),
        "llama.cpp returns prompt log-probs with logits_all"
    );
    let (mut report, mut failures) = (Vec::new(), Vec::new());
    for task in &tasks {
        let method = task.task.method;
        let local = run(
            task,
            &mut Local::new(&mut model, dir_name.clone()),
            max_tokens,
        );
        if method == EvalMethod::TextLoss {
            // llama-cpp-python scores a prompt without BOS one position off
            // (SmolLM2 adds none): Gauntlet refuses rather than score it.
            match try_run(task, &mut client, max_tokens) {
                Err(e) if e.contains("one position off") => {
                    let line = format!("{} ({method}): refused: {e}", task.name);
                    eprintln!("{line}");
                    report.push(line);
                }
                other => failures.push(format!("{}: not refused: {other:?}", task.name)),
            }
            continue;
        }
        let served = run(task, &mut client, max_tokens);
        let a = compare(method, &local, &served);
        let line = format!(
            "{} ({method}): local {:.4}, llama.cpp {:.4}; {}/{} items agree, max per-sample diff {:.4}",
            task.name, local.raw_score, served.raw_score, a.same, a.items, a.max_loss_diff
        );
        let line = match method {
            EvalMethod::MultipleChoice | EvalMethod::MultipleChoiceLikelihood => format!(
                "{line}; letters {} vs {}",
                letters(&local),
                letters(&served)
            ),
            _ => line,
        };
        eprintln!("{line}");
        report.push(line);
        if !served.raw_score.is_finite() {
            failures.push(format!("{}: not finite", task.name));
        }
        let agrees = match method {
            // The letters' likelihoods on slightly different logits (Q4_1
            // weights, quantised activations): most letters agree.
            EvalMethod::MultipleChoiceLikelihood => a.same * 3 >= a.items * 2,
            // Generation cannot agree: llama.cpp's repeat penalty leaves the
            // prompt's tokens out, transformers' (which the evals follow)
            // penalises them, so answers differ from the first token; and
            // long generations diverge once one token differs. Only finite
            // scores are asked for.
            EvalMethod::MultipleChoice | EvalMethod::IfEval | EvalMethod::GoogleIfeval => true,
            _ => a.raw_diff < 0.05,
        };
        if !agrees {
            failures.push(format!("{}: {a:?}", task.name));
        }
    }
    eprintln!("agreement with llama.cpp:\n{}", report.join("\n"));
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The multiple-choice answers of a report, one character each (`-`: none).
fn letters(score: &gauntlet_evals::EvalScore) -> String {
    score.report["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    i["pred"]
                        .as_str()
                        .and_then(|p| p.chars().next())
                        .unwrap_or('-')
                })
                .collect()
        })
        .unwrap_or_default()
}

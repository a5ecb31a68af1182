//! The `gauntlet` binary end to end on tiny models generated in code: JSON
//! contracts of `loss` and `eval`, and bad input as clear errors with a
//! non-zero exit code.

use std::path::Path;
use std::process::{Command, Output};

use gauntlet_model::testing::{write_tiny_model, TinySpec};
use gauntlet_model::Architecture;

fn gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .output()
        .expect("run gauntlet")
}

fn tiny() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    write_tiny_model(d.path(), &TinySpec::new(Architecture::Llama)).expect("tiny");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

/// Runs `gauntlet eval --task TASK --data DATA --json` on `model`; it must
/// succeed, and its stdout is returned as JSON.
fn eval_json(model: &Path, task: &str, data: &str) -> serde_json::Value {
    let o = gauntlet(&[
        "eval",
        "--model",
        &model.to_string_lossy(),
        "--task",
        task,
        "--data",
        data,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command failed and its error names `needle` (the file and the problem).
fn assert_fails_with(o: &Output, needle: &str) {
    assert!(!o.status.success(), "expected failure, got success");
    assert!(
        stderr(o).contains(needle),
        "{needle:?} not in: {}",
        stderr(o)
    );
}

#[test]
fn loss_prints_one_json_line_per_input_and_truncates_long_texts() {
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    // The tiny model's context is 512 tokens, one byte per token.
    let long = "x".repeat(700);
    let input = write(
        io.path(),
        "in.jsonl",
        &format!("{{\"text\": \"hello world\"}}\n{{\"text\": \"{long}\"}}\n"),
    );
    let o = gauntlet(&[
        "loss",
        "--model",
        &m.path().to_string_lossy(),
        "--input",
        &input,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["tokens"], 11);
    assert!(lines[0]["mean_nll"].as_f64().expect("nll") > 0.0);
    assert_eq!(lines[1]["tokens"], 512);
    assert_eq!(lines[1]["truncated_from"], 700);
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
}

#[test]
fn bad_inputs_exit_non_zero_with_the_file_and_problem() {
    let m = tiny();
    let model = m.path().to_string_lossy().into_owned();
    let io = tempfile::tempdir().expect("tempdir");

    let empty_line = write(
        io.path(),
        "a.jsonl",
        "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n",
    );
    let o = gauntlet(&["loss", "--model", &model, "--input", &empty_line]);
    assert_fails_with(&o, "a.jsonl:2: empty line");

    let bad_json = write(io.path(), "b.jsonl", "{\"txt\": 1}\n");
    let o = gauntlet(&["loss", "--model", &model, "--input", &bad_json]);
    assert_fails_with(&o, "b.jsonl:1: malformed line");

    let good = write(io.path(), "c.jsonl", "{\"text\": \"abc\"}\n");
    let broken = tiny();
    std::fs::write(broken.path().join("config.json"), "{").expect("write");
    let o = gauntlet(&[
        "loss",
        "--model",
        &broken.path().to_string_lossy(),
        "--input",
        &good,
    ]);
    assert_fails_with(&o, "config.json: malformed config");

    let mc = write(
        io.path(),
        "mc.jsonl",
        "{\"question\": \"q\", \"choices\": [\"x\", \"y\"], \"answer\": \"C\"}\n",
    );
    let o = gauntlet(&[
        "eval",
        "--model",
        &model,
        "--task",
        "multiple-choice",
        "--data",
        &mc,
    ]);
    assert_fails_with(&o, "mc.jsonl:1: `answer` \"C\"");
}

#[test]
fn nan_model_is_reported_not_scored() {
    let m = tiny();
    let path = m.path().join("model.safetensors");
    let dev = candle_core::Device::Cpu;
    let mut t = candle_core::safetensors::load(&path, &dev).expect("load");
    let w = (t["model.norm.weight"].clone() * f64::NAN).expect("nan");
    t.insert("model.norm.weight".into(), w);
    candle_core::safetensors::save(&t, &path).expect("save");
    let io = tempfile::tempdir().expect("tempdir");
    let input = write(io.path(), "in.jsonl", "{\"text\": \"hello\"}\n");
    let o = gauntlet(&[
        "loss",
        "--model",
        &m.path().to_string_lossy(),
        "--input",
        &input,
        "--json",
    ]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty(), "no loss may be printed");
    assert!(stderr(&o).contains("NaN"), "{}", stderr(&o));
}

#[test]
fn multiple_choice_json_has_the_contract_fields() {
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    let data = write(
        io.path(),
        "mc.jsonl",
        "{\"question\": \"2+2?\", \"choices\": [\"3\", \"4\", \"5\", \"6\"], \"answer\": \"B\"}\n\
         {\"question\": \"Sky?\", \"choices\": [\"blue\", \"red\", \"green\", \"black\"], \"answer\": \"A\"}\n",
    );
    let v = eval_json(m.path(), "multiple-choice", &data);
    assert_eq!(v["n"], 2);
    let raw = v["raw_score"].as_f64().expect("raw");
    assert!((0.0..=1.0).contains(&raw));
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for it in items {
        assert!(it["pred"].is_null() || it["pred"].is_string());
        assert!(it["completion"].is_string());
    }
}

#[test]
fn text_loss_json_scores_every_document_after_the_sanity_guard() {
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    let data = write(
        io.path(),
        "docs.jsonl",
        "{\"text\": \"The quick brown fox jumps over the lazy dog near the river bank.\"}\n\
         {\"text\": \"Rust programs are compiled ahead of time into native machine code.\"}\n\
         {\"text\": \"A third document about validators, miners and their models.\"}\n",
    );
    let v = eval_json(m.path(), "text-loss", &data);
    assert_eq!(v["n"], 3);
    let per: Vec<f64> = v["per_sample"]
        .as_array()
        .expect("per_sample")
        .iter()
        .map(|x| x.as_f64().expect("a loss per document"))
        .collect();
    let mean = per.iter().sum::<f64>() / 3.0;
    let raw = v["raw_score"].as_f64().expect("raw");
    assert!(raw.is_finite() && raw > 0.0);
    assert!((raw - mean).abs() < 1e-9);
}

#[test]
fn multiple_choice_likelihood_json_has_a_prediction_per_item() {
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    let data = write(
        io.path(),
        "mc.jsonl",
        "{\"question\": \"2+2?\", \"choices\": [\"3\", \"4\", \"5\", \"6\"], \"answer\": \"B\"}\n\
         {\"question\": \"Sky?\", \"choices\": [\"blue\", \"red\", \"green\", \"black\"], \"answer\": \"A\"}\n\
         {\"question\": \"Sun?\", \"choices\": [\"hot\", \"cold\"], \"answer\": \"A\"}\n",
    );
    let v = eval_json(m.path(), "multiple-choice-likelihood", &data);
    assert_eq!(v["n"], 3);
    let items = v["items"].as_array().expect("items");
    let wrong = items.iter().filter(|i| i["correct"] == false).count();
    assert_eq!(v["raw_score"].as_f64(), Some(wrong as f64 / 3.0));
    for (it, n_choices) in items.iter().zip([4, 4, 2]) {
        let lps = it["logprobs"].as_array().expect("logprobs");
        assert_eq!(lps.len(), n_choices, "one log-probability per choice");
        assert!(lps.iter().all(|l| l.as_f64().is_some_and(|x| x < 0.0)));
        let pred = it["pred"].as_str().expect("pred");
        assert!(["A", "B", "C", "D"][..n_choices].contains(&pred));
    }
}

#[test]
fn chain_admin_commands_refuse_subtensor_instead_of_acting_locally() {
    let home = tempfile::tempdir().expect("tempdir");
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .env("GAUNTLET_HOME", home.path())
        .args(["chain", "advance", "--chain", "subtensor", "5"])
        .output()
        .expect("runs");
    assert_fails_with(&o, "embedded local chain only");
    assert!(
        !home.path().join("chain.sqlite").exists(),
        "no local chain may be created"
    );
}

#[test]
fn demo_refuses_a_directory_that_holds_an_earlier_demo() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("chain.sqlite"), b"").expect("write");
    let o = gauntlet(&["demo", "--dir", &dir.path().to_string_lossy()]);
    assert_fails_with(&o, "already holds a demo");
}

#[test]
fn loss_takes_token_ids_and_prints_per_token_log_probs_in_every_dtype() {
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    let input = write(
        io.path(),
        "ids.jsonl",
        "{\"ids\": [5, 17, 200, 3, 9]}\n{\"text\": \"hello\"}\n",
    );
    let model = m.path().to_string_lossy().into_owned();
    let mut per_dtype = Vec::new();
    for dtype in ["f32", "bf16", "f16"] {
        let o = gauntlet(&[
            "loss",
            "--model",
            &model,
            "--input",
            &input,
            "--json",
            "--per-token",
            "--dtype",
            dtype,
        ]);
        assert!(o.status.success(), "{dtype}: {}", stderr(&o));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines[0]["tokens"], 5);
        let lps: Vec<f64> = lines[0]["logprobs"]
            .as_array()
            .expect("logprobs")
            .iter()
            .map(|v| v.as_f64().expect("f64"))
            .collect();
        assert_eq!(lps.len(), 4, "{dtype}");
        let mean = -lps.iter().sum::<f64>() / 4.0;
        let nll = lines[0]["mean_nll"].as_f64().expect("nll");
        assert!((mean - nll).abs() < 1e-5, "{dtype}: {mean} vs {nll}");
        per_dtype.push(lps);
    }
    // Half precision stays near f32 on the same weights.
    for half in &per_dtype[1..] {
        for (a, b) in per_dtype[0].iter().zip(half) {
            assert!((a - b).abs() < 0.25, "{a} vs {b}");
        }
    }
    // Exactly one of `text` and `ids` per line.
    let both = write(
        io.path(),
        "both.jsonl",
        "{\"text\": \"a\", \"ids\": [1, 2]}\n",
    );
    assert_fails_with(
        &gauntlet(&["loss", "--model", &model, "--input", &both]),
        "exactly one of `text` and `ids`",
    );
}

#[test]
fn cuda_in_a_cpu_build_is_a_clear_error() {
    if cfg!(feature = "cuda") {
        return;
    }
    let m = tiny();
    let io = tempfile::tempdir().expect("tempdir");
    let input = write(io.path(), "in.jsonl", "{\"text\": \"hello\"}\n");
    let o = gauntlet(&[
        "loss",
        "--model",
        &m.path().to_string_lossy(),
        "--input",
        &input,
        "--device",
        "cuda",
    ]);
    assert_fails_with(&o, "built without CUDA support");
    assert_fails_with(&o, "--features cuda");
}

#[test]
fn bench_reports_every_workload_asked_for_as_json() {
    let m = tiny();
    let o = gauntlet(&[
        "bench",
        "--model",
        &m.path().to_string_lossy(),
        "--score",
        "2x16,1x40",
        "--gen-batches",
        "1,3",
        "--gen-tokens",
        "4",
        "--prompt-len",
        "5",
        "--reps",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(r["device"], "cpu");
    assert_eq!(r["dtype"], "f32");
    let rows = r["rows"].as_array().expect("rows");
    let shapes: Vec<(String, u64, u64)> = rows
        .iter()
        .map(|row| {
            (
                row["workload"].as_str().expect("workload").to_owned(),
                row["batch"].as_u64().expect("batch"),
                row["seq_len"].as_u64().expect("seq"),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        vec![
            ("score".into(), 2, 16),
            ("score".into(), 1, 40),
            ("generate".into(), 1, 9),
            ("generate".into(), 3, 9)
        ]
    );
    assert!(rows
        .iter()
        .all(|row| row["tokens_per_s"].as_f64().expect("rate") > 0.0));
    assert_fails_with(
        &gauntlet(&[
            "bench",
            "--model",
            &m.path().to_string_lossy(),
            "--score",
            "3by4",
        ]),
        "SEQUENCESxTOKENS",
    );
}

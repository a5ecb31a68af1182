//! The runtime against transformers: the tiny models of every variant must give
//! the token log-probabilities and greedy generations that transformers gives
//! (recorded in `tests/data/tiny_reference.json` by
//! `scripts/reference/tiny_reference.py`, float32, eager attention).

use gauntlet_evals::{GenerateOptions, ScoreRequest};
use gauntlet_model::testing::{tiny_variants, write_tiny_model};
use gauntlet_model::{DeviceKind, Model};
use serde_json::Value;

fn seq(n: usize, seed: u32) -> Vec<u32> {
    (0..n as u32)
        .map(|i| (i * 31 + seed * 17 + 3) % 256)
        .collect()
}

fn reference() -> Value {
    let text = include_str!("data/tiny_reference.json");
    serde_json::from_str(text).expect("reference JSON parses")
}

fn num(v: &Value, k: &str) -> usize {
    v[k].as_u64().expect("number") as usize
}

#[test]
fn every_variant_matches_transformers() {
    let reference = reference();
    for (name, spec) in tiny_variants() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tiny_model(dir.path(), &spec).expect("write");
        let m = Model::load(dir.path(), DeviceKind::Cpu).expect("load");
        let r = &reference[name];
        assert!(
            r.is_object(),
            "no reference for {name}: regenerate tiny_reference.json"
        );
        let mut worst = 0f32;
        for case in r["logprobs"].as_array().expect("cases") {
            let ids = seq(num(case, "n"), num(case, "seed") as u32);
            let want: Vec<f32> = case["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|v| v.as_f64().expect("f64") as f32)
                .collect();
            let got = m.score(&[ScoreRequest::full(ids)]).expect("score");
            assert_eq!(got[0].len(), want.len(), "{name}");
            for (g, w) in got[0].iter().zip(&want) {
                worst = worst.max((g - w).abs());
            }
        }
        assert!(worst < 1e-4, "{name}: max |Δ log p| = {worst}");
        for case in r["generate"].as_array().expect("cases") {
            let ids = seq(num(case, "n"), num(case, "seed") as u32);
            let want: Vec<u32> = case["tokens"]
                .as_array()
                .expect("tokens")
                .iter()
                .map(|v| v.as_u64().expect("u64") as u32)
                .collect();
            let opts = GenerateOptions {
                max_new_tokens: 10,
                repetition_penalty: 1.3,
                ignore_eos: true,
                ..GenerateOptions::default()
            };
            let got = m.generate_tokens(&[ids], &opts).expect("generate");
            assert_eq!(
                got[0], want,
                "{name}: greedy generation differs from transformers"
            );
        }
    }
}

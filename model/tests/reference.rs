//! The runtime against transformers: the tiny models of every variant must give
//! the token log-probabilities and greedy generations that transformers gives
//! (recorded in `tests/data/tiny_reference.json` by
//! `scripts/reference/tiny_reference.py`, float32, eager attention).

use gauntlet_evals::{GenerateOptions, ScoreRequest};
use gauntlet_model::testing::{tiny_variants, write_tiny_model};
use gauntlet_model::{DeviceKind, Model, Placement, Precision};
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

/// The repetition penalty of the reference generations.
const PENALTY: f32 = 1.3;

/// The last position's penalised logits (as greedy decoding compares them)
/// of the two `tokens` after `context`, through the packed forward pass.
fn penalised_logits(m: &Model, context: &[u32], tokens: [u32; 2]) -> (f32, f32) {
    let d = m.decoder();
    let h = d
        .forward_packed(context, std::slice::from_ref(&(0..context.len())), None)
        .and_then(|h| Ok(h.narrow(0, context.len() - 1, 1)?))
        .and_then(|h| d.logits(&h))
        .expect("logits");
    let row: Vec<f32> = h.squeeze(0).and_then(|r| r.to_vec1()).expect("row");
    let pen = |t: u32| {
        let x = row[t as usize];
        match (context.contains(&t), x < 0.0) {
            (false, _) => x,
            (true, true) => x * PENALTY,
            (true, false) => x / PENALTY,
        }
    };
    (pen(tokens[0]), pen(tokens[1]))
}

/// Scores and greedy generations of every tiny variant in `precision` against
/// `reference`; fails when a log-prob differs by `tol` or more, or when more
/// than `max_gen_diff` generated tokens (over all cases) differ after a step
/// where the two choices were not tied within `tie` (relative) in this
/// runtime's own logits.
fn check(reference: &Value, precision: Precision, tol: f32, max_gen_diff: usize, tie: f32) {
    for (name, spec) in tiny_variants() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tiny_model(dir.path(), &spec).expect("write");
        let m = Model::load(dir.path(), Placement::new(DeviceKind::Cpu, Some(precision)))
            .expect("load");
        assert_eq!(m.precision(), precision);
        let r = &reference[name];
        assert!(
            r.is_object(),
            "no reference for {name}: regenerate the reference JSON"
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
        let worst_ok = worst < tol;
        let mut differ = 0;
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
                repetition_penalty: PENALTY,
                ignore_eos: true,
                ..GenerateOptions::default()
            };
            let got = m
                .generate_tokens(std::slice::from_ref(&ids), &opts)
                .expect("generate");
            assert_eq!(got[0].len(), want.len(), "{name}");
            let Some(k) = got[0].iter().zip(&want).position(|(a, b)| a != b) else {
                continue;
            };
            // After the first difference the contexts differ: count from it,
            // unless the two tokens were tied within rounding there.
            let context: Vec<u32> = ids.iter().chain(&want[..k]).copied().collect();
            let (ours, theirs) = penalised_logits(&m, &context, [got[0][k], want[k]]);
            if (ours - theirs).abs() > tie * ours.abs().max(1.0) {
                differ += want.len() - k;
            }
        }
        eprintln!(
            "{name} in {precision}: max |Δ log p| = {worst:.5}, {differ} generated tokens differ"
        );
        assert!(
            differ <= max_gen_diff,
            "{name} in {precision}: {differ} generated tokens differ from transformers"
        );
        assert!(
            worst_ok,
            "{name} in {precision}: max |Δ log p| = {worst} (tolerance {tol})"
        );
    }
}

#[test]
fn every_variant_matches_transformers() {
    // f32: log-probs within 1e-4, greedy generations identical.
    check(&reference(), Precision::F32, 1e-4, 0, 0.0);
}

#[test]
fn every_variant_matches_transformers_in_bf16() {
    // bf16 (8 significant bits): both stacks round every activation, in
    // places that differ slightly (fused kernels, the order of a sum), so
    // log-probs agree to about a tenth of a nat — as closely as transformers'
    // own bf16 and f32 runs agree with each other (up to 0.16 on these
    // models). Greedy steps whose two best logits lie within bf16's rounding
    // of each other may go either way (these random models tie often; a real
    // model's answers are compared on SmolLM2 in docs/PERFORMANCE.md); every
    // other step must agree.
    let reference: Value =
        serde_json::from_str(include_str!("data/tiny_reference_bf16.json")).expect("JSON");
    check(&reference, Precision::Bf16, BF16_TOLERANCE, 0, BF16_TIE);
}

/// Largest |Δ log p| allowed against transformers in bf16.
const BF16_TOLERANCE: f32 = 0.25;

/// Logits this close (relative) count as tied in bf16: four units in the
/// last place of its 8-bit significand.
const BF16_TIE: f32 = 4.0 / 256.0;

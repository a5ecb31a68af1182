//! Real-model tests on SmolLM2-135M-Instruct (the GGUF imported to a Hugging
//! Face directory), against transformers' outputs recorded in
//! `scripts/reference/out/`. Skipped (with a message) when the model is absent;
//! `.ci/run` fetches and imports it, so CI runs them.

use std::path::PathBuf;

use gauntlet_evals::backend::Local;
use gauntlet_evals::multiple_choice::{self, McItem, McOptions};
use gauntlet_evals::ScoreRequest;
use gauntlet_model::{DeviceKind, Model};
use serde_json::Value;

fn model_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GAUNTLET_SMOLLM2_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("GAUNTLET_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gauntlet"))
                })?;
            Some(cache.join("smollm2/hf"))
        })?;
    if dir.join("model.safetensors").is_file() {
        Some(dir)
    } else {
        if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
            panic!("CI is set and SmolLM2 (GAUNTLET_SMOLLM2_DIR) is missing");
        }
        eprintln!(
            "skipping: SmolLM2 not found at {} (run scripts/fetch-smollm2.sh and gauntlet import-gguf, or set GAUNTLET_SMOLLM2_DIR)",
            dir.display()
        );
        None
    }
}

fn reference(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/reference/out")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("reference file");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn loss_matches_transformers_within_2e3_nats() {
    let Some(dir) = model_dir() else { return };
    let m = Model::load(&dir, DeviceKind::Cpu).expect("load");
    let texts = reference("texts.jsonl");
    let want = reference("smollm2_loss.jsonl");
    let reqs: Vec<ScoreRequest> = texts
        .iter()
        .map(|t| {
            ScoreRequest::full(
                m.tokenizer()
                    .encode(t["text"].as_str().expect("text"), true)
                    .expect("encode"),
            )
        })
        .collect();
    let got = m.score(&reqs).expect("score");
    for ((r, lp), w) in reqs.iter().zip(&got).zip(&want) {
        assert_eq!(
            r.tokens.len() as u64,
            w["tokens"].as_u64().expect("tokens"),
            "token counts differ"
        );
        let mean = -lp.iter().map(|&x| x as f64).sum::<f64>() / lp.len() as f64;
        let expect = w["mean_nll"].as_f64().expect("mean_nll");
        assert!(
            (mean - expect).abs() < 2e-3,
            "mean NLL {mean} vs transformers {expect}"
        );
    }
}

#[test]
fn multiple_choice_picks_the_letters_transformers_picks() {
    let Some(dir) = model_dir() else { return };
    let mut m = Model::load(&dir, DeviceKind::Cpu).expect("load");
    let n = 40;
    let items: Vec<McItem> = reference("mmlu_200.jsonl")
        .into_iter()
        .take(n)
        .map(|v| serde_json::from_value(v).expect("item"))
        .collect();
    let want = reference("smollm2_mc.jsonl");
    let res = multiple_choice::evaluate(
        &mut Local::new(&mut m, "smollm2"),
        &items,
        McOptions::default(),
        &mut |_| {},
    )
    .expect("eval");
    let agree = res
        .items
        .iter()
        .zip(&want)
        .filter(|(g, w)| g.pred.as_deref() == w["pred"].as_str())
        .count();
    assert!(
        agree * 100 >= 95 * n,
        "only {agree}/{n} letters agree with transformers"
    );

    // Early stopping never changes an answer.
    let full = multiple_choice::evaluate(
        &mut Local::new(&mut m, "smollm2"),
        &items[..12],
        McOptions {
            batch_size: 12,
            early_stop: false,
        },
        &mut |_| {},
    )
    .expect("eval");
    for (a, b) in full.items.iter().zip(&res.items) {
        assert_eq!(a.pred, b.pred);
        assert!(a.completion.starts_with(&b.completion));
    }
}

#[test]
fn chat_template_encodes_the_reference_system_turn() {
    let Some(dir) = model_dir() else { return };
    let m = Model::load(&dir, DeviceKind::Cpu).expect("load");
    let ids = m
        .tokenizer()
        .encode(
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n",
            true,
        )
        .expect("encode");
    assert_eq!(
        ids,
        [
            1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
            407, 19712, 8182, 2, 198
        ]
    );
}

#[test]
fn multiple_choice_by_likelihood_agrees_with_scoring_each_letter() {
    use gauntlet_evals::likelihood::MultipleChoiceLikelihood;
    use gauntlet_evals::{ChatMessage, LanguageModel};

    let Some(dir) = model_dir() else { return };
    let mut m = Model::load(&dir, DeviceKind::Cpu).expect("load");
    let items: Vec<McItem> = reference("mmlu_200.jsonl")
        .into_iter()
        .take(12)
        .map(|v| serde_json::from_value(v).expect("item"))
        .collect();
    let out = MultipleChoiceLikelihood
        .items(&mut Local::new(&mut m, "smollm2"), &items, &mut |_| {})
        .expect("likelihood");
    let letters: Vec<u32> = ["A", "B", "C", "D"]
        .iter()
        .map(|l| m.encode(l, false).expect("encode"))
        .map(|t| {
            assert_eq!(t.len(), 1, "SmolLM2 letters are single tokens");
            t[0]
        })
        .collect();
    for (it, o) in items.iter().zip(&out) {
        let prompt = m
            .encode_chat(&[ChatMessage::user(multiple_choice::prompt(it))], true)
            .expect("prompt");
        // The slow way: score `prompt ++ [letter]` once per letter.
        let reqs: Vec<ScoreRequest> = letters
            .iter()
            .map(|&l| ScoreRequest {
                tokens: prompt.iter().copied().chain([l]).collect(),
                score_from: prompt.len(),
            })
            .collect();
        let slow: Vec<f32> = m
            .score(&reqs)
            .expect("score")
            .iter()
            .map(|v| v[0])
            .collect();
        for (a, b) in slow.iter().zip(&o.logprobs) {
            assert!((a - b).abs() < 1e-3, "{slow:?} vs {:?}", o.logprobs);
        }
    }
}

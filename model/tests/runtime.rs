//! Runtime tests on tiny models generated in code for every supported
//! architecture flag: packing, block attention, KV-cache generation, batching,
//! and every bad-input path of a model directory.

use std::path::Path;

use candle_core::Tensor;
use gauntlet_evals::{ChatMessage, GenerateOptions, LanguageModel, ScoreRequest};
use gauntlet_model::testing::{tiny_variants, write_tiny_model, TinySpec, TINY_VOCAB};
use gauntlet_model::{Architecture, DeviceKind, Model, ModelError};

fn specs() -> Vec<(&'static str, TinySpec)> {
    tiny_variants()
}

fn load(spec: &TinySpec) -> (tempfile::TempDir, Model) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path(), spec).expect("write tiny model");
    let m = Model::load(dir.path(), DeviceKind::Cpu).expect("load tiny model");
    (dir, m)
}

fn seq(n: usize, seed: u32) -> Vec<u32> {
    (0..n as u32)
        .map(|i| (i * 31 + seed * 17 + 3) % 256)
        .collect()
}

fn close(a: &[f32], b: &[f32], tol: f32) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

/// Greedy next token from a full forward pass (no cache).
fn argmax_full(m: &Model, ids: &[u32]) -> u32 {
    let d = m.decoder();
    let h = d
        .forward_packed(ids, std::slice::from_ref(&(0..ids.len())), None)
        .expect("forward");
    let last = h.narrow(0, ids.len() - 1, 1).expect("narrow");
    let logits: Vec<f32> = d
        .logits(&last)
        .expect("logits")
        .flatten_all()
        .expect("flat")
        .to_vec1()
        .expect("vec");
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[test]
fn packed_scoring_equals_one_at_a_time_for_every_architecture() {
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let reqs: Vec<ScoreRequest> = [7, 1, 30, 12]
            .iter()
            .enumerate()
            .map(|(i, &n)| ScoreRequest::full(seq(n, i as u32)))
            .collect();
        let packed = m.score(&reqs).expect("score");
        for (r, p) in reqs.iter().zip(&packed) {
            let alone = m.score(std::slice::from_ref(r)).expect("score alone");
            assert_eq!(p.len(), r.tokens.len() - 1, "{name}");
            assert!(
                close(p, &alone[0], 1e-4),
                "{name}: packed {p:?} alone {:?}",
                alone[0]
            );
            assert!(p.iter().all(|x| x.is_finite() && *x <= 0.0), "{name}");
        }
    }
}

#[test]
fn score_from_returns_only_the_tail() {
    let (_d, m) = load(&TinySpec::new(Architecture::Llama));
    let s = seq(20, 3);
    let full = m.score(&[ScoreRequest::full(s.clone())]).expect("score");
    let tail = m
        .score(&[ScoreRequest {
            tokens: s,
            score_from: 12,
        }])
        .expect("score");
    assert_eq!(tail[0].len(), 8);
    assert!(close(&tail[0], &full[0][11..], 1e-5));
}

#[test]
fn scoring_a_shared_prefix_once_matches_scoring_each_alone() {
    // Three references after one 14-token context: the batch computes the
    // context once; each request alone cannot share it.
    let context = seq(14, 6);
    let requests: Vec<ScoreRequest> = [seq(3, 1), seq(7, 2), seq(1, 3)]
        .into_iter()
        .enumerate()
        .map(|(i, tail)| ScoreRequest {
            tokens: [context.clone(), tail].concat(),
            // One request also scores the last context token.
            score_from: if i == 1 { 14 } else { 15 },
        })
        .collect();
    let prompts: Vec<Vec<u32>> = requests.iter().map(|r| r.tokens.clone()).collect();
    let candidates = [3u32, 17, 40];
    for (name, spec) in specs() {
        let (_d, mut m) = load(&spec);
        let batch = m.score(&requests).expect("batch");
        let next = m.next_token_logprobs(&prompts, &candidates).expect("next");
        for (i, r) in requests.iter().enumerate() {
            let alone = m.score(std::slice::from_ref(r)).expect("alone");
            assert_eq!(batch[i].len(), r.tokens.len() - r.score_from, "{name}");
            assert!(close(&batch[i], &alone[0], 1e-4), "{name} request {i}");
            let one = m
                .next_token_logprobs(std::slice::from_ref(&prompts[i]), &candidates)
                .expect("one");
            assert!(close(&next[i], &one[0], 1e-4), "{name} prompt {i}");
        }
    }
}

#[test]
fn block_attention_is_causal_across_blocks() {
    // Longer than one attention query block: a prefix scores the same alone.
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let long = seq(600, 9);
        let a = m.score(&[ScoreRequest::full(long.clone())]).expect("long");
        let b = m
            .score(&[ScoreRequest::full(long[..300].to_vec())])
            .expect("prefix");
        assert!(close(&a[0][..299], &b[0], 2e-4), "{name}");
    }
}

#[test]
fn cached_generation_matches_full_recomputation() {
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let prompt = seq(9, 4);
        let opts = GenerateOptions {
            max_new_tokens: 12,
            ignore_eos: true,
            ..GenerateOptions::default()
        };
        let out = m
            .generate_tokens(std::slice::from_ref(&prompt), &opts)
            .expect("generate");
        let mut ids = prompt;
        for &t in &out[0] {
            assert_eq!(
                t,
                argmax_full(&m, &ids),
                "{name}: cache diverged at {}",
                ids.len()
            );
            ids.push(t);
        }
        assert_eq!(out[0].len(), 12);
    }
}

#[test]
fn batched_generation_equals_one_prompt_at_a_time() {
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let prompts = vec![seq(3, 1), seq(11, 2), seq(6, 3)];
        let opts = GenerateOptions {
            max_new_tokens: 10,
            repetition_penalty: 1.3,
            ..GenerateOptions::default()
        };
        assert_batch_generates_as_alone(&m, &prompts, &opts, name);
    }
}

/// Generates `prompts` as one batch and one at a time; returns the batch's
/// outputs after checking that both agree token for token.
fn assert_batch_generates_as_alone(
    m: &Model,
    prompts: &[Vec<u32>],
    opts: &GenerateOptions<'_>,
    name: &str,
) -> Vec<Vec<u32>> {
    let batch = m.generate_tokens(prompts, opts).expect("batch");
    for (p, b) in prompts.iter().zip(&batch) {
        let alone = m
            .generate_tokens(std::slice::from_ref(p), opts)
            .expect("alone");
        assert_eq!(&alone[0], b, "{name}");
    }
    batch
}

#[test]
fn shared_prompt_prefix_changes_no_generated_token() {
    // Prompts sharing 12 tokens: the batch computes them once (longer than the
    // windowed variants' window of 5, so prefix keys leave the window too);
    // each prompt alone computes them itself.
    let shared = seq(12, 5);
    let prompts: Vec<Vec<u32>> = [seq(1, 1), seq(5, 2), seq(9, 3)]
        .into_iter()
        .map(|tail| [shared.clone(), tail].concat())
        .collect();
    assert_eq!(gauntlet_model::prefix::shared_prompt_prefix(&prompts), 12);
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let opts = GenerateOptions {
            max_new_tokens: 10,
            repetition_penalty: 1.3,
            ignore_eos: true,
            ..GenerateOptions::default()
        };
        let batch = assert_batch_generates_as_alone(&m, &prompts, &opts, name);
        assert!(batch.iter().all(|b| b.len() == 10), "{name}");
    }
}

#[test]
fn shared_prefix_hidden_states_match_a_full_pass() {
    for (name, spec) in specs() {
        let (_d, m) = load(&spec);
        let d = m.decoder();
        let full = [seq(10, 7), seq(6, 8)].concat();
        let prefix = d.prefill_prefix(&full[..10], full.len()).expect("prefix");
        assert_eq!(prefix.len(), 10);
        let after = d
            .forward_packed_after(
                &prefix,
                &full[10..],
                std::slice::from_ref(&(0..6)),
                full.len(),
                None,
            )
            .expect("after")
            .to_vec2::<f32>()
            .expect("vec");
        let whole = d
            .forward_packed(&full, std::slice::from_ref(&(0..full.len())), None)
            .expect("whole")
            .to_vec2::<f32>()
            .expect("vec");
        for (a, w) in after.iter().zip(&whole[10..]) {
            assert!(close(a, w, 1e-4), "{name}");
        }
    }
}

#[test]
fn shared_prefix_needs_two_prompts_and_leaves_each_its_last_token() {
    use gauntlet_model::prefix::{shared_prompt_prefix as shared_prefix_len, MIN_SHARED_PREFIX};
    let base = seq(20, 1);
    assert_eq!(shared_prefix_len(std::slice::from_ref(&base)), 0);
    assert_eq!(shared_prefix_len(&[base.clone(), base.clone()]), 19);
    assert_eq!(shared_prefix_len(&[base.clone(), base[..15].to_vec()]), 14);
    let short = base[..MIN_SHARED_PREFIX].to_vec();
    assert_eq!(shared_prefix_len(&[base.clone(), short]), 0);
    assert_eq!(shared_prefix_len(&[base, seq(20, 2)]), 0);
}

#[test]
fn repetition_penalty_follows_transformers_definition() {
    let (_d, m) = load(&TinySpec::new(Architecture::Llama));
    let prompt = seq(5, 8);
    let opts = GenerateOptions {
        max_new_tokens: 1,
        repetition_penalty: 1e6,
        ignore_eos: true,
        ..GenerateOptions::default()
    };
    // With an enormous penalty, a seen token only wins if every unseen logit is
    // below the penalised ones, which random logits never are.
    let out = m
        .generate_tokens(std::slice::from_ref(&prompt), &opts)
        .expect("generate");
    assert!(!prompt.contains(&out[0][0]));
}

#[test]
fn stop_predicate_and_eos_end_generation() {
    let (_d, m) = load(&TinySpec::new(Architecture::Qwen2));
    let stop_all = |_: &str| true;
    let opts = GenerateOptions {
        max_new_tokens: 10,
        stop_when: Some(&stop_all),
        ignore_eos: true,
        ..GenerateOptions::default()
    };
    let out = m.generate_tokens(&[seq(4, 1)], &opts).expect("generate");
    assert_eq!(out[0].len(), 1);
    let free = m
        .generate_tokens(
            &[seq(4, 1)],
            &GenerateOptions {
                max_new_tokens: 3,
                ignore_eos: true,
                ..GenerateOptions::default()
            },
        )
        .expect("generate");
    let first = free[0][0];
    let opts = GenerateOptions {
        max_new_tokens: 10,
        stop_tokens: vec![first],
        ..GenerateOptions::default()
    };
    let out = m.generate_tokens(&[seq(4, 1)], &opts).expect("generate");
    assert!(
        out[0].is_empty(),
        "a stop token ends the sequence and is not returned"
    );
}

#[test]
fn chat_template_and_tokenizer_round_trip() {
    let (_d, mut m) = load(&TinySpec::new(Architecture::Llama));
    let ids = m
        .encode_chat(&[ChatMessage::user("hi")], true)
        .expect("encode chat");
    assert_eq!(ids[0], 257, "<|im_start|> is one special token");
    assert_eq!(
        m.decode(&m.encode("héllo wörld", true).expect("enc"))
            .expect("dec"),
        "héllo wörld"
    );
    let out = m.token_logprobs(&[ScoreRequest::full(ids)]).expect("score");
    assert!(!out[0].is_empty());
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn expect_err(dir: &Path) -> ModelError {
    match Model::load(dir, DeviceKind::Cpu) {
        Ok(_) => panic!("{} loaded but should not", dir.display()),
        Err(e) => e,
    }
}

fn fresh(spec: &TinySpec) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path(), spec).expect("write");
    dir
}

#[test]
fn bad_model_directories_are_clear_errors() {
    let spec = TinySpec::new(Architecture::Llama);

    let d = fresh(&spec);
    std::fs::remove_file(d.path().join("config.json")).expect("rm");
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Missing { .. }) && e.to_string().contains("config.json"),
        "{e}"
    );

    let d = fresh(&spec);
    write(d.path(), "config.json", "{ not json");
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Config { .. }) && e.to_string().contains("config.json"),
        "{e}"
    );

    let d = fresh(&spec);
    write(
        d.path(),
        "config.json",
        r#"{"architectures": ["LlamaForCausalLM"], "hidden_size": 32}"#,
    );
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Config { .. }) && e.to_string().contains("missing `"),
        "{e}"
    );

    let d = fresh(&spec);
    let cfg = std::fs::read_to_string(d.path().join("config.json")).expect("read");
    write(
        d.path(),
        "config.json",
        &cfg.replace("LlamaForCausalLM", "MambaForCausalLM"),
    );
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::UnsupportedArchitecture { .. }),
        "{e}"
    );
    assert!(e.to_string().contains("MambaForCausalLM"), "{e}");

    let d = fresh(&spec);
    write(d.path(), "tokenizer.json", "{\"model\": 3}");
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Tokenizer { .. }) && e.to_string().contains("tokenizer.json"),
        "{e}"
    );

    let d = fresh(&spec);
    std::fs::remove_file(d.path().join("model.safetensors")).expect("rm");
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Missing { .. }) && e.to_string().contains("safetensors"),
        "{e}"
    );
}

fn rewrite_weights(dir: &Path, f: impl Fn(&mut std::collections::HashMap<String, Tensor>)) {
    let path = dir.join("model.safetensors");
    let mut t = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).expect("load");
    f(&mut t);
    candle_core::safetensors::save(&t, &path).expect("save");
}

#[test]
fn bad_weights_are_clear_errors() {
    let spec = TinySpec::new(Architecture::Llama);

    let d = fresh(&spec);
    rewrite_weights(d.path(), |t| {
        t.remove("model.layers.1.mlp.up_proj.weight");
    });
    let e = expect_err(d.path());
    assert!(matches!(e, ModelError::MissingTensor { .. }), "{e}");
    assert!(
        e.to_string().contains("model.layers.1.mlp.up_proj.weight"),
        "{e}"
    );

    let d = fresh(&spec);
    rewrite_weights(d.path(), |t| {
        t.insert(
            "model.layers.0.self_attn.q_proj.weight".into(),
            Tensor::zeros((3, 3), candle_core::DType::F32, &candle_core::Device::Cpu)
                .expect("zeros"),
        );
    });
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::TensorShape { .. }) && e.to_string().contains("[3, 3]"),
        "{e}"
    );

    let d = fresh(&spec);
    rewrite_weights(d.path(), |t| {
        let ints = Tensor::zeros((32,), candle_core::DType::U32, &candle_core::Device::Cpu)
            .expect("zeros");
        t.insert("model.norm.weight".into(), ints);
    });
    let e = expect_err(d.path());
    assert!(matches!(e, ModelError::TensorDtype { .. }), "{e}");

    // Truncated file.
    let d = fresh(&spec);
    let p = d.path().join("model.safetensors");
    let bytes = std::fs::read(&p).expect("read");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).expect("truncate");
    let e = expect_err(d.path());
    assert!(
        matches!(e, ModelError::Safetensors { .. }) && e.to_string().contains("model.safetensors"),
        "{e}"
    );

    // A header that claims an absurd size.
    let d = fresh(&spec);
    let mut bytes = (u64::MAX / 2).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(d.path().join("model.safetensors"), &bytes).expect("write");
    let e = expect_err(d.path());
    assert!(matches!(e, ModelError::Safetensors { .. }), "{e}");

    // A tensor whose offsets point beyond the file.
    let d = fresh(&spec);
    let header =
        br#"{"model.norm.weight":{"dtype":"F32","shape":[32],"data_offsets":[0,1000000000]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0u8; 128]);
    std::fs::write(d.path().join("model.safetensors"), &bytes).expect("write");
    let e = expect_err(d.path());
    assert!(matches!(e, ModelError::Safetensors { .. }), "{e}");
}

#[test]
fn nan_weights_are_reported_not_scored() {
    let d = fresh(&TinySpec::new(Architecture::Llama));
    rewrite_weights(d.path(), |t| {
        let w = t["model.layers.0.mlp.down_proj.weight"].clone();
        let nan = (w * f64::NAN).expect("nan");
        t.insert("model.layers.0.mlp.down_proj.weight".into(), nan);
    });
    let m = Model::load(d.path(), DeviceKind::Cpu).expect("loads");
    let e = m
        .score(&[ScoreRequest::full(seq(8, 1))])
        .expect_err("NaN must be refused");
    assert!(matches!(e, ModelError::NonFinite { .. }), "{e}");
    let e = m
        .generate_tokens(&[seq(8, 1)], &GenerateOptions::default())
        .expect_err("NaN must be refused");
    assert!(matches!(e, ModelError::NonFinite { .. }), "{e}");
}

#[test]
fn out_of_vocabulary_and_empty_inputs_are_errors() {
    let (_d, m) = load(&TinySpec::new(Architecture::Llama));
    let e = m
        .score(&[ScoreRequest::full(vec![1, TINY_VOCAB as u32 + 5])])
        .expect_err("oov");
    assert!(matches!(e, ModelError::Input(_)), "{e}");
    let e = m.score(&[ScoreRequest::full(vec![])]).expect_err("empty");
    assert!(matches!(e, ModelError::Input(_)), "{e}");
    let e = m
        .generate_tokens(&[vec![]], &GenerateOptions::default())
        .expect_err("empty prompt");
    assert!(matches!(e, ModelError::Input(_)), "{e}");
}

/// Delegates to a [`Model`] but keeps the trait's default
/// `next_token_logprobs` (one scoring request per candidate).
struct Unoptimised<'a>(&'a mut Model);

impl LanguageModel for Unoptimised<'_> {
    fn token_logprobs(
        &mut self,
        batch: &[ScoreRequest],
    ) -> Result<Vec<Vec<f32>>, gauntlet_evals::ModelError> {
        self.0.token_logprobs(batch)
    }
    fn generate(
        &mut self,
        prompts: &[Vec<u32>],
        opts: &GenerateOptions<'_>,
    ) -> Result<Vec<Vec<u32>>, gauntlet_evals::ModelError> {
        self.0.generate(prompts, opts)
    }
    fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>, gauntlet_evals::ModelError> {
        self.0.encode(text, special)
    }
    fn decode(&self, ids: &[u32]) -> Result<String, gauntlet_evals::ModelError> {
        self.0.decode(ids)
    }
    fn encode_chat(
        &self,
        messages: &[ChatMessage],
        gen: bool,
    ) -> Result<Vec<u32>, gauntlet_evals::ModelError> {
        self.0.encode_chat(messages, gen)
    }
    fn max_context(&self) -> usize {
        self.0.max_context()
    }
}

#[test]
fn next_token_logprobs_equal_scoring_each_candidate_for_every_architecture() {
    let prompts = vec![seq(9, 1), seq(1, 2), seq(40, 3)];
    let candidates = [65u32, 66, 67, 68, 3];
    for (name, spec) in specs() {
        let (_d, mut m) = load(&spec);
        let fast = m.next_token_logprobs(&prompts, &candidates).expect("fast");
        let slow = Unoptimised(&mut m)
            .next_token_logprobs(&prompts, &candidates)
            .expect("slow");
        assert_eq!(fast.len(), prompts.len(), "{name}");
        for (f, s) in fast.iter().zip(&slow) {
            assert!(close(f, s, 1e-4), "{name}: {f:?} vs {s:?}");
            assert!(
                f.iter().all(|&x| x < 0.0),
                "{name}: log-probabilities are negative"
            );
        }
    }
    let (_d, mut m) = load(&TinySpec::new(Architecture::Llama));
    let err = m.next_token_logprobs(&prompts, &[TINY_VOCAB as u32]);
    assert!(
        err.is_err(),
        "a candidate outside the vocabulary is an error"
    );
    assert!(
        m.next_token_logprobs(&[vec![]], &[1]).is_err(),
        "empty prompt"
    );
}

#[test]
fn multiple_choice_by_likelihood_picks_the_most_likely_letter() {
    use gauntlet_evals::backend::Local;
    use gauntlet_evals::likelihood::MultipleChoiceLikelihood;
    use gauntlet_evals::multiple_choice::McItem;
    use gauntlet_evals::Eval;

    let (_d, mut m) = load(&TinySpec::new(Architecture::Llama));
    let items: Vec<McItem> = (0..5)
        .map(|i| McItem {
            question: format!("Which number follows {i}?"),
            choices: (0..4).map(|k| format!("{}", i + k)).collect(),
            answer: ["A", "B", "C", "D", "B"][i].into(),
        })
        .collect();
    let eval = MultipleChoiceLikelihood;
    let mut seen = 0;
    let out = eval
        .items(&mut Local::new(&mut m, "tiny"), &items, &mut |n| seen += n)
        .expect("items");
    assert_eq!(seen, items.len());
    let letters: Vec<u32> = ["A", "B", "C", "D"]
        .iter()
        .map(|l| m.encode(l, false).expect("encode")[0])
        .collect();
    for (it, o) in items.iter().zip(&out) {
        // The prediction is the argmax of the letters' next-token log-probabilities.
        let prompt = m
            .encode_chat(
                &[ChatMessage::user(gauntlet_evals::multiple_choice::prompt(
                    it,
                ))],
                true,
            )
            .expect("prompt");
        let lp = &m.next_token_logprobs(&[prompt], &letters).expect("lp")[0];
        assert!(close(lp, &o.logprobs, 1e-4));
        let best = (0..4).fold(0, |b, i| if lp[i] > lp[b] { i } else { b });
        assert_eq!(o.pred, ["A", "B", "C", "D"][best]);
        assert_eq!(o.correct, o.pred == it.answer);
    }
    let score = eval
        .evaluate(&mut Local::new(&mut m, "tiny"), &items, &mut |_| {})
        .expect("score");
    let wrong = out.iter().filter(|o| !o.correct).count();
    assert_eq!(score.raw_score, wrong as f64 / items.len() as f64);
    assert_eq!(score.samples, items.len());
    assert!(
        eval.evaluate(&mut Local::new(&mut m, "tiny"), &[], &mut |_| {})
            .is_err(),
        "no items"
    );
}

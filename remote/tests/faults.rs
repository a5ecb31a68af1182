//! The fault cases of an OpenAI-compatible endpoint, each against a local
//! server that misbehaves on purpose: down, slow, 429 forever, 5xx then
//! fine, malformed JSON, an empty choice, a refusal, fewer log-probs than
//! tokens, another model's name. Each is a clear error or a per-sample
//! outcome; the cache stays intact and the API key appears in no error, log
//! line or cache entry.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gauntlet_evals::backend::{Backend, Prompt, Sampling, ScoreInput};
use gauntlet_evals::multiple_choice::McItem;
use gauntlet_evals::{EvalError, EvalMethod, EvalOptions, Samples};
use gauntlet_remote::{Endpoint, Remote, RemoteError, RemoteOptions, RetryPolicy};
use serde_json::{json, Value};

const MODEL: &str = "m";
const KEY: &str = "sk-test-0123456789-secret";

/// How the server answers chat completions.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Chat {
    /// "B", as model `m`.
    Fine,
    /// After two seconds.
    Slow,
    /// 429 with `Retry-After: 0.05`, always.
    TooMany,
    /// 503 twice, then fine.
    FlakyThenFine,
    /// A body that is not JSON.
    Malformed,
    /// `choices: []`.
    NoChoice,
    /// A refusal.
    Refusal,
    /// As another model.
    OtherModel,
    /// 401 whose message echoes the bearer token.
    EchoKey,
}

/// How the server answers echoed completions.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Echo {
    /// One token per character, each with log-prob -1.
    Fine,
    /// Log-probs for only half the tokens.
    Short,
}

struct Server {
    chat: Chat,
    echo: Echo,
    chat_calls: AtomicUsize,
    auth: Mutex<Vec<String>>,
}

async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [{"id": MODEL, "object": "model"}]}))
}

async fn chat(State(s): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let n = s.chat_calls.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    s.auth.lock().unwrap().push(auth.clone());
    let answer = |content: &str, model: &str| {
        Json(json!({"model": model, "choices": [{"index": 0,
            "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 1}}))
        .into_response()
    };
    match s.chat {
        Chat::Fine => answer("B", MODEL),
        Chat::Slow => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            answer("B", MODEL)
        }
        Chat::TooMany => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0.05")],
            Json(json!({"error": {"message": "rate limited"}})),
        )
            .into_response(),
        Chat::FlakyThenFine if n < 2 => {
            (StatusCode::SERVICE_UNAVAILABLE, "overloaded").into_response()
        }
        Chat::FlakyThenFine => answer("B", MODEL),
        Chat::Malformed => (StatusCode::OK, "{\"choices\": [").into_response(),
        Chat::NoChoice => Json(json!({"model": MODEL, "choices": []})).into_response(),
        Chat::Refusal => Json(json!({"model": MODEL, "choices": [{"index": 0,
            "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."},
            "finish_reason": "stop"}]}))
        .into_response(),
        Chat::OtherModel => answer("B", "some-other-model"),
        Chat::EchoKey => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": format!("Incorrect API key provided: {auth}")}})),
        )
            .into_response(),
    }
}

async fn completions(State(s): State<Arc<Server>>, Json(body): Json<Value>) -> Response {
    let prompt = body["prompt"].as_str().unwrap_or("").to_string();
    let chars: Vec<char> = prompt.chars().collect();
    let n = chars.len();
    let kept = match s.echo {
        Echo::Fine => n,
        Echo::Short => n / 2,
    };
    let logprobs: Vec<Value> = (0..kept)
        .map(|i| if i == 0 { Value::Null } else { json!(-1.0) })
        .collect();
    Json(
        json!({"model": MODEL, "choices": [{"index": 0, "text": prompt,
        "logprobs": {"tokens": chars.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                     "token_logprobs": logprobs,
                     "text_offset": (0..n).collect::<Vec<_>>()},
        "finish_reason": "length"}],
        "usage": {"prompt_tokens": n, "completion_tokens": 0}}),
    )
    .into_response()
}

/// Starts a server on its own thread; its base URL and state.
fn start(chat_mode: Chat, echo: Echo) -> (String, Arc<Server>) {
    let state = Arc::new(Server {
        chat: chat_mode,
        echo,
        chat_calls: AtomicUsize::new(0),
        auth: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat))
        .route("/v1/completions", post(completions))
        .with_state(state.clone());
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}/v1"), state)
}

fn endpoint(base: &str) -> Endpoint {
    Endpoint::parse(&format!("openai:{base}#{MODEL}"))
        .unwrap()
        .unwrap()
}

/// Fast retries (the waits would otherwise dominate), a short timeout, the key.
fn options(cache: Option<&std::path::Path>) -> RemoteOptions {
    RemoteOptions {
        api_key: Some(KEY.into()),
        concurrency: 4,
        timeout: Duration::from_millis(500),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
        },
        cache: cache.map(|p| p.to_path_buf()),
        ..RemoteOptions::default()
    }
}

fn prompts(n: usize) -> Vec<Prompt> {
    (0..n)
        .map(|i| Prompt::user(format!("question {i}")))
        .collect()
}

fn generate(remote: &mut Remote, n: usize) -> Result<Vec<String>, String> {
    remote
        .generator()
        .unwrap()
        .generate(&prompts(n), &Sampling::default(), &mut |_| {})
        .map(|g| g.into_iter().map(|g| g.text).collect())
        .map_err(|e| e.to_string())
}

/// Every error message and log line must be free of the key.
fn assert_no_key(text: &str) {
    assert!(!text.contains(KEY), "the key leaked: {text}");
    assert!(
        !text.contains("0123456789-secret"),
        "the key leaked: {text}"
    );
}

/// Captures log lines (the global subscriber, installed once for this test
/// binary) so that every test can check that the key never appears.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let make = move || LogWriter(writer.clone());
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(make)
            .with_ansi(false)
            .try_init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check_logs() {
    let logs = logs();
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert_no_key(&text);
}

#[test]
fn a_server_that_is_down_is_a_clear_error_before_any_work() {
    logs();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Remote::connect(
        endpoint(&format!("http://127.0.0.1:{port}/v1")),
        options(None),
    )
    .err()
    .unwrap();
    assert!(matches!(err, RemoteError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("127.0.0.1:{port}/v1/models")),
        "{msg}"
    );
    assert_no_key(&msg);
    assert_no_key(&format!("{err:?}"));
    check_logs();
}

#[test]
fn a_slow_server_times_out_per_request() {
    logs();
    let (base, server) = start(Chat::Slow, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    let start = Instant::now();
    let err = generate(&mut remote, 1).unwrap_err();
    assert!(err.contains("no answer within"), "{err}");
    // Three attempts of 0.5 s each, not three of 2 s.
    assert!(
        start.elapsed() < Duration::from_millis(1900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.chat_calls.load(Ordering::SeqCst), 3);
    assert_no_key(&err);
    check_logs();
}

#[test]
fn too_many_requests_forever_gives_up_after_the_attempts_honouring_retry_after() {
    logs();
    let (base, server) = start(Chat::TooMany, Echo::Fine);
    let mut opts = options(None);
    // A backoff of a minute: only the server's Retry-After (0.05 s) lets
    // the test finish quickly.
    opts.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_secs(60),
        max_backoff: Duration::from_secs(60),
    };
    let mut remote = Remote::connect(endpoint(&base), opts).unwrap();
    let start = Instant::now();
    let err = generate(&mut remote, 1).unwrap_err();
    assert!(
        err.contains("HTTP 429") && err.contains("rate limited"),
        "{err}"
    );
    assert_eq!(server.chat_calls.load(Ordering::SeqCst), 4);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    check_logs();
}

#[test]
fn server_errors_are_retried_until_an_answer_comes() {
    logs();
    let (base, server) = start(Chat::FlakyThenFine, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    assert_eq!(generate(&mut remote, 1).unwrap(), ["B"]);
    assert_eq!(server.chat_calls.load(Ordering::SeqCst), 3);
    // The key went to the server as a bearer token.
    assert!(server
        .auth
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == &format!("Bearer {KEY}")));
    check_logs();
}

#[test]
fn malformed_json_is_an_error_and_not_retried() {
    logs();
    let (base, server) = start(Chat::Malformed, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    let err = generate(&mut remote, 1).unwrap_err();
    assert!(
        err.contains("malformed answer") && err.contains("not JSON"),
        "{err}"
    );
    assert_eq!(server.chat_calls.load(Ordering::SeqCst), 1);
    check_logs();
}

fn mc_items(n: usize) -> Samples {
    Samples::MultipleChoice(
        (0..n)
            .map(|i| McItem {
                question: format!("Which letter is second? ({i})"),
                choices: vec!["a".into(), "b".into(), "c".into(), "d".into()],
                answer: "B".into(),
            })
            .collect(),
    )
}

fn run_mc(remote: &mut Remote, n: usize) -> Result<gauntlet_evals::EvalScore, EvalError> {
    EvalMethod::MultipleChoice
        .eval(&EvalOptions::default())
        .run(remote, &mc_items(n), &mut |_| {})
}

#[test]
fn an_empty_choice_or_a_refusal_is_a_wrong_answer_and_the_run_finishes() {
    logs();
    for mode in [Chat::NoChoice, Chat::Refusal] {
        let (base, _server) = start(mode, Echo::Fine);
        let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
        let out = remote
            .generator()
            .unwrap()
            .generate(&prompts(2), &Sampling::default(), &mut |_| {})
            .unwrap();
        assert!(
            out.iter().all(|g| g.text.is_empty() && g.refusal.is_some()),
            "{mode:?}"
        );
        let score = run_mc(&mut remote, 3).unwrap();
        assert_eq!(score.raw_score, 1.0, "{mode:?}: every item wrong");
        assert_eq!(score.samples, 3);
    }
    // The same eval on a well-behaved server: every item right.
    let (base, _server) = start(Chat::Fine, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    assert_eq!(run_mc(&mut remote, 3).unwrap().raw_score, 0.0);
    check_logs();
}

#[test]
fn another_model_name_in_the_answer_is_an_error() {
    logs();
    let (base, _server) = start(Chat::OtherModel, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    let err = generate(&mut remote, 1).unwrap_err();
    assert!(
        err.contains("some-other-model") && err.contains("\"m\""),
        "{err}"
    );
    // And a model the endpoint does not list is refused on connect.
    let other = Endpoint::parse(&format!("openai:{base}#not-served"))
        .unwrap()
        .unwrap();
    let err = Remote::connect(other, options(None)).err().unwrap();
    assert!(matches!(err, RemoteError::UnknownModel { .. }), "{err:?}");
    check_logs();
}

fn score_inputs() -> Vec<ScoreInput> {
    ["the first text", "a second one"]
        .iter()
        .map(|t| ScoreInput {
            context: None,
            text: t.to_string(),
            max_tokens: 100,
        })
        .collect()
}

#[test]
fn fewer_logprobs_than_tokens_means_no_scoring_and_a_clear_error() {
    logs();
    let (base, _server) = start(Chat::Fine, Echo::Short);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    // The probe saw the short echo: the endpoint does not score.
    assert!(!remote.offers_logprobs());
    let err = EvalMethod::TextLoss
        .eval(&EvalOptions::default())
        .run(
            &mut remote,
            &Samples::Documents(vec!["one document".into(), "another document".into()]),
            &mut |_| {},
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EvalError::Unsupported { .. }), "{msg}");
    assert!(
        msg.contains("text_loss needs log-probs") && msg.contains("does not offer"),
        "{msg}"
    );

    // A well-behaved echo scores every token after the first.
    let (base, _server) = start(Chat::Fine, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    assert!(remote.offers_logprobs());
    let lps = remote
        .scorer()
        .unwrap()
        .logprobs(&score_inputs(), &mut |_| {})
        .unwrap();
    assert_eq!(lps[0].len(), "the first text".len() - 1);
    assert!(lps.iter().flatten().all(|&l| l == -1.0));
    check_logs();
}

#[test]
fn an_echoed_key_is_redacted_from_errors() {
    logs();
    let (base, server) = start(Chat::EchoKey, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(None)).unwrap();
    let err = generate(&mut remote, 1).unwrap_err();
    assert!(
        err.contains("HTTP 401") && err.contains("[redacted]"),
        "{err}"
    );
    assert_no_key(&err);
    assert_eq!(
        server.chat_calls.load(Ordering::SeqCst),
        1,
        "401 is not retried"
    );
    assert_no_key(&format!("{:?}", options(None)));
    check_logs();
}

#[test]
fn the_cache_answers_a_rerun_and_survives_a_failed_run() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("responses.sqlite");
    let (base, server) = start(Chat::Fine, Echo::Fine);
    let mut remote = Remote::connect(endpoint(&base), options(Some(&cache))).unwrap();
    let first = generate(&mut remote, 3).unwrap();
    let sent = remote.fresh_requests();
    let calls = server.chat_calls.load(Ordering::SeqCst);
    assert_eq!(calls, 3);
    // A re-run: the same answers, nothing sent.
    let mut again = Remote::connect(endpoint(&base), options(Some(&cache))).unwrap();
    assert_eq!(generate(&mut again, 3).unwrap(), first);
    assert_eq!(server.chat_calls.load(Ordering::SeqCst), calls);
    assert_eq!(again.usage().requests, 3);
    assert_eq!(
        again.usage().completion_tokens,
        3,
        "usage counted from cached answers"
    );
    assert!(sent >= 3);

    // A server that now fails on new prompts: the run fails, the cache keeps
    // what it had and still answers the old prompts.
    let (bad, _server) = start(Chat::Malformed, Echo::Fine);
    let mut broken = Remote::connect(endpoint(&bad), options(Some(&cache))).unwrap();
    assert!(generate(&mut broken, 4).is_err());
    let store = gauntlet_remote::Cache::open(&cache).unwrap();
    let entries = store.len().unwrap();
    assert!(entries >= 3, "{entries}");
    let mut after = Remote::connect(endpoint(&base), options(Some(&cache))).unwrap();
    assert_eq!(generate(&mut after, 3).unwrap(), first);
    drop((store, remote, again, broken, after));

    // The key is nowhere in the cache's files.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the key is in the cache"
        );
    }
    check_logs();
}

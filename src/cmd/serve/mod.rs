//! `gauntlet serve --model DIR`: the Gauntlet runtime behind an
//! OpenAI-compatible HTTP server — `/v1/chat/completions`, `/v1/completions`
//! (with `echo` and `logprobs` for prompt log-probabilities) and
//! `/v1/models` — so that a miner can try a model with any OpenAI client, and
//! the tests have a local endpoint. Requests that arrive together are run
//! together: generation in the runtime's batched generation, scoring in its
//! packed scoring.

mod api;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use gauntlet_model::Model;

use crate::cmd::RuntimeArgs;

/// Arguments of `gauntlet serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// The name clients ask for (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0: any free port; the address is printed on stdout).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Most requests run together in one batch.
    #[arg(long, default_value_t = 16)]
    max_batch: usize,
    /// How long the first request of a batch waits for others, in milliseconds.
    #[arg(long, default_value_t = 5)]
    batch_wait_ms: u64,
    /// Device and precision.
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// Runs the server until the process is stopped (Ctrl-C).
pub fn run(args: Args) -> Result<()> {
    let model = Model::load(&args.model, args.runtime.placement())
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let tokenizer = tokenizers::Tokenizer::from_file(args.model.join("tokenizer.json"))
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.join("tokenizer.json").display()))?;
    let name = args.name.clone().unwrap_or_else(|| {
        args.model
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    let max_context = gauntlet_evals::LanguageModel::max_context(&model);
    let render = {
        let chat = gauntlet_model::tokenizer::TextTokenizer::load(&args.model, &[])
            .with_context(|| format!("loading the chat template of {}", args.model.display()))?;
        Arc::new(chat)
    };
    let jobs = worker::spawn(
        model,
        args.max_batch.max(1),
        Duration::from_millis(args.batch_wait_ms),
    );
    let state = Arc::new(api::State {
        name,
        tokenizer,
        chat: render,
        max_context,
        jobs,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("listening on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        // The address on stdout, alone: scripts and tests read it.
        println!("http://{addr}/v1");
        tracing::info!(model = %state.name, "serving on http://{addr}/v1");
        axum::serve(listener, api::router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })
}

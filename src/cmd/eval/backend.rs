//! `--model`: a local model directory or `openai:BASE_URL#MODEL`, and the
//! options of a remote endpoint; opened as an eval backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_datasets::DataCache;
use gauntlet_evals::backend::{Backend, Local, Usage};
use gauntlet_model::tokenizer::TextTokenizer;
use gauntlet_model::{Model, Placement};
use gauntlet_remote::{
    api_key_from_env, Dialect, Endpoint, Prices, Remote, RemoteOptions, RetryPolicy,
};

/// How to reach an OpenAI-compatible endpoint (`--model openai:…`).
#[derive(clap::Args, Debug, Clone)]
pub struct RemoteArgs {
    /// Environment variable holding the endpoint's API key (sent as a bearer
    /// token; never logged).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A model directory whose chat template renders chat prompts for
    /// log-prob scoring on the endpoint (reference loss, likelihood multiple
    /// choice).
    #[arg(long, value_name = "DIR")]
    pub chat_template: Option<PathBuf>,
    /// The server's API extensions: gauntlet (gauntlet serve), vllm,
    /// llama-cpp or openai.
    #[arg(long, default_value = "gauntlet")]
    pub dialect: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Limit of one request, in seconds.
    #[arg(long, default_value_t = 120.0)]
    pub request_timeout: f64,
    /// Attempts per request (429, 5xx, timeouts and refused connections are
    /// retried with backoff, honouring Retry-After).
    #[arg(long, default_value_t = 5)]
    pub attempts: u32,
    /// The response cache (default: $GAUNTLET_CACHE/remote/responses.sqlite).
    #[arg(long, value_name = "FILE")]
    pub response_cache: Option<PathBuf>,
    /// Send every request, caching nothing.
    #[arg(long)]
    pub no_cache: bool,
    /// Price per million prompt tokens, in US dollars (for the accounting).
    #[arg(long, value_name = "USD")]
    pub price_prompt: Option<f64>,
    /// Price per million generated tokens, in US dollars.
    #[arg(long, value_name = "USD")]
    pub price_completion: Option<f64>,
}

impl Default for RemoteArgs {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            api_key_env: None,
            chat_template: None,
            dialect: "gauntlet".into(),
            concurrency: 8,
            request_timeout: 120.0,
            attempts: 5,
            response_cache: None,
            no_cache: false,
            price_prompt: None,
            price_completion: None,
        }
    }
}

/// An endpoint described in a competition file or on the command line.
pub struct RemoteSpec<'a> {
    /// `openai:BASE_URL#MODEL`.
    pub model: &'a str,
    /// The variable of the API key.
    pub api_key_env: Option<&'a str>,
    /// The chat template's model directory.
    pub chat_template: Option<&'a Path>,
    /// The dialect's name.
    pub dialect: &'a str,
    /// Prices per million tokens (prompt, completion).
    pub prices: Option<Prices>,
}

/// A backend ready to evaluate.
pub enum Loaded {
    /// The candle runtime.
    Local {
        /// The model.
        model: Box<Model>,
        /// Its directory, for messages.
        name: String,
    },
    /// An OpenAI-compatible endpoint.
    Remote(Box<Remote>),
}

impl Loaded {
    /// Runs `f` on the backend.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut dyn Backend) -> R) -> R {
        match self {
            Loaded::Local { model, name } => f(&mut Local::new(model.as_mut(), name.clone())),
            Loaded::Remote(r) => f(r.as_mut()),
        }
    }

    /// What its answers cost so far.
    pub fn usage(&self) -> Usage {
        match self {
            Loaded::Local { .. } => Usage::default(),
            Loaded::Remote(r) => r.usage(),
        }
    }

    /// Logs how many requests went to the server and how many the cache
    /// answered.
    pub fn log_requests(&self) {
        if let Loaded::Remote(r) = self {
            let u = r.usage();
            tracing::info!(
                endpoint = %r.endpoint().spec(),
                requests = u.requests,
                sent = r.fresh_requests(),
                cached = u.requests.saturating_sub(r.fresh_requests()),
                "remote requests"
            );
        }
    }
}

impl RemoteArgs {
    /// The endpoint spec of `--model` with these options.
    pub fn spec<'a>(&'a self, model: &'a str) -> Result<RemoteSpec<'a>> {
        let prices = match (self.price_prompt, self.price_completion) {
            (None, None) => None,
            (p, c) => Some(Prices {
                prompt: p.unwrap_or(0.0),
                completion: c.unwrap_or(0.0),
            }),
        };
        Ok(RemoteSpec {
            model,
            api_key_env: self.api_key_env.as_deref(),
            chat_template: self.chat_template.as_deref(),
            dialect: &self.dialect,
            prices,
        })
    }
}

/// Opens `--model`: a directory is loaded on `placement` (with the fixed
/// tokenizer of `tokenizer` when given); `openai:…` is connected with `args`.
pub fn open(
    model: &str,
    args: &RemoteArgs,
    tokenizer: Option<&Path>,
    placement: Placement,
    seed: u64,
) -> Result<Loaded> {
    if model.starts_with(gauntlet_remote::SCHEME) {
        let spec = args.spec(model)?;
        return Ok(Loaded::Remote(Box::new(connect(&spec, args, seed)?)));
    }
    let dir = Path::new(model);
    let m = Model::load_with_tokenizer(dir, tokenizer, placement)
        .with_context(|| format!("loading model {}", dir.display()))?;
    Ok(Loaded::Local {
        model: Box::new(m),
        name: dir.display().to_string(),
    })
}

/// Connects to an endpoint; `args` give the limits and the cache.
pub fn connect(spec: &RemoteSpec<'_>, args: &RemoteArgs, seed: u64) -> Result<Remote> {
    let endpoint = Endpoint::parse(spec.model)
        .ok_or_else(|| anyhow!("{:?} is not an openai:BASE_URL#MODEL spec", spec.model))??;
    let dialect = Dialect::from_name(spec.dialect).ok_or_else(|| {
        let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
        anyhow!(
            "unknown dialect {:?} (known: {})",
            spec.dialect,
            known.join(", ")
        )
    })?;
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0) {
        bail!("--request-timeout must be a positive number of seconds");
    }
    let api_key = spec.api_key_env.map(api_key_from_env).transpose()?;
    let cache = if args.no_cache {
        None
    } else {
        Some(args.response_cache.clone().unwrap_or_else(|| {
            DataCache::from_env()
                .root
                .join("remote")
                .join("responses.sqlite")
        }))
    };
    let options = RemoteOptions {
        api_key,
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs_f64(args.request_timeout),
        retry: RetryPolicy {
            max_attempts: args.attempts.max(1),
            ..RetryPolicy::default()
        },
        cache,
        prices: spec.prices,
        seed,
        dialect,
    };
    let what = endpoint.spec();
    let mut remote =
        Remote::connect(endpoint, options).with_context(|| format!("connecting to {what}"))?;
    if let Some(dir) = spec.chat_template {
        let tok = TextTokenizer::load(dir, &[])
            .with_context(|| format!("loading the chat template of {}", dir.display()))?;
        if tok.chat_template.is_none() {
            bail!("{} has no chat template", dir.display());
        }
        remote = remote.with_chat_template(Box::new(move |messages| match &tok.chat_template {
            Some(t) => t.render(messages, true).map_err(|e| e.to_string()),
            None => Err("no chat template".into()),
        }));
    }
    Ok(remote)
}

//! `gauntlet eval --competition ID`: every task of a competition, with
//! samples drawn from a seed, as a validator would score the model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use gauntlet_competitions::ReferenceEntrant;
use gauntlet_competitions::{ActiveCompetition, Competition, Registry};
use gauntlet_constants::{sync_block, Block};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::backend::Backend;
use gauntlet_evals::bootstrap::{pair_seed, PairedInterval};
use gauntlet_evals::tasks::{TaskOutcome, TaskStatus};
use gauntlet_remote::Prices;
use gauntlet_validator::round::intervals::between;
use gauntlet_validator::suite::{
    prepare, run_prepared_on, PreparedTask, SuiteEvent, SuiteOptions, SuiteResult,
};
use indicatif::ProgressBar;
use serde::Serialize;

use super::backend::{connect, open, RemoteArgs, RemoteSpec};
use crate::cmd::backends::ChainArgs;
use crate::cmd::competitions::registry;
use crate::cmd::{print_json, RuntimeArgs};
use crate::progress::bar;

/// Which competition to run, at which block, with which samples: shared by
/// `gauntlet eval --competition` and `gauntlet miner eval`.
#[derive(clap::Args)]
pub struct SuiteArgs {
    /// Run every task of this competition (id or name, e.g. INSTRUCT_8B).
    #[arg(long)]
    pub competition: Option<String>,
    /// The block whose schedule applies (and whose sync block seeds the
    /// samples when no --seed is given); default: the competition's latest
    /// schedule entry.
    #[arg(long)]
    pub block: Option<u64>,
    /// Seed of the sample draws (default: from --block, else 0).
    #[arg(long, conflicts_with = "chain_seed")]
    pub seed: Option<u64>,
    /// Seed the samples exactly as validators do: from the chain's hash of
    /// the sync block of --block (default: the chain's current block).
    #[arg(long)]
    pub chain_seed: bool,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Cap every task's sample count (the reference counts otherwise).
    #[arg(long)]
    pub samples: Option<u32>,
    /// Extra competition definitions (directory of TOML files).
    #[arg(long)]
    pub defs: Option<PathBuf>,
    /// Prompts generated together.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Device and precision.
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Skip the competition's API-hosted reference entrants.
    #[arg(long)]
    pub no_references: bool,
}

/// Where the seed came from, for the output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedSource {
    /// `--seed S`.
    Number(u64),
    /// The number of the sync block of `--block` (no chain consulted).
    SyncBlockNumber(u64),
    /// The chain's hash of this sync block, as validators seed a round.
    ChainHash(u64),
    /// Nothing given: seed 0.
    Default,
}

/// A competition resolved from [`SuiteArgs`]: what runs and on which samples.
pub struct Resolved {
    /// The registry the competition comes from.
    pub registry: Registry,
    /// The competition's id.
    pub id: gauntlet_constants::CompetitionId,
    /// The block whose schedule applies.
    pub block: Block,
    /// The seed of every sample draw.
    pub seed: Seed,
    /// How the seed was chosen.
    pub seed_source: SeedSource,
}

impl Resolved {
    /// The competition's definition.
    pub fn competition(&self) -> Result<&Competition> {
        self.registry
            .get(self.id)
            .ok_or_else(|| anyhow!("competition {} vanished from the registry", self.id))
    }

    /// The competition as scheduled at `self.block`.
    pub fn active(&self) -> Result<ActiveCompetition<'_>> {
        let c = self.competition()?;
        self.registry
            .competition_at(self.id, self.block)
            .ok_or_else(|| {
                anyhow!(
                    "{} is not scheduled at block {} (see `gauntlet competitions`)",
                    c.name,
                    self.block
                )
            })
    }
}

/// Resolves the competition, its schedule block and the seed. With
/// `--chain-seed` the chain is asked for the block and its sync block's hash.
pub fn resolve(args: &SuiteArgs) -> Result<Resolved> {
    let key = args
        .competition
        .as_deref()
        .ok_or_else(|| anyhow!("--competition is required"))?;
    let registry = registry(args.defs.as_deref())?;
    let competition = registry.find(key).ok_or_else(|| {
        let known: Vec<String> = registry
            .competitions()
            .iter()
            .map(|c| format!("{} ({})", c.name, c.id.0))
            .collect();
        anyhow!("unknown competition {key:?}; known: {}", known.join(", "))
    })?;
    let id = competition.id;
    let (block, seed, seed_source) = if args.chain_seed {
        let (block, hash) = chain_block_hash(&args.chain, args.block)?;
        let sync = sync_block(block);
        (
            block,
            Seed::from_block_hash(&hash),
            SeedSource::ChainHash(sync.0),
        )
    } else {
        let block = match args.block {
            Some(b) => Block(b),
            None => registry.latest_run(id).map(|(b, _)| b).ok_or_else(|| {
                anyhow!("{} is retired: no schedule entry runs it", competition.name)
            })?,
        };
        match (args.seed, args.block) {
            (Some(s), _) => (block, Seed::from_u64(s), SeedSource::Number(s)),
            (None, Some(b)) => {
                let sync = sync_block(Block(b));
                (
                    block,
                    Seed::from_u64(sync.0),
                    SeedSource::SyncBlockNumber(sync.0),
                )
            }
            (None, None) => (block, Seed::from_u64(0), SeedSource::Default),
        }
    };
    let resolved = Resolved {
        registry,
        id,
        block,
        seed,
        seed_source,
    };
    resolved.active()?;
    Ok(resolved)
}

/// Runs `f` to completion on a fresh single-threaded runtime.
fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f))
}

/// The block (`block`, or the chain's current one) and its sync block's hash.
fn chain_block_hash(chain: &ChainArgs, block: Option<u64>) -> Result<(Block, [u8; 32])> {
    block_on(async {
        let c = chain.connect().await?;
        let block = match block {
            Some(b) => Block(b),
            None => c
                .current_block()
                .await
                .context("reading the current block")?,
        };
        let sync = sync_block(block);
        let hash = c
            .block_hash(sync)
            .await
            .with_context(|| format!("reading the hash of sync block {sync}"))?;
        Ok((block, hash))
    })?
}

/// The seed sent to an endpoint: the first 8 bytes of the data seed.
fn api_seed(seed: &Seed) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&seed.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

/// The fixed tokenizer of `active`, if it has one (fetched when missing).
fn fixed_tokenizer(active: &ActiveCompetition<'_>, data: &DataCache) -> Result<Option<PathBuf>> {
    block_on(gauntlet_validator::tokenizer::tokenizer_dir(
        &active.competition.constraints.tokenizer,
        data,
    ))?
    .map_err(|why| {
        anyhow!(
            "{} scores with a fixed tokenizer: {why}",
            active.competition.name
        )
    })
}

/// The suite options of `args`.
fn suite_options(args: &SuiteArgs) -> SuiteOptions {
    SuiteOptions {
        sample_cap: args.samples,
        mc_batch: args.batch_size,
        // Per-sample scores: the paired intervals between models need them.
        keep_details: true,
        ..SuiteOptions::default()
    }
}

/// Loads the local `model` and runs every task of `active` on the seed's
/// samples, with a progress bar per task on stderr.
pub fn run_suite(
    model: &Path,
    args: &SuiteArgs,
    active: &ActiveCompetition<'_>,
    seed: &Seed,
) -> Result<SuiteResult> {
    let data = DataCache::from_env();
    let prepared = prepare(active, &data, seed, args.samples);
    let model = model.to_string_lossy();
    run_on(
        &model,
        &RemoteArgs::default(),
        args,
        active,
        &prepared,
        seed,
    )
}

/// Opens `model` (a directory or an endpoint) and runs the prepared tasks.
fn run_on(
    model: &str,
    remote: &RemoteArgs,
    args: &SuiteArgs,
    active: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    seed: &Seed,
) -> Result<SuiteResult> {
    let data = DataCache::from_env();
    let tokenizer = if model.starts_with(gauntlet_remote::SCHEME) {
        None
    } else {
        fixed_tokenizer(active, &data)?
    };
    let mut backend = open(
        model,
        remote,
        tokenizer.as_deref(),
        args.runtime.placement(),
        api_seed(seed),
    )?;
    tracing::info!(
        competition = %active.competition.name, %model, seed = %seed.hex(),
        "evaluating {} tasks", active.tasks().len()
    );
    let result = backend.with(|b| run_with_bars(b, active, prepared, &suite_options(args)));
    backend.log_requests();
    Ok(result)
}

/// Runs prepared tasks with a progress bar per task on stderr.
fn run_with_bars(
    backend: &mut dyn Backend,
    active: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    opts: &SuiteOptions,
) -> SuiteResult {
    let mut pb: Option<ProgressBar> = None;
    run_prepared_on(backend, active, prepared, opts, &mut |e| match e {
        SuiteEvent::TaskStarted { name, total } => pb = Some(bar(total, &name)),
        SuiteEvent::Advanced(n) => {
            if let Some(p) = &pb {
                p.inc(n)
            }
        }
        SuiteEvent::TaskFinished(_) => {
            if let Some(p) = pb.take() {
                p.finish_and_clear()
            }
        }
    })
}

/// A reference entrant's result: marked, never weighted.
#[derive(Serialize)]
struct ReferenceOutput<'a> {
    name: &'a str,
    model: &'a str,
    reference: bool,
    /// Its combined score (+inf, JSON null, when it could not run).
    score: f64,
    tasks: Vec<TaskOutcome>,
    /// Its score minus the model's, on the same samples, with the paired
    /// bootstrap interval (95 %): negative, it beats the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    vs_model: Option<PairedInterval>,
    /// Why it could not run at all (the endpoint is down, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Runs every reference entrant of the competition on the same items.
fn run_references<'a>(
    model: &SuiteResult,
    references: &'a [ReferenceEntrant],
    remote: &RemoteArgs,
    args: &SuiteArgs,
    active: &ActiveCompetition<'_>,
    prepared: &[PreparedTask],
    seed: &Seed,
) -> Vec<ReferenceOutput<'a>> {
    references
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let spec = RemoteSpec {
                model: &r.model,
                api_key_env: r.api_key_env.as_deref(),
                chat_template: r.chat_template.as_deref(),
                dialect: &r.dialect,
                prices: r.prices.map(|(prompt, completion)| Prices { prompt, completion }),
            };
            let run = connect(&spec, remote, api_seed(seed)).map(|mut remote| {
                let result =
                    run_with_bars(&mut remote, active, prepared, &suite_options(args));
                tracing::info!(reference = %r.name, score = result.score, "reference evaluated");
                result
            });
            match run {
                Ok(result) => ReferenceOutput {
                    name: &r.name,
                    model: &r.model,
                    reference: true,
                    score: result.score,
                    vs_model: between(
                        active,
                        &result,
                        model,
                        pair_seed(seed.as_bytes(), u16::MAX, i as u16),
                    ),
                    tasks: result.tasks,
                    error: None,
                },
                Err(e) => {
                    tracing::warn!(reference = %r.name, error = %format!("{e:#}"), "reference not evaluated");
                    ReferenceOutput {
                        name: &r.name,
                        model: &r.model,
                        reference: true,
                        score: f64::INFINITY,
                        tasks: Vec::new(),
                        vs_model: None,
                        error: Some(format!("{e:#}")),
                    }
                }
            }
        })
        .collect()
}

#[derive(Serialize)]
struct Output<'a> {
    competition: &'a str,
    competition_id: u16,
    block: u64,
    seed: String,
    seed_source: &'a SeedSource,
    score: f64,
    tasks: &'a [TaskOutcome],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [ReferenceOutput<'a>],
}

/// Runs `gauntlet eval --competition`: the model, then the competition's
/// reference entrants on the same items (unless `--no-references`).
pub fn run(model: &str, args: &SuiteArgs, remote: &RemoteArgs, json: bool) -> Result<()> {
    let resolved = resolve(args)?;
    let active = resolved.active()?;
    let start = Instant::now();
    let prepared = prepare(
        &active,
        &DataCache::from_env(),
        &resolved.seed,
        args.samples,
    );
    let result = run_on(model, remote, args, &active, &prepared, &resolved.seed)?;
    let references = if args.no_references {
        Vec::new()
    } else {
        run_references(
            &result,
            &active.competition.references,
            remote,
            args,
            &active,
            &prepared,
            &resolved.seed,
        )
    };
    if json {
        return print_json(&Output {
            competition: &result.competition,
            competition_id: resolved.id.0,
            block: resolved.block.0,
            seed: resolved.seed.hex(),
            seed_source: &resolved.seed_source,
            score: result.score,
            tasks: &result.tasks,
            references: &references,
        });
    }
    println!(
        "{} (id {}), schedule at block {}, seed {}",
        result.competition,
        resolved.id.0,
        resolved.block.0,
        resolved.seed.hex()
    );
    print_tasks(&result.tasks);
    println!(
        "score {:.4} (lower is better), {:.1} s",
        result.score,
        start.elapsed().as_secs_f64()
    );
    for r in &references {
        println!();
        println!("reference {} ({}), never weighted", r.name, r.model);
        match &r.error {
            Some(e) => println!("  not evaluated: {e}"),
            None => {
                print_tasks(&r.tasks);
                println!("score {:.4}", r.score);
                if let Some(ci) = &r.vs_model {
                    println!("{}", describe_interval("the model", ci));
                }
            }
        }
    }
    Ok(())
}

/// The task table: raw, normalised, weight, contribution, samples, seconds.
pub fn print_tasks(tasks: &[TaskOutcome]) {
    println!(
        "{:<16} {:>10} {:>10} {:>7} {:>12} {:>8} {:>9}",
        "task", "raw", "normalised", "weight", "contribution", "samples", "seconds"
    );
    for t in tasks {
        println!(
            "{:<16} {:>10.4} {:>10.4} {:>7.3} {:>12.4} {:>8} {:>9.1}",
            t.name,
            t.raw_score,
            t.normalized,
            t.effective_weight,
            t.contribution(),
            t.samples,
            t.seconds
        );
        match &t.status {
            TaskStatus::Ok => {}
            TaskStatus::Failed(why) => println!("  failed (raw = +inf): {why}"),
            TaskStatus::Dropped(why) => println!("  dropped (weights renormalised): {why}"),
            TaskStatus::Stopped(why) => println!("  not run (raw = +inf): {why}"),
        }
    }
}

/// One line on a paired interval of `score − other's score`.
pub fn describe_interval(other: &str, ci: &PairedInterval) -> String {
    let verdict = if ci.high < 0.0 {
        format!(
            "lower than {other}'s with {:.0} % confidence",
            ci.level * 100.0
        )
    } else if ci.low > 0.0 {
        format!(
            "higher than {other}'s with {:.0} % confidence",
            ci.level * 100.0
        )
    } else {
        format!("not separable from {other}'s at {:.0} %", ci.level * 100.0)
    };
    format!(
        "score minus {other}'s: {:+.4}, {:.0} % paired bootstrap interval [{:+.4}, {:+.4}] over {} samples: {verdict}",
        ci.mean_diff,
        ci.level * 100.0,
        ci.low,
        ci.high,
        ci.samples
    )
}

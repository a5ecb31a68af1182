//! `gauntlet miner eval`: the validator's own evaluation of a model, run
//! locally, and — when the current best model is known — the same samples on
//! it and the pairwise comparison a validator would make (the best, committed
//! earlier, keeps its epsilon advantage).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_constants::Block;
use gauntlet_evals::bootstrap::{pair_seed, PairedInterval};
use gauntlet_evals::tasks::TaskOutcome;
use gauntlet_evals::weights::beats;
use gauntlet_hub::{secure_hash, ModelId};
use gauntlet_validator::round::intervals::between;
use gauntlet_validator::suite::SuiteResult;
use serde::Serialize;

use super::backends::HubArgs;
use super::eval::competition::{describe_interval, print_tasks, resolve, run_suite, SeedSource};
use super::eval::SuiteArgs;
use super::print_json;

/// Arguments of `gauntlet miner eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    suite: SuiteArgs,
    /// Compare with this model directory (the current best, downloaded).
    #[arg(long, conflicts_with = "best_from_chain")]
    against: Option<PathBuf>,
    /// The block at which `--against` was committed (its age sets its
    /// epsilon advantage; default: the evaluation block, the largest advantage).
    #[arg(long, requires = "against")]
    against_block: Option<u64>,
    /// Find the current best on the chain (the top earner of this competition),
    /// download it from the hub and compare with it.
    #[arg(long)]
    best_from_chain: bool,
    #[command(flatten)]
    hub: HubArgs,
    /// Print the result as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// The model compared against.
#[derive(Debug, Serialize)]
struct Best {
    /// Where it came from (a directory, or `uid N: ns/name@commit`).
    source: String,
    /// The block of its commitment.
    commit_block: u64,
    /// Its competition score.
    score: f64,
    /// Its tasks.
    tasks: Vec<TaskOutcome>,
}

#[derive(Serialize)]
struct Output<'a> {
    competition: &'a str,
    block: u64,
    seed: String,
    seed_source: &'a SeedSource,
    score: f64,
    tasks: &'a [TaskOutcome],
    best: Option<Best>,
    /// The best model's advantage at this block.
    epsilon: Option<f64>,
    /// Whether this model would beat the best (a validator's pairwise rule).
    beats_best: Option<bool>,
    /// The score this model must get below to beat the best.
    score_to_beat: Option<f64>,
    /// This model's score minus the best's on the same samples, with the
    /// paired bootstrap interval (95 %): how clear the difference is.
    vs_best: Option<PairedInterval>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    if args.suite.competition.is_none() {
        bail!("--competition is required");
    }
    let resolved = resolve(&args.suite)?;
    let active = resolved.active()?;
    let competition = resolved.competition()?;
    // Fetch the best model first: a hub or chain problem shows before the
    // long evaluation.
    let best_dir = match (&args.against, args.best_from_chain) {
        (Some(dir), _) => Some((
            dir.clone(),
            dir.display().to_string(),
            Block(args.against_block.unwrap_or(resolved.block.0)),
            resolved.block,
        )),
        (None, true) => fetch_best(&args, competition)?,
        (None, false) => None,
    };
    let mine = run_suite(&args.model, &args.suite, &active, &resolved.seed)?;
    let mut best = None;
    let mut comparison = None;
    let mut vs_best = None;
    if let Some((dir, source, commit_block, now)) = best_dir {
        let theirs: SuiteResult = run_suite(&dir, &args.suite, &active, &resolved.seed)?;
        let eps = competition.constraints.epsilon.at(now, commit_block);
        let eps_at = |b: u64| competition.constraints.epsilon.at(now, Block(b));
        // This model is not committed yet: it would be the later one.
        let wins = beats(
            (mine.score, now.0.saturating_add(1)),
            (theirs.score, commit_block.0),
            eps_at,
        );
        comparison = Some((eps, wins, theirs.score * (1.0 - eps.clamp(0.0, 1.0))));
        vs_best = between(
            &active,
            &mine,
            &theirs,
            pair_seed(resolved.seed.as_bytes(), 0, 1),
        );
        best = Some(Best {
            source,
            commit_block: commit_block.0,
            score: theirs.score,
            tasks: theirs.tasks,
        });
    }
    if args.json {
        return print_json(&Output {
            competition: &mine.competition,
            block: resolved.block.0,
            seed: resolved.seed.hex(),
            seed_source: &resolved.seed_source,
            score: mine.score,
            tasks: &mine.tasks,
            best,
            epsilon: comparison.map(|c| c.0),
            beats_best: comparison.map(|c| c.1),
            score_to_beat: comparison.map(|c| c.2),
            vs_best,
        });
    }
    println!(
        "{} at block {}, seed {}",
        mine.competition,
        resolved.block.0,
        resolved.seed.hex()
    );
    println!("this model ({}):", args.model.display());
    print_tasks(&mine.tasks);
    println!("score {:.4} (lower is better)", mine.score);
    match (best, comparison) {
        (Some(b), Some((eps, wins, to_beat))) => {
            println!(
                "\nthe best ({}, committed at block {}):",
                b.source, b.commit_block
            );
            print_tasks(&b.tasks);
            println!("score {:.4}", b.score);
            println!(
                "\nthe best keeps an epsilon advantage of {eps:.4}: beat {to_beat:.4} to win. {}",
                if wins {
                    "This model WOULD beat it."
                } else {
                    "This model would NOT beat it."
                }
            );
            if let Some(ci) = &vs_best {
                println!("{}", describe_interval("the best", ci));
            }
        }
        _ => println!("(no best model to compare with: give --against DIR or --best-from-chain)"),
    }
    Ok(())
}

/// The current best on the chain, downloaded and verified: its directory,
/// label, commit block and the chain's current block.
fn fetch_best(
    args: &Args,
    competition: &gauntlet_competitions::Competition,
) -> Result<Option<(PathBuf, String, Block, Block)>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let chain = args.suite.chain.connect().await?;
        let netuid = args.suite.chain.netuid();
        let metagraph = chain.metagraph(netuid).await.context("reading the metagraph")?;
        let commitments = chain.commitments(netuid).await.context("reading the commitments")?;
        let Some(best) = gauntlet_miner::current_best(&metagraph, &commitments, competition.id) else {
            tracing::warn!(competition = %competition.name, "no model of this competition earns anything yet");
            return Ok(None);
        };
        let c = &best.commitment;
        let id = ModelId::new(c.namespace(), c.name(), c.commit())
            .map_err(|e| anyhow!("the best model's commitment names no valid revision: {e}"))?;
        let data = gauntlet_datasets::DataCache::from_env();
        let hub = args.hub.open(data.path("models"))?;
        let local = hub
            .download(&id, competition.constraints.max_repo_bytes)
            .await
            .with_context(|| format!("downloading the best model {}", id.repo_id()))?;
        // Validators reject such a model (hash_mismatch), so it is no bar to beat.
        anyhow::ensure!(
            secure_hash(&local.repo_hash, &best.hotkey) == c.secure_hash(),
            "the best model (uid {}) does not match its commitment's secure hash; validators \
             reject it, so there is nothing to compare with",
            best.uid
        );
        let label = format!("uid {}: {}@{}", best.uid, id.repo_id(), &id.commit[..8]);
        Ok(Some((local.dir, label, best.block, metagraph.block)))
    })
}

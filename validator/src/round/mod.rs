//! One validator round as explicit stages (DESIGN.md "Data flow"):
//!
//! 1. **sync** — the sync block of the current block and its hash (the seed);
//!    a competition is evaluated at most once per sync block.
//! 2. **select** — commitments parsed (a malformed one is a verdict), filtered
//!    by competition and eval delay; the previous round's top 3 carry over,
//!    at most 16 new or retried models are queued.
//! 3. **fetch** — each model downloaded at its pinned revision under the
//!    size cap, its secure hash verified, copies of earlier models flagged.
//! 4. **evaluate** — each model checked, loaded and run through the suite in
//!    its own sandboxed process (an "evaluating" mark committed first); each
//!    finished evaluation is saved, so a restart never redoes it, and a model
//!    the validator died on twice is judged `crashed`.
//! 5. **score** — pairwise win rates with the epsilon advantage, winner takes
//!    all, EMA per competition, round saved.
//! 6. **weights** — competitions merged by reward share, u16 weights set on
//!    chain with the version key (a rate-limit refusal is recorded, not fatal).

mod evaluate;
mod fetch;
pub mod intervals;
mod queue;
mod select;
mod weights;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gauntlet_chain::{Chain, ChainError, CommitmentRecord, Hotkey, Metagraph};
use gauntlet_competitions::{ActiveCompetition, Registry};
use gauntlet_constants::{sync_block, Block, NetUid, Uid};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_hub::{HubError, ModelStore};
use gauntlet_ledger::commitment::ItemsCommitment;
use gauntlet_ledger::{CompetitionRef, Digest, ItemSet, LedgerDir, RoundRef, RuntimeRef};
use gauntlet_model::Placement;
use serde::Serialize;

use crate::fault::Fault;
use crate::sandbox::Isolation;
use crate::state::{State, StateError};
use crate::suite::{prepare, Unprepared};

pub use crate::summary::RoundModel;
pub use queue::{PRIORITY_MIN_STAKE_RAO, PRIORITY_MIN_WEIGHT};
pub use select::{Candidate, MAX_QUEUED, RETRY_AFTER_BLOCKS, TOP_KEPT};
pub use weights::{ema_as_vector, merge_competitions, score_models, RoundScores, WeightsOutcome};

/// An infrastructure failure of a round (never a miner's fault): the round
/// stops, keeps what it saved, and the loop retries later.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The chain failed.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The hub failed for a reason that is not the miner's.
    #[error("hub: {0}")]
    Hub(#[from] HubError),
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The round's private items do not fit its tasks (a state written by
    /// something else, or a private pool of the wrong kind).
    #[error("private items: {0}")]
    Private(String),
}

impl RoundError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            RoundError::Chain(e) => e.is_transient(),
            RoundError::Hub(e) => e.is_transient(),
            RoundError::State(_) | RoundError::Private(_) => false,
        }
    }
}

/// Why a competition's round stopped before it was scored.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A fault of the validator's own: the competition waits.
    Wait(Fault),
    /// The round itself failed.
    Error(RoundError),
}

impl From<StateError> for Stop {
    fn from(e: StateError) -> Self {
        Stop::Error(e.into())
    }
}

/// How a validator runs.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// The subnet.
    pub netuid: NetUid,
    /// Where models are evaluated, and in which precision.
    pub placement: Placement,
    /// The datasets.
    pub data: DataCache,
    /// Caps every task's samples (the demo uses it); `None` = reference counts.
    pub sample_cap: Option<u32>,
    /// Overrides every competition's eval delay (a local chain's demo).
    pub eval_delay: Option<u64>,
    /// The weights version key.
    pub version_key: u64,
    /// Blocks that must pass after this validator last set weights (as its
    /// state records) before it submits again: the subnet's rate limit (100
    /// on the reference subnet), so a round that comes early costs no refused
    /// extrinsic and adds no history row. 0 submits every round.
    pub weights_interval: u64,
    /// How each model is isolated while it is checked, loaded and evaluated.
    pub isolation: Isolation,
    /// Overrides every competition's per-model deadline (`max_eval_seconds`).
    pub eval_timeout: Option<Duration>,
    /// CUDA devices to evaluate on, one sandboxed model per device at a time
    /// (empty: one model at a time on the placement's device).
    pub gpus: Vec<u32>,
    /// The longest one model's download may take; `None`: one minute plus a
    /// minute per GiB of the competition's size cap.
    pub download_timeout: Option<Duration>,
    /// Where the round's items and the signed ledger are published
    /// (`gauntlet-ledger`'s directory layout); `None` keeps them in the state
    /// only.
    pub ledger_dir: Option<PathBuf>,
    /// Publish the ledger directory to the hub as this repository
    /// (`namespace`, `name`) after each competition's round, as a new
    /// revision. A publish that fails is retried after the next competition
    /// (the directory holds everything, so nothing is lost).
    pub publish_ledger: Option<(String, String)>,
    /// Private items added to each round's public draw
    /// ([`crate::private`]); `None`: the public draw alone.
    pub private_data: Option<crate::private::PrivateData>,
}

impl ValidatorConfig {
    /// The deadline of one model's check, load and evaluation.
    pub(crate) fn eval_deadline(&self, competition: &ActiveCompetition<'_>) -> Duration {
        self.eval_timeout.unwrap_or(Duration::from_secs(
            competition.competition.constraints.max_eval_seconds,
        ))
    }

    /// The deadline of one model's download.
    pub(crate) fn download_deadline(&self, competition: &ActiveCompetition<'_>) -> Duration {
        self.download_timeout.unwrap_or_else(|| {
            let gib = competition.competition.constraints.max_repo_bytes >> 30;
            Duration::from_secs(60 + 60 * gib)
        })
    }
}

/// A competition that waits on a fault of the validator's own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiting {
    /// The competition's name.
    pub competition: String,
    /// The fault's label (`device`, `disk`, `dataset`, `network`, …).
    pub kind: String,
    /// What is wrong.
    pub reason: String,
}

/// What one call of [`Validator::run_round`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundReport {
    /// The current block.
    pub block: u64,
    /// The sync block (the seed's block).
    pub sync_block: u64,
    /// Per competition evaluated now: its name and models.
    pub competitions: Vec<(String, Vec<RoundModel>)>,
    /// Competitions that could not be scored because of the validator's own
    /// fault; they run again next round, keeping what was saved.
    pub waiting: Vec<Waiting>,
    /// The weights computed (and whether the chain took them).
    pub weights: Option<WeightsOutcome>,
}

/// A validator: chain, hub, state and configuration.
pub struct Validator {
    chain: Arc<dyn Chain>,
    hub: Arc<dyn ModelStore>,
    /// Where the ledger is published (`publish_ledger`): the model hub
    /// unless [`Validator::with_ledger_hub`] says otherwise.
    ledger_hub: Arc<dyn ModelStore>,
    hotkey: Hotkey,
    state: State,
    registry: Registry,
    config: ValidatorConfig,
}

/// What every competition of a round shares.
struct RoundContext<'a> {
    metagraph: &'a Metagraph,
    commitments: &'a [CommitmentRecord],
    priority: &'a BTreeSet<Uid>,
    block: Block,
    sync: Block,
    seed: &'a Seed,
    /// Each competition's items and root, as committed for this round.
    items: &'a BTreeMap<gauntlet_constants::CompetitionId, (ItemSet, Digest)>,
}

impl Validator {
    /// A validator over these backends, with its state.
    pub fn new(
        chain: Arc<dyn Chain>,
        hub: Arc<dyn ModelStore>,
        hotkey: Hotkey,
        state: State,
        registry: Registry,
        config: ValidatorConfig,
    ) -> Self {
        Self {
            chain,
            ledger_hub: hub.clone(),
            hub,
            hotkey,
            state,
            registry,
            config,
        }
    }

    /// Publishes the ledger to `store` instead of the model hub: on the
    /// Hugging Face Hub, a handle on dataset repositories
    /// (`HfHub::with_repo_kind(RepoKind::Dataset)`).
    pub fn with_ledger_hub(mut self, store: Arc<dyn ModelStore>) -> Self {
        self.ledger_hub = store;
        self
    }

    /// The validator's state (for status displays).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Takes the leaderboard snapshot of each competition whose period
    /// (`block / period_blocks`) has none yet, from its last finished round;
    /// returns those taken (see [`State::snapshot_leaderboards`]).
    pub fn snapshot_leaderboards(
        &mut self,
        block: gauntlet_constants::Block,
        period_blocks: u64,
    ) -> Result<Vec<crate::state::LeaderboardSnapshot>, crate::state::StateError> {
        self.state.snapshot_leaderboards(block, period_blocks)
    }

    /// Runs every stage once at the chain's current block: evaluates each
    /// active competition not yet evaluated at this sync block, then sets
    /// weights. Resumable: what was saved is not redone. A competition hit by
    /// a fault of the validator's own waits (see [`RoundReport::waiting`]).
    pub async fn run_round(&mut self) -> Result<RoundReport, RoundError> {
        let block = self.chain.current_block().await?;
        let sync = sync_block(block);
        let hash = self.chain.block_hash(sync).await?;
        let seed = Seed::from_block_hash(&hash);
        tracing::info!(block = block.0, sync = sync.0, seed = %seed.hex(), "round");
        let metagraph = self.chain.metagraph(self.config.netuid).await?;
        self.state.record_metagraph(&metagraph)?;
        let commitments = self.chain.commitments(self.config.netuid).await?;
        let priority = queue::priority(self.chain.as_ref(), self.config.netuid, &metagraph).await;
        let registry = self.registry.clone();
        let active = registry.active_at(block);
        let mut report = RoundReport {
            block: block.0,
            sync_block: sync.0,
            competitions: Vec::new(),
            waiting: Vec::new(),
            weights: None,
        };
        let pending: Vec<&ActiveCompetition<'_>> = active
            .iter()
            .filter(|c| !matches!(self.state.round(sync, c.competition.id), Ok(Some(_))))
            .collect();
        let items = if pending.is_empty() {
            BTreeMap::new()
        } else {
            self.commit_items(&active, sync, &seed).await?
        };
        let ctx = RoundContext {
            items: &items,
            metagraph: &metagraph,
            commitments: &commitments,
            priority: &priority,
            block,
            sync,
            seed: &seed,
        };
        for competition in &active {
            let id = competition.competition.id;
            let name = &competition.competition.name;
            if self.state.round(sync, id)?.is_some() {
                tracing::info!(competition = %name, "already evaluated at this sync block");
                continue;
            }
            match self.competition_round(&registry, competition, &ctx).await {
                Ok(models) => {
                    // Scored: whatever it waited on is gone.
                    self.state.clear_wait(id)?;
                    report.competitions.push((name.clone(), models));
                }
                Err(Stop::Wait(fault)) => {
                    // The validator's own problem: the competition waits
                    // instead of failing every miner; what was saved stays.
                    tracing::error!(competition = %name, %fault, "competition waits");
                    self.state.record_wait(id, sync, block, &fault)?;
                    report.waiting.push(Waiting {
                        competition: name.clone(),
                        kind: fault.label().into(),
                        reason: fault.to_string(),
                    });
                }
                Err(Stop::Error(e)) => return Err(e),
            }
        }
        report.weights = Some(
            weights::set_weights(
                self.chain.as_ref(),
                &self.hotkey,
                &self.state,
                &active,
                &metagraph,
                block,
                &self.config,
            )
            .await?,
        );
        Ok(report)
    }

    /// Fixes the round's items (every active competition's, drawn from the
    /// seed as the suite draws them), publishes them in the ledger directory
    /// and commits their root on chain as this validator's commitment, once
    /// per sync block. A refused commitment is logged and retried next call:
    /// the round goes on, and an audit will find its root missing.
    async fn commit_items(
        &mut self,
        active: &[ActiveCompetition<'_>],
        sync: Block,
        seed: &Seed,
    ) -> Result<BTreeMap<gauntlet_constants::CompetitionId, (ItemSet, Digest)>, RoundError> {
        let mut by_id = BTreeMap::new();
        let mut published = Vec::new();
        for competition in active {
            let mut prepared =
                prepare(competition, &self.config.data, seed, self.config.sample_cap);
            if let Some(private) = self.config.private_data.clone() {
                let chosen = self.private_items(&private, competition, sync, seed)?;
                crate::private::append(&mut prepared, &chosen).map_err(RoundError::Private)?;
            }
            let items = crate::ledger::competition_items(&prepared)
                .map_err(|e| RoundError::State(e.into()))?;
            let root = items.root();
            published.push((
                competition.competition.id.0,
                competition.competition.name.clone(),
                items.clone(),
            ));
            by_id.insert(competition.competition.id, (items, root));
        }
        let pairs: Vec<(u16, Digest)> =
            published.iter().map(|(id, _, i)| (*id, i.root())).collect();
        let commitment = match &self.config.ledger_dir {
            Some(dir) => match LedgerDir::new(dir).write_round(sync.0, &published) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "cannot publish the round's items; kept in the state");
                    ItemsCommitment::of_round(sync.0, &pairs)
                }
            },
            None => ItemsCommitment::of_round(sync.0, &pairs),
        }
        .to_string();
        let done = self
            .state
            .item_commitment(sync)?
            .is_some_and(|row| row.commitment == commitment && row.committed_block.is_some());
        if !done {
            let committed = match self
                .chain
                .commit(&self.hotkey, self.config.netuid, &commitment)
                .await
            {
                Ok(()) => {
                    tracing::info!(%commitment, "round items committed");
                    Some(self.chain.current_block().await?)
                }
                Err(e) => {
                    tracing::error!(error = %e, %commitment, "round items not committed");
                    None
                }
            };
            self.state
                .record_item_commitment(sync, &commitment, committed)?;
        }
        Ok(by_id)
    }

    /// The private items of `competition`'s round at `sync`: the ones
    /// recorded for it (a restart), else a fresh draw of items no earlier
    /// round used, recorded before anything is committed.
    fn private_items(
        &mut self,
        private: &crate::private::PrivateData,
        competition: &ActiveCompetition<'_>,
        sync: Block,
        seed: &Seed,
    ) -> Result<crate::state::PrivateItems, RoundError> {
        let id = competition.competition.id;
        if let Some(items) = self.state.private_items(sync, id)? {
            return Ok(items);
        }
        let used = self.state.used_private_items()?;
        let drawn = crate::private::draw(private, competition, seed, &used);
        self.state.record_private_items(sync, id, &drawn)?;
        let count: usize = drawn.values().map(Vec::len).sum();
        tracing::info!(
            competition = %competition.competition.name,
            items = count,
            "private items drawn"
        );
        Ok(drawn
            .into_iter()
            .map(|(task, items)| (task, items.into_iter().map(|(_, v)| v).collect()))
            .collect())
    }

    /// Uploads the ledger directory as a new revision of `namespace/name`;
    /// a failure is logged and the next competition's round tries again.
    async fn publish_ledger(&self, dir: &Path, namespace: &str, name: &str) {
        match self.ledger_hub.upload(dir, namespace, name).await {
            Ok(id) => tracing::info!(revision = %id, "ledger published to the hub"),
            Err(e) => tracing::error!(
                error = %e,
                repo = %format!("{namespace}/{name}"),
                "cannot publish the ledger; published again after the next competition"
            ),
        }
    }

    /// One competition's round: its fixed tokenizer and datasets first (a
    /// problem there makes it wait), then select, fetch, evaluate, score.
    async fn competition_round(
        &mut self,
        registry: &Registry,
        competition: &ActiveCompetition<'_>,
        ctx: &RoundContext<'_>,
    ) -> Result<Vec<RoundModel>, Stop> {
        let tokenizer = crate::tokenizer::tokenizer_dir(
            &competition.competition.constraints.tokenizer,
            &self.config.data,
        )
        .await
        .map_err(|why| Stop::Wait(Fault::Tokenizer(why)))?;
        check_datasets(
            competition,
            &self.config.data,
            ctx.seed,
            self.config.sample_cap,
        )?;
        let candidates = select::select(
            &self.state,
            competition,
            ctx.metagraph,
            ctx.commitments,
            ctx.priority,
            ctx.block,
            ctx.sync,
            self.config.eval_delay,
        )?;
        let fetched = fetch::fetch_all(
            &self.state,
            self.hub.as_ref(),
            competition,
            &candidates,
            ctx.block,
            self.config.download_deadline(competition),
        )
        .await?;
        let placement = self.config.placement;
        let record = ctx
            .items
            .get(&competition.competition.id)
            .map(|(items, root)| crate::ledger::RecordContext {
                round: RoundRef {
                    sync_block: ctx.sync.0,
                    block: ctx.block.0,
                    seed: ctx.seed.hex(),
                },
                competition: CompetitionRef {
                    id: competition.competition.id.0,
                    name: competition.competition.name.clone(),
                },
                runtime: RuntimeRef {
                    gauntlet_version: env!("CARGO_PKG_VERSION").to_string(),
                    device: placement.device.name().to_string(),
                    dtype: placement.precision().name().to_string(),
                },
                items: items.clone(),
                items_root: *root,
            });
        let job = evaluate::JobTemplate {
            hotkey: &self.hotkey,
            ledger: record.as_ref(),
            registry,
            competition,
            config: &self.config,
            seed: ctx.seed,
            block: ctx.block,
            sync: ctx.sync,
            tokenizer: tokenizer.as_deref(),
            metagraph: ctx.metagraph,
        };
        let evaluations = evaluate::evaluate_all(&mut self.state, fetched, &job)?;
        let models = weights::score_round(
            &mut self.state,
            competition,
            &evaluations,
            ctx.metagraph,
            ctx.block,
            ctx.sync,
            ctx.seed,
        )?;
        if let Some(dir) = &self.config.ledger_dir {
            match crate::ledger::export(&self.state, dir) {
                Ok(n) => {
                    tracing::info!(records = n, dir = %dir.display(), "ledger segments written");
                    if let Some((namespace, name)) = &self.config.publish_ledger {
                        self.publish_ledger(dir, namespace, name).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot write the ledger; kept in the state"),
            }
        }
        Ok(models)
    }
}

/// Every task's data must be there: a competition scored with a task
/// dropped would disagree with every other validator, so it waits instead.
fn check_datasets(
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    seed: &Seed,
    sample_cap: Option<u32>,
) -> Result<(), Stop> {
    for task in prepare(competition, data, seed, sample_cap) {
        if let Err(Unprepared::Dropped(why)) = task.input {
            return Err(Stop::Wait(Fault::Dataset(format!("{}: {why}", task.name))));
        }
    }
    Ok(())
}

/// Blocks from `then` to `now` (0 when `then` is later).
pub(crate) fn age(now: Block, then: Block) -> u64 {
    now.0.saturating_sub(then.0)
}

/// The sync block of `block`.
pub(crate) fn sync_of(block: Block) -> Block {
    sync_block(block)
}

//! One validator round as explicit stages (DESIGN.md "Data flow"):
//!
//! 1. **sync** — the sync block of the current block and its hash (the seed);
//!    a competition is evaluated at most once per sync block.
//! 2. **select** — commitments parsed (a malformed one is a verdict), filtered
//!    by competition and eval delay; the previous round's top 3 carry over,
//!    at most 16 new or retried models are queued.
//! 3. **fetch** — each model downloaded at its pinned revision under the
//!    size cap, its secure hash verified, copies of earlier models flagged.
//! 4. **evaluate** — constraints checked, the competition's suite run on the
//!    same samples for every model; each finished evaluation is saved, so a
//!    restart never redoes it.
//! 5. **score** — pairwise win rates with the epsilon advantage, winner takes
//!    all, EMA per competition, round saved.
//! 6. **weights** — competitions merged by reward share, u16 weights set on
//!    chain with the version key (a rate-limit refusal is recorded, not fatal).

mod evaluate;
mod fetch;
mod select;
mod weights;

use std::sync::Arc;

use gauntlet_chain::{Chain, ChainError, Hotkey};
use gauntlet_competitions::Registry;
use gauntlet_constants::{sync_block, Block, NetUid};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_hub::{HubError, ModelStore};
use gauntlet_model::Placement;
use serde::Serialize;

use crate::state::{State, StateError};
use crate::suite::SuiteOptions;

pub use select::{Candidate, MAX_QUEUED, RETRY_AFTER_BLOCKS, TOP_KEPT};
pub use weights::WeightsOutcome;

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
}

impl RoundError {
    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            RoundError::Chain(e) => e.is_transient(),
            RoundError::Hub(e) => e.is_transient(),
            RoundError::State(_) => false,
        }
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
}

/// A model's line in a round's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundModel {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// `namespace/name@commit`, or the raw commitment when it did not parse.
    pub model: String,
    /// The competition score (a loss); `null` for +inf.
    pub score: f64,
    /// Its pairwise win rate.
    pub win_rate: f64,
    /// Its weight in this round (winner takes all).
    pub round_weight: f64,
    /// The verdict's label.
    pub verdict: String,
    /// Why, for a rejected model.
    pub reason: Option<String>,
    /// The uid of the model it copies.
    pub copy_of: Option<u16>,
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
    /// The weights computed (and whether the chain took them).
    pub weights: Option<WeightsOutcome>,
}

/// A validator: chain, hub, state and configuration.
pub struct Validator {
    chain: Arc<dyn Chain>,
    hub: Arc<dyn ModelStore>,
    hotkey: Hotkey,
    state: State,
    registry: Registry,
    config: ValidatorConfig,
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
            hub,
            hotkey,
            state,
            registry,
            config,
        }
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
    /// weights. Resumable: what was saved is not redone.
    pub async fn run_round(&mut self) -> Result<RoundReport, RoundError> {
        let block = self.chain.current_block().await?;
        let sync = sync_block(block);
        let hash = self.chain.block_hash(sync).await?;
        let seed = Seed::from_block_hash(&hash);
        tracing::info!(block = block.0, sync = sync.0, seed = %seed.hex(), "round");
        let metagraph = self.chain.metagraph(self.config.netuid).await?;
        self.state.record_metagraph(&metagraph)?;
        let commitments = self.chain.commitments(self.config.netuid).await?;
        let registry = self.registry.clone();
        let active = registry.active_at(block);
        let mut report = RoundReport {
            block: block.0,
            sync_block: sync.0,
            competitions: Vec::new(),
            weights: None,
        };
        for competition in &active {
            let id = competition.competition.id;
            if self.state.round(sync, id)?.is_some() {
                tracing::info!(competition = %competition.competition.name, "already evaluated at this sync block");
                continue;
            }
            let tokenizer = match crate::tokenizer::tokenizer_dir(
                &competition.competition.constraints.tokenizer,
                &self.config.data,
            )
            .await
            {
                Ok(dir) => dir,
                Err(why) => {
                    // The validator's own problem: the competition waits for
                    // the next round instead of failing every miner.
                    tracing::error!(competition = %competition.competition.name, %why, "competition skipped");
                    continue;
                }
            };
            let candidates = select::select(
                &self.state,
                competition,
                &metagraph,
                &commitments,
                block,
                sync,
                self.config.eval_delay,
            )?;
            let fetched = fetch::fetch_all(
                &self.state,
                self.hub.as_ref(),
                competition,
                &candidates,
                block,
            )
            .await?;
            let opts = SuiteOptions {
                sample_cap: self.config.sample_cap,
                keep_details: true,
                ..SuiteOptions::default()
            };
            let evaluations = evaluate::evaluate_all(
                &mut self.state,
                competition,
                fetched,
                &self.config,
                &seed,
                sync,
                &opts,
                tokenizer.as_deref(),
            )?;
            let models = weights::score_round(
                &mut self.state,
                competition,
                &evaluations,
                &metagraph,
                block,
                sync,
            )?;
            report
                .competitions
                .push((competition.competition.name.clone(), models));
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
}

/// Blocks from `then` to `now` (0 when `then` is later).
pub(crate) fn age(now: Block, then: Block) -> u64 {
    now.0.saturating_sub(then.0)
}

/// The sync block of `block`.
pub(crate) fn sync_of(block: Block) -> Block {
    sync_block(block)
}

//! The dashboard's data: one typed view per page, gathered from the
//! validator state, the chain, the competition registry and the pools. The
//! HTML pages render these views and `/api/…` serves them as JSON, so both
//! always show the same thing.

mod competitions;
mod models;
mod pools;
mod samples;
mod validators;

use std::path::PathBuf;
use std::sync::Arc;

use gauntlet_chain::{Chain, Commitment, Metagraph};
use gauntlet_competitions::Registry;
use gauntlet_constants::NetUid;
use gauntlet_pools::Treasury;
use gauntlet_validator::State;

pub use competitions::{
    CompetitionSummary, History, Leaderboard, LeaderboardEntry, Overview, Point, ScheduleRow,
    Series, ShareRow, SnapshotRef, Unplaced,
};
pub use models::{ModelPage, SamplesPage, SAMPLES_PER_PAGE};
pub use pools::PoolsPage;
pub use samples::SampleView;
pub use validators::{OwnRound, ValidatorRow, Validators};

use crate::DashboardError;

/// Where model repositories are shown on the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubLinks {
    /// No web page (a local hub directory): models are shown without a link.
    None,
    /// A Hugging Face style hub at this base URL (`https://huggingface.co`):
    /// `{base}/{namespace}/{name}/tree/{commit}`.
    Web(String),
}

/// The funding pools a dashboard shows: their store and the chain that
/// holds their balances.
pub struct PoolSource {
    /// The pools' SQLite file.
    pub path: PathBuf,
    /// The chain that holds their funds.
    pub treasury: Arc<dyn Treasury + Send + Sync>,
}

/// Everything a dashboard reads.
pub struct Sources {
    /// The validator's state file (read only; absent until it first runs).
    pub state: PathBuf,
    /// The chain.
    pub chain: Arc<dyn Chain>,
    /// The subnet.
    pub netuid: NetUid,
    /// The competitions.
    pub registry: Registry,
    /// The funding pools, where there are any.
    pub pools: Option<PoolSource>,
    /// Where models link to.
    pub hub: HubLinks,
    /// The validator's ledger directory (its published rounds' items: the
    /// prompts on model pages), when known.
    pub ledger: Option<PathBuf>,
}

impl Sources {
    /// Runs `f` on the validator state opened read-only on the blocking
    /// pool; `None` when the validator has not written a state yet.
    pub(crate) async fn read_state<T, F>(&self, f: F) -> Result<Option<T>, DashboardError>
    where
        T: Send + 'static,
        F: FnOnce(&State) -> Result<T, DashboardError> + Send + 'static,
    {
        let path = self.state.clone();
        tokio::task::spawn_blocking(move || {
            if !path.is_file() {
                return Ok(None);
            }
            let state = State::open_read_only(&path)?;
            f(&state).map(Some)
        })
        .await
        .map_err(|e| DashboardError::Internal(e.to_string()))?
    }

    /// The subnet's metagraph now.
    pub(crate) async fn metagraph(&self) -> Result<Metagraph, DashboardError> {
        Ok(self.chain.metagraph(self.netuid).await?)
    }

    /// A value that changes whenever the validator records something shown.
    pub async fn fingerprint(&self) -> Result<String, DashboardError> {
        Ok(self
            .read_state(|s| Ok(s.fingerprint()?))
            .await?
            .unwrap_or_else(|| "none".into()))
    }

    /// The web page of the model a commitment names, if the hub has pages.
    pub fn repo_url(&self, commitment: &str) -> Option<String> {
        let HubLinks::Web(base) = &self.hub else {
            return None;
        };
        let c = Commitment::parse(commitment).ok()?;
        Some(format!(
            "{}/{}/tree/{}",
            base.trim_end_matches('/'),
            c.repo_id(),
            c.commit()
        ))
    }
}

/// `namespace/name@commit8` of a commitment, or the raw text when it does not
/// parse (shown escaped: a miner wrote it).
pub fn model_label(commitment: &str) -> String {
    match Commitment::parse(commitment) {
        Ok(c) => format!(
            "{}@{}",
            c.repo_id(),
            c.commit().get(..8).unwrap_or(c.commit())
        ),
        Err(_) => commitment.to_string(),
    }
}

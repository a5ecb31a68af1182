//! Stage 2: which models a round evaluates.

use std::collections::BTreeSet;

use gauntlet_chain::{Commitment, CommitmentRecord, Metagraph};
use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::{Block, Uid};

use super::age;
use crate::error_chain;
use crate::state::{ModelKey, State, StateError};
use crate::verdict::Verdict;

/// Models of the previous round carried over (the best by win rate).
pub const TOP_KEPT: usize = 3;
/// New or retried models evaluated per round at most.
pub const MAX_QUEUED: usize = 16;
/// A model evaluated before is retried only this many blocks later.
pub const RETRY_AFTER_BLOCKS: u64 = 1200;

/// A model selected for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Hotkey and commitment string.
    pub key: ModelKey,
    /// Its uid.
    pub uid: Uid,
    /// The block of its commitment.
    pub commit_block: Block,
    /// The parsed commitment.
    pub commitment: Commitment,
}

/// Parses every commitment (recording malformed ones), keeps this
/// competition's models old enough to evaluate, and picks the round's set:
/// the previous round's kept models, then the models large validators weight
/// (`priority`, see `queue`), then new models by commit block, then
/// retries, at most [`MAX_QUEUED`] besides the kept ones. Sorted by uid.
#[allow(clippy::too_many_arguments)]
pub(crate) fn select(
    state: &State,
    competition: &ActiveCompetition<'_>,
    metagraph: &Metagraph,
    commitments: &[CommitmentRecord],
    priority: &BTreeSet<Uid>,
    block: Block,
    sync: Block,
    eval_delay: Option<u64>,
) -> Result<Vec<Candidate>, StateError> {
    let id = competition.competition.id;
    let delay = eval_delay.unwrap_or(competition.competition.constraints.eval_block_delay);
    let mut eligible = Vec::new();
    for record in commitments {
        let Some(neuron) = metagraph.by_hotkey(&record.hotkey) else {
            tracing::debug!(hotkey = %record.hotkey, "commitment of an unregistered hotkey ignored");
            continue;
        };
        if gauntlet_chain::is_validator_commitment(&record.data) {
            // A validator's items root, not a model: no verdict.
            continue;
        }
        let key = ModelKey {
            hotkey: record.hotkey.clone(),
            commitment: record.data.clone(),
        };
        let commitment = match Commitment::parse(&record.data) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(uid = neuron.uid.0, error = %e, "malformed commitment");
                let verdict = Verdict::InvalidCommitment {
                    reason: error_chain(&e),
                };
                state.record_model(&key, neuron.uid, None, record.block, None, &verdict, block)?;
                continue;
            }
        };
        if commitment.competition_id() != id {
            continue;
        }
        if age(block, record.block) < delay {
            tracing::info!(
                uid = neuron.uid.0,
                age = age(block, record.block),
                delay,
                "model too young to evaluate"
            );
            continue;
        }
        eligible.push(Candidate {
            key,
            uid: neuron.uid,
            commit_block: record.block,
            commitment,
        });
    }
    let last = state.last_round(id)?;
    let kept: Vec<ModelKey> = last
        .as_ref()
        .map(|(_, s)| s.keep.clone())
        .unwrap_or_default();
    let winner_score = last
        .as_ref()
        .and_then(|(_, s)| s.winner_score)
        .unwrap_or(f64::INFINITY);
    let epsilon = |b: Block| competition.competition.constraints.epsilon.at(block, b);
    let mut chosen: Vec<Candidate> = Vec::new();
    // (priority first, then new before retries), each by commit block.
    let mut queued: Vec<((bool, bool, Block, Uid), Candidate)> = Vec::new();
    for c in eligible {
        if kept.contains(&c.key) {
            chosen.push(c);
            continue;
        }
        let first = priority.contains(&c.uid);
        match state.last_evaluation(id, &c.key, sync)? {
            None => queued.push(((!first, false, c.commit_block, c.uid), c)),
            Some((last_sync, score, verdict)) => {
                // Retried only when it could still beat the winner by epsilon,
                // when its download failed (a hub outage must not shut a
                // model out for good), or when large validators weight it.
                let close =
                    score.is_finite() && score * (1.0 - epsilon(c.commit_block)) < winner_score;
                let unfetched = matches!(verdict, Verdict::DownloadFailed { .. });
                if age(sync, last_sync) >= RETRY_AFTER_BLOCKS && (close || unfetched || first) {
                    queued.push(((!first, true, c.commit_block, c.uid), c));
                }
            }
        }
    }
    queued.sort_by_key(|(order, _)| *order);
    chosen.extend(queued.into_iter().map(|(_, c)| c).take(MAX_QUEUED));
    chosen.sort_by_key(|c| c.uid);
    Ok(chosen)
}

//! Stages 5 and 6: a round's win rates and EMA, then the subnet's weights on
//! chain.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::summary::RoundSummary;
use gauntlet_retry::{retry, Failure, RetryPolicy};

use gauntlet_chain::{
    Chain, ChainError, CommitStatus, Hotkey, Metagraph, WeightsCommit, WeightsSubmission,
};
use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::{Block, CompetitionId, Uid};
use gauntlet_datasets::Seed;
use gauntlet_evals::weights::{
    ema, subnet_weights, upscale_u16, winner_of_rates, MIN_COMPETITION_WEIGHT,
};
use serde::Serialize;

use super::{age, RoundModel, ValidatorConfig, TOP_KEPT};
use crate::state::{Evaluation, ModelKey, State, StateError};

/// A weight set on transient chain errors: 3 attempts, 1 s then 2 s apart.
const BACKOFF: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    initial_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(8),
};

/// The weights a round computed and what the chain said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightsOutcome {
    /// `(uid, weight)` of every uid with weight; the weights sum to 1.
    pub weights: Vec<(u16, f64)>,
    /// The same as set on chain (max-upscaled to 65535).
    pub u16_weights: Vec<(u16, u16)>,
    /// Whether the chain took them (set, or committed for it to reveal).
    pub set: bool,
    /// `set`, `committed`, or why not (rate limit, nothing to set, chain error).
    pub note: String,
    /// On a commit–reveal subnet, the timelocked commit the chain took: it
    /// applies the weights itself at `reveal_round` (see `State::commits`).
    pub commit: Option<WeightsCommit>,
}

/// A competition's EMA as a uid-indexed vector, keeping only entries whose
/// hotkey still holds that uid.
fn ema_vector(
    state: &State,
    id: CompetitionId,
    metagraph: &Metagraph,
) -> Result<Vec<f64>, StateError> {
    Ok(ema_as_vector(&state.ema(id)?, metagraph))
}

/// An EMA by hotkey as a uid-indexed vector over `metagraph`, keeping only
/// entries whose hotkey still holds that uid.
pub fn ema_as_vector(ema: &BTreeMap<String, (Uid, f64)>, metagraph: &Metagraph) -> Vec<f64> {
    let n = metagraph
        .neurons
        .iter()
        .map(|n| n.uid.0 as usize + 1)
        .max()
        .unwrap_or(0);
    let mut v = vec![0.0; n];
    for (hotkey, (uid, value)) in ema {
        if metagraph.by_uid(*uid).is_some_and(|n| &n.hotkey == hotkey) {
            v[uid.0 as usize] = *value;
        }
    }
    v
}

/// What scoring one competition's round gives: each model's win rate and
/// round weight (in the order given), and the competition's new EMA by
/// hotkey. Pure: the validator's rounds and `gauntlet audit` both use it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundScores {
    /// Win rates, in the models' order.
    pub rates: Vec<f64>,
    /// Round weights (winner takes all), in the models' order.
    pub round: Vec<f64>,
    /// The new EMA: hotkey → (uid, value), values above zero only.
    pub ema: BTreeMap<String, (Uid, f64)>,
}

/// Scores a round of `models` (`(score, commit block)`, at `uids`) with
/// their win `rates` ([`super::intervals::round_win_rates`]) against the
/// previous EMA vector.
pub fn score_models(
    models: &[(f64, u64)],
    uids: &[Uid],
    rates: Vec<f64>,
    previous: &[f64],
    metagraph: &Metagraph,
) -> RoundScores {
    let round = winner_of_rates(models, &rates);
    let mut round_vec = vec![0.0; previous.len()];
    for (uid, w) in uids.iter().zip(&round) {
        if let Some(slot) = round_vec.get_mut(uid.0 as usize) {
            *slot = *w;
        }
    }
    let has_previous = previous.iter().any(|&v| v > 0.0);
    let new_ema = ema(has_previous.then_some(previous), &round_vec);
    let mut ema_map = BTreeMap::new();
    for n in &metagraph.neurons {
        let v = new_ema.get(n.uid.0 as usize).copied().unwrap_or(0.0);
        if v > 0.0 {
            ema_map.insert(n.hotkey.clone(), (n.uid, v));
        }
    }
    RoundScores {
        rates,
        round,
        ema: ema_map,
    }
}

/// The subnet's weights from each active competition's `(reward share, EMA
/// vector)`: the float weights and the `u16` ones set on chain.
pub fn merge_competitions(per_competition: &[(f64, Vec<f64>)]) -> (Vec<f64>, Vec<u16>) {
    let merged = subnet_weights(
        per_competition.iter().map(|(s, v)| (*s, v.as_slice())),
        MIN_COMPETITION_WEIGHT,
    );
    let q = upscale_u16(&merged);
    (merged, q)
}

/// Scores a round: win rates, winner takes all, the EMA and the models kept.
pub(crate) fn score_round(
    state: &mut State,
    competition: &ActiveCompetition<'_>,
    evaluations: &[Evaluation],
    metagraph: &Metagraph,
    block: Block,
    sync: Block,
    seed: &Seed,
) -> Result<Vec<RoundModel>, StateError> {
    let id = competition.competition.id;
    let models: Vec<(f64, u64)> = evaluations
        .iter()
        .map(|e| (e.score, e.commit_block.0))
        .collect();
    let uids: Vec<Uid> = evaluations.iter().map(|e| e.uid).collect();
    // Per-sample scores matter only when wins must be significant.
    let samples = match competition.competition.constraints.significance {
        Some(_) => evaluations
            .iter()
            .map(|e| super::intervals::per_task(state, sync, competition, e))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let rates =
        super::intervals::round_win_rates(competition, block, &models, &uids, &samples, seed);
    let previous = ema_vector(state, id, metagraph)?;
    let RoundScores {
        rates,
        round,
        ema: ema_map,
    } = score_models(&models, &uids, rates, &previous, metagraph);
    let mut order: Vec<usize> = (0..evaluations.len())
        .filter(|&i| evaluations[i].score.is_finite())
        .collect();
    order.sort_by(|&a, &b| {
        rates[b]
            .total_cmp(&rates[a])
            .then(evaluations[a].score.total_cmp(&evaluations[b].score))
            .then(evaluations[a].uid.cmp(&evaluations[b].uid))
    });
    let keep: Vec<ModelKey> = order
        .iter()
        .take(TOP_KEPT)
        .map(|&i| evaluations[i].key.clone())
        .collect();
    let winner_score = evaluations
        .iter()
        .zip(&round)
        .filter(|(_, &w)| w > 0.0)
        .map(|(e, _)| e.score)
        .fold(f64::INFINITY, f64::min);
    let winner = round.iter().position(|&w| w > 0.0);
    let intervals =
        super::intervals::against_winner(state, competition, evaluations, winner, sync, seed)?;
    let models: Vec<RoundModel> = evaluations
        .iter()
        .zip(rates.iter().zip(&round))
        .zip(intervals)
        .map(|((e, (&rate, &w)), vs_winner)| RoundModel {
            uid: e.uid.0,
            hotkey: e.key.hotkey.clone(),
            model: model_label(&e.key.commitment),
            score: e.score,
            win_rate: rate,
            round_weight: w,
            verdict: e.verdict.label().to_string(),
            reason: e.verdict.reason(),
            copy_of: e.verdict.copy_of().map(|u| u.0),
            vs_winner,
        })
        .collect();
    let summary = RoundSummary {
        models,
        keep,
        winner_score: winner_score.is_finite().then_some(winner_score),
    };
    state.finish_round(sync, id, block, &summary, &ema_map)?;
    Ok(summary.models)
}

/// `namespace/name@commit8` of a commitment, or the raw text.
fn model_label(commitment: &str) -> String {
    match gauntlet_chain::Commitment::parse(commitment) {
        Ok(c) => format!("{}@{}", c.repo_id(), &c.commit()[..8.min(c.commit().len())]),
        Err(_) => commitment.to_string(),
    }
}

/// Asks the chain where each pending commit stands and records it; a failure
/// to ask is logged and left for the next round.
async fn track_commits(
    chain: &dyn Chain,
    hotkey: &Hotkey,
    state: &State,
    config: &ValidatorConfig,
    block: Block,
) -> Result<(), StateError> {
    for row in state.pending_commits()? {
        match chain
            .commit_status(&hotkey.ss58(), config.netuid, &row.commit)
            .await
        {
            Ok(status) => {
                if status != CommitStatus::Pending {
                    tracing::info!(
                        reveal_round = row.commit.reveal_round,
                        status = status.as_str(),
                        "weights commit settled"
                    );
                }
                state.set_commit_status(row.id, status, block)?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a weights commit's status; next round");
            }
        }
    }
    Ok(())
}

/// Merges the active competitions' EMAs by reward share and sets the result
/// on chain (or commits it, on a commit–reveal subnet, recording the commit).
/// A refusal (rate limit, version key) is recorded and reported, not an error;
/// transient chain errors are retried with backoff. Pending commits of earlier
/// rounds are followed first.
pub(crate) async fn set_weights(
    chain: &dyn Chain,
    hotkey: &Hotkey,
    state: &State,
    active: &[ActiveCompetition<'_>],
    metagraph: &Metagraph,
    block: Block,
    config: &ValidatorConfig,
) -> Result<WeightsOutcome, super::RoundError> {
    track_commits(chain, hotkey, state, config, block).await?;
    let mut per_competition = Vec::new();
    for c in active {
        let v = ema_vector(state, c.competition.id, metagraph)?;
        per_competition.push((c.reward_share, v));
    }
    let (merged, q) = merge_competitions(&per_competition);
    let weights: Vec<(u16, f64)> = merged
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0.0)
        .map(|(u, &w)| (u as u16, w))
        .collect();
    let u16_weights: Vec<(u16, u16)> = q
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0)
        .map(|(u, &w)| (u as u16, w))
        .collect();
    // Every uid with a float or a u16 weight, the two paired by uid.
    let record: Vec<(Uid, f64, u16)> = merged
        .iter()
        .zip(&q)
        .enumerate()
        .filter(|(_, (&w, &qw))| w > 0.0 || qw > 0)
        .map(|(u, (&w, &qw))| (Uid(u as u16), w, qw))
        .collect();
    let mut outcome = WeightsOutcome {
        weights,
        u16_weights,
        set: false,
        note: String::new(),
        commit: None,
    };
    if outcome.u16_weights.is_empty() {
        outcome.note = "no model has weight yet".into();
    } else if let Some(last) = state
        .last_weights_set()?
        .filter(|&l| age(block, l) < config.weights_interval)
    {
        // Not due: nothing submitted, nothing recorded.
        outcome.note = format!(
            "not due: weights last set at block {}, next after {} blocks",
            last.0, config.weights_interval
        );
        return Ok(outcome);
    } else {
        let pairs: Vec<(Uid, u16)> = outcome
            .u16_weights
            .iter()
            .map(|&(u, w)| (Uid(u), w))
            .collect();
        let submitted = retry(&BACKOFF, "set_weights", || async {
            chain
                .set_weights(hotkey, config.netuid, &pairs, config.version_key)
                .await
                .map_err(|e: ChainError| {
                    if e.is_transient() {
                        Failure::transient(e, None)
                    } else {
                        Failure::permanent(e)
                    }
                })
        })
        .await;
        match submitted {
            Ok(WeightsSubmission::Set) => {
                outcome.set = true;
                outcome.note = "set".into();
            }
            Ok(WeightsSubmission::Committed(commit)) => {
                state.record_commit(&commit)?;
                outcome.set = true;
                outcome.note = "committed".into();
                outcome.commit = Some(commit);
            }
            Err(e) => {
                tracing::warn!(error = %e, "weights not set");
                outcome.note = format!("refused: {e}");
            }
        }
    }
    state.record_weights(block, &record, &outcome.note)?;
    Ok(outcome)
}

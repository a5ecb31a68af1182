//! Stage 3: download each selected model, verify its secure hash, flag copies.
//!
//! A download failure is judged by its owner: what the revision is (missing,
//! too large, too many files, a bad path, a wrong hash) is the miner's
//! verdict; what the validator's side does (a full disk, a network or hub
//! outage) makes the competition wait. A download that overruns its deadline
//! is a `download_failed` verdict, retried by the usual rule.

use std::time::Duration;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::Block;
use gauntlet_hub::{secure_hash, HubError, LocalModel, ModelId, ModelStore};

use super::select::Candidate;
use super::Stop;
use crate::error_chain;
use crate::fault::Fault;
use crate::state::State;
use crate::verdict::Verdict;
use gauntlet_retry::{retry, Failure, RetryPolicy};

/// Download attempts for transient hub errors (1 s, 2 s, 4 s between them).
const BACKOFF: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    initial_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(8),
};

/// A candidate after the fetch stage.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The model.
    pub candidate: Candidate,
    /// Its files, or why it will not be evaluated; `None` when this round
    /// already holds its evaluation (a resumed round).
    pub outcome: Option<Result<LocalModel, Verdict>>,
}

/// The validator's fault behind a hub error, or `None` when the error is
/// the revision's (the miner's).
fn fault_of(e: &HubError) -> Option<Fault> {
    if e.is_local_fault() {
        let text = error_chain(e);
        Some(match e {
            HubError::Io { .. } | HubError::DiskFull { .. } => Fault::Disk(text),
            _ => Fault::Network(text),
        })
    } else {
        None
    }
}

/// Fetches every candidate in uid order; copies are judged against every
/// model ever verified (state) and this round's, the earliest commit (then
/// lowest uid) being the original.
pub(crate) async fn fetch_all(
    state: &State,
    hub: &dyn ModelStore,
    competition: &ActiveCompetition<'_>,
    candidates: &[Candidate],
    block: Block,
    deadline: Duration,
) -> Result<Vec<Fetched>, Stop> {
    let id = competition.competition.id;
    let max = competition.competition.constraints.max_repo_bytes;
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        if state
            .evaluation(crate::round::sync_of(block), id, &c.key)?
            .is_some()
        {
            out.push(Fetched {
                candidate: c.clone(),
                outcome: None,
            });
            continue;
        }
        let outcome = fetch_one(hub, c, max, deadline).await?;
        let (repo_hash, verdict) = match &outcome {
            Ok(local) => (Some(local.repo_hash.as_str()), Verdict::Evaluated),
            Err(v) => (None, v.clone()),
        };
        state.record_model(
            &c.key,
            c.uid,
            Some(id),
            c.commit_block,
            repo_hash,
            &verdict,
            block,
        )?;
        out.push(Fetched {
            candidate: c.clone(),
            outcome: Some(outcome),
        });
    }
    // Copies: identical files committed earlier by another hotkey.
    let known = state.repo_hashes()?;
    for f in &mut out {
        let Some(Ok(local)) = &f.outcome else {
            continue;
        };
        let me = (f.candidate.commit_block, f.candidate.uid);
        let original = known
            .iter()
            .filter(|(hash, b, u, key)| {
                *hash == local.repo_hash && key.hotkey != f.candidate.key.hotkey && (*b, *u) < me
            })
            .min_by_key(|(_, b, u, _)| (*b, *u));
        if let Some((_, _, uid, _)) = original {
            tracing::warn!(uid = f.candidate.uid.0, original = uid.0, "model is a copy");
            let verdict = Verdict::Copy { of: *uid };
            state.record_model(
                &f.candidate.key,
                f.candidate.uid,
                Some(id),
                f.candidate.commit_block,
                Some(&local.repo_hash),
                &verdict,
                block,
            )?;
            f.outcome = Some(Err(verdict));
        }
    }
    Ok(out)
}

async fn fetch_one(
    hub: &dyn ModelStore,
    c: &Candidate,
    max: u64,
    deadline: Duration,
) -> Result<Result<LocalModel, Verdict>, Stop> {
    let cm = &c.commitment;
    let id = match ModelId::new(cm.namespace(), cm.name(), cm.commit()) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Err(Verdict::InvalidCommitment {
                reason: error_chain(&e),
            }))
        }
    };
    let expected = gauntlet_hub::ExpectedHash {
        hotkey: c.key.hotkey.clone(),
        secure_hash: cm.secure_hash().to_string(),
    };
    let attempt = retry(&BACKOFF, "download", || async {
        hub.download_expecting(&id, max, &expected)
            .await
            .map_err(|e: HubError| {
                if e.is_transient() {
                    Failure::transient(e, None)
                } else {
                    Failure::permanent(e)
                }
            })
    });
    let local = match tokio::time::timeout(deadline, attempt).await {
        Err(_) => {
            tracing::warn!(uid = c.uid.0, model = %id.repo_id(), "download overran its deadline");
            return Ok(Err(Verdict::DownloadFailed {
                reason: format!(
                    "the download did not finish within {} s",
                    deadline.as_secs()
                ),
            }));
        }
        Ok(Err(HubError::HashMismatch { repo_hash, .. })) => {
            tracing::warn!(uid = c.uid.0, "secure hash mismatch");
            return Ok(Err(Verdict::HashMismatch {
                computed: secure_hash(&repo_hash, &c.key.hotkey),
                committed: cm.secure_hash().to_string(),
            }));
        }
        Ok(Err(e)) => {
            if let Some(fault) = fault_of(&e) {
                return Err(Stop::Wait(fault));
            }
            tracing::warn!(uid = c.uid.0, model = %id.repo_id(), error = %e, "download failed");
            return Ok(Err(Verdict::DownloadFailed {
                reason: error_chain(&e),
            }));
        }
        Ok(Ok(local)) => local,
    };
    let computed = secure_hash(&local.repo_hash, &c.key.hotkey);
    if computed != cm.secure_hash() {
        tracing::warn!(uid = c.uid.0, "secure hash mismatch");
        return Ok(Err(Verdict::HashMismatch {
            computed,
            committed: cm.secure_hash().to_string(),
        }));
    }
    Ok(Ok(local))
}

//! Stage 3: download each selected model, verify its secure hash, flag copies.

use std::time::Duration;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::Block;
use gauntlet_hub::{secure_hash, HubError, LocalModel, ModelId, ModelStore};

use super::select::Candidate;
use crate::error_chain;
use crate::state::{State, StateError};
use crate::verdict::Verdict;

/// Download attempts for transient hub errors (1 s, 2 s, 4 s between them).
const ATTEMPTS: u32 = 4;

/// A candidate after the fetch stage.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The model.
    pub candidate: Candidate,
    /// Its files, or why it will not be evaluated; `None` when this round
    /// already holds its evaluation (a resumed round).
    pub outcome: Option<Result<LocalModel, Verdict>>,
}

/// Downloads with retries and backoff on transient errors.
async fn download(hub: &dyn ModelStore, id: &ModelId, max: u64) -> Result<LocalModel, HubError> {
    let mut delay = Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        match hub.download(id, max).await {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!(model = %id.repo_id(), attempt, error = %e, "download failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
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
) -> Result<Vec<Fetched>, StateError> {
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
        let outcome = fetch_one(hub, c, max).await;
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

async fn fetch_one(hub: &dyn ModelStore, c: &Candidate, max: u64) -> Result<LocalModel, Verdict> {
    let cm = &c.commitment;
    let id = ModelId::new(cm.namespace(), cm.name(), cm.commit()).map_err(|e| {
        Verdict::InvalidCommitment {
            reason: error_chain(&e),
        }
    })?;
    let local = download(hub, &id, max).await.map_err(|e| {
        tracing::warn!(uid = c.uid.0, model = %id.repo_id(), error = %e, "download failed");
        Verdict::DownloadFailed {
            reason: error_chain(&e),
        }
    })?;
    let computed = secure_hash(&local.repo_hash, &c.key.hotkey);
    if computed != cm.secure_hash() {
        tracing::warn!(uid = c.uid.0, "secure hash mismatch");
        return Err(Verdict::HashMismatch {
            computed,
            committed: cm.secure_hash().to_string(),
        });
    }
    Ok(local)
}

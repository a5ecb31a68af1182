//! Gauntlet miner: publish a model and commit it on chain.
//!
//! [`push`] uploads a model directory to a hub, downloads the new revision
//! back and hashes it (so the commitment describes exactly what validators
//! will download), binds the hash to the miner's hotkey (`secure_hash`),
//! commits `namespace:name:commit:secure_hash:competition_id` and reads the
//! commitment back from the chain to verify it. Checking constraints and
//! evaluating locally (`gauntlet miner check|eval`) reuse the validator's own
//! code, in `gauntlet-validator`.

use std::path::Path;

use gauntlet_chain::{
    Chain, ChainError, Commitment, CommitmentError, CommitmentRecord, Hotkey, Metagraph,
};
use gauntlet_constants::{Block, CompetitionId, NetUid, Uid};
use gauntlet_hub::{repo_hash_dir, secure_hash, HubError, ModelStore};
use serde::Serialize;

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The hub refused or failed the upload or the check download.
    #[error("hub: {0}")]
    Hub(#[from] HubError),
    /// The chain refused or failed the commitment.
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    /// The commitment cannot be formed (repo name, length).
    #[error("commitment: {0}")]
    Commitment(#[from] CommitmentError),
    /// The chain holds something else than what was committed.
    #[error("the chain holds {found:?} for this hotkey, not the commitment {expected:?}")]
    NotOnChain {
        /// What was committed.
        expected: String,
        /// What the chain returned (`None`: nothing).
        found: Option<String>,
    },
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PushReport {
    /// `namespace/name`.
    pub repo: String,
    /// The revision created.
    pub commit: String,
    /// The repo hash of the revision as downloaded back.
    pub repo_hash: String,
    /// The hash bound to the hotkey.
    pub secure_hash: String,
    /// The commitment string on chain.
    pub commitment: String,
    /// The block at which the chain recorded it.
    pub block: u64,
    /// The miner's hotkey.
    pub hotkey: String,
}

/// Uploads `dir` as `namespace/name`, verifies it by downloading it back
/// (under `max_bytes`), commits it for `competition` and verifies the
/// commitment. Before uploading anything it checks that the commitment can be
/// formed (repo name, competition id, length) and that the hotkey is
/// registered on `netuid`, so neither fault costs an upload.
#[allow(clippy::too_many_arguments)]
pub async fn push(
    hub: &dyn ModelStore,
    chain: &dyn Chain,
    hotkey: &Hotkey,
    netuid: NetUid,
    dir: &Path,
    namespace: &str,
    name: &str,
    competition: CompetitionId,
    max_bytes: u64,
) -> Result<PushReport, PushError> {
    let target = Target {
        namespace,
        name,
        competition,
    };
    push_with(hub, chain, hotkey, netuid, dir, target, Some(max_bytes)).await
}

/// Like [`push`], but the repo hash is computed from `dir` itself instead of
/// a download of the new revision, so a directory no validator would accept
/// (too large, too many files) is published as is: how hostile repositories
/// are staged on a local network (`gauntlet miner push --skip-check`).
pub async fn push_as_is(
    hub: &dyn ModelStore,
    chain: &dyn Chain,
    hotkey: &Hotkey,
    netuid: NetUid,
    dir: &Path,
    target: Target<'_>,
) -> Result<PushReport, PushError> {
    push_with(hub, chain, hotkey, netuid, dir, target, None).await
}

/// Where a push goes: the repository and the competition.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The repository's namespace.
    pub namespace: &'a str,
    /// The repository's name.
    pub name: &'a str,
    /// The competition the commitment names.
    pub competition: CompetitionId,
}

/// A push that hashes the downloaded revision (under `max_bytes`) or, with
/// `None`, the directory.
async fn push_with(
    hub: &dyn ModelStore,
    chain: &dyn Chain,
    hotkey: &Hotkey,
    netuid: NetUid,
    dir: &Path,
    target: Target<'_>,
    max_bytes: Option<u64>,
) -> Result<PushReport, PushError> {
    let Target {
        namespace,
        name,
        competition,
    } = target;
    let ss58 = hotkey.ss58();
    // Any commit id and secure hash have the final lengths.
    let placeholder_commit = "0".repeat(gauntlet_chain::commitment::COMMIT_HEX_CHARS);
    Commitment::new(
        namespace,
        name,
        &placeholder_commit,
        &secure_hash("", &ss58),
        competition,
    )?;
    if chain.metagraph(netuid).await?.by_hotkey(&ss58).is_none() {
        return Err(ChainError::NotRegistered {
            netuid,
            hotkey: ss58,
        }
        .into());
    }
    let id = hub.upload(dir, namespace, name).await?;
    tracing::info!(repo = %id.repo_id(), commit = %id.commit, "uploaded");
    let repo_hash = match max_bytes {
        Some(max) => hub.download(&id, max).await?.repo_hash,
        None => repo_hash_dir(dir)?,
    };
    let secure = secure_hash(&repo_hash, &ss58);
    let commitment = Commitment::new(namespace, name, &id.commit, &secure, competition)?;
    let text = commitment.to_string();
    chain.commit(hotkey, netuid, &text).await?;
    let records = chain.commitments(netuid).await?;
    let mine = records.into_iter().find(|r| r.hotkey == ss58);
    match mine {
        Some(r) if r.data == text => Ok(PushReport {
            repo: id.repo_id(),
            commit: id.commit,
            repo_hash,
            secure_hash: secure,
            commitment: text,
            block: r.block.0,
            hotkey: ss58,
        }),
        other => Err(PushError::NotOnChain {
            expected: text,
            found: other.map(|r| r.data),
        }),
    }
}

/// The model a miner has to beat in a competition, as the chain shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentBest {
    /// Its uid.
    pub uid: Uid,
    /// Its hotkey.
    pub hotkey: String,
    /// Its incentive (share of the miners' emission).
    pub incentive: f64,
    /// Its parsed commitment.
    pub commitment: Commitment,
    /// The block of its commitment (the age that gives it its epsilon advantage).
    pub block: Block,
}

/// The current best model of `competition`: among the registered hotkeys
/// whose commitment parses and names this competition, the one with the
/// highest incentive (ties: the earlier commitment, then the lower uid).
/// `None` when no such model earns anything yet.
pub fn current_best(
    metagraph: &Metagraph,
    commitments: &[CommitmentRecord],
    competition: CompetitionId,
) -> Option<CurrentBest> {
    commitments
        .iter()
        .filter_map(|r| {
            let neuron = metagraph.by_hotkey(&r.hotkey)?;
            let commitment = Commitment::parse(&r.data).ok()?;
            (commitment.competition_id() == competition && neuron.incentive > 0.0).then(|| {
                CurrentBest {
                    uid: neuron.uid,
                    hotkey: r.hotkey.clone(),
                    incentive: neuron.incentive,
                    commitment,
                    block: r.block,
                }
            })
        })
        .min_by(|a, b| {
            b.incentive
                .total_cmp(&a.incentive)
                .then(a.block.cmp(&b.block))
                .then(a.uid.cmp(&b.uid))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gauntlet_chain::Neuron;

    fn neuron(uid: u16, hotkey: &str, incentive: f64) -> Neuron {
        Neuron {
            uid: Uid(uid),
            hotkey: hotkey.into(),
            stake: 0,
            validator_permit: false,
            last_update: 0,
            incentive,
            dividends: 0.0,
            emission: 0,
        }
    }

    fn record(hotkey: &str, block: u64, competition: u16) -> CommitmentRecord {
        CommitmentRecord {
            hotkey: hotkey.into(),
            block: Block(block),
            data: format!(
                "ns:{hotkey}-model:{}:{}=:{competition}",
                "a".repeat(40),
                "A".repeat(43)
            ),
        }
    }

    #[test]
    fn the_best_is_the_top_earner_of_the_competition() {
        let metagraph = Metagraph {
            netuid: NetUid(1),
            block: Block(100),
            neurons: vec![
                neuron(0, "val", 0.0),
                neuron(1, "one", 0.2),
                neuron(2, "two", 0.5),
                neuron(3, "three", 0.9),
                neuron(4, "four", 0.5),
            ],
        };
        let commitments = vec![
            record("one", 10, 3),
            record("two", 20, 3),
            // The top earner, but in another competition.
            record("three", 5, 2),
            // Ties with uid 2 on incentive, committed later.
            record("four", 30, 3),
            // Not registered.
            record("ghost", 1, 3),
        ];
        let best = current_best(&metagraph, &commitments, CompetitionId(3)).expect("a best");
        assert_eq!(best.uid, Uid(2));
        assert_eq!(best.block, Block(20));
        assert_eq!(best.commitment.repo_id(), "ns/two-model");
        assert_eq!(
            current_best(&metagraph, &commitments, CompetitionId(2)).map(|b| b.uid),
            Some(Uid(3))
        );
        assert_eq!(
            current_best(&metagraph, &commitments, CompetitionId(4)),
            None
        );
        // Malformed commitments and zero incentive never count.
        let bad = vec![CommitmentRecord {
            hotkey: "three".into(),
            block: Block(1),
            data: "not a commitment".into(),
        }];
        assert_eq!(current_best(&metagraph, &bad, CompetitionId(2)), None);
        let idle = vec![record("val", 1, 3)];
        assert_eq!(current_best(&metagraph, &idle, CompetitionId(3)), None);
    }
}

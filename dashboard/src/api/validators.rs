//! The validators of the subnet: stake, permit, last update and how far
//! each one's weights agree with the stake-weighted consensus of all of
//! them; and this validator's own last rounds and weights.

use std::collections::HashMap;

use gauntlet_validator::state::{CommitRow, WeightsRow as OwnWeights};
use serde::Serialize;

use super::Sources;
use crate::DashboardError;

/// The validators page.
#[derive(Debug, Clone, Serialize)]
pub struct Validators {
    /// The chain's block now.
    pub block: u64,
    /// Neurons with a validator permit or weights on chain, by uid.
    pub validators: Vec<ValidatorRow>,
    /// This validator's last round of each competition.
    pub rounds: Vec<OwnRound>,
    /// This validator's last weight settings, newest first.
    pub weights: Vec<OwnWeights>,
    /// This validator's last timelocked commits, newest first.
    pub commits: Vec<CommitRow>,
}

/// A validator on chain.
#[derive(Debug, Clone, Serialize)]
pub struct ValidatorRow {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// Its stake, in rao.
    pub stake: u64,
    /// Whether it holds a validator permit.
    pub validator_permit: bool,
    /// The block it last set weights at.
    pub last_update: u64,
    /// Its dividends, a fraction.
    pub dividends: f64,
    /// How many uids it weights.
    pub weighted_uids: usize,
    /// The cosine similarity of its weights with the stake-weighted mean of
    /// every validator's (1 = full agreement); `None` without weights.
    pub agreement: Option<f64>,
}

/// This validator's last finished round of a competition.
#[derive(Debug, Clone, Serialize)]
pub struct OwnRound {
    /// The competition.
    pub competition_id: u16,
    /// Its name.
    pub name: String,
    /// The round's sync block.
    pub sync_block: u64,
    /// Models in the round.
    pub models: usize,
}

/// Each row's weights as a unit-sum vector over `n` uids.
fn normalised(pairs: &[(gauntlet_constants::Uid, u16)], n: usize) -> Option<Vec<f64>> {
    let mut v = vec![0.0; n];
    let mut total = 0.0;
    for (uid, w) in pairs {
        if let Some(slot) = v.get_mut(usize::from(uid.0)) {
            *slot += f64::from(*w);
            total += f64::from(*w);
        }
    }
    (total > 0.0).then(|| v.into_iter().map(|x| x / total).collect())
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

impl Sources {
    /// The validators page's data.
    pub async fn validators(&self) -> Result<Validators, DashboardError> {
        let metagraph = self.metagraph().await?;
        let on_chain = self.chain.weights(self.netuid).await?;
        let n = metagraph
            .neurons
            .iter()
            .map(|x| usize::from(x.uid.0) + 1)
            .max()
            .unwrap_or(0);
        let vectors: HashMap<u16, Vec<f64>> = on_chain
            .iter()
            .filter_map(|(uid, pairs)| normalised(pairs, n).map(|v| (uid.0, v)))
            .collect();
        // The stake-weighted mean of every validator's weights.
        let mut consensus = vec![0.0; n];
        let mut stake_total = 0.0;
        for neuron in &metagraph.neurons {
            if let Some(v) = vectors.get(&neuron.uid.0) {
                let s = neuron.stake as f64;
                stake_total += s;
                for (c, x) in consensus.iter_mut().zip(v) {
                    *c += s * x;
                }
            }
        }
        if stake_total > 0.0 {
            consensus.iter_mut().for_each(|c| *c /= stake_total);
        }
        let validators = metagraph
            .neurons
            .iter()
            .filter(|x| x.validator_permit || vectors.contains_key(&x.uid.0))
            .map(|x| {
                let mine = vectors.get(&x.uid.0);
                ValidatorRow {
                    uid: x.uid.0,
                    hotkey: x.hotkey.clone(),
                    stake: x.stake,
                    validator_permit: x.validator_permit,
                    last_update: x.last_update,
                    dividends: x.dividends,
                    weighted_uids: mine.map_or(0, |v| v.iter().filter(|w| **w > 0.0).count()),
                    agreement: mine
                        .filter(|_| stake_total > 0.0)
                        .map(|v| cosine(v, &consensus)),
                }
            })
            .collect();
        let registry_names: HashMap<u16, String> = self
            .registry
            .competitions()
            .iter()
            .map(|c| (c.id.0, c.name.clone()))
            .collect();
        let own = self
            .read_state(|s| Ok((s.last_rounds()?, s.weights_history(10)?, s.commits(10)?)))
            .await?;
        let (rounds, weights, commits) = own.unwrap_or_default();
        Ok(Validators {
            block: metagraph.block.0,
            validators,
            rounds: rounds
                .into_iter()
                .map(|(c, sync, summary)| OwnRound {
                    competition_id: c.0,
                    name: registry_names
                        .get(&c.0)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", c.0)),
                    sync_block: sync.0,
                    models: summary.models.len(),
                })
                .collect(),
            weights,
            commits,
        })
    }
}

#[cfg(test)]
mod tests {
    use gauntlet_constants::Uid;

    use super::*;

    #[test]
    fn identical_weights_agree_fully_and_disjoint_ones_not_at_all() {
        let a = normalised(&[(Uid(1), 10), (Uid(2), 30)], 3).expect("weights");
        let b = normalised(&[(Uid(1), 1), (Uid(2), 3)], 3).expect("weights");
        assert!((cosine(&a, &b) - 1.0).abs() < 1e-12);
        let c = normalised(&[(Uid(0), 5)], 3).expect("weights");
        assert_eq!(cosine(&a, &c), 0.0);
        assert_eq!(
            normalised(&[(Uid(9), 5)], 3),
            None,
            "out of range uids ignored"
        );
    }
}

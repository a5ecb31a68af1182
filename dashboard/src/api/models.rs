//! One model's page: its commitment, hash, verdict, every evaluation with
//! per-task scores, and one evaluation's per-sample scores a page at a time.

use gauntlet_constants::{Block, CompetitionId};
use gauntlet_validator::state::{EvaluationRecord, ModelKey, ModelRow, SampleRecord};
use serde::Serialize;

use super::samples::{self, SampleView};
use super::{model_label, Sources};
use crate::DashboardError;

/// Per-sample scores on one page.
pub const SAMPLES_PER_PAGE: usize = 50;

/// A model as the validator knows it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPage {
    /// The miner's hotkey.
    pub hotkey: String,
    /// The raw commitment.
    pub commitment: String,
    /// `namespace/name@commit8` (or the raw commitment when it does not parse).
    pub label: String,
    /// The model's web page on the hub, where it has one.
    pub repo_url: Option<String>,
    /// Its uid.
    pub uid: u16,
    /// The competition it entered, when the commitment named a known one.
    pub competition_id: Option<u16>,
    /// The block of its commitment.
    pub commit_block: u64,
    /// The repo hash the validator verified, once verified.
    pub repo_hash: Option<String>,
    /// The latest verdict label.
    pub verdict: String,
    /// Why, for a verdict other than `evaluated`.
    pub reason: Option<String>,
    /// The uid it copies, for a copy.
    pub copy_of: Option<u16>,
    /// Every evaluation, newest first.
    pub evaluations: Vec<EvaluationRecord>,
}

/// One page of an evaluation's per-sample scores.
#[derive(Debug, Clone, Serialize)]
pub struct SamplesPage {
    /// The round's sync block.
    pub sync_block: u64,
    /// The competition.
    pub competition_id: u16,
    /// The page (from 0).
    pub page: usize,
    /// Samples per page.
    pub per_page: usize,
    /// Samples in the evaluation.
    pub total: u64,
    /// This page's samples, by task then index, with their items and
    /// outputs where known.
    pub samples: Vec<SampleView>,
}

impl Sources {
    /// The model `hotkey` committed as `commitment`.
    pub async fn model(&self, hotkey: &str, commitment: &str) -> Result<ModelPage, DashboardError> {
        let key = ModelKey {
            hotkey: hotkey.to_string(),
            commitment: commitment.to_string(),
        };
        let lookup = key.clone();
        let read = self
            .read_state(move |s| {
                let row: Option<ModelRow> = s.models()?.into_iter().find(|m| m.key == lookup);
                let hash = s
                    .repo_hashes()?
                    .into_iter()
                    .find(|(_, _, _, k)| *k == lookup)
                    .map(|(h, ..)| h);
                Ok((row, hash, s.evaluations_of_model(&lookup)?))
            })
            .await?;
        let Some((Some(row), repo_hash, evaluations)) = read else {
            return Err(DashboardError::NotFound(format!(
                "model {hotkey} {commitment:?}"
            )));
        };
        Ok(ModelPage {
            label: model_label(&key.commitment),
            repo_url: self.repo_url(&key.commitment),
            uid: row.uid.0,
            competition_id: row.competition.map(|c| c.0),
            commit_block: row.commit_block.0,
            repo_hash,
            verdict: row.verdict,
            reason: row.reason,
            copy_of: row.copy_of.map(|u| u.0),
            evaluations,
            hotkey: key.hotkey,
            commitment: key.commitment,
        })
    }

    /// Page `page` of the per-sample scores of the model's evaluation in the
    /// round of `sync` of `competition`.
    pub async fn samples(
        &self,
        hotkey: &str,
        commitment: &str,
        sync: u64,
        competition: u16,
        page: usize,
    ) -> Result<SamplesPage, DashboardError> {
        let key = ModelKey {
            hotkey: hotkey.to_string(),
            commitment: commitment.to_string(),
        };
        let offset = page.saturating_mul(SAMPLES_PER_PAGE);
        let ledger = self.ledger.clone();
        let read = self
            .read_state(move |s| {
                let (sync, id) = (Block(sync), CompetitionId(competition));
                let total = s.sample_count(sync, id, &key)?;
                let rows: Vec<SampleRecord> =
                    s.samples(sync, id, &key, offset, SAMPLES_PER_PAGE)?;
                let wanted: Vec<(String, u64)> =
                    rows.iter().map(|r| (r.task.clone(), r.index)).collect();
                let outputs = match s.ledger_line(sync, id, &key)? {
                    Some(line) => samples::outputs(&line, &wanted),
                    None => Default::default(),
                };
                let items = match &ledger {
                    Some(dir) => samples::items(dir, sync.0, competition, &wanted),
                    None => Default::default(),
                };
                let views = rows
                    .into_iter()
                    .map(|r| {
                        let at = (r.task.clone(), r.index);
                        SampleView {
                            item: items.get(&at).cloned(),
                            output: outputs.get(&at).cloned(),
                            task: r.task,
                            index: r.index,
                            score: r.score,
                        }
                    })
                    .collect::<Vec<_>>();
                Ok((total, views))
            })
            .await?;
        let (total, samples) = read.unwrap_or_default();
        Ok(SamplesPage {
            sync_block: sync,
            competition_id: competition,
            page,
            per_page: SAMPLES_PER_PAGE,
            total: total as u64,
            samples,
        })
    }
}

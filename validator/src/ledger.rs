//! The validator's side of verifiable evaluation (`gauntlet-ledger`): a
//! round's items drawn and committed on chain before any model runs, and one
//! signed record per evaluation, built here and stored by the state.

use std::path::Path;

use gauntlet_chain::Hotkey;
use gauntlet_constants::Block;
use gauntlet_evals::SampleOutput;
use gauntlet_ledger::{
    finite, CompetitionRef, Digest, Item, ItemSet, LedgerDir, LedgerError, LedgerRecord, ModelRef,
    Output, RoundRef, RuntimeRef, SampleEntry, Signer, TaskAggregate, ValidatorRef, FORMAT_VERSION,
};

use crate::round::Candidate;
use crate::state::{Evaluation, State, StateError};
use crate::suite::{PreparedTask, TaskDetail};

/// The validator's hotkey as a ledger [`Signer`] (sr25519, `substrate` context).
pub struct HotkeySigner<'a>(pub &'a Hotkey);

impl Signer for HotkeySigner<'_> {
    fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }

    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg)
    }
}

/// A competition's items this round: every prepared task's samples as the
/// suite serialises them, tasks in the competition's order, each in draw
/// order. A task without input (dropped, invalid) has no items.
pub fn competition_items(prepared: &[PreparedTask]) -> Result<ItemSet, serde_json::Error> {
    let mut items = Vec::new();
    for task in prepared {
        let Ok(samples) = &task.input else {
            continue;
        };
        let value = serde_json::to_value(samples)?;
        let Some(list) = value.get("samples").and_then(|v| v.as_array()) else {
            continue;
        };
        // The last `task.private` samples are the validator's private ones.
        let public = list.len().saturating_sub(task.private);
        for (index, item) in list.iter().enumerate() {
            items.push(Item {
                task: task.name.clone(),
                index: index as u64,
                item: item.clone(),
                private: index >= public,
            });
        }
    }
    Ok(ItemSet { items })
}

/// A sample's output as the ledger writes it (f32 values widened exactly).
pub fn output(o: SampleOutput) -> Output {
    let widen = |v: Vec<f32>| v.into_iter().map(f64::from).collect();
    match o {
        SampleOutput::Text(t) => Output::Text(t),
        SampleOutput::Texts(t) => Output::Texts(t),
        SampleOutput::Losses(l) => Output::LossesF32(widen(l)),
        SampleOutput::ChoiceLogprobs(l) => Output::ChoiceLogprobs(widen(l)),
    }
}

/// What every record of one competition's round shares.
#[derive(Debug, Clone)]
pub(crate) struct RecordContext {
    pub round: RoundRef,
    pub competition: CompetitionRef,
    pub runtime: RuntimeRef,
    pub items: ItemSet,
    pub items_root: Digest,
}

impl RecordContext {
    /// The record of `eval` (a model of this round), chained after `prev`;
    /// its validator is filled when signed. `benchmark` is the uid the
    /// sequential test compared it with, if any.
    pub fn record(
        &self,
        c: &Candidate,
        repo_hash: Option<String>,
        (eval, details): (&Evaluation, &[TaskDetail]),
        benchmark: Option<u16>,
        prev: Digest,
    ) -> LedgerRecord {
        // A model that never ran has no samples; one that ran has one per item.
        let ran = !details.is_empty();
        let samples: Vec<SampleEntry> = if ran {
            self.items
                .items
                .iter()
                .map(|item| {
                    let detail = details.iter().find(|d| d.name == item.task);
                    let at = item.index as usize;
                    SampleEntry {
                        task: item.task.clone(),
                        index: item.index,
                        item_hash: item.hash(),
                        output: detail
                            .and_then(|d| d.outputs.get(at).cloned().flatten())
                            .map(output),
                        score: detail
                            .and_then(|d| d.per_sample.get(at).copied().flatten())
                            .and_then(finite),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let tasks = eval
            .tasks
            .as_array()
            .map(|outcomes| {
                outcomes
                    .iter()
                    .filter_map(|o| {
                        let name = o.get("name")?.as_str()?.to_string();
                        let count = samples.iter().filter(|s| s.task == name).count() as u64;
                        Some(TaskAggregate {
                            score: o.get("raw_score").and_then(|v| v.as_f64()).and_then(finite),
                            samples: count,
                            normalized: o
                                .get("normalized")
                                .and_then(|v| v.as_f64())
                                .and_then(finite),
                            status: o.get("status").and_then(|v| v.as_str()).map(String::from),
                            name,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        LedgerRecord {
            format: FORMAT_VERSION,
            round: self.round.clone(),
            competition: self.competition.clone(),
            validator: ValidatorRef {
                hotkey: String::new(),
                public_key: String::new(),
            },
            model: ModelRef {
                uid: c.uid.0,
                hotkey: c.key.hotkey.clone(),
                commitment: c.key.commitment.clone(),
                repo: c.commitment.repo_id(),
                commit: c.commitment.commit().to_string(),
                commit_block: c.commit_block.0,
                repo_hash,
            },
            runtime: self.runtime.clone(),
            items_root: self.items_root,
            samples,
            tasks,
            score: finite(eval.score),
            verdict: eval.verdict.label().to_string(),
            benchmark,
            prev_hash: prev,
        }
    }
}

/// Why the ledger files could not be written (the state keeps everything:
/// they are written again after the next competition).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the state failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Writing the directory failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Writes the state's ledger to `dir`, one segment per round
/// (`rounds/<sync block>/records.jsonl`), and removes the single-file
/// `ledger.jsonl` of the earlier layout. Only the segments that changed since
/// they were last written (a round still running, a file missing or of
/// another size) are written again; returns how many records were written.
pub fn export(state: &State, dir: &Path) -> Result<usize, ExportError> {
    let dir = LedgerDir::new(dir);
    let rounds = state.ledger_rounds()?;
    // Segments are read back in round order: each round's records must
    // follow one another in the chain.
    for pair in rounds.windows(2) {
        if pair[1].first_seq < pair[0].last_seq {
            return Err(ExportError::Ledger(LedgerError::Encode(format!(
                "the records of rounds {} and {} are interleaved in the chain",
                pair[0].sync_block, pair[1].sync_block
            ))));
        }
    }
    let mut written = 0;
    for round in rounds {
        let sync = Block(round.sync_block);
        if let Some((records, bytes)) = state.ledger_export(sync)? {
            if records == round.records && dir.records_len(round.sync_block) == Some(bytes) {
                continue;
            }
        }
        let lines = state.ledger_lines_of_round(sync)?;
        // Every line parses, and is the round's.
        let segment = gauntlet_ledger::Ledger::from_jsonl(&lines.join("\n"), "validator state")?;
        if let Some((_, r)) = segment
            .records
            .iter()
            .find(|(_, r)| r.record.round.sync_block != round.sync_block)
        {
            return Err(ExportError::Ledger(LedgerError::Encode(format!(
                "a record of round {} is stored under round {}",
                r.record.round.sync_block, round.sync_block
            ))));
        }
        dir.write_segment(round.sync_block, &lines)?;
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        state.record_ledger_export(sync, lines.len() as u64, bytes as u64)?;
        written += lines.len();
    }
    dir.remove_single_file()?;
    Ok(written)
}

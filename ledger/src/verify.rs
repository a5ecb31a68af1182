//! A validator's ledger (its signed records in order) and its verification.
//!
//! [`Ledger::verify`] checks, record by record, in this order: the line's hash, the signature
//! (and that the signer is the expected validator), the hash chain (`prev_hash` is the hash of
//! the record before; zero, or a given hash, for the first), the record's `items_root` against
//! the root the validator committed on chain, the published items against that root, every
//! sample against its item, and every task aggregate against the samples. The first failure
//! is returned, naming the file, line, round, competition, model, sample and field.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::Digest;
use crate::error::{LedgerError, Locus};
use crate::item::ItemSet;
use crate::record::Output;
use crate::sign::SignedRecord;

/// A key of a round's committed items: the sync block and the competition id.
pub type RoundKey = (u64, u16);

/// One validator's records, in the order of its hash chain.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ledger {
    /// Where the records were read from (names errors).
    pub source_name: String,
    /// The records, each with its 1-based line.
    pub records: Vec<(usize, SignedRecord)>,
    /// For a ledger read from several files (round segments): the index of the first record
    /// of each file, with its name, in order. Empty when every record is from `source_name`.
    pub segments: Vec<(usize, String)>,
}

/// What a ledger is checked against; each part is optional.
#[derive(Debug, Clone, Default)]
pub struct Expectations<'a> {
    /// The validator that must have signed every record (SS58).
    pub validator: Option<&'a str>,
    /// The `prev_hash` of the first record ([`Digest::ZERO`] when `None`: the ledger is the
    /// validator's whole history).
    pub start: Option<Digest>,
    /// The roots committed on chain, by round; when `Some`, every record's round must have one.
    pub committed_roots: Option<&'a BTreeMap<RoundKey, Digest>>,
    /// The published items, by round; rounds missing here are not checked item by item.
    pub items: Option<&'a BTreeMap<RoundKey, ItemSet>>,
}

impl Ledger {
    /// Reads a ledger from JSON Lines (blank lines skipped).
    pub fn from_jsonl(text: &str, source_name: &str) -> Result<Ledger, LedgerError> {
        let mut records = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            records.push((n + 1, SignedRecord::from_line(line, source_name, n + 1)?));
        }
        Ok(Ledger {
            source_name: source_name.to_string(),
            records,
            segments: Vec::new(),
        })
    }

    /// Appends one file's records (lines numbered within that file).
    pub fn push_segment(&mut self, name: String, records: Vec<(usize, SignedRecord)>) {
        self.segments.push((self.records.len(), name));
        self.records.extend(records);
    }

    /// The file record `index` was read from.
    pub fn source_of(&self, index: usize) -> &str {
        self.segments
            .iter()
            .rev()
            .find(|(start, _)| *start <= index)
            .map_or(self.source_name.as_str(), |(_, name)| name.as_str())
    }

    /// The ledger as JSON Lines, one record per line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for (_, r) in &self.records {
            out.push_str(&r.to_line());
            out.push('\n');
        }
        out
    }

    /// Verifies every record (see the module documentation); returns how many were checked.
    pub fn verify(&self, expect: &Expectations<'_>) -> Result<usize, LedgerError> {
        let mut prev = expect.start.unwrap_or(Digest::ZERO);
        for (index, (line, record)) in self.records.iter().enumerate() {
            let at = record.locus(self.source_of(index), *line);
            record.verify(&at)?;
            if let Some(v) = expect.validator {
                if record.record.validator.hotkey != v {
                    return Err(LedgerError::WrongValidator {
                        at: Box::new(at),
                        field: "validator.hotkey",
                        expected: v.to_string(),
                        found: record.record.validator.hotkey.clone(),
                    });
                }
            }
            if record.record.prev_hash != prev {
                return Err(LedgerError::ChainBroken {
                    at: Box::new(at),
                    expected: prev,
                    found: record.record.prev_hash,
                });
            }
            prev = record.hash();
            let key = (record.record.round.sync_block, record.record.competition.id);
            if let Some(roots) = expect.committed_roots {
                let Some(committed) = roots.get(&key) else {
                    return Err(LedgerError::NoCommitment { at: Box::new(at) });
                };
                if *committed != record.record.items_root {
                    return Err(LedgerError::RootNotCommitted {
                        at: Box::new(at),
                        committed: *committed,
                        found: record.record.items_root,
                    });
                }
            }
            if let Some(items) = expect.items.and_then(|all| all.get(&key)) {
                check_items(record, items, &at)?;
            }
            check_aggregates(record, &at)?;
        }
        Ok(self.records.len())
    }
}

/// The items must hash to the record's root, and the record must hold exactly one sample per
/// item, with the item's hash, in the items' order.
fn check_items(record: &SignedRecord, items: &ItemSet, at: &Locus) -> Result<(), LedgerError> {
    let computed = items.root();
    if computed != record.record.items_root {
        return Err(LedgerError::ItemsDoNotMatchRoot {
            at: Box::new(at.clone()),
            computed,
            found: record.record.items_root,
        });
    }
    // A failed model has no samples: nothing to compare.
    if record.record.samples.is_empty() {
        return Ok(());
    }
    let samples = &record.record.samples;
    for (i, item) in items.items.iter().enumerate() {
        let sample_err = |field: &'static str, reason: String| LedgerError::Sample {
            at: Box::new(at.clone()),
            task: item.task.clone(),
            index: item.index,
            field,
            reason,
        };
        let Some(sample) = samples.get(i) else {
            return Err(sample_err(
                "samples",
                format!(
                    "missing: the record has {} samples for {} items",
                    samples.len(),
                    items.items.len()
                ),
            ));
        };
        if sample.task != item.task || sample.index != item.index {
            return Err(sample_err(
                "samples",
                format!(
                    "missing: found {}#{} in its place",
                    sample.task, sample.index
                ),
            ));
        }
        let hash = item.hash();
        if sample.item_hash != hash {
            return Err(sample_err(
                "item_hash",
                format!(
                    "{} is not the published item's hash {hash}",
                    sample.item_hash
                ),
            ));
        }
    }
    if let Some(extra) = samples.get(items.items.len()) {
        return Err(LedgerError::Sample {
            at: Box::new(at.clone()),
            task: extra.task.clone(),
            index: extra.index,
            field: "samples",
            reason: "no such item among the published items".into(),
        });
    }
    Ok(())
}

/// Each task aggregate's `samples` must count the record's samples of that task, every
/// sample's task must have an aggregate, and no sample may appear twice.
fn check_aggregates(record: &SignedRecord, at: &Locus) -> Result<(), LedgerError> {
    let r = &record.record;
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in &r.samples {
        if !seen.insert((s.task.as_str(), s.index)) {
            return Err(LedgerError::Sample {
                at: Box::new(at.clone()),
                task: s.task.clone(),
                index: s.index,
                field: "index",
                reason: "appears twice".into(),
            });
        }
        if let Some(score) = s.score {
            if !score.is_finite() {
                return Err(LedgerError::Sample {
                    at: Box::new(at.clone()),
                    task: s.task.clone(),
                    index: s.index,
                    field: "score",
                    reason: format!("{score} is not finite"),
                });
            }
        }
        if let Some(implied) = s.output.as_ref().and_then(Output::implied_score) {
            if s.score != Some(implied) {
                return Err(LedgerError::Sample {
                    at: Box::new(at.clone()),
                    task: s.task.clone(),
                    index: s.index,
                    field: "score",
                    reason: format!(
                        "{} is not the mean of the sample's losses, {implied}",
                        s.score
                            .map_or_else(|| "null".to_string(), |x| x.to_string())
                    ),
                });
            }
        }
        *counts.entry(s.task.as_str()).or_default() += 1;
    }
    if r.samples.is_empty() {
        return Ok(());
    }
    for t in &r.tasks {
        let have = counts.remove(t.name.as_str()).unwrap_or(0);
        if have != t.samples {
            return Err(LedgerError::Aggregate {
                at: Box::new(at.clone()),
                task: t.name.clone(),
                field: "samples",
                reason: format!("says {} samples, the record has {have}", t.samples),
            });
        }
    }
    if let Some((task, _)) = counts.into_iter().next() {
        return Err(LedgerError::Aggregate {
            at: Box::new(at.clone()),
            task: task.to_string(),
            field: "tasks",
            reason: "samples of a task with no aggregate".into(),
        });
    }
    Ok(())
}

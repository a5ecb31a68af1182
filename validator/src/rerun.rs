//! Re-running a ledger's samples (`gauntlet audit --replay K`): choose K
//! samples of a validator's evaluated records, draw the round's items again
//! from its seed (they must be the committed ones), and score exactly those
//! samples of the model again, in the sandbox, with the local runtime.
//!
//! Gauntlet's scores are deterministic, so on the same hardware class a
//! re-run sample scores what the ledger says up to the batch it ran in: the
//! validator scored it among the round's other samples, the re-run among the
//! chosen ones, and padding changes the last bits of a loss (a few 1e-6 in
//! f32 on the CPU). [`DEFAULT_TOLERANCE`] covers that; across hardware
//! (a bf16 GPU against an f32 CPU) a wider one is needed and stated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use gauntlet_competitions::{ActiveCompetition, Registry};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::SampleOutput;
use gauntlet_ledger::{Digest, ItemSet, LedgerRecord, Output, SampleEntry};
use gauntlet_model::Placement;
use serde::Serialize;

use crate::ledger::competition_items;
use crate::sandbox::{ChildOutcome, Job};
use crate::suite::prepare;

/// The widest difference between a recorded and a re-run sample score
/// taken as agreement, relative to the larger magnitude (absolute below 1).
pub const DEFAULT_TOLERANCE: f64 = 1e-4;

/// One sample chosen for a re-run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pick {
    /// The record's position in the ledger (0-based).
    pub record: usize,
    /// The sample's position in the record's `samples`.
    pub sample: usize,
    /// The sample's task.
    pub task: String,
    /// Its index in the task's draw.
    pub index: u64,
}

/// Chooses `k` samples (all when there are fewer) of the records whose model
/// was evaluated, uniformly and deterministically from `seed`: every
/// candidate's rank is `sha256(seed ‖ record ‖ sample)`, the `k` lowest
/// ranks are chosen. Returned in ledger order.
pub fn pick(records: &[&LedgerRecord], k: usize, seed: &[u8]) -> Vec<Pick> {
    let mut ranked: Vec<(Digest, Pick)> = Vec::new();
    for (r, record) in records.iter().enumerate() {
        if record.verdict != "evaluated" {
            continue;
        }
        for (s, sample) in record.samples.iter().enumerate() {
            let rank =
                Digest::of_parts(&[seed, &(r as u64).to_le_bytes(), &(s as u64).to_le_bytes()]);
            ranked.push((
                rank,
                Pick {
                    record: r,
                    sample: s,
                    task: sample.task.clone(),
                    index: sample.index,
                },
            ));
        }
    }
    ranked.sort_by_key(|(rank, _)| rank.0);
    let mut chosen: Vec<Pick> = ranked.into_iter().take(k).map(|(_, p)| p).collect();
    chosen.sort();
    chosen
}

/// Why a record's samples cannot be re-run, or were re-run wrongly.
#[derive(Debug, thiserror::Error)]
pub enum RerunError {
    /// The record's seed is not 64 hex digits.
    #[error("field round.seed: {0:?} is not a seed")]
    Seed(String),
    /// The items drawn again from the round's seed are not the record's.
    #[error(
        "the items drawn from the round's seed are not the committed ones \
         (first difference: sample {task}#{index}, field item_hash: drawn {drawn}, recorded {recorded})"
    )]
    NotTheDraw {
        /// The task.
        task: String,
        /// The index.
        index: u64,
        /// What the draw gives (`none` when the draw has no such item).
        drawn: String,
        /// What the record says.
        recorded: String,
    },
    /// Serialising the drawn items failed.
    #[error("serialising the drawn items: {0}")]
    Items(#[from] serde_json::Error),
}

/// The sample cap the validator ran the record's round with: `None` when
/// every task's draw reproduces the recorded item hashes at the reference
/// counts, else the first cap that does among the counts the record holds
/// (largest first). Also checks the draw: a record whose items no cap
/// reproduces fails with the first difference.
///
/// `items` are the round's published items, when the auditor has them: the
/// ones marked private (`validator run --private-data`) are not drawn from
/// the seed, so they are left out of the comparison; each task's public
/// items must still be its draw, in order, before any private one.
pub fn redraw(
    record: &LedgerRecord,
    competition: &ActiveCompetition<'_>,
    data: &DataCache,
    items: Option<&ItemSet>,
) -> Result<Option<u32>, RerunError> {
    let seed = Seed::from_hex(&record.round.seed)
        .ok_or_else(|| RerunError::Seed(record.round.seed.clone()))?;
    let private: BTreeSet<(&str, u64)> = items
        .map(|set| {
            set.items
                .iter()
                .filter(|i| i.private)
                .map(|i| (i.task.as_str(), i.index))
                .collect()
        })
        .unwrap_or_default();
    let public: Vec<&SampleEntry> = record
        .samples
        .iter()
        .filter(|s| !private.contains(&(s.task.as_str(), s.index)))
        .collect();
    // The reference counts first; their difference is the one reported.
    let full = competition_items(&prepare(competition, data, &seed, None))?;
    let Some(first_difference) = difference(&public, &full.items) else {
        return Ok(None);
    };
    let mut caps: Vec<u32> = Vec::new();
    for task in competition.tasks() {
        let count = public.iter().filter(|s| s.task == task.name).count();
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count > 0 && count < task.dataset_kwargs.samples && !caps.contains(&count) {
            caps.push(count);
        }
    }
    caps.sort_by(|a, b| b.cmp(a));
    for cap in caps {
        let items = competition_items(&prepare(competition, data, &seed, Some(cap)))?;
        if difference(&public, &items.items).is_none() {
            return Ok(Some(cap));
        }
    }
    Err(first_difference)
}

/// The first of `samples` (a record's public ones) whose item hash the drawn
/// `items` do not give. Every drawn item must be there: a record that marks
/// some of them private (the flag is not in the item hash) fails here.
fn difference(samples: &[&SampleEntry], items: &[gauntlet_ledger::Item]) -> Option<RerunError> {
    if items.len() != samples.len() {
        let at = items.len().min(samples.len());
        let Some(s) = samples.get(at).or(samples.last()) else {
            // No public sample at all, yet the seed draws items.
            let item = items.get(at)?;
            return Some(RerunError::NotTheDraw {
                task: item.task.clone(),
                index: item.index,
                drawn: item.hash().hex(),
                recorded: "none (every item marked private)".into(),
            });
        };
        return Some(RerunError::NotTheDraw {
            task: s.task.clone(),
            index: s.index,
            drawn: items.get(at).map_or("none".into(), |i| i.hash().hex()),
            recorded: s.item_hash.hex(),
        });
    }
    samples.iter().zip(items).find_map(|(s, item)| {
        let drawn = item.hash();
        (drawn != s.item_hash || item.task != s.task || item.index != s.index).then(|| {
            RerunError::NotTheDraw {
                task: s.task.clone(),
                index: s.index,
                drawn: drawn.hex(),
                recorded: s.item_hash.hex(),
            }
        })
    })
}

/// Where and how a record's samples are re-run.
#[derive(Debug, Clone)]
pub struct RerunSetup {
    /// The downloaded, hash-checked model.
    pub model_dir: PathBuf,
    /// The competition's fixed tokenizer, when it has one.
    pub tokenizer_dir: Option<PathBuf>,
    /// The datasets' root.
    pub data_root: PathBuf,
    /// The sample cap of the record's round ([`redraw`]).
    pub sample_cap: Option<u32>,
    /// Where the re-run runs.
    pub placement: Placement,
}

/// The sandbox job that scores `picks` (all of one record) again; the
/// round's published `items` give back its private ones.
pub fn job(
    record: &LedgerRecord,
    registry: &Registry,
    setup: &RerunSetup,
    picks: &[&Pick],
    items: Option<&ItemSet>,
) -> Job {
    let mut only: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for p in picks {
        only.entry(p.task.clone()).or_default().push(p.index);
    }
    Job {
        model_dir: setup.model_dir.clone(),
        tokenizer_dir: setup.tokenizer_dir.clone(),
        definitions: registry.definitions().clone(),
        competition: record.competition.id,
        block: record.round.block,
        seed: record.round.seed.clone(),
        sample_cap: setup.sample_cap,
        data_root: setup.data_root.clone(),
        device: setup.placement.device.name().into(),
        precision: setup.placement.precision.map(|p| p.name().to_string()),
        oom_marker: None,
        only: Some(only),
        private: items
            .map(|set| crate::private::of_items(&set.items))
            .unwrap_or_default(),
        early_stop: None,
    }
}

/// One re-run sample: what the ledger says and what the re-run gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rerun {
    /// The sample.
    pub pick: Pick,
    /// The ledger's score (`None`: null).
    pub recorded: Option<f64>,
    /// The re-run's score (`None`: not scored).
    pub replayed: Option<f64>,
    /// How the re-run's output differs from the recorded one beyond the
    /// tolerance (`None`: they agree, or the ledger kept no output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_difference: Option<String>,
    /// The re-run's output, as a ledger writes it (`None`: none kept), to
    /// hold other validators' records of the sample to.
    #[serde(skip)]
    pub replayed_output: Option<Output>,
}

impl Rerun {
    /// Whether the two scores agree within `tolerance` (both absent agree).
    pub fn agrees(&self, tolerance: f64) -> bool {
        agree(self.recorded, self.replayed, tolerance)
    }

    /// The field that disagrees and how, the score first (`None`: the score
    /// and the output agree).
    pub fn disagreement(&self, tolerance: f64) -> Option<(&'static str, String)> {
        if !self.agrees(tolerance) {
            return Some((
                "score",
                format!(
                    "the ledger says {}, re-running it gives {}",
                    show(self.recorded),
                    show(self.replayed)
                ),
            ));
        }
        self.output_difference.clone().map(|d| ("output", d))
    }
}

/// A sample score as text (`null` when absent).
pub fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "null".into(), |x| x.to_string())
}

/// How a re-run's output differs from the recorded one: texts must be
/// identical, numbers agree within `tolerance` ([`agree`]), one by one.
/// `None` when they agree or the ledger kept no output.
pub fn output_difference(
    recorded: Option<&Output>,
    replayed: Option<&SampleOutput>,
    tolerance: f64,
) -> Option<String> {
    let recorded = recorded?;
    let Some(replayed) = replayed else {
        return Some("the ledger has one, the re-run kept none".into());
    };
    let replayed = crate::ledger::output(replayed.clone());
    outputs_differ(recorded, &replayed, tolerance, ("the ledger", "the re-run"))
}

/// How output `a` differs from output `b` (named by `names` in the message):
/// texts must be identical, numbers agree within `tolerance` ([`agree`]),
/// one by one. `None` when they agree.
pub fn outputs_differ(
    a: &Output,
    b: &Output,
    tolerance: f64,
    (first, second): (&str, &str),
) -> Option<String> {
    let numbers = |x: &[f64], y: &[f64], what: &str| {
        if x.len() != y.len() {
            return Some(format!(
                "{first} has {} {what}, {second} {}",
                x.len(),
                y.len()
            ));
        }
        x.iter()
            .zip(y)
            .position(|(p, q)| !agree(Some(*p), Some(*q), tolerance))
            .map(|i| format!("{what} {i}: {first} says {}, {second} {}", x[i], y[i]))
    };
    // The two forms of per-token losses compare as the same kind.
    if let (Some(x), Some(y)) = (a.losses(), b.losses()) {
        return numbers(x, y, "losses");
    }
    match (a, b) {
        (Output::ChoiceLogprobs(x), Output::ChoiceLogprobs(y)) => {
            numbers(x, y, "choice log-probabilities")
        }
        (x, y) if x == y => None,
        (Output::Text(x), Output::Text(y)) => {
            Some(format!("{first}'s text {x:?} is not {second}'s {y:?}"))
        }
        (Output::Texts(x), Output::Texts(y)) => {
            Some(match x.iter().zip(y).position(|(p, q)| p != q) {
                Some(i) => format!(
                    "text {i}: {first}'s {:?} is not {second}'s {:?}",
                    x[i], y[i]
                ),
                None => format!("{first} has {} texts, {second} {}", x.len(), y.len()),
            })
        }
        _ => Some(format!("{first}'s output is not of {second}'s kind")),
    }
}

/// Whether two sample scores agree within `tolerance`, relative to the larger
/// magnitude when it exceeds 1 (both absent agree; one absent does not).
pub fn agree(a: Option<f64>, b: Option<f64>, tolerance: f64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0),
        _ => false,
    }
}

/// The re-run scores of `picks` (all of `record`, as [`job`] ordered them)
/// from the sandbox's outcome; an outcome without scores is an error
/// saying why (a rejected model: the validator evaluated it, so the auditor
/// could not reproduce the evaluation; a fault: the auditor's own problem).
pub fn compare(
    record: &LedgerRecord,
    picks: &[&Pick],
    outcome: ChildOutcome,
    tolerance: f64,
) -> Result<Vec<Rerun>, String> {
    let details = match outcome {
        ChildOutcome::Evaluated { details, .. } => details,
        ChildOutcome::Rejected { verdict } => {
            return Err(format!(
                "the re-run rejects the model ({}) the validator evaluated",
                verdict.label()
            ))
        }
        ChildOutcome::Fault { fault } => return Err(format!("the re-run failed: {fault}")),
    };
    // The job ran each task's picks in their order; walk them the same way.
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    picks
        .iter()
        .map(|p| {
            let position = next.entry(p.task.as_str()).or_insert(0);
            let detail = details.iter().find(|d| d.name == p.task);
            let replayed = detail
                .and_then(|d| d.per_sample.get(*position).copied())
                .ok_or_else(|| {
                    format!("the re-run has no score for sample {}#{}", p.task, p.index)
                })?
                .filter(|x| x.is_finite());
            let replayed_output = detail
                .and_then(|d| d.outputs.get(*position))
                .and_then(Option::as_ref);
            *position += 1;
            let sample = record.samples.get(p.sample);
            Ok(Rerun {
                pick: (*p).clone(),
                recorded: sample.and_then(|s| s.score),
                replayed,
                output_difference: output_difference(
                    sample.and_then(|s| s.output.as_ref()),
                    replayed_output,
                    tolerance,
                ),
                replayed_output: replayed_output.cloned().map(crate::ledger::output),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gauntlet_ledger::Item;

    fn record(samples: usize, verdict: &str) -> LedgerRecord {
        let items = ItemSet {
            items: (0..samples)
                .map(|i| Item {
                    task: "t".into(),
                    index: i as u64,
                    item: serde_json::json!({ "q": i }),
                    private: false,
                })
                .collect(),
        };
        let scores: Vec<f64> = (0..samples).map(|i| i as f64).collect();
        let mut r = gauntlet_ledger::testing::record_for(&items, 1, &scores, Digest::ZERO);
        r.verdict = verdict.into();
        r
    }

    #[test]
    fn picks_are_deterministic_distinct_and_only_of_evaluated_models() {
        let (a, b, c) = (
            record(10, "evaluated"),
            record(5, "copy"),
            record(10, "evaluated"),
        );
        let records = [&a, &b, &c];
        let one = pick(&records, 7, b"seed");
        assert_eq!(one, pick(&records, 7, b"seed"));
        assert_eq!(one.len(), 7);
        assert!(one.iter().all(|p| p.record != 1));
        let mut keys: Vec<_> = one.iter().map(|p| (p.record, p.sample)).collect();
        keys.dedup();
        assert_eq!(keys.len(), 7);
        assert_ne!(one, pick(&records, 7, b"other seed"));
        // Asking for more than there are gives them all.
        assert_eq!(pick(&records, 100, b"seed").len(), 20);
    }

    #[test]
    fn outputs_agree_exactly_as_text_and_within_the_tolerance_as_numbers() {
        let t = DEFAULT_TOLERANCE;
        let text = |s: &str| Output::Text(s.into());
        let same = SampleOutput::Text("B".into());
        assert_eq!(output_difference(Some(&text("B")), Some(&same), t), None);
        let d = output_difference(Some(&text("B")), Some(&SampleOutput::Text("C".into())), t);
        assert!(d
            .expect("a difference")
            .contains("\"B\" is not the re-run's \"C\""));
        // The ledger kept none: nothing to compare.
        assert_eq!(output_difference(None, Some(&same), t), None);
        assert!(output_difference(Some(&text("B")), None, t).is_some());
        let losses = Output::Losses(vec![1.0, f64::from(2.5f32)]);
        let close = SampleOutput::Losses(vec![1.000_01, 2.5]);
        assert_eq!(output_difference(Some(&losses), Some(&close), t), None);
        let far = SampleOutput::Losses(vec![1.0, 2.6]);
        let d = output_difference(Some(&losses), Some(&far), t).expect("a difference");
        assert!(d.starts_with("losses 1:"), "{d}");
        let short = SampleOutput::Losses(vec![1.0]);
        assert!(output_difference(Some(&losses), Some(&short), t)
            .expect("a difference")
            .contains("has 2 losses, the re-run 1"));
        let pair = Output::Texts(vec!["a".into(), "b".into()]);
        let d = output_difference(
            Some(&pair),
            Some(&SampleOutput::Texts(vec!["a".into(), "c".into()])),
            t,
        );
        assert!(d.expect("a difference").starts_with("text 1:"));
        assert!(output_difference(Some(&pair), Some(&same), t)
            .expect("a difference")
            .contains("not of the re-run's kind"));
        // A rerun names the output only when its score agrees.
        let rerun = Rerun {
            pick: Pick {
                record: 0,
                sample: 0,
                task: "t".into(),
                index: 0,
            },
            recorded: Some(1.0),
            replayed: Some(1.0),
            output_difference: Some("text differs".into()),
            replayed_output: None,
        };
        assert_eq!(rerun.disagreement(t).map(|d| d.0), Some("output"));
    }

    #[test]
    fn scores_agree_within_the_tolerance_only() {
        assert!(agree(Some(2.0), Some(2.0 + 1e-5), DEFAULT_TOLERANCE));
        assert!(!agree(Some(2.0), Some(2.01), DEFAULT_TOLERANCE));
        assert!(agree(Some(1000.0), Some(1000.05), DEFAULT_TOLERANCE));
        assert!(agree(None, None, DEFAULT_TOLERANCE));
        assert!(!agree(Some(0.0), None, DEFAULT_TOLERANCE));
    }

    #[test]
    fn outcomes_map_back_to_their_picks_in_order() {
        let r = record(4, "evaluated");
        let picks = [
            Pick {
                record: 0,
                sample: 1,
                task: "t".into(),
                index: 1,
            },
            Pick {
                record: 0,
                sample: 3,
                task: "t".into(),
                index: 3,
            },
        ];
        let refs: Vec<&Pick> = picks.iter().collect();
        let outcome = ChildOutcome::Evaluated {
            score: Some(1.0),
            tasks: serde_json::Value::Null,
            details: vec![crate::sandbox::SampleScores {
                name: "t".into(),
                per_sample: vec![Some(1.0), Some(2.5)],
                outputs: Vec::new(),
            }],
            overlong_prompts: 0,
        };
        let reruns = compare(&r, &refs, outcome, DEFAULT_TOLERANCE).expect("scores");
        assert_eq!(reruns[0].recorded, Some(1.0));
        assert!(reruns[0].agrees(DEFAULT_TOLERANCE));
        assert_eq!(reruns[1].recorded, Some(3.0));
        assert_eq!(reruns[1].replayed, Some(2.5));
        assert!(!reruns[1].agrees(DEFAULT_TOLERANCE));
        let rejected = ChildOutcome::Rejected {
            verdict: crate::verdict::Verdict::TimedOut { seconds: 1 },
        };
        assert!(compare(&r, &refs, rejected, DEFAULT_TOLERANCE).is_err());
    }
}

//! Record builders for tests and examples (public so other crates' tests can use them).

use crate::digest::Digest;
use crate::item::ItemSet;
use crate::record::{
    CompetitionRef, LedgerRecord, ModelRef, RoundRef, RuntimeRef, SampleEntry, TaskAggregate,
    ValidatorRef, FORMAT_VERSION,
};

/// A record of model `uid` scoring `scores` (one per item, in order) on `items`, at sync block
/// `1000 · uid`-independent round 7200, chained after `prev`. Each task's aggregate is the mean
/// of its samples.
pub fn record_for(items: &ItemSet, uid: u16, scores: &[f64], prev: Digest) -> LedgerRecord {
    let samples: Vec<SampleEntry> = items
        .items
        .iter()
        .zip(scores)
        .map(|(item, score)| SampleEntry {
            task: item.task.clone(),
            index: item.index,
            item_hash: item.hash(),
            output: None,
            score: Some(*score),
        })
        .collect();
    let mut tasks: Vec<TaskAggregate> = Vec::new();
    for s in &samples {
        match tasks.iter_mut().find(|t| t.name == s.task) {
            Some(t) => t.samples += 1,
            None => tasks.push(TaskAggregate {
                name: s.task.clone(),
                score: None,
                samples: 1,
                normalized: None,
                status: None,
            }),
        }
    }
    for t in &mut tasks {
        let of: Vec<f64> = samples
            .iter()
            .filter(|s| s.task == t.name)
            .filter_map(|s| s.score)
            .collect();
        t.score = Some(of.iter().sum::<f64>() / of.len().max(1) as f64);
    }
    let score = Some(scores.iter().sum::<f64>() / scores.len().max(1) as f64);
    LedgerRecord {
        format: FORMAT_VERSION,
        round: RoundRef {
            sync_block: 7200,
            block: 7210,
            seed: "00".repeat(32),
        },
        competition: CompetitionRef {
            id: 1,
            name: "test".into(),
        },
        validator: ValidatorRef {
            hotkey: String::new(),
            public_key: String::new(),
        },
        model: ModelRef {
            uid,
            hotkey: format!("miner-{uid}"),
            commitment: format!("ns:m{uid}:{}:hash:1", "0".repeat(40)),
            repo: format!("ns/m{uid}"),
            commit: "0".repeat(40),
            commit_block: 100 + u64::from(uid),
            repo_hash: None,
        },
        runtime: RuntimeRef {
            gauntlet_version: "0.1.0".into(),
            device: "cpu".into(),
            dtype: "f32".into(),
        },
        items_root: items.root(),
        samples,
        tasks,
        score,
        verdict: "evaluated".into(),
        benchmark: None,
        prev_hash: prev,
    }
}

//! Read-only views over the state for observers (the dashboard): each model's
//! evaluations over rounds, its per-sample scores a page at a time, the
//! neurons the validator saw on chain at each round, and a fingerprint that
//! changes whenever the validator writes something an observer shows.

use gauntlet_chain::Metagraph;
use gauntlet_constants::{Block, CompetitionId};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{schema, ModelKey, State, StateError};

/// One finished evaluation of a model, as an observer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRecord {
    /// The round's sync block.
    pub sync_block: u64,
    /// The competition.
    pub competition_id: u16,
    /// The miner's hotkey.
    pub hotkey: String,
    /// The raw commitment.
    pub commitment: String,
    /// The uid at the time.
    pub uid: u16,
    /// The competition score (a loss); `None` when the model failed.
    pub score: Option<f64>,
    /// The verdict label.
    pub verdict: String,
    /// The task outcomes as the suite recorded them (JSON).
    pub tasks: serde_json::Value,
    /// How many per-sample scores were kept.
    pub samples: u64,
}

/// One sample's score in an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The task.
    pub task: String,
    /// The sample's index in the task's draw.
    pub index: u64,
    /// Its score; `None` for a sample that could not be scored.
    pub score: Option<f64>,
}

/// A neuron as the validator saw it on chain at the start of a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronObservation {
    /// The block the metagraph was read at.
    pub block: u64,
    /// The uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// Stake, in rao.
    pub stake: u64,
    /// Incentive, a fraction of the subnet's.
    pub incentive: f64,
    /// Emission, in rao.
    pub emission: u64,
}

impl EvaluationRecord {
    /// The model this evaluation is of.
    pub fn key(&self) -> ModelKey {
        ModelKey {
            hotkey: self.hotkey.clone(),
            commitment: self.commitment.clone(),
        }
    }
}

impl State {
    /// Opens an existing state file for reading only (an observer never
    /// writes, nor migrates, a validator's file). A file older than this
    /// build is refused with [`StateError::Schema`]: open it once with
    /// [`State::open`] to migrate.
    pub fn open_read_only(path: &std::path::Path) -> Result<Self, StateError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let version = found.and_then(|v| v.parse::<i64>().ok()).unwrap_or(1);
        if version != schema::SCHEMA_VERSION {
            return Err(StateError::Schema {
                found: version,
                expected: schema::SCHEMA_VERSION,
            });
        }
        Ok(Self { conn })
    }

    /// Records the neurons of `metagraph` (once per block; a repeat is a
    /// no-op), so that incentive and stake can be shown over rounds.
    pub fn record_metagraph(&mut self, metagraph: &Metagraph) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO neuron_history
                 (netuid, block, uid, hotkey, stake, incentive, emission)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for n in &metagraph.neurons {
                stmt.execute(params![
                    metagraph.netuid.0,
                    metagraph.block.0 as i64,
                    n.uid.0,
                    n.hotkey,
                    i64::try_from(n.stake).unwrap_or(i64::MAX),
                    n.incentive,
                    i64::try_from(n.emission).unwrap_or(i64::MAX),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The neurons seen at the last `rounds` metagraph reads, oldest first.
    pub fn neuron_history(&self, rounds: usize) -> Result<Vec<NeuronObservation>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT block, uid, hotkey, stake, incentive, emission FROM neuron_history
             WHERE block IN (SELECT DISTINCT block FROM neuron_history ORDER BY block DESC LIMIT ?1)
             ORDER BY block, uid",
        )?;
        let rows = stmt.query_map([rounds as i64], |r| {
            Ok(NeuronObservation {
                block: r.get::<_, i64>(0)? as u64,
                uid: r.get(1)?,
                hotkey: r.get(2)?,
                stake: r.get::<_, i64>(3)?.max(0) as u64,
                incentive: r.get(4)?,
                emission: r.get::<_, i64>(5)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every evaluation of a competition over its last `rounds` rounds,
    /// oldest round first (what a plot of scores over rounds needs).
    pub fn evaluations_of_competition(
        &self,
        competition: CompetitionId,
        rounds: usize,
    ) -> Result<Vec<EvaluationRecord>, StateError> {
        self.evaluation_records(
            "WHERE e.competition_id = ?1 AND e.sync_block IN
               (SELECT DISTINCT sync_block FROM evaluations WHERE competition_id = ?1
                ORDER BY sync_block DESC LIMIT ?2)
             ORDER BY e.sync_block, e.uid",
            params![competition.0, rounds as i64],
        )
    }

    /// Every evaluation of one model, newest first.
    pub fn evaluations_of_model(
        &self,
        key: &ModelKey,
    ) -> Result<Vec<EvaluationRecord>, StateError> {
        self.evaluation_records(
            "WHERE e.hotkey = ?1 AND e.commitment = ?2 ORDER BY e.sync_block DESC",
            params![key.hotkey, key.commitment],
        )
    }

    fn evaluation_records(
        &self,
        tail: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<EvaluationRecord>, StateError> {
        let sql = format!(
            "SELECT e.sync_block, e.competition_id, e.hotkey, e.commitment, e.uid, e.score,
                    e.verdict, e.tasks,
                    (SELECT COUNT(*) FROM sample_scores s
                     WHERE s.sync_block = e.sync_block AND s.competition_id = e.competition_id
                       AND s.hotkey = e.hotkey AND s.commitment = e.commitment)
             FROM evaluations e {tail}"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                EvaluationRecord {
                    sync_block: r.get::<_, i64>(0)? as u64,
                    competition_id: r.get(1)?,
                    hotkey: r.get(2)?,
                    commitment: r.get(3)?,
                    uid: r.get(4)?,
                    score: r.get(5)?,
                    verdict: verdict_label(&r.get::<_, String>(6)?),
                    tasks: serde_json::Value::Null,
                    samples: r.get::<_, i64>(8)?.max(0) as u64,
                },
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut rec, tasks) = row?;
            rec.tasks = serde_json::from_str(&tasks)?;
            out.push(rec);
        }
        Ok(out)
    }

    /// A page of one evaluation's per-sample scores, by task then index.
    pub fn samples(
        &self,
        sync: Block,
        competition: CompetitionId,
        key: &ModelKey,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<SampleRecord>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT task, idx, score FROM sample_scores
             WHERE sync_block = ?1 AND competition_id = ?2 AND hotkey = ?3 AND commitment = ?4
             ORDER BY task, idx LIMIT ?5 OFFSET ?6",
        )?;
        let rows = stmt.query_map(
            params![
                sync.0 as i64,
                competition.0,
                key.hotkey,
                key.commitment,
                limit as i64,
                offset as i64
            ],
            |r| {
                Ok(SampleRecord {
                    task: r.get(0)?,
                    index: r.get::<_, i64>(1)?.max(0) as u64,
                    score: r.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A value that changes whenever the validator records an evaluation, a
    /// round, weights, a snapshot or a metagraph read: what an observer polls
    /// to know it should refresh.
    pub fn fingerprint(&self) -> Result<String, StateError> {
        // MAX(rowid) is one b-tree descent, whatever the table's size; every
        // insert (and INSERT OR REPLACE) takes a new, larger rowid.
        let v: (i64, i64, i64, i64, i64) = self.conn.query_row(
            "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM evaluations),
                    (SELECT COALESCE(MAX(rowid), 0) FROM rounds),
                    (SELECT COALESCE(MAX(id), 0) FROM weights),
                    (SELECT COALESCE(MAX(rowid), 0) FROM leaderboards),
                    (SELECT COALESCE(MAX(rowid), 0) FROM neuron_history)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
        Ok(format!("{}-{}-{}-{}-{}", v.0, v.1, v.2, v.3, v.4))
    }
}

/// The label of a verdict as the evaluations table stores it (its JSON);
/// text that is not a verdict's JSON is kept as it is.
fn verdict_label(stored: &str) -> String {
    serde_json::from_str::<crate::verdict::Verdict>(stored)
        .map(|v| v.label().to_string())
        .unwrap_or_else(|_| stored.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use gauntlet_chain::Neuron;
    use gauntlet_constants::{NetUid, Uid};

    use super::*;
    use crate::state::Evaluation;
    use crate::suite::TaskDetail;
    use crate::verdict::Verdict;

    fn metagraph(block: u64, incentive: f64) -> Metagraph {
        Metagraph {
            netuid: NetUid(2),
            block: Block(block),
            neurons: (0..3)
                .map(|u| Neuron {
                    uid: Uid(u),
                    hotkey: format!("hk{u}"),
                    stake: 1_000 * u64::from(u),
                    validator_permit: u == 0,
                    last_update: block,
                    incentive: if u == 1 { incentive } else { 0.0 },
                    dividends: 0.0,
                    emission: 7,
                })
                .collect(),
        }
    }

    fn eval(uid: u16, score: f64) -> Evaluation {
        Evaluation {
            key: ModelKey {
                hotkey: format!("hk{uid}"),
                commitment: format!("ns:m{uid}:c:h:1"),
            },
            uid: Uid(uid),
            commit_block: Block(10),
            score,
            verdict: Verdict::Evaluated,
            tasks: serde_json::json!([{"name": "mmlu", "score": score}]),
        }
    }

    #[test]
    fn observers_read_evaluations_samples_and_incentive_over_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.sqlite");
        let mut state = State::open(&path).unwrap();
        let before = state.fingerprint().unwrap();
        state.record_metagraph(&metagraph(100, 0.25)).unwrap();
        state.record_metagraph(&metagraph(100, 0.99)).unwrap(); // same block: kept once
        state.record_metagraph(&metagraph(200, 0.75)).unwrap();
        let details = [TaskDetail {
            name: "mmlu".into(),
            per_sample: (0..25).map(|i| (i != 3).then_some(f64::from(i))).collect(),
            outputs: Vec::new(),
        }];
        let c = CompetitionId(1);
        state
            .save_evaluation(Block(100), c, &eval(1, 0.5), &details)
            .unwrap();
        state
            .save_evaluation(Block(200), c, &eval(1, 0.4), &details)
            .unwrap();
        state
            .save_evaluation(Block(200), c, &eval(2, f64::INFINITY), &[])
            .unwrap();
        assert_ne!(state.fingerprint().unwrap(), before);

        let reader = State::open_read_only(&path).unwrap();
        let seen = reader.neuron_history(10).unwrap();
        let uid1: Vec<(u64, f64)> = seen
            .iter()
            .filter(|n| n.uid == 1)
            .map(|n| (n.block, n.incentive))
            .collect();
        assert_eq!(uid1, [(100, 0.25), (200, 0.75)]);
        assert_eq!(reader.neuron_history(1).unwrap().len(), 3);

        let all = reader.evaluations_of_competition(c, 10).unwrap();
        let order: Vec<(u64, u16, Option<f64>)> =
            all.iter().map(|e| (e.sync_block, e.uid, e.score)).collect();
        assert_eq!(
            order,
            [(100, 1, Some(0.5)), (200, 1, Some(0.4)), (200, 2, None)]
        );
        assert_eq!(reader.evaluations_of_competition(c, 1).unwrap().len(), 2);
        let mine = reader.evaluations_of_model(&eval(1, 0.0).key).unwrap();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].sync_block, 200);
        assert_eq!(mine[0].samples, 25);
        assert_eq!(mine[0].tasks[0]["name"], "mmlu");
        // The verdict as a label, as observers read it (not its stored JSON).
        assert_eq!(mine[0].verdict, "evaluated");

        let page = reader
            .samples(Block(200), c, &mine[0].key(), 0, 10)
            .unwrap();
        assert_eq!(page.len(), 10);
        assert_eq!(page[3].score, None);
        let last = reader
            .samples(Block(200), c, &mine[0].key(), 20, 10)
            .unwrap();
        assert_eq!(
            last.iter().map(|s| s.index).collect::<Vec<_>>(),
            [20, 21, 22, 23, 24]
        );
    }

    #[test]
    fn a_reader_never_creates_a_file_nor_reads_another_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.sqlite");
        assert!(State::open_read_only(&path).is_err());
        assert!(!path.exists());
        let state = State::open(&path).unwrap();
        state
            .conn
            .execute("UPDATE meta SET value = '3' WHERE key = 'schema'", [])
            .unwrap();
        assert!(matches!(
            State::open_read_only(&path),
            Err(StateError::Schema { found: 3, .. })
        ));
    }
}

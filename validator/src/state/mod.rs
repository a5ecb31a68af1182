//! The validator's persistent state in one SQLite file: models seen and their
//! verdicts, every evaluation with per-sample scores, finished rounds, the
//! per-competition EMA and the history of weights.
//!
//! Every stage of a round writes here before the next starts, inside
//! transactions, so a validator killed at any point (even with SIGKILL)
//! resumes where it stopped: finished evaluations are read back, not redone.

mod benchmark;
mod commits;
mod history;
mod leaderboard;
mod ledger;
mod private;
mod progress;
mod schema;

pub use commits::CommitRow;
pub use history::{EvaluationRecord, NeuronObservation, SampleRecord};
pub use leaderboard::{rank, LeaderboardRow, LeaderboardSnapshot, DAY_BLOCKS};
pub use ledger::{ItemCommitmentRow, LedgerRound, SignRecord};
pub use private::PrivateItems;
pub use progress::{Marker, Wait};

use std::collections::BTreeMap;
use std::path::Path;

use gauntlet_constants::{Block, CompetitionId, Uid};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::suite::TaskDetail;
use crate::summary::RoundSummary;
use crate::verdict::Verdict;

/// An error of the state database (always the validator's own problem).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// SQLite failed.
    #[error("validator state database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column does not parse.
    #[error("validator state holds malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The file was written by an incompatible version.
    #[error("validator state schema version {found}, expected {expected}")]
    Schema {
        /// The version found.
        found: i64,
        /// The version this build writes.
        expected: i64,
    },
    /// A ledger record could not be built or read.
    #[error("validator ledger: {0}")]
    Ledger(#[from] gauntlet_ledger::LedgerError),
}

/// Which model: a hotkey and the exact commitment string it published.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModelKey {
    /// The miner's hotkey (SS58).
    pub hotkey: String,
    /// The commitment string.
    pub commitment: String,
}

/// A finished evaluation of one model in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The model.
    pub key: ModelKey,
    /// Its uid when evaluated.
    pub uid: Uid,
    /// The block of its commitment (its age).
    pub commit_block: Block,
    /// The competition score (a loss); +inf for a failed or rejected model.
    pub score: f64,
    /// What happened to it.
    pub verdict: Verdict,
    /// The task outcomes (JSON), empty when the model never ran.
    pub tasks: serde_json::Value,
}

/// The validator's state file.
pub struct State {
    conn: Connection,
}

fn score_to_sql(score: f64) -> Option<f64> {
    score.is_finite().then_some(score)
}

impl State {
    /// Opens (creating when absent) the state at `path`.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(schema::SCHEMA)?;
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        // A fresh file has just been given the tables of version 1.
        let version = found.and_then(|v| v.parse::<i64>().ok()).unwrap_or(1);
        if version > schema::SCHEMA_VERSION {
            return Err(StateError::Schema {
                found: version,
                expected: schema::SCHEMA_VERSION,
            });
        }
        let mut state = Self { conn };
        state.migrate(version)?;
        Ok(state)
    }

    /// Applies the migrations after `version`, each in its own transaction with
    /// the version it reaches.
    fn migrate(&mut self, version: i64) -> Result<(), StateError> {
        for &(to, sql) in schema::MIGRATIONS.iter().filter(|(to, _)| *to > version) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)",
                [to.to_string()],
            )?;
            tx.commit()?;
            tracing::info!(schema = to, "validator state migrated");
        }
        Ok(())
    }

    /// Records (or updates) what the validator knows about a model.
    #[allow(clippy::too_many_arguments)]
    pub fn record_model(
        &self,
        key: &ModelKey,
        uid: Uid,
        competition: Option<CompetitionId>,
        commit_block: Block,
        repo_hash: Option<&str>,
        verdict: &Verdict,
        block: Block,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO models (hotkey, commitment, uid, competition_id, commit_block, repo_hash,
                                 verdict, reason, copy_of, updated_block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (hotkey, commitment) DO UPDATE SET
                uid = excluded.uid, competition_id = excluded.competition_id,
                repo_hash = COALESCE(excluded.repo_hash, models.repo_hash),
                verdict = excluded.verdict, reason = excluded.reason,
                copy_of = excluded.copy_of, updated_block = excluded.updated_block",
            params![
                key.hotkey,
                key.commitment,
                uid.0,
                competition.map(|c| c.0),
                commit_block.0 as i64,
                repo_hash,
                verdict.label(),
                verdict.reason(),
                verdict.copy_of().map(|u| u.0),
                block.0 as i64,
            ],
        )?;
        Ok(())
    }

    /// Repo hashes of models already verified, with their commit block and
    /// uid (for copy detection).
    pub fn repo_hashes(&self) -> Result<Vec<(String, Block, Uid, ModelKey)>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT repo_hash, commit_block, uid, hotkey, commitment FROM models
             WHERE repo_hash IS NOT NULL ORDER BY commit_block, uid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Block(r.get::<_, i64>(1)? as u64),
                Uid(r.get(2)?),
                ModelKey {
                    hotkey: r.get(3)?,
                    commitment: r.get(4)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The evaluation of `key` in the round `(sync, competition)`, if finished.
    pub fn evaluation(
        &self,
        sync: Block,
        competition: CompetitionId,
        key: &ModelKey,
    ) -> Result<Option<Evaluation>, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT uid, commit_block, score, verdict, tasks FROM evaluations
                 WHERE sync_block = ?1 AND competition_id = ?2 AND hotkey = ?3 AND commitment = ?4",
                params![sync.0 as i64, competition.0, key.hotkey, key.commitment],
                |r| {
                    Ok((
                        r.get::<_, u16>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<f64>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((uid, commit_block, score, verdict, tasks)) = row else {
            return Ok(None);
        };
        Ok(Some(Evaluation {
            key: key.clone(),
            uid: Uid(uid),
            commit_block: Block(commit_block as u64),
            score: score.unwrap_or(f64::INFINITY),
            verdict: serde_json::from_str(&verdict)?,
            tasks: serde_json::from_str(&tasks)?,
        }))
    }

    /// Stores a finished evaluation and its per-sample scores atomically, and
    /// forgets that the model was in progress (in the same transaction).
    pub fn save_evaluation(
        &mut self,
        sync: Block,
        competition: CompetitionId,
        eval: &Evaluation,
        details: &[TaskDetail],
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        Self::write_evaluation(&tx, sync, competition, eval, details)?;
        tx.commit()?;
        Ok(())
    }

    /// The writes of [`State::save_evaluation`], inside `tx`.
    fn write_evaluation(
        tx: &rusqlite::Transaction<'_>,
        sync: Block,
        competition: CompetitionId,
        eval: &Evaluation,
        details: &[TaskDetail],
    ) -> Result<(), StateError> {
        tx.execute(
            "INSERT OR REPLACE INTO evaluations
             (sync_block, competition_id, hotkey, commitment, uid, commit_block, score, verdict, tasks)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                sync.0 as i64,
                competition.0,
                eval.key.hotkey,
                eval.key.commitment,
                eval.uid.0,
                eval.commit_block.0 as i64,
                score_to_sql(eval.score),
                serde_json::to_string(&eval.verdict)?,
                serde_json::to_string(&eval.tasks)?,
            ],
        )?;
        {
            let mut stmt = tx.prepare(
                "INSERT OR REPLACE INTO sample_scores
                 (sync_block, competition_id, hotkey, commitment, task, idx, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for d in details {
                for (i, s) in d.per_sample.iter().enumerate() {
                    stmt.execute(params![
                        sync.0 as i64,
                        competition.0,
                        eval.key.hotkey,
                        eval.key.commitment,
                        d.name,
                        i as i64,
                        s.and_then(score_to_sql),
                    ])?;
                }
            }
        }
        tx.execute(
            "DELETE FROM in_progress WHERE competition_id = ?1 AND hotkey = ?2 AND commitment = ?3",
            params![competition.0, eval.key.hotkey, eval.key.commitment],
        )?;
        Ok(())
    }

    /// Number of per-sample scores stored for a model in a round.
    pub fn sample_count(
        &self,
        sync: Block,
        competition: CompetitionId,
        key: &ModelKey,
    ) -> Result<usize, StateError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM sample_scores
             WHERE sync_block = ?1 AND competition_id = ?2 AND hotkey = ?3 AND commitment = ?4",
            params![sync.0 as i64, competition.0, key.hotkey, key.commitment],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// The summary of a finished round, if it finished.
    pub fn round(
        &self,
        sync: Block,
        competition: CompetitionId,
    ) -> Result<Option<RoundSummary>, StateError> {
        let s: Option<String> = self
            .conn
            .query_row(
                "SELECT summary FROM rounds WHERE sync_block = ?1 AND competition_id = ?2",
                params![sync.0 as i64, competition.0],
                |r| r.get(0),
            )
            .optional()?;
        Ok(s.map(|s| serde_json::from_str(&s)).transpose()?)
    }

    /// The last finished round of a competition: its sync block and summary.
    pub fn last_round(
        &self,
        competition: CompetitionId,
    ) -> Result<Option<(Block, RoundSummary)>, StateError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT sync_block, summary FROM rounds WHERE competition_id = ?1
                 ORDER BY sync_block DESC LIMIT 1",
                [competition.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(b, s)| Ok((Block(b as u64), serde_json::from_str(&s)?)))
            .transpose()
    }

    /// The last finished round of every competition that has one, by
    /// competition id: its sync block and summary.
    pub fn last_rounds(&self) -> Result<Vec<(CompetitionId, Block, RoundSummary)>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.competition_id, r.sync_block, r.summary FROM rounds r
             WHERE r.sync_block = (SELECT MAX(sync_block) FROM rounds WHERE competition_id = r.competition_id)
             ORDER BY r.competition_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u16>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (c, b, s) = row?;
            out.push((CompetitionId(c), Block(b as u64), serde_json::from_str(&s)?));
        }
        Ok(out)
    }

    /// Finishes a round: stores its summary and the competition's new EMA in
    /// one transaction (and forgets that the competition waited).
    pub fn finish_round(
        &mut self,
        sync: Block,
        competition: CompetitionId,
        block: Block,
        summary: &RoundSummary,
        ema: &BTreeMap<String, (Uid, f64)>,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM waits WHERE competition_id = ?1",
            [competition.0],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO rounds (sync_block, competition_id, finished_block, summary)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                sync.0 as i64,
                competition.0,
                block.0 as i64,
                serde_json::to_string(summary)?
            ],
        )?;
        tx.execute("DELETE FROM ema WHERE competition_id = ?1", [competition.0])?;
        for (hotkey, (uid, value)) in ema {
            tx.execute(
                "INSERT INTO ema (competition_id, hotkey, uid, value) VALUES (?1, ?2, ?3, ?4)",
                params![competition.0, hotkey, uid.0, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The EMA of round weights of a competition, by hotkey.
    pub fn ema(
        &self,
        competition: CompetitionId,
    ) -> Result<BTreeMap<String, (Uid, f64)>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT hotkey, uid, value FROM ema WHERE competition_id = ?1")?;
        let rows = stmt.query_map([competition.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                (Uid(r.get(1)?), r.get::<_, f64>(2)?),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends a weight vector to the history with what the chain said.
    pub fn record_weights(
        &self,
        block: Block,
        weights: &[(Uid, f64, u16)],
        outcome: &str,
    ) -> Result<(), StateError> {
        let w: Vec<(u16, f64, u16)> = weights.iter().map(|(u, f, q)| (u.0, *f, *q)).collect();
        self.conn.execute(
            "INSERT INTO weights (block, weights, outcome) VALUES (?1, ?2, ?3)",
            params![block.0 as i64, serde_json::to_string(&w)?, outcome],
        )?;
        Ok(())
    }

    /// The block of the latest weights the chain accepted, set or committed
    /// (a commit counts against the rate limit as a set does).
    pub fn last_weights_set(&self) -> Result<Option<Block>, StateError> {
        let b: Option<i64> = self
            .conn
            .query_row(
                "SELECT block FROM weights WHERE outcome IN ('set', 'committed')
                 ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(b.map(|b| Block(b as u64)))
    }

    /// The weight history, newest first.
    pub fn weights_history(&self, limit: usize) -> Result<Vec<WeightsRow>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT block, weights, outcome FROM weights ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (b, w, o) = row?;
            out.push(WeightsRow {
                block: Block(b as u64),
                weights: serde_json::from_str(&w)?,
                outcome: o,
            });
        }
        Ok(out)
    }

    /// Every model seen: key, uid, competition, commit block, verdict label,
    /// reason and the uid it copies.
    pub fn models(&self) -> Result<Vec<ModelRow>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT hotkey, commitment, uid, competition_id, commit_block, verdict, reason, copy_of
             FROM models ORDER BY uid, commit_block",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ModelRow {
                key: ModelKey {
                    hotkey: r.get(0)?,
                    commitment: r.get(1)?,
                },
                uid: Uid(r.get(2)?),
                competition: r.get::<_, Option<u16>>(3)?.map(CompetitionId),
                commit_block: Block(r.get::<_, i64>(4)? as u64),
                verdict: r.get(5)?,
                reason: r.get(6)?,
                copy_of: r.get::<_, Option<u16>>(7)?.map(Uid),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// One weight setting as `gauntlet validator status` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightsRow {
    /// The block it was set at.
    pub block: Block,
    /// `(uid, weight, u16 weight)` of every uid with a weight.
    pub weights: Vec<(u16, f64, u16)>,
    /// What the chain answered: `set`, `committed` (timelocked, see
    /// [`State::commits`]), or `refused: …` with the reason.
    pub outcome: String,
}

/// A model as `gauntlet validator status` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRow {
    /// The model.
    pub key: ModelKey,
    /// Its uid.
    pub uid: Uid,
    /// Its competition, when the commitment parsed.
    pub competition: Option<CompetitionId>,
    /// The block of its commitment.
    pub commit_block: Block,
    /// The verdict's label.
    pub verdict: String,
    /// Why, for a rejected model.
    pub reason: Option<String>,
    /// The uid of the model it copies.
    pub copy_of: Option<Uid>,
}

impl State {
    /// The latest evaluation of `key` in `competition` before round `sync`:
    /// its sync block, score and verdict.
    pub fn last_evaluation(
        &self,
        competition: CompetitionId,
        key: &ModelKey,
        before: Block,
    ) -> Result<Option<(Block, f64, Verdict)>, StateError> {
        let row: Option<(i64, Option<f64>, String)> = self
            .conn
            .query_row(
                "SELECT sync_block, score, verdict FROM evaluations
                 WHERE competition_id = ?1 AND hotkey = ?2 AND commitment = ?3 AND sync_block < ?4
                 ORDER BY sync_block DESC LIMIT 1",
                params![competition.0, key.hotkey, key.commitment, before.0 as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(b, s, v)| {
            Ok((
                Block(b as u64),
                s.unwrap_or(f64::INFINITY),
                serde_json::from_str(&v)?,
            ))
        })
        .transpose()
    }
}

impl State {
    /// Number of finished evaluations stored (all rounds).
    pub fn evaluation_count(&self) -> Result<usize, StateError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM evaluations", [], |r| r.get(0))?;
        Ok(n as usize)
    }
}

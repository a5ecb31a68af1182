//! Weights committed timelock-encrypted (commit–reveal v4) and what became of
//! them: the validator records each commit when the chain accepts it and
//! updates its status each round until the chain has revealed (or dropped) it.

use gauntlet_chain::{CommitStatus, WeightsCommit};
use gauntlet_constants::Block;
use rusqlite::params;
use serde::Serialize;

use super::{State, StateError};

/// A recorded commit and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitRow {
    /// Its row id.
    pub id: i64,
    /// The commit.
    #[serde(flatten)]
    pub commit: WeightsCommit,
    /// Where it stood when last checked.
    pub status: CommitStatus,
    /// The block it was last checked at (`None`: not since it was sent).
    pub checked_block: Option<Block>,
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StateError {
    StateError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("weight_commits.{what}: {detail}").into(),
    ))
}

type RawRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    u16,
    String,
    String,
    Option<i64>,
);

fn row(raw: RawRow) -> Result<CommitRow, StateError> {
    let (id, block, uids, weights, version_key, round, version, hash, status, checked) = raw;
    let mut blob_hash = [0u8; 32];
    hex::decode_to_slice(&hash, &mut blob_hash).map_err(|e| corrupt("blob_hash", e))?;
    Ok(CommitRow {
        id,
        commit: WeightsCommit {
            uids: serde_json::from_str(&uids)?,
            values: serde_json::from_str(&weights)?,
            version_key: version_key.parse().map_err(|e| corrupt("version_key", e))?,
            reveal_round: round as u64,
            commit_reveal_version: version,
            block: Block(block as u64),
            blob_hash,
        },
        status: CommitStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        checked_block: checked.map(|b| Block(b as u64)),
    })
}

impl State {
    /// Records a commit the chain accepted, as pending; returns its row id.
    pub fn record_commit(&self, commit: &WeightsCommit) -> Result<i64, StateError> {
        self.conn.execute(
            "INSERT INTO weight_commits (block, uids, weights, version_key, reveal_round,
                                         commit_reveal_version, blob_hash, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            params![
                commit.block.0 as i64,
                serde_json::to_string(&commit.uids)?,
                serde_json::to_string(&commit.values)?,
                commit.version_key.to_string(),
                commit.reveal_round as i64,
                commit.commit_reveal_version,
                hex::encode(commit.blob_hash),
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records where commit `id` stood at `block`.
    pub fn set_commit_status(
        &self,
        id: i64,
        status: CommitStatus,
        block: Block,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE weight_commits SET status = ?2, checked_block = ?3 WHERE id = ?1",
            params![id, status.as_str(), block.0 as i64],
        )?;
        Ok(())
    }

    /// The commits not yet revealed or dropped, oldest first.
    pub fn pending_commits(&self) -> Result<Vec<CommitRow>, StateError> {
        self.query_commits("WHERE status = 'pending' ORDER BY id", usize::MAX)
    }

    /// The latest `limit` commits, newest first.
    pub fn commits(&self, limit: usize) -> Result<Vec<CommitRow>, StateError> {
        self.query_commits("ORDER BY id DESC", limit)
    }

    fn query_commits(&self, tail: &str, limit: usize) -> Result<Vec<CommitRow>, StateError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, block, uids, weights, version_key, reveal_round, commit_reveal_version,
                    blob_hash, status, checked_block
             FROM weight_commits {tail} LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let raw = stmt
            .query_map([limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })?
            .collect::<Result<Vec<RawRow>, _>>()?;
        raw.into_iter().map(row).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use gauntlet_constants::Uid;
    use rusqlite::Connection;

    use super::super::schema;
    use super::*;

    fn commit(round: u64) -> WeightsCommit {
        WeightsCommit {
            uids: vec![1, 4],
            values: vec![65535, 12],
            version_key: u64::MAX,
            reveal_round: round,
            commit_reveal_version: 4,
            block: Block(5_200_000),
            blob_hash: [0x5c; 32],
        }
    }

    #[test]
    fn commits_are_pending_until_their_status_changes() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("v.sqlite")).unwrap();
        let first = state.record_commit(&commit(1_000)).unwrap();
        let second = state.record_commit(&commit(2_000)).unwrap();
        let pending = state.pending_commits().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].commit, commit(1_000));
        assert_eq!(pending[0].status, CommitStatus::Pending);
        assert_eq!(pending[0].checked_block, None);

        state
            .set_commit_status(first, CommitStatus::Revealed, Block(5_200_400))
            .unwrap();
        let pending = state.pending_commits().unwrap();
        assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), [second]);
        let all = state.commits(10).unwrap();
        assert_eq!(all[0].id, second);
        assert_eq!(all[1].status, CommitStatus::Revealed);
        assert_eq!(all[1].checked_block, Some(Block(5_200_400)));
        assert_eq!(state.commits(1).unwrap().len(), 1);
        let json = serde_json::to_value(&all[1]).unwrap();
        assert_eq!(json["status"], "revealed");
        assert_eq!(json["reveal_round"], 1_000);
        assert_eq!(json["version_key"], u64::MAX);
    }

    #[test]
    fn a_version_1_file_migrates_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::SCHEMA).unwrap();
            conn.execute("INSERT INTO meta (key, value) VALUES ('schema', '1')", [])
                .unwrap();
            conn.execute(
                "INSERT INTO weights (block, weights, outcome) VALUES (90, '[[1,1.0,65535]]', 'set')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO ema (competition_id, hotkey, uid, value) VALUES (3, '5Fhk', 1, 0.5)",
                [],
            )
            .unwrap();
        }
        let state = State::open(&path).unwrap();
        let history = state.weights_history(10).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].weights, [(1, 1.0, 65535)]);
        assert_eq!(state.last_weights_set().unwrap(), Some(Block(90)));
        let ema = state.ema(gauntlet_constants::CompetitionId(3)).unwrap();
        assert_eq!(ema["5Fhk"], (Uid(1), 0.5));
        state.record_commit(&commit(7)).unwrap();
        drop(state);
        // Reopening is a no-op; the version is now the current one.
        let state = State::open(&path).unwrap();
        assert_eq!(state.commits(10).unwrap().len(), 1);
        let version: String = state
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, schema::SCHEMA_VERSION.to_string());
    }

    #[test]
    fn a_file_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        drop(State::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE meta SET value = '99' WHERE key = 'schema'", [])
            .unwrap();
        assert!(matches!(
            State::open(&path),
            Err(StateError::Schema {
                found: 99,
                expected: schema::SCHEMA_VERSION
            })
        ));
    }
}

//! Evaluations in progress and competitions waiting: the rows that let a
//! restarted validator know what it was doing when it died, and let
//! `validator status` say why a competition is not scored.

use gauntlet_constants::{Block, CompetitionId};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{ModelKey, State, StateError};
use crate::fault::Fault;

/// A model whose evaluation started and has not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// The competition.
    pub competition: CompetitionId,
    /// The model.
    pub key: ModelKey,
    /// Evaluations started without one finishing.
    pub starts: u32,
    /// The block of the first start.
    pub first_block: Block,
    /// The block of the latest start.
    pub last_block: Block,
}

/// A competition that waits on a fault of the validator's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wait {
    /// The competition.
    pub competition: CompetitionId,
    /// The round it waits in.
    pub sync_block: Block,
    /// When the fault was last seen.
    pub block: Block,
    /// The fault's label (`device`, `disk`, `dataset`, …).
    pub kind: String,
    /// What is wrong.
    pub reason: String,
}

impl State {
    /// Evaluations of `key` in `competition` started and never finished.
    pub fn starts(&self, competition: CompetitionId, key: &ModelKey) -> Result<u32, StateError> {
        let n: Option<i64> = self
            .conn
            .query_row(
                "SELECT starts FROM in_progress
                 WHERE competition_id = ?1 AND hotkey = ?2 AND commitment = ?3",
                params![competition.0, key.hotkey, key.commitment],
                |r| r.get(0),
            )
            .optional()?;
        Ok(n.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Marks the evaluation of `key` as started (committed before the
    /// evaluation begins, so a validator killed during it finds the mark).
    pub fn mark_started(
        &self,
        competition: CompetitionId,
        key: &ModelKey,
        block: Block,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO in_progress (competition_id, hotkey, commitment, starts, first_block, last_block)
             VALUES (?1, ?2, ?3, 1, ?4, ?4)
             ON CONFLICT (competition_id, hotkey, commitment)
             DO UPDATE SET starts = starts + 1, last_block = excluded.last_block",
            params![competition.0, key.hotkey, key.commitment, block.0 as i64],
        )?;
        Ok(())
    }

    /// Forgets the mark of `key` (its evaluation ended without a verdict,
    /// on a fault of the validator's own).
    pub fn clear_mark(&self, competition: CompetitionId, key: &ModelKey) -> Result<(), StateError> {
        self.conn.execute(
            "DELETE FROM in_progress WHERE competition_id = ?1 AND hotkey = ?2 AND commitment = ?3",
            params![competition.0, key.hotkey, key.commitment],
        )?;
        Ok(())
    }

    /// Every evaluation in progress (after a restart: the ones the validator
    /// died during).
    pub fn markers(&self) -> Result<Vec<Marker>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT competition_id, hotkey, commitment, starts, first_block, last_block
             FROM in_progress ORDER BY competition_id, first_block",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Marker {
                competition: CompetitionId(r.get(0)?),
                key: ModelKey {
                    hotkey: r.get(1)?,
                    commitment: r.get(2)?,
                },
                starts: r.get(3)?,
                first_block: Block(r.get::<_, i64>(4)? as u64),
                last_block: Block(r.get::<_, i64>(5)? as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that `competition` waits in round `sync` on `fault`.
    pub fn record_wait(
        &self,
        competition: CompetitionId,
        sync: Block,
        block: Block,
        fault: &Fault,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO waits (competition_id, sync_block, block, kind, reason)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                competition.0,
                sync.0 as i64,
                block.0 as i64,
                fault.label(),
                fault.to_string()
            ],
        )?;
        Ok(())
    }

    /// Every competition waiting now.
    pub fn waits(&self) -> Result<Vec<Wait>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT competition_id, sync_block, block, kind, reason FROM waits ORDER BY competition_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Wait {
                competition: CompetitionId(r.get(0)?),
                sync_block: Block(r.get::<_, i64>(1)? as u64),
                block: Block(r.get::<_, i64>(2)? as u64),
                kind: r.get(3)?,
                reason: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets that `competition` waits (its round went through).
    pub fn clear_wait(&self, competition: CompetitionId) -> Result<(), StateError> {
        self.conn.execute(
            "DELETE FROM waits WHERE competition_id = ?1",
            [competition.0],
        )?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn marks_count_starts_and_survive_a_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.sqlite");
        let key = ModelKey {
            hotkey: "h".into(),
            commitment: "c".into(),
        };
        let c = CompetitionId(3);
        {
            let s = State::open(&path).unwrap();
            assert_eq!(s.starts(c, &key).unwrap(), 0);
            s.mark_started(c, &key, Block(10)).unwrap();
            // Dropped without finishing: as if killed.
        }
        let s = State::open(&path).unwrap();
        s.mark_started(c, &key, Block(20)).unwrap();
        assert_eq!(s.starts(c, &key).unwrap(), 2);
        let m = s.markers().unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].first_block, m[0].last_block), (Block(10), Block(20)));
        s.clear_mark(c, &key).unwrap();
        assert!(s.markers().unwrap().is_empty());

        s.record_wait(c, Block(5), Block(7), &Fault::Disk("full".into()))
            .unwrap();
        let w = s.waits().unwrap();
        assert_eq!(w[0].kind, "disk");
        assert!(w[0].reason.contains("full"));
        s.clear_wait(c).unwrap();
        assert!(s.waits().unwrap().is_empty());
    }
}

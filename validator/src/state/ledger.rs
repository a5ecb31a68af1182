//! The signed ledger in the state: each evaluation's record is signed and
//! stored in the same transaction as the evaluation itself, chained to the
//! record before it, so a validator killed at any point never holds an
//! evaluation without its record, nor a gap in the chain.

use gauntlet_constants::{Block, CompetitionId};
use gauntlet_ledger::{Digest, LedgerError, SignedRecord};
use rusqlite::{params, OptionalExtension, Transaction};

use super::{Evaluation, ModelKey, State, StateError};
use crate::suite::TaskDetail;

/// Signs the record of an evaluation given the previous record's hash.
pub type SignRecord<'a> = &'a dyn Fn(Digest) -> Result<SignedRecord, LedgerError>;

/// A round's items commitment as the state holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCommitmentRow {
    /// The commitment string.
    pub commitment: String,
    /// The block the chain took it at; `None` while it has not.
    pub committed_block: Option<Block>,
}

fn head(tx: &Transaction<'_>) -> Result<Digest, StateError> {
    let last: Option<String> = tx
        .query_row(
            "SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match last {
        None => Ok(Digest::ZERO),
        Some(h) => h.parse().map_err(|e: gauntlet_ledger::DigestParseError| {
            StateError::Ledger(LedgerError::Encode(format!("stored ledger hash: {e}")))
        }),
    }
}

/// One round's share of the ledger ([`State::ledger_rounds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerRound {
    /// The round's sync block.
    pub sync_block: u64,
    /// Its records.
    pub records: u64,
    /// The `seq` (chain position) of its first record.
    pub first_seq: i64,
    /// The `seq` of its last record.
    pub last_seq: i64,
}

impl State {
    /// Saves an evaluation as [`State::save_evaluation`] does and, in the same
    /// transaction, its ledger record: `sign` gets the hash of the last
    /// stored record (zero for the first). A record already stored for this
    /// model and round is kept.
    pub fn save_evaluation_signed(
        &mut self,
        sync: Block,
        competition: CompetitionId,
        eval: &Evaluation,
        details: &[TaskDetail],
        sign: SignRecord<'_>,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        Self::write_evaluation(&tx, sync, competition, eval, details)?;
        let exists: Option<i64> = tx
            .query_row(
                "SELECT seq FROM ledger WHERE sync_block = ?1 AND competition_id = ?2
                 AND hotkey = ?3 AND commitment = ?4",
                params![
                    sync.0 as i64,
                    competition.0,
                    eval.key.hotkey,
                    eval.key.commitment
                ],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            let record = sign(head(&tx)?)?;
            tx.execute(
                "INSERT INTO ledger (sync_block, competition_id, hotkey, commitment, hash, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    sync.0 as i64,
                    competition.0,
                    eval.key.hotkey,
                    eval.key.commitment,
                    record.hash().hex(),
                    record.to_line(),
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every ledger line, in chain order.
    pub fn ledger_lines(&self) -> Result<Vec<String>, StateError> {
        let mut stmt = self.conn.prepare("SELECT line FROM ledger ORDER BY seq")?;
        let lines = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines)
    }

    /// Each round's share of the ledger, by increasing sync block: its
    /// record count and the first and last `seq` of its records.
    pub fn ledger_rounds(&self) -> Result<Vec<LedgerRound>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT sync_block, COUNT(*), MIN(seq), MAX(seq) FROM ledger
             GROUP BY sync_block ORDER BY sync_block",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(LedgerRound {
                    sync_block: r.get::<_, i64>(0)? as u64,
                    records: r.get::<_, i64>(1)? as u64,
                    first_seq: r.get(2)?,
                    last_seq: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The ledger lines of round `sync`, in chain order.
    pub fn ledger_lines_of_round(&self, sync: Block) -> Result<Vec<String>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT line FROM ledger WHERE sync_block = ?1 ORDER BY seq")?;
        let lines = stmt
            .query_map([sync.0 as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines)
    }

    /// What was last written of round `sync`'s ledger segment: `(records, bytes)`.
    pub fn ledger_export(&self, sync: Block) -> Result<Option<(u64, u64)>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT records, bytes FROM ledger_exports WHERE sync_block = ?1",
                [sync.0 as i64],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .optional()?)
    }

    /// Records that round `sync`'s segment was written with `records` records, `bytes` long.
    pub fn record_ledger_export(
        &self,
        sync: Block,
        records: u64,
        bytes: u64,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO ledger_exports (sync_block, records, bytes) VALUES (?1, ?2, ?3)",
            params![sync.0 as i64, records as i64, bytes as i64],
        )?;
        Ok(())
    }

    /// The signed ledger line of one model's evaluation in one round, if
    /// the validator signed one.
    pub fn ledger_line(
        &self,
        sync: Block,
        competition: CompetitionId,
        key: &ModelKey,
    ) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT line FROM ledger WHERE sync_block = ?1 AND competition_id = ?2
                 AND hotkey = ?3 AND commitment = ?4",
                params![sync.0 as i64, competition.0, key.hotkey, key.commitment],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The round's items commitment, if one was made.
    pub fn item_commitment(&self, sync: Block) -> Result<Option<ItemCommitmentRow>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT commitment, committed_block FROM item_commitments WHERE sync_block = ?1",
                [sync.0 as i64],
                |r| {
                    Ok(ItemCommitmentRow {
                        commitment: r.get(0)?,
                        committed_block: r.get::<_, Option<i64>>(1)?.map(|b| Block(b as u64)),
                    })
                },
            )
            .optional()?)
    }

    /// Records the round's items commitment and, once the chain took it, the
    /// block it took it at.
    pub fn record_item_commitment(
        &self,
        sync: Block,
        commitment: &str,
        committed_block: Option<Block>,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO item_commitments (sync_block, commitment, committed_block)
             VALUES (?1, ?2, ?3)",
            params![
                sync.0 as i64,
                commitment,
                committed_block.map(|b| b.0 as i64)
            ],
        )?;
        Ok(())
    }
}

//! The pools file: pools, deposits, explicit entrants and each period's
//! payout, in one SQLite database (WAL, synchronous writes).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use gauntlet_chain::ChainError;

use crate::plan::{Payment, Rule};
use crate::settle::Treasury;
use crate::{PoolError, Tao};

/// The schema this build writes.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pools (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    competition INTEGER NOT NULL,
    funder TEXT NOT NULL,
    rule TEXT NOT NULL,
    entry TEXT NOT NULL,
    period_blocks INTEGER NOT NULL CHECK (period_blocks > 0),
    start_block INTEGER NOT NULL
);
-- A deposit is written 'pending' before its transfer and 'done' after: a
-- crash in between is finished (the transfer is keyed) on the next open.
CREATE TABLE IF NOT EXISTS deposits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pool INTEGER NOT NULL REFERENCES pools(id),
    funder TEXT NOT NULL,
    rao INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS joins (
    pool INTEGER NOT NULL REFERENCES pools(id),
    hotkey TEXT NOT NULL,
    PRIMARY KEY (pool, hotkey)
);
CREATE TABLE IF NOT EXISTS payouts (
    pool INTEGER NOT NULL REFERENCES pools(id),
    period INTEGER NOT NULL,
    block INTEGER NOT NULL,
    snapshot_block INTEGER NOT NULL,
    status TEXT NOT NULL,
    payments TEXT NOT NULL,
    PRIMARY KEY (pool, period)
);
-- On subtensor: each batch of transfers with the nonce its paying account
-- signs it with, written before it is sent or printed. The chain includes a
-- transaction with a given nonce at most once, so the account's nonce
-- passing it tells that the batch landed.
CREATE TABLE IF NOT EXISTS signed_batches (
    key TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    transfers TEXT NOT NULL
);
";

/// Who may enter a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// Every model ranked on the competition's leaderboard.
    Open,
    /// Only hotkeys that joined the pool (as the proof of concept had it).
    Join,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Open => "open",
            Entry::Join => "join",
        }
    }
}

/// What a new pool is.
#[derive(Debug, Clone)]
pub struct NewPool {
    /// The competition whose leaderboard it pays by.
    pub competition: u16,
    /// The funder's account (SS58), debited for `funds`.
    pub funder: String,
    /// The first deposit.
    pub funds: Tao,
    /// Blocks per period; each period's end pays the pool out.
    pub period_blocks: u64,
    /// How the funds split.
    pub rule: Rule,
    /// Who may enter.
    pub entry: Entry,
    /// The block its first period starts at.
    pub start_block: u64,
}

/// A pool as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pool {
    /// Its id.
    pub id: i64,
    /// Its competition.
    pub competition: u16,
    /// The funder's account.
    pub funder: String,
    /// How the funds split.
    pub rule: Rule,
    /// Who may enter.
    pub entry: Entry,
    /// Blocks per period.
    pub period_blocks: u64,
    /// The block its first period starts at.
    pub start_block: u64,
}

impl Pool {
    /// The block period `p` ends at.
    pub fn period_end(&self, p: u64) -> u64 {
        self.start_block
            .saturating_add(p.saturating_add(1).saturating_mul(self.period_blocks))
    }
}

/// What became of one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// The balance went to the entrants.
    Paid,
    /// Nobody was ranked (or joined): the funds stay for the next period.
    NoEntrants,
    /// The pool held nothing to pay.
    Empty,
}

impl PayoutStatus {
    fn name(self) -> &'static str {
        match self {
            PayoutStatus::Paid => "paid",
            PayoutStatus::NoEntrants => "no_entrants",
            PayoutStatus::Empty => "empty",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "paid" => Some(PayoutStatus::Paid),
            "no_entrants" => Some(PayoutStatus::NoEntrants),
            "empty" => Some(PayoutStatus::Empty),
            _ => None,
        }
    }
}

/// One period's payout as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payout {
    /// The pool.
    pub pool: i64,
    /// The period's index.
    pub period: u64,
    /// The block it was settled at.
    pub block: u64,
    /// The block of the leaderboard snapshot it paid by.
    pub snapshot_block: u64,
    /// What became of it.
    pub status: PayoutStatus,
    /// The transfers made (empty unless paid).
    pub payments: Vec<Payment>,
}

/// A batch of transfers fixed to the nonce its paying account signs it with
/// (subtensor pools).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedBatch {
    /// The batch's key (`pool:<id>:period:<p>`).
    pub key: String,
    /// The paying account (SS58).
    pub account: String,
    /// The nonce the batch is signed with.
    pub nonce: u64,
    /// `(destination, rao)` of each transfer, in order.
    pub transfers: Vec<(String, u64)>,
}

/// The pools file.
pub struct PoolStore {
    pub(crate) conn: Connection,
}

impl PoolStore {
    /// Opens (creating when absent) the pools file at `path`.
    pub fn open(path: &Path) -> Result<Self, PoolError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        let found: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match found.and_then(|v| v.parse::<i64>().ok()) {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(PoolError::Schema {
                    found: v,
                    expected: SCHEMA_VERSION,
                })
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )?;
            }
        }
        Ok(Self { conn })
    }

    /// Creates a pool and makes its first deposit; returns its id.
    pub fn create(&mut self, treasury: &dyn Treasury, new: &NewPool) -> Result<i64, PoolError> {
        if new.period_blocks == 0 {
            return Err(PoolError::Invalid("a period of 0 blocks".into()));
        }
        self.conn.execute(
            "INSERT INTO pools (competition, funder, rule, entry, period_blocks, start_block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                new.competition,
                new.funder,
                new.rule.name(),
                new.entry.name(),
                new.period_blocks as i64,
                new.start_block as i64
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        let forget = |store: &mut Self| store.conn.execute("DELETE FROM pools WHERE id = ?1", [id]);
        // One account per pool: on subtensor the account is the funder's,
        // whose whole balance is the pool's.
        let account = treasury.account_of(&self.pool(id)?);
        let shared = self
            .pools()?
            .into_iter()
            .find(|p| p.id != id && treasury.account_of(p) == account);
        if let Some(other) = shared {
            forget(self)?;
            return Err(PoolError::Invalid(format!(
                "account {account} already holds pool {}: a pool needs an account of its own",
                other.id
            )));
        }
        // A first deposit refused for too little balance (nothing moved)
        // leaves no pool; any other failure keeps it, to be finished later.
        match self.deposit(treasury, id, &new.funder, new.funds) {
            Err(e @ PoolError::Chain(ChainError::InsufficientBalance { .. })) => {
                forget(self)?;
                Err(e)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(id),
        }
    }

    /// Moves `funds` from `funder` into pool `id`.
    pub fn deposit(
        &mut self,
        treasury: &dyn Treasury,
        id: i64,
        funder: &str,
        funds: Tao,
    ) -> Result<(), PoolError> {
        let pool = self.pool(id)?;
        self.conn.execute(
            "INSERT INTO deposits (pool, funder, rao, status) VALUES (?1, ?2, ?3, 'pending')",
            params![pool.id, funder, funds.rao() as i64],
        )?;
        let deposit = self.conn.last_insert_rowid();
        match self.finish_deposit(treasury, &pool, deposit, funder, funds.rao()) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Refused (too little balance): nothing moved; forget it.
                self.conn.execute(
                    "DELETE FROM deposits WHERE id = ?1 AND status = 'pending'",
                    [deposit],
                )?;
                Err(e)
            }
        }
    }

    fn finish_deposit(
        &self,
        treasury: &dyn Treasury,
        pool: &Pool,
        deposit: i64,
        funder: &str,
        rao: u64,
    ) -> Result<(), PoolError> {
        let key = format!("pool:{}:deposit:{deposit}", pool.id);
        treasury.pay(
            &key,
            funder,
            &[gauntlet_chain::Transfer {
                dest: treasury.account_of(pool),
                rao,
            }],
        )?;
        self.conn.execute(
            "UPDATE deposits SET status = 'done' WHERE id = ?1",
            [deposit],
        )?;
        Ok(())
    }

    /// Finishes deposits a crash left between their record and their
    /// transfer (the transfer is keyed: made at most once).
    pub fn reconcile(&self, treasury: &dyn Treasury) -> Result<(), PoolError> {
        let pending: Vec<(i64, i64, String, i64)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id, pool, funder, rao FROM deposits WHERE status = 'pending'")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?;
            rows
        };
        for (deposit, pool, funder, rao) in pending {
            let pool = self.pool(pool)?;
            if let Err(e) = self.finish_deposit(treasury, &pool, deposit, &funder, rao as u64) {
                tracing::warn!(deposit, error = %e, "an interrupted deposit cannot be finished; dropped");
                self.conn.execute(
                    "DELETE FROM deposits WHERE id = ?1 AND status = 'pending'",
                    [deposit],
                )?;
            }
        }
        Ok(())
    }

    /// The batch recorded under `key`, if any.
    pub fn signed_batch(&self, key: &str) -> Result<Option<SignedBatch>, PoolError> {
        let row: Option<(String, i64, String)> = self
            .conn
            .query_row(
                "SELECT account, nonce, transfers FROM signed_batches WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(account, nonce, transfers)| {
            Ok(SignedBatch {
                key: key.to_owned(),
                account,
                nonce: nonce.max(0) as u64,
                transfers: serde_json::from_str(&transfers)
                    .map_err(|e| PoolError::Invalid(format!("batch {key}: {e}")))?,
            })
        })
        .transpose()
    }

    /// Records `batch` unless a batch with its key exists; returns the one
    /// recorded (the earlier one wins: its nonce may already be signed).
    pub fn put_signed_batch(&self, batch: &SignedBatch) -> Result<SignedBatch, PoolError> {
        let transfers = serde_json::to_string(&batch.transfers)
            .map_err(|e| PoolError::Invalid(format!("batch {}: {e}", batch.key)))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO signed_batches (key, account, nonce, transfers)
             VALUES (?1, ?2, ?3, ?4)",
            params![batch.key, batch.account, batch.nonce as i64, transfers],
        )?;
        self.signed_batch(&batch.key)?
            .ok_or_else(|| PoolError::Invalid(format!("batch {} vanished", batch.key)))
    }

    /// Forgets the batch under `key` (it was refused: nothing moved).
    pub fn drop_signed_batch(&self, key: &str) -> Result<(), PoolError> {
        self.conn
            .execute("DELETE FROM signed_batches WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Enters `hotkey` in pool `id` (needed only by pools with [`Entry::Join`]).
    pub fn join(&self, id: i64, hotkey: &str) -> Result<(), PoolError> {
        self.pool(id)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO joins (pool, hotkey) VALUES (?1, ?2)",
            params![id, hotkey],
        )?;
        Ok(())
    }

    /// The hotkeys that joined pool `id`.
    pub fn joined(&self, id: i64) -> Result<Vec<String>, PoolError> {
        let mut stmt = self
            .conn
            .prepare("SELECT hotkey FROM joins WHERE pool = ?1 ORDER BY hotkey")?;
        let rows = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Pool `id`.
    pub fn pool(&self, id: i64) -> Result<Pool, PoolError> {
        self.pools()?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(PoolError::UnknownPool(id))
    }

    /// Every pool, by id.
    pub fn pools(&self) -> Result<Vec<Pool>, PoolError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, competition, funder, rule, entry, period_blocks, start_block
             FROM pools ORDER BY id",
        )?;
        let rows: Vec<(i64, u16, String, String, String, i64, i64)> = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, competition, funder, rule, entry, period, start)| {
                Ok(Pool {
                    id,
                    competition,
                    funder,
                    rule: Rule::parse(&rule)
                        .ok_or_else(|| PoolError::Invalid(format!("unknown rule {rule:?}")))?,
                    entry: if entry == "join" {
                        Entry::Join
                    } else {
                        Entry::Open
                    },
                    period_blocks: period as u64,
                    start_block: start as u64,
                })
            })
            .collect()
    }

    /// The payouts of pool `id`, by period.
    pub fn payouts(&self, id: i64) -> Result<Vec<Payout>, PoolError> {
        let mut stmt = self.conn.prepare(
            "SELECT period, block, snapshot_block, status, payments FROM payouts
             WHERE pool = ?1 ORDER BY period",
        )?;
        let rows: Vec<(i64, i64, i64, String, String)> = stmt
            .query_map([id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(period, block, snapshot, status, payments)| {
                Ok(Payout {
                    pool: id,
                    period: period as u64,
                    block: block as u64,
                    snapshot_block: snapshot as u64,
                    status: PayoutStatus::parse(&status)
                        .ok_or_else(|| PoolError::Invalid(format!("unknown status {status:?}")))?,
                    payments: serde_json::from_str(&payments)?,
                })
            })
            .collect()
    }

    /// Total deposited into pool `id`, in rao.
    pub fn deposited(&self, id: i64) -> Result<u64, PoolError> {
        let rao: i64 = self.conn.query_row(
            "SELECT COALESCE(SUM(rao), 0) FROM deposits WHERE pool = ?1 AND status = 'done'",
            [id],
            |r| r.get(0),
        )?;
        Ok(rao as u64)
    }

    /// Records a period's payout (once: a period already recorded is kept).
    pub(crate) fn record(&self, payout: &Payout) -> Result<(), PoolError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO payouts (pool, period, block, snapshot_block, status, payments)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                payout.pool,
                payout.period as i64,
                payout.block as i64,
                payout.snapshot_block as i64,
                payout.status.name(),
                serde_json::to_string(&payout.payments)?
            ],
        )?;
        Ok(())
    }

    /// The first period of pool `id` with no payout recorded.
    pub(crate) fn next_period(&self, id: i64) -> Result<u64, PoolError> {
        let p: Option<i64> = self.conn.query_row(
            "SELECT MAX(period) FROM payouts WHERE pool = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok(p.map_or(0, |p| p as u64 + 1))
    }
}

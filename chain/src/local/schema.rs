//! The chain file's schema, versioned in the `meta` table and created on first open.

use rusqlite::{OptionalExtension, Transaction};

use crate::ChainError;

/// The schema this code reads and writes.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Tables of schema version 1. Integers are SQLite's signed 64-bit ones: stake,
/// emission and blocks stay far below `i64::MAX`; balances are checked against
/// it. The balance tables were added to version 1 later: every table is created
/// when missing, so an older file gains them on its next open.
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subnets (
    netuid                INTEGER PRIMARY KEY,
    tempo                 INTEGER NOT NULL,
    weights_rate_limit    INTEGER NOT NULL,
    weights_version_key   INTEGER NOT NULL,
    max_uids              INTEGER NOT NULL,
    max_validators        INTEGER NOT NULL,
    immunity_period       INTEGER NOT NULL,
    commitment_rate_limit INTEGER NOT NULL,
    emission_per_block    INTEGER NOT NULL,
    created_block         INTEGER NOT NULL,
    last_epoch            INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS neurons (
    netuid           INTEGER NOT NULL REFERENCES subnets(netuid),
    uid              INTEGER NOT NULL,
    hotkey           TEXT NOT NULL,
    registered_block INTEGER NOT NULL,
    validator_permit INTEGER NOT NULL DEFAULT 0,
    last_update      INTEGER NOT NULL,
    weights_block    INTEGER,
    consensus        REAL NOT NULL DEFAULT 0,
    incentive        REAL NOT NULL DEFAULT 0,
    dividends        REAL NOT NULL DEFAULT 0,
    emission         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (netuid, uid),
    UNIQUE (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS stakes (
    netuid INTEGER NOT NULL REFERENCES subnets(netuid),
    hotkey TEXT NOT NULL,
    rao    INTEGER NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS weights (
    netuid INTEGER NOT NULL,
    uid    INTEGER NOT NULL,
    dest   INTEGER NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (netuid, uid, dest)
);
CREATE TABLE IF NOT EXISTS weights_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    netuid      INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    hotkey      TEXT NOT NULL,
    block       INTEGER NOT NULL,
    version_key TEXT NOT NULL,
    weights     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS weights_history_by_hotkey ON weights_history (netuid, hotkey, block);
CREATE TABLE IF NOT EXISTS bonds (
    netuid INTEGER NOT NULL,
    uid    INTEGER NOT NULL,
    dest   INTEGER NOT NULL,
    bond   REAL NOT NULL,
    PRIMARY KEY (netuid, uid, dest)
);
CREATE TABLE IF NOT EXISTS commitments (
    netuid INTEGER NOT NULL REFERENCES subnets(netuid),
    hotkey TEXT NOT NULL,
    block  INTEGER NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (netuid, hotkey)
);
CREATE TABLE IF NOT EXISTS epochs (
    netuid INTEGER NOT NULL,
    block  INTEGER NOT NULL,
    PRIMARY KEY (netuid, block)
);
CREATE TABLE IF NOT EXISTS balances (
    account TEXT PRIMARY KEY,
    rao     INTEGER NOT NULL CHECK (rao >= 0)
);
CREATE TABLE IF NOT EXISTS transfer_batches (
    batch TEXT PRIMARY KEY,
    block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    batch  TEXT NOT NULL REFERENCES transfer_batches(batch),
    source TEXT NOT NULL,
    dest   TEXT NOT NULL,
    rao    INTEGER NOT NULL,
    block  INTEGER NOT NULL
);
";

/// Creates the tables if missing; returns whether the chain is new (no schema
/// version recorded yet). Refuses a file written by a newer schema.
pub(crate) fn ensure(tx: &Transaction<'_>) -> Result<bool, ChainError> {
    tx.execute_batch(TABLES)?;
    let found = get_meta(tx, "schema_version")?;
    match found {
        None => {
            set_meta(tx, "schema_version", &SCHEMA_VERSION.to_string())?;
            Ok(true)
        }
        Some(v) => {
            let version: u32 = v.parse().map_err(|_| ChainError::Corrupt {
                reason: format!("schema_version {v:?} is not a number"),
            })?;
            if version > SCHEMA_VERSION {
                return Err(ChainError::Corrupt {
                    reason: format!(
                        "schema version {version} is newer than this build's {SCHEMA_VERSION}"
                    ),
                });
            }
            // Migrations from older versions go here when version 2 exists.
            Ok(false)
        }
    }
}

/// A value of the `meta` table.
pub(crate) fn get_meta(tx: &Transaction<'_>, key: &str) -> Result<Option<String>, ChainError> {
    Ok(tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// A value of the `meta` table that must be there.
pub(crate) fn require_meta(tx: &Transaction<'_>, key: &str) -> Result<String, ChainError> {
    get_meta(tx, key)?.ok_or_else(|| ChainError::Corrupt {
        reason: format!("meta key {key:?} is missing"),
    })
}

/// Sets a value of the `meta` table.
pub(crate) fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<(), ChainError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

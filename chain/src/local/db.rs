//! The SQLite connection of one `LocalChain` handle: WAL mode, a busy timeout, and
//! every operation inside one transaction (writes take the write lock up front).
//!
//! Several handles — in one process or many — share a chain file safely: SQLite's
//! WAL lets readers run beside the one writer, and `BEGIN IMMEDIATE` makes writers
//! queue on the busy timeout instead of failing on a lock upgrade. A busy error that
//! still escapes (a checkpoint racing a writer) is retried a few times.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::is_busy;
use crate::ChainError;

/// How long one statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How often an operation that still met a busy database is tried.
const ATTEMPTS: u32 = 5;

/// One connection to a chain file, shared by the clones of a handle.
pub(crate) struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the file at `path`, in WAL mode.
    pub(crate) fn open(path: &Path) -> Result<Db, ChainError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ChainError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        retry_busy(|| {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(%mode, "local chain: SQLite refused WAL mode");
            }
            Ok(())
        })?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Db {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The chain file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`) and commits it; any
    /// error rolls everything back.
    pub(crate) fn write<T>(
        &self,
        mut f: impl FnMut(&Transaction<'_>) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        self.transaction(TransactionBehavior::Immediate, &mut f)
    }

    /// Runs `f` in a read transaction: one consistent snapshot of the chain.
    pub(crate) fn read<T>(
        &self,
        mut f: impl FnMut(&Transaction<'_>) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        self.transaction(TransactionBehavior::Deferred, &mut f)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        f: &mut dyn FnMut(&Transaction<'_>) -> Result<T, ChainError>,
    ) -> Result<T, ChainError> {
        let mut conn = self.lock();
        retry_busy(|| {
            let tx = conn.transaction_with_behavior(behavior)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside an operation dropped its transaction, which rolled back:
        // the connection itself is still sound.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs `op` again (after a short pause) while it fails on a busy database.
fn retry_busy<T>(mut op: impl FnMut() -> Result<T, ChainError>) -> Result<T, ChainError> {
    let mut attempt = 1;
    loop {
        match op() {
            Err(ChainError::Database(e)) if is_busy(&e) && attempt < ATTEMPTS => {
                tracing::debug!(attempt, "local chain database busy; retrying");
                std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                attempt += 1;
            }
            other => return other,
        }
    }
}

//! The response cache: one SQLite table from a request's hash to the answer
//! the server gave, stored only once the answer has been checked. A re-run
//! of the same requests is answered from it, costs nothing and gives the
//! same result. The key hashes the URL and the body (never the API key).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::RemoteError;

/// A SQLite file of answers by request hash.
pub struct Cache {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Cache {
    /// Opens (or creates) the cache at `path`.
    pub fn open(path: &Path) -> Result<Cache, RemoteError> {
        let err = |source| RemoteError::Cache {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            // A missing directory shows up as SQLite's open error below.
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS responses (
                 key TEXT PRIMARY KEY,
                 url TEXT NOT NULL,
                 body TEXT NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Cache {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The key of a request: sha256 of its URL and canonical JSON body.
    pub fn key(url: &str, body: Option<&Value>) -> String {
        let mut h = Sha256::new();
        h.update(url.as_bytes());
        h.update(b"\n");
        if let Some(b) = body {
            h.update(b.to_string().as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The stored answer of `key`, if any (an unreadable entry counts as none).
    pub fn get(&self, key: &str) -> Result<Option<Value>, RemoteError> {
        let conn = self.lock();
        let text: Option<String> = conn
            .query_row(
                "SELECT body FROM responses WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|source| self.err(source))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Stores an answer.
    pub fn put(&self, key: &str, url: &str, body: &Value) -> Result<(), RemoteError> {
        self.lock()
            .execute(
                "INSERT OR REPLACE INTO responses (key, url, body) VALUES (?1, ?2, ?3)",
                params![key, url, body.to_string()],
            )
            .map_err(|source| self.err(source))?;
        Ok(())
    }

    /// Entries stored.
    pub fn len(&self) -> Result<usize, RemoteError> {
        self.lock()
            .query_row("SELECT COUNT(*) FROM responses", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as usize)
            .map_err(|source| self.err(source))
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> Result<bool, RemoteError> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves a usable connection.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> RemoteError {
        RemoteError::Cache {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn stores_and_reads_back_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.sqlite")).unwrap();
        let body = serde_json::json!({"a": 1});
        let k = Cache::key("http://x/v1/completions", Some(&body));
        assert_ne!(k, Cache::key("http://y/v1/completions", Some(&body)));
        assert_eq!(cache.get(&k).unwrap(), None);
        cache
            .put(&k, "http://x", &serde_json::json!({"ok": true}))
            .unwrap();
        assert_eq!(
            cache.get(&k).unwrap(),
            Some(serde_json::json!({"ok": true}))
        );
        assert_eq!(cache.len().unwrap(), 1);
    }
}

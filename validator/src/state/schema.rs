//! The validator's SQLite schema, versioned in `meta`.

/// Bumped when the schema changes incompatibly.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// Tables of a fresh state file.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Every model seen: one row per (hotkey, commitment); the latest verdict.
CREATE TABLE IF NOT EXISTS models (
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    uid INTEGER NOT NULL,
    competition_id INTEGER,
    commit_block INTEGER NOT NULL,
    repo_hash TEXT,
    verdict TEXT NOT NULL,
    reason TEXT,
    copy_of INTEGER,
    updated_block INTEGER NOT NULL,
    PRIMARY KEY (hotkey, commitment)
);
-- One row per finished evaluation of a model in a round; never redone.
CREATE TABLE IF NOT EXISTS evaluations (
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    uid INTEGER NOT NULL,
    commit_block INTEGER NOT NULL,
    score REAL,               -- NULL = +inf (failed or disqualified)
    verdict TEXT NOT NULL,
    tasks TEXT NOT NULL,      -- JSON array of task outcomes
    PRIMARY KEY (sync_block, competition_id, hotkey, commitment)
);
-- Per-sample scores of every evaluation.
CREATE TABLE IF NOT EXISTS sample_scores (
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    task TEXT NOT NULL,
    idx INTEGER NOT NULL,
    score REAL,
    PRIMARY KEY (sync_block, competition_id, hotkey, commitment, task, idx)
);
-- Finished rounds: the round's win rates and weights, and the models kept.
CREATE TABLE IF NOT EXISTS rounds (
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    finished_block INTEGER NOT NULL,
    summary TEXT NOT NULL,    -- JSON
    PRIMARY KEY (sync_block, competition_id)
);
-- Per competition EMA of round weights, by hotkey.
CREATE TABLE IF NOT EXISTS ema (
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    uid INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (competition_id, hotkey)
);
-- Every weight vector computed, and whether the chain took it.
CREATE TABLE IF NOT EXISTS weights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    block INTEGER NOT NULL,
    weights TEXT NOT NULL,    -- JSON [[uid, weight, u16], ...]
    outcome TEXT NOT NULL     -- 'set' or the refusal
);
";

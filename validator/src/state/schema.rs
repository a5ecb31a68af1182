//! The validator's SQLite schema, versioned in `meta`: the tables of version 1,
//! then the migrations that bring a file to the current version. A migration
//! only adds; it never drops or rewrites a row.

/// The version this build writes (`meta.schema`).
pub(crate) const SCHEMA_VERSION: i64 = 8;

/// `(version, SQL)`: what brings a file from the version before to this one.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (2, WEIGHT_COMMITS),
    (3, LEADERBOARDS),
    (4, NEURON_HISTORY),
    (5, PROGRESS),
    (6, LEDGER),
    (7, PRIVATE_ITEMS),
    (8, ROUND_BENCHMARKS),
];

/// Version 8: each round's sequential-test benchmark, fixed when first
/// chosen, so that a round resumed after the chain's incentives moved tests
/// its remaining models against the same model as the ones already saved;
/// and what was last written of each round's ledger segment, so that an
/// export writes only the segments that changed.
const ROUND_BENCHMARKS: &str = "
CREATE TABLE IF NOT EXISTS ledger_exports (
    sync_block INTEGER PRIMARY KEY,
    records INTEGER NOT NULL,    -- records the segment held when written
    bytes INTEGER NOT NULL       -- its size in bytes
);
CREATE TABLE IF NOT EXISTS round_benchmarks (
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    PRIMARY KEY (sync_block, competition_id)
);
";

/// Version 7: the private items each round used (`validator run
/// --private-data`), so a restart uses the same ones and a later round never
/// uses one again (it was revealed with the round's items).
const PRIVATE_ITEMS: &str = "
CREATE TABLE IF NOT EXISTS private_items (
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    task TEXT NOT NULL,
    position INTEGER NOT NULL,   -- the item's place among the task's private items
    item_hash TEXT NOT NULL,     -- gauntlet-ledger's item hash (task and item)
    item TEXT NOT NULL,          -- the item as the suite serialises it (JSON)
    PRIMARY KEY (sync_block, competition_id, task, position)
);
CREATE INDEX IF NOT EXISTS private_items_hash ON private_items (item_hash);
";

/// Version 6: the signed ledger (one record per evaluation, in hash-chain
/// order) and each round's items commitment, with the block the chain took it
/// at (`NULL` while it has not).
const LEDGER: &str = "
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_block INTEGER NOT NULL,
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    hash TEXT NOT NULL,       -- sha256 of the record's signed bytes
    line TEXT NOT NULL,       -- the ledger line (gauntlet-ledger's format)
    UNIQUE (sync_block, competition_id, hotkey, commitment)
);
CREATE TABLE IF NOT EXISTS item_commitments (
    sync_block INTEGER PRIMARY KEY,
    commitment TEXT NOT NULL,
    committed_block INTEGER
);
";

/// Version 5: models whose evaluation started and has not finished (a
/// leftover row after a restart means the validator died meanwhile), and
/// competitions waiting on a fault of the validator's own.
const PROGRESS: &str = "
CREATE TABLE IF NOT EXISTS in_progress (
    competition_id INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    commitment TEXT NOT NULL,
    starts INTEGER NOT NULL,         -- evaluations started, none finished
    first_block INTEGER NOT NULL,    -- the block of the first start
    last_block INTEGER NOT NULL,     -- the block of the latest start
    PRIMARY KEY (competition_id, hotkey, commitment)
);
CREATE TABLE IF NOT EXISTS waits (
    competition_id INTEGER PRIMARY KEY,
    sync_block INTEGER NOT NULL,
    block INTEGER NOT NULL,          -- when the fault was last seen
    kind TEXT NOT NULL,              -- the fault's label: device, disk, dataset, ...
    reason TEXT NOT NULL
);
";

/// Version 4: the neurons seen on chain at each round (incentive and stake
/// over time, for observers).
const NEURON_HISTORY: &str = "
CREATE TABLE IF NOT EXISTS neuron_history (
    netuid INTEGER NOT NULL,
    block INTEGER NOT NULL,          -- the block the metagraph was read at
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    stake INTEGER NOT NULL,          -- rao
    incentive REAL NOT NULL,         -- fraction of the subnet's
    emission INTEGER NOT NULL,       -- rao
    PRIMARY KEY (netuid, block, uid)
);
";

/// Version 3: periodic leaderboard snapshots (what funding pools pay by).
const LEADERBOARDS: &str = "
CREATE TABLE IF NOT EXISTS leaderboards (
    competition_id INTEGER NOT NULL,
    period INTEGER NOT NULL,         -- block / period length
    period_blocks INTEGER NOT NULL,  -- the period length it was taken with
    block INTEGER NOT NULL,          -- the block it was taken at
    sync_block INTEGER NOT NULL,     -- the round it shows
    rows TEXT NOT NULL,              -- JSON [LeaderboardRow, ...], ranked
    PRIMARY KEY (competition_id, period_blocks, period)
);
";

/// Version 2: weights committed timelock-encrypted (commit–reveal v4), and
/// whether the chain has revealed them.
const WEIGHT_COMMITS: &str = "
CREATE TABLE IF NOT EXISTS weight_commits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    block INTEGER NOT NULL,          -- best block when the commit was sent
    uids TEXT NOT NULL,              -- JSON [uid, ...]
    weights TEXT NOT NULL,           -- JSON [u16, ...], in the order of uids
    version_key TEXT NOT NULL,       -- u64, decimal
    reveal_round INTEGER NOT NULL,   -- drand quicknet round
    commit_reveal_version INTEGER NOT NULL,
    blob_hash TEXT NOT NULL,         -- hex BLAKE2b-256 of the encrypted commit
    status TEXT NOT NULL,            -- 'pending', 'revealed' or 'dropped'
    checked_block INTEGER            -- the block the status was last read at
);
";

/// Tables of version 1 (every file starts with them).
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

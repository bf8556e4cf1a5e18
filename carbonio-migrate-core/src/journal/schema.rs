//! The journal's SQLite schema and pragmas.

/// Version stored in `PRAGMA user_version`; a journal of a newer version is
/// refused, an older one upgraded.
pub const SCHEMA_VERSION: i64 = 2;

/// Version 2 added flag fingerprints (flag sync) and the folders' HIGHESTMODSEQ.
pub const FROM_VERSION_1: &str = "
ALTER TABLE message_map ADD COLUMN flags INTEGER;
ALTER TABLE folders ADD COLUMN modseq INTEGER;
";

/// Pragmas for a crash-safe journal: WAL survives `kill -9` and power loss with
/// every committed transaction intact; `synchronous = NORMAL` is durable in WAL
/// mode except for the last transactions on power loss, which the engine redoes.
pub const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
";

/// Tables. `message_map` is keyed by a small folder id so that millions of rows
/// stay compact and a lookup is one B-tree descent (`WITHOUT ROWID`).
pub const TABLES: &str = "
CREATE TABLE IF NOT EXISTS identity (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,
    command     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    phase       TEXT NOT NULL,
    key         TEXT NOT NULL,
    state       TEXT NOT NULL,
    change      TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_id      INTEGER NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    PRIMARY KEY (phase, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folders (
    id           INTEGER PRIMARY KEY,
    account      TEXT NOT NULL,
    folder       TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    modseq       INTEGER,
    UNIQUE (account, folder, uid_validity)
);
CREATE TABLE IF NOT EXISTS message_map (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    src_uid   INTEGER NOT NULL,
    dst_uid   INTEGER,
    size      INTEGER NOT NULL,
    signature TEXT,
    flags     INTEGER,
    PRIMARY KEY (folder_id, src_uid)
) WITHOUT ROWID;
";

//! The SQLite-backed [`Journal`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};

use super::identity::RunIdentity;
use super::items::{ItemRecord, ItemState};
use super::message_map::{FolderKey, MappedMessage};
use super::schema;
use crate::error::{Error, Result};
use crate::model::{MessageSignature, Uid};

/// The journal's file name in a state directory.
pub const JOURNAL_FILE: &str = "journal.sqlite";

/// The file a run holds locked, so two runs never share a state directory.
pub const RUN_LOCK_FILE: &str = "run.lock";

/// Held while a run writes to a state directory; the lock is released when it
/// is dropped, or by the kernel when the process dies (even by `kill -9`), so a
/// crashed run never leaves a stale lock behind.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Identifies one run in the journal.
pub type RunId = i64;

/// A run as `status` shows it: id, start, end and outcome (RFC 3339 times).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunRecord {
    /// The run's id.
    pub id: RunId,
    /// When it started.
    pub started_at: String,
    /// When it finished; `None` while running or when it died.
    pub finished_at: Option<String>,
    /// `done`, `finished with failed items`, `interrupted`; `None` when it died.
    pub outcome: Option<String>,
    /// The command line it ran.
    pub command: String,
}

/// The journal of one state directory. Cheap to share behind an `Arc`; calls are
/// serialised on one connection (each is short: the engine batches message rows).
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn db(context: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
    move |e| Error::journal(context, e)
}

impl Journal {
    /// Opens (creating if needed) `journal.sqlite` in `state_dir`.
    ///
    /// # Errors
    /// [`Error::Journal`] when the file cannot be opened or has another schema version.
    pub fn open(state_dir: &Path) -> Result<Journal> {
        std::fs::create_dir_all(state_dir).map_err(|e| {
            Error::io(
                format!("creating state directory {}", state_dir.display()),
                e,
            )
        })?;
        let path = state_dir.join(JOURNAL_FILE);
        let conn = Connection::open(&path).map_err(db("opening the journal"))?;
        conn.execute_batch(schema::PRAGMAS)
            .map_err(db("configuring the journal"))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db("reading the journal version"))?;
        if version > schema::SCHEMA_VERSION {
            return Err(Error::Journal {
                context: format!(
                    "{} has schema version {version}, this build understands {}",
                    path.display(),
                    schema::SCHEMA_VERSION
                ),
                source: None,
            });
        }
        conn.execute_batch(schema::TABLES)
            .map_err(db("creating the journal tables"))?;
        if version == 1 {
            conn.execute_batch(schema::FROM_VERSION_1)
                .map_err(db("upgrading the journal from version 1"))?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {}", schema::SCHEMA_VERSION))
            .map_err(db("writing the journal version"))?;
        Ok(Journal {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Whether `state_dir` holds a journal (commands that only read it must not
    /// create one).
    pub fn exists(state_dir: &Path) -> bool {
        state_dir.join(JOURNAL_FILE).is_file()
    }

    /// Takes the state directory's run lock.
    ///
    /// # Errors
    /// [`Error::Config`] when another run holds it (`status` and `report` may read
    /// meanwhile; they do not take the lock).
    pub fn lock_for_run(&self) -> Result<RunLock> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let path = dir.join(RUN_LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::config(format!(
                "another carbonio-migrate run is using the state directory {}; wait for it to finish \
                 (or give each shard its own state directory)",
                dir.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(format!("locking {}", path.display()), e)),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions
        // roll back on drop), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `identity` on first use; afterwards refuses any change.
    ///
    /// # Errors
    /// [`Error::Config`] listing every fact that differs, old and new value, and
    /// what to do about it.
    pub fn check_identity(&self, identity: &RunIdentity) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(db("checking the run identity"))?;
        let mut stored: Vec<(String, String)> = Vec::new();
        {
            let mut stmt = tx
                .prepare("SELECT key, value FROM identity ORDER BY key")
                .map_err(db("reading the run identity"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db("reading the run identity"))?;
            for row in rows {
                stored.push(row.map_err(db("reading the run identity"))?);
            }
        }
        if stored.is_empty() {
            for (k, v) in identity.facts() {
                tx.execute(
                    "INSERT INTO identity (key, value) VALUES (?1, ?2)",
                    params![k, v],
                )
                .map_err(db("writing the run identity"))?;
            }
            return tx.commit().map_err(db("writing the run identity"));
        }
        let mut changes = Vec::new();
        for (k, v) in identity.facts() {
            match stored.iter().find(|(sk, _)| sk == k) {
                Some((_, old)) if old == v => {}
                Some((_, old)) => changes.push(format!("{k} was {old:?}, now {v:?}")),
                None => changes.push(format!("{k} was not set, now {v:?}")),
            }
        }
        for (k, old) in &stored {
            if !identity.facts().any(|(nk, _)| nk == k) {
                changes.push(format!("{k} was {old:?}, now not set"));
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        Err(Error::config(format!(
            "the journal {} was written for another migration: {}. Resuming would skip or duplicate data; \
             restore the previous setting, or use a new state_dir to start over",
            self.path.display(),
            changes.join("; ")
        )))
    }

    /// Starts a run and returns its id.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn begin_run(&self, command: &str) -> Result<RunId> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO runs (started_at, command) VALUES (?1, ?2)",
            params![now(), command],
        )
        .map_err(db("recording the run"))?;
        Ok(conn.last_insert_rowid())
    }

    /// Ends a run with its outcome (`done`, `failed items`, `interrupted`, ...).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn finish_run(&self, run: RunId, outcome: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE runs SET finished_at = ?1, outcome = ?2 WHERE id = ?3",
                params![now(), outcome, run],
            )
            .map_err(db("finishing the run"))?;
        Ok(())
    }

    /// The last run.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn last_run(&self) -> Result<Option<RunRecord>> {
        self.conn()
            .query_row(
                "SELECT id, started_at, finished_at, outcome, command FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(RunRecord {
                        id: r.get(0)?,
                        started_at: r.get(1)?,
                        finished_at: r.get(2)?,
                        outcome: r.get(3)?,
                        command: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(db("reading the last run"))
    }

    /// The keys of the items of `phase` in `state`.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn keys_in_state(&self, phase: &str, state: ItemState) -> Result<HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT key FROM items WHERE phase = ?1 AND state = ?2")
            .map_err(db("reading items"))?;
        let rows = stmt
            .query_map(params![phase, state.as_str()], |r| r.get::<_, String>(0))
            .map_err(db("reading items"))?;
        rows.collect::<rusqlite::Result<HashSet<_>>>()
            .map_err(db("reading items"))
    }

    /// Marks an item started by `run` (counting the attempt).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn start_item(&self, run: RunId, phase: &str, key: &str) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO items (phase, key, state, attempts, run_id, started_at) VALUES (?1, ?2, 'running', 1, ?3, ?4)
                 ON CONFLICT (phase, key) DO UPDATE SET state = 'running', attempts = attempts + 1,
                   run_id = excluded.run_id, started_at = excluded.started_at, finished_at = NULL",
                params![phase, key, run, now()],
            )
            .map_err(db("recording an item start"))?;
        Ok(())
    }

    /// Marks an item done, with what it changed.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn finish_item(&self, run: RunId, phase: &str, key: &str, change: &str) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO items (phase, key, state, change, attempts, run_id, finished_at) VALUES (?1, ?2, 'done', ?3, 1, ?4, ?5)
                 ON CONFLICT (phase, key) DO UPDATE SET state = 'done', change = excluded.change, error = NULL,
                   run_id = excluded.run_id, finished_at = excluded.finished_at",
                params![phase, key, change, run, now()],
            )
            .map_err(db("recording an item as done"))?;
        Ok(())
    }

    /// Marks an item failed with its error text (already free of secrets).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn fail_item(&self, run: RunId, phase: &str, key: &str, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO items (phase, key, state, error, attempts, run_id, finished_at) VALUES (?1, ?2, 'failed', ?3, 1, ?4, ?5)
                 ON CONFLICT (phase, key) DO UPDATE SET state = 'failed', error = excluded.error,
                   run_id = excluded.run_id, finished_at = excluded.finished_at",
                params![phase, key, error, run, now()],
            )
            .map_err(db("recording an item as failed"))?;
        Ok(())
    }

    /// Removes the failed items of `phase` whose key starts with `prefix` (input
    /// errors are re-detected on every run; a fixed row must not stay reported).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn clear_failed(&self, phase: &str, prefix: &str) -> Result<u64> {
        let n = self
            .conn()
            .execute(
                "DELETE FROM items WHERE phase = ?1 AND state = 'failed' AND substr(key, 1, length(?2)) = ?2",
                params![phase, prefix],
            )
            .map_err(db("clearing old input errors"))?;
        Ok(n as u64)
    }

    /// Calls `each` for every item, ordered by phase and key, without loading them all.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure, or the first error `each` returns.
    pub fn for_each_item(&self, mut each: impl FnMut(ItemRecord) -> Result<()>) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT phase, key, state, change, error, attempts, run_id, started_at, finished_at
                 FROM items ORDER BY phase, key",
            )
            .map_err(db("reading items"))?;
        let mut rows = stmt.query([]).map_err(db("reading items"))?;
        while let Some(r) = rows.next().map_err(db("reading items"))? {
            let state: String = r.get(2).map_err(db("reading items"))?;
            let record = ItemRecord {
                phase: r.get(0).map_err(db("reading items"))?,
                key: r.get(1).map_err(db("reading items"))?,
                state: ItemState::parse(&state),
                change: r.get(3).map_err(db("reading items"))?,
                error: r.get(4).map_err(db("reading items"))?,
                attempts: r.get(5).map_err(db("reading items"))?,
                run_id: r.get(6).map_err(db("reading items"))?,
                started_at: r.get(7).map_err(db("reading items"))?,
                finished_at: r.get(8).map_err(db("reading items"))?,
            };
            each(record)?;
        }
        Ok(())
    }

    /// Item counts per phase and state, for `status`.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn counts(&self) -> Result<Vec<(String, ItemState, u64)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT phase, state, count(*) FROM items GROUP BY phase, state ORDER BY phase, state")
            .map_err(db("counting items"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    ItemState::parse(&r.get::<_, String>(1)?),
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(db("counting items"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db("counting items"))
    }

    fn folder_id(
        conn: &Connection,
        key: &FolderKey,
        create: bool,
    ) -> rusqlite::Result<Option<i64>> {
        if create {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO folders (account, folder, uid_validity) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![key.account, key.folder, key.uid_validity])?;
        }
        conn.prepare_cached(
            "SELECT id FROM folders WHERE account = ?1 AND folder = ?2 AND uid_validity = ?3",
        )?
        .query_row(params![key.account, key.folder, key.uid_validity], |r| {
            r.get(0)
        })
        .optional()
    }

    /// Records copied messages of one folder in one transaction.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure (then none of the rows is recorded).
    pub fn record_messages(&self, folder: &FolderKey, rows: &[MappedMessage]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn
            .transaction()
            .map_err(db("recording copied messages"))?;
        {
            let id = Self::folder_id(&tx, folder, true)
                .map_err(db("recording copied messages"))?
                .ok_or_else(|| Error::Journal {
                    context: "folder row vanished".into(),
                    source: None,
                })?;
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO message_map (folder_id, src_uid, dst_uid, size, signature, flags) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db("recording copied messages"))?;
            for row in rows {
                stmt.execute(params![
                    id,
                    row.src_uid.get(),
                    row.dst_uid.map(Uid::get),
                    row.size as i64,
                    row.signature.as_ref().map(MessageSignature::as_str),
                    // SQLite integers are signed: store the fingerprint's bits.
                    row.flags.map(|f| f as i64)
                ])
                .map_err(db("recording copied messages"))?;
            }
        }
        tx.commit().map_err(db("recording copied messages"))
    }

    /// The highest source UID recorded for the folder, `None` when none is.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn max_uid(&self, folder: &FolderKey) -> Result<Option<Uid>> {
        let conn = self.conn();
        let Some(id) =
            Self::folder_id(&conn, folder, false).map_err(db("reading copied messages"))?
        else {
            return Ok(None);
        };
        let max: Option<u32> = conn
            .prepare_cached("SELECT max(src_uid) FROM message_map WHERE folder_id = ?1")
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
            .map_err(db("reading copied messages"))?;
        Ok(max.and_then(Uid::new))
    }

    /// The highest destination UID recorded for the folder's messages, `None`
    /// when none is (or the destination gave no UIDs).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn max_dst_uid(&self, folder: &FolderKey) -> Result<Option<Uid>> {
        let conn = self.conn();
        let Some(id) =
            Self::folder_id(&conn, folder, false).map_err(db("reading copied messages"))?
        else {
            return Ok(None);
        };
        let max: Option<u32> = conn
            .prepare_cached("SELECT max(dst_uid) FROM message_map WHERE folder_id = ?1")
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
            .map_err(db("reading copied messages"))?;
        Ok(max.and_then(Uid::new))
    }

    /// The record of one source message, if it was copied.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn lookup(&self, folder: &FolderKey, src_uid: Uid) -> Result<Option<MappedMessage>> {
        let conn = self.conn();
        let Some(id) =
            Self::folder_id(&conn, folder, false).map_err(db("reading copied messages"))?
        else {
            return Ok(None);
        };
        conn.prepare_cached(
            "SELECT dst_uid, size, signature, flags FROM message_map WHERE folder_id = ?1 AND src_uid = ?2",
        )
            .and_then(|mut s| {
                s.query_row(params![id, src_uid.get()], |r| {
                    Ok(MappedMessage {
                        src_uid,
                        dst_uid: r.get::<_, Option<u32>>(0)?.and_then(Uid::new),
                        size: r.get::<_, i64>(1)? as u64,
                        signature: r.get::<_, Option<String>>(2)?.map(MessageSignature::from_stored),
                        flags: r.get::<_, Option<i64>>(3)?.map(|f| f as u64),
                    })
                })
                .optional()
            })
            .map_err(db("reading copied messages"))
    }

    /// Records the flags now on the destination for copied messages.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn set_flags(&self, folder: &FolderKey, flags: &[(Uid, u64)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db("recording synced flags"))?;
        if let Some(id) =
            Self::folder_id(&tx, folder, false).map_err(db("recording synced flags"))?
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE message_map SET flags = ?3 WHERE folder_id = ?1 AND src_uid = ?2",
                )
                .map_err(db("recording synced flags"))?;
            for (uid, fingerprint) in flags {
                stmt.execute(params![id, uid.get(), *fingerprint as i64])
                    .map_err(db("recording synced flags"))?;
            }
        }
        tx.commit().map_err(db("recording synced flags"))
    }

    /// The source folder's HIGHESTMODSEQ at the last flag sync, if recorded.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn folder_modseq(&self, folder: &FolderKey) -> Result<Option<u64>> {
        self.conn()
            .prepare_cached("SELECT modseq FROM folders WHERE account = ?1 AND folder = ?2 AND uid_validity = ?3")
            .and_then(|mut s| {
                s.query_row(params![folder.account, folder.folder, folder.uid_validity], |r| {
                    r.get::<_, Option<i64>>(0)
                })
                .optional()
            })
            .map(|v| v.flatten().map(|m| m as u64))
            .map_err(db("reading the folder's modseq"))
    }

    /// Records the source folder's HIGHESTMODSEQ after a flag sync.
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn set_folder_modseq(&self, folder: &FolderKey, modseq: u64) -> Result<()> {
        let conn = self.conn();
        Self::folder_id(&conn, folder, true).map_err(db("recording the folder's modseq"))?;
        conn.prepare_cached(
            "UPDATE folders SET modseq = ?4 WHERE account = ?1 AND folder = ?2 AND uid_validity = ?3",
        )
        .and_then(|mut s| s.execute(params![folder.account, folder.folder, folder.uid_validity, modseq as i64]))
        .map_err(db("recording the folder's modseq"))?;
        Ok(())
    }

    /// Number of messages recorded for one folder (and UIDVALIDITY).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn folder_message_count(&self, folder: &FolderKey) -> Result<u64> {
        let conn = self.conn();
        let Some(id) =
            Self::folder_id(&conn, folder, false).map_err(db("counting copied messages"))?
        else {
            return Ok(0);
        };
        conn.prepare_cached("SELECT count(*) FROM message_map WHERE folder_id = ?1")
            .and_then(|mut s| s.query_row(params![id], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
            .map_err(db("counting copied messages"))
    }

    /// Number of messages recorded for an account (all folders).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn message_count(&self, account: &str) -> Result<u64> {
        self.conn()
            .query_row(
                "SELECT count(*) FROM message_map m JOIN folders f ON f.id = m.folder_id WHERE f.account = ?1",
                params![account],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db("counting copied messages"))
    }

    /// Forgets every message recorded for an account, before its mail is redone
    /// from the start (destinations that cannot resume midway).
    ///
    /// # Errors
    /// [`Error::Journal`] on a database failure.
    pub fn forget_messages(&self, account: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM folders WHERE account = ?1", params![account])
            .map_err(db("forgetting copied messages"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FolderKey {
        FolderKey {
            account: "ada@example.org".into(),
            folder: "INBOX".into(),
            uid_validity: 7,
        }
    }

    fn row(uid: u32) -> MappedMessage {
        MappedMessage {
            src_uid: Uid::new(uid).unwrap(),
            dst_uid: Uid::new(uid + 100),
            size: 10,
            signature: None,
            flags: None,
        }
    }

    #[test]
    fn identity_change_is_refused_with_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let id = RunIdentity::new()
            .with("destination", "bundle at a")
            .with("procedure", "generic");
        j.check_identity(&id).unwrap();
        j.check_identity(&id).unwrap();
        let changed = RunIdentity::new()
            .with("destination", "bundle at b")
            .with("procedure", "generic");
        let err = j.check_identity(&changed).unwrap_err().to_string();
        assert!(
            err.contains("destination was \"bundle at a\", now \"bundle at b\""),
            "{err}"
        );
        assert!(err.contains("new state_dir"), "{err}");
    }

    #[test]
    fn a_second_run_on_the_same_state_dir_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let lock = j.lock_for_run().unwrap();
        let other = Journal::open(dir.path()).unwrap();
        let err = other.lock_for_run().unwrap_err().to_string();
        assert!(
            err.contains("another carbonio-migrate run is using the state directory"),
            "{err}"
        );
        drop(lock);
        other.lock_for_run().unwrap();
    }

    #[test]
    fn a_version_1_journal_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(JOURNAL_FILE)).unwrap();
            conn.execute_batch(
                "CREATE TABLE folders (id INTEGER PRIMARY KEY, account TEXT NOT NULL, folder TEXT NOT NULL,
                   uid_validity INTEGER NOT NULL, UNIQUE (account, folder, uid_validity));
                 CREATE TABLE message_map (folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
                   src_uid INTEGER NOT NULL, dst_uid INTEGER, size INTEGER NOT NULL, signature TEXT,
                   PRIMARY KEY (folder_id, src_uid)) WITHOUT ROWID;
                 INSERT INTO folders VALUES (1, 'ada@example.org', 'INBOX', 7);
                 INSERT INTO message_map VALUES (1, 3, 103, 10, NULL);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let j = Journal::open(dir.path()).unwrap();
        let old = j.lookup(&key(), Uid::new(3).unwrap()).unwrap().unwrap();
        assert_eq!((old.dst_uid.map(Uid::get), old.flags), (Some(103), None));
        j.set_flags(&key(), &[(Uid::new(3).unwrap(), 42)]).unwrap();
        j.set_folder_modseq(&key(), 9).unwrap();
        assert_eq!(
            j.lookup(&key(), Uid::new(3).unwrap())
                .unwrap()
                .unwrap()
                .flags,
            Some(42)
        );
        assert_eq!(j.folder_modseq(&key()).unwrap(), Some(9));
    }

    #[test]
    fn items_move_through_states() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let run = j.begin_run("run").unwrap();
        j.start_item(run, "provisioning", "account:a@x.org")
            .unwrap();
        j.start_item(run, "provisioning", "account:a@x.org")
            .unwrap();
        j.fail_item(run, "provisioning", "account:b@x.org", "boom")
            .unwrap();
        assert!(j
            .keys_in_state("provisioning", ItemState::Done)
            .unwrap()
            .is_empty());
        j.finish_item(run, "provisioning", "account:a@x.org", "created")
            .unwrap();
        let done = j.keys_in_state("provisioning", ItemState::Done).unwrap();
        assert!(done.contains("account:a@x.org"));
        let mut all = Vec::new();
        j.for_each_item(|r| {
            all.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].attempts, 2);
        assert_eq!(all[1].error.as_deref(), Some("boom"));
        assert_eq!(j.clear_failed("provisioning", "account:").unwrap(), 1);
    }

    #[test]
    fn message_map_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = Journal::open(dir.path()).unwrap();
            j.record_messages(&key(), &(1..=50).map(row).collect::<Vec<_>>())
                .unwrap();
        }
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.max_uid(&key()).unwrap().map(Uid::get), Some(50));
        assert_eq!(
            j.lookup(&key(), Uid::new(7).unwrap())
                .unwrap()
                .unwrap()
                .dst_uid
                .map(Uid::get),
            Some(107)
        );
        assert!(j.lookup(&key(), Uid::new(51).unwrap()).unwrap().is_none());
        let other = FolderKey {
            uid_validity: 8,
            ..key()
        };
        assert_eq!(j.max_uid(&other).unwrap(), None);
        assert_eq!(j.message_count("ada@example.org").unwrap(), 50);
        j.forget_messages("ada@example.org").unwrap();
        assert_eq!(j.max_uid(&key()).unwrap(), None);
    }
}

//! The crash-safe journal: what a migration has done, so that a killed run
//! resumes without redoing finished work and a re-run costs only what changed.
//!
//! One SQLite file per state directory (`journal.sqlite`, WAL mode). It records
//! - the run's identity (procedure, source, destination, folder rules): a
//!   configuration that changes it is refused, saying what changed;
//! - runs, and every work item with its state, attempts, error and times;
//! - the message map: for each copied message, source folder, UIDVALIDITY and UID
//!   to destination UID, size and signature, written in batched transactions.
//!
//! Every write is one transaction: whatever instant the process dies at, the
//! journal holds a consistent prefix of the work.

mod identity;
mod items;
mod message_map;
mod schema;
mod store;

pub use identity::RunIdentity;
pub use items::{ItemRecord, ItemState};
pub use message_map::{FolderKey, MappedMessage};
pub use store::{Journal, RunId, RunLock, RunRecord, JOURNAL_FILE, RUN_LOCK_FILE};

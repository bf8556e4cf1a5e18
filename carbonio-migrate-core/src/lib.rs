//! # carbonio-migrate-core
//!
//! The engine of `carbonio-migrate`: it moves a mail system into Carbonio
//! (domains, classes of service, accounts with aliases and password hashes,
//! distribution lists, mail, appointments, contacts) from any [`Source`] to any
//! [`Destination`], resumably and exactly once.
//!
//! - [`model`]: the objects moved, valid by construction.
//! - [`Source`] / [`Destination`]: the adapter traits, with their contracts.
//! - [`engine`]: phases, procedures, the scheduler and progress events.
//! - [`journal`]: the crash-safe SQLite state that makes re-runs cheap and exact.
//! - [`adapters`]: the built-in adapters (`memory`, `export-dir`, `bundle`).
//! - `conformance` (feature `conformance`): the suite every adapter passes.
//!
//! ```no_run
//! # async fn demo() -> carbonio_migrate_core::Result<()> {
//! use carbonio_migrate_core::config::Config;
//! use carbonio_migrate_core::engine::{Engine, RunOptions};
//!
//! let config = Config::load("migration.toml".as_ref())?;
//! let engine = Engine::from_config(&config)?;
//! let summary = engine.run(RunOptions::default()).await?;
//! println!("{} items done, {} failed", summary.done, summary.failed);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod adapters;
pub mod capability;
pub mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod destination;
pub mod engine;
pub mod error;
pub mod journal;
pub mod model;
pub mod source;
mod temp_file;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tls;
pub mod wrap;

pub use capability::{Capabilities, Capability};
pub use destination::{AppendOutcome, Change, Destination, ItemWriter, MailboxWriter};
pub use error::{Error, Result};
pub use source::{FolderCheck, FolderStatus, MailboxReader, ResultStream, Source};

//! The in-memory reference adapters, always built.
//!
//! [`MemorySource`] and [`MemoryDestination`] are the oracle of the conformance
//! suite (`conformance` feature) and the adapters of engine tests and embedding
//! examples: a test fills a source by hand, runs the engine, and inspects what
//! the destination holds, or makes it fail on purpose
//! ([`MemoryDestination::fail_appends`],
//! [`MemoryDestination::reject_messages_containing`],
//! [`MemoryDestination::fail_ensure_account`], [`MemorySource::add_bad_account`]).
//! See `docs.md` in this folder for what they support.
//!
//! ```
//! # async fn demo() -> carbonio_migrate_core::Result<()> {
//! use carbonio_migrate_core::adapters::memory::{MemoryDestination, MemorySource};
//! use carbonio_migrate_core::model::{Account, EmailAddress, Flags, FolderPath};
//! use carbonio_migrate_core::{MailboxReader, Source};
//!
//! let ada = EmailAddress::parse("ada@example.org")?;
//! let source = MemorySource::new();
//! source.add_account(Account::new(ada.clone()));
//! let inbox = FolderPath::parse("Inbox")?;
//! let date = chrono::DateTime::parse_from_rfc3339("2012-02-29T23:59:59+01:00").unwrap();
//! let uid = source.add_message(&ada, &inbox, Flags::default(), date, &b"Subject: hi\r\n\r\n"[..]);
//! let mut reader = source.mailbox(&Account::new(ada)).await?;
//! assert_eq!(reader.list(&inbox, None, 10).await?[0].uid, uid);
//! # let _ = MemoryDestination::new();
//! # Ok(()) }
//! ```

mod destination;
mod directory;
mod faults;
mod mailbox;
mod source;

pub use destination::MemoryDestination;
pub use mailbox::StoredMessage;
pub use source::MemorySource;

//! The conformance suite every adapter passes (feature `conformance`).
//!
//! Exported so third-party adapters run the same cases as the built-in ones:
//! [`check_source`] runs property checks any correct [`crate::Source`] passes
//! whatever its data; [`check_destination`] writes the [`fixture`] under a fresh
//! namespace and checks what the [`crate::Destination`] answers and holds. Both
//! return a [`ConformanceReport`] of the checks passed and skipped, or the first
//! [`ConformanceFailure`], named by one of the [`check`] constants.
//!
//! ```no_run
//! # async fn demo() {
//! use carbonio_migrate_core::adapters::memory::MemoryDestination;
//! use carbonio_migrate_core::conformance::{check_destination, fixture, check_source};
//!
//! let report = check_source(&fixture().to_memory_source()).await.unwrap();
//! println!("{report}");
//! check_destination(&MemoryDestination::new()).await.unwrap();
//! # }
//! ```

mod destination_suite;
mod fixture;
mod report;
mod source_suite;

pub use destination_suite::{check_destination, check_destination_with, DestinationChecks};
pub use fixture::{fixture, Fixture, FixtureMessage};
pub use report::{ConformanceFailure, ConformanceReport, PassedCheck, SkippedCheck};
pub use source_suite::{check_source, check_source_with, SourceChecks};

/// The names of the checks, as found in [`ConformanceFailure::check`] and the
/// report.
pub mod check {
    /// Each undeclared capability's method returns `Unsupported` naming the
    /// adapter's kind; each declared one does not.
    pub const SOURCE_CAPABILITIES: &str = "source.capabilities-truthful";
    /// Two calls of an object stream yield the same sequence of `Ok` values.
    pub const SOURCE_STREAMS_STABLE: &str = "source.streams-stable";
    /// No account address (and no appointment or contact UID) comes twice.
    pub const SOURCE_UNIQUE: &str = "source.objects-unique";
    /// Folders are listed once each, parents before children.
    pub const SOURCE_FOLDERS: &str = "source.folders-parents-first";
    /// `list` pages: at most `limit` long, UIDs after `after`, strictly
    /// increasing, and together equal to the whole list.
    pub const SOURCE_LIST_PAGING: &str = "source.list-paging";
    /// `status().messages` equals the number of messages listed.
    pub const SOURCE_STATUS_COUNT: &str = "source.status-count";
    /// `fetch` yields the UIDs asked for, in the order asked.
    pub const SOURCE_FETCH_ORDER: &str = "source.fetch-order";
    /// A fetched message has the metadata `list` gave, and a body of exactly
    /// `meta.size` bytes.
    pub const SOURCE_FETCH_BODY: &str = "source.fetch-body-size";
    /// A second fetch yields the same bytes.
    pub const SOURCE_FETCH_REPEATABLE: &str = "source.fetch-repeatable";
    /// A UID that does not exist is left out of a fetch.
    pub const SOURCE_FETCH_MISSING: &str = "source.fetch-missing-left-out";
    /// Listing a folder that does not exist is an error, not an empty folder.
    pub const SOURCE_UNKNOWN_FOLDER: &str = "source.unknown-folder-error";

    /// Each undeclared capability's method returns `Unsupported` naming the kind.
    pub const DESTINATION_CAPABILITIES: &str = "destination.capabilities-truthful";
    /// The first `ensure_*` of each fixture object returns `Created` or `Updated`.
    pub const DESTINATION_ENSURE_CREATES: &str = "destination.ensure-creates";
    /// The second `ensure_*` of each fixture object returns `Unchanged`.
    pub const DESTINATION_ENSURE_IDEMPOTENT: &str = "destination.ensure-idempotent";
    /// An alias held by another account is refused with `AlreadyExists` naming it.
    pub const DESTINATION_ALIAS_CLASH: &str = "destination.alias-clash";
    /// Folders are ensured (twice) and every fixture message appended without error.
    pub const DESTINATION_MAIL_WRITE: &str = "destination.mail-write";
    /// Appointments and contacts are written without error.
    pub const DESTINATION_ITEMS_WRITE: &str = "destination.items-write";
    /// Read back lists every fixture folder, each with as many messages as written.
    pub const DESTINATION_READ_BACK_FOLDERS: &str = "destination.read-back-folders";
    /// Read back bodies are byte-identical to what was written.
    pub const DESTINATION_READ_BACK_BODIES: &str = "destination.read-back-bodies";
    /// Read back internal dates are the written ones, to the second.
    pub const DESTINATION_READ_BACK_DATES: &str = "destination.read-back-dates";
    /// Read back flags are the written ones (when the adapter keeps flags).
    pub const DESTINATION_READ_BACK_FLAGS: &str = "destination.read-back-flags";
    /// `finalize` succeeds.
    pub const DESTINATION_FINALIZE: &str = "destination.finalize";
}

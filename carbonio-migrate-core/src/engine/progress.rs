//! Typed progress events. Phases never print: they emit these, and the caller
//! (the CLI's progress bars, a JSON stream, an embedding application) renders them.

use std::sync::Arc;

use serde::Serialize;

/// Something that happened during a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProgressEvent {
    /// A phase planned its work.
    PhaseStarted {
        /// The phase.
        phase: String,
        /// Items to run now.
        items: u64,
        /// Items already done in an earlier run, skipped.
        already_done: u64,
    },
    /// An item started (or restarted after a transient error).
    ItemStarted {
        /// The phase.
        phase: String,
        /// The item's key.
        key: String,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An item will be retried after a transient error.
    ItemRetrying {
        /// The phase.
        phase: String,
        /// The item's key.
        key: String,
        /// The error text.
        error: String,
        /// Milliseconds until the next attempt.
        delay_ms: u64,
    },
    /// An item finished.
    ItemFinished {
        /// The phase.
        phase: String,
        /// The item's key.
        key: String,
        /// `created`, `updated`, `unchanged` or `failed`.
        outcome: String,
        /// The error, when it failed.
        error: Option<String>,
    },
    /// An account's folder is about to be copied: its size on the source and how
    /// much of it earlier runs copied, so a view can show done/total per account.
    MailFolderStarted {
        /// The account.
        account: String,
        /// The source folder.
        folder: String,
        /// Messages in the source folder.
        messages: u64,
        /// Messages of it already in the journal.
        already_copied: u64,
    },
    /// Messages were copied for an account (counts are increments).
    MailCopied {
        /// The account.
        account: String,
        /// The source folder.
        folder: String,
        /// Messages copied in this step.
        messages: u64,
        /// Bytes copied in this step.
        bytes: u64,
    },
    /// A phase finished.
    PhaseFinished {
        /// The phase.
        phase: String,
        /// Items that succeeded in this run.
        done: u64,
        /// Items that failed in this run.
        failed: u64,
    },
}

/// Where events go: a cheap, clonable callback, safe to call from many tasks.
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(ProgressEvent) + Send + Sync>);

impl ProgressSink {
    /// A sink calling `f` for every event.
    pub fn new(f: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        ProgressSink(Arc::new(f))
    }

    /// A sink dropping every event.
    pub fn discard() -> Self {
        ProgressSink::new(|_| {})
    }

    /// Emits one event.
    pub fn emit(&self, event: ProgressEvent) {
        (self.0)(event)
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::discard()
    }
}

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

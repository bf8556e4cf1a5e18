//! What a run did.

use serde::Serialize;

use crate::destination::Change;

/// Failures kept in a summary at most; the journal and `report` hold them all.
const MAX_FAILURES: usize = 1000;

/// One failed item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The phase.
    pub phase: String,
    /// The item's key.
    pub key: String,
    /// Why it failed (names account, folder, file or line).
    pub error: String,
}

/// The outcome of [`super::Engine::run`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Items run successfully in this run (created + updated + unchanged).
    pub done: u64,
    /// Of those, items that created something.
    pub created: u64,
    /// Of those, items that changed something existing.
    pub updated: u64,
    /// Of those, items that found everything already in place.
    pub unchanged: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items skipped because an earlier run finished them.
    pub already_done: u64,
    /// The first failures (all are in the journal).
    pub failures: Vec<Failure>,
    /// Whether the run was interrupted before the end.
    pub cancelled: bool,
    /// A dry run: nothing was written.
    pub dry_run: bool,
    /// Items a dry run would run, by phase: (phase, key).
    pub planned: Vec<(String, String)>,
}

impl RunSummary {
    pub(crate) fn count_change(&mut self, change: Change) {
        self.done += 1;
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    pub(crate) fn push_failure(&mut self, failure: Failure) {
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(failure);
        }
    }

    /// True when the run wrote nothing: every item was already done or unchanged.
    pub fn wrote_nothing(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.failed == 0
    }
}

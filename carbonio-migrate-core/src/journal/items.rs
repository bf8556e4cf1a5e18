//! Work item records.

use serde::Serialize;

/// Where a work item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Started and not finished (the run died or is still going).
    Running,
    /// Finished successfully.
    Done,
    /// Finished with a permanent error, or out of retries.
    Failed,
}

impl ItemState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ItemState::Running => "running",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> ItemState {
        match text {
            "done" => ItemState::Done,
            "failed" => ItemState::Failed,
            _ => ItemState::Running,
        }
    }
}

/// One work item as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemRecord {
    /// The phase (`provisioning`, `data`, ...).
    pub phase: String,
    /// The item's stable key (`account:ada@example.org`, `mail:ada@example.org`).
    pub key: String,
    /// Where it stands.
    pub state: ItemState,
    /// What the last successful attempt changed (`created`, `unchanged`, ...).
    pub change: Option<String>,
    /// The error of the last failed attempt.
    pub error: Option<String>,
    /// How many attempts were made, over all runs.
    pub attempts: u32,
    /// The run that last touched it.
    pub run_id: i64,
    /// When the last attempt started (RFC 3339).
    pub started_at: Option<String>,
    /// When it finished (RFC 3339).
    pub finished_at: Option<String>,
}

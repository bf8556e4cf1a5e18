//! The [`Phase`] trait and the context phases run in.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::folder_rules::FolderRules;
use super::progress::ProgressSink;
use super::work::WorkItem;
use crate::capability::{Capabilities, Capability};
use crate::destination::{Change, Destination};
use crate::error::Result;
use crate::journal::{Journal, RunId};
use crate::source::Source;

/// Everything a phase needs, shared by all its items.
#[derive(Clone)]
pub struct PhaseContext {
    /// Where data is read.
    pub source: Arc<dyn Source>,
    /// Where data is written.
    pub destination: Arc<dyn Destination>,
    /// The journal.
    pub journal: Arc<Journal>,
    /// The current run.
    pub run: RunId,
    /// Folder mapping rules.
    pub rules: Arc<FolderRules>,
    /// Messages above this size are reported as failed instead of copied.
    pub max_message_size: Option<u64>,
    /// Bring the flags of copied messages up to date.
    pub sync_flags: bool,
    /// Reader/writer pairs one account's mail uses at most.
    pub connections_per_account: usize,
    /// Messages/s and bytes/s limits shared by every account of the run.
    pub throttle: Arc<super::RateLimiter>,
    /// Where progress events go.
    pub progress: ProgressSink,
    /// Set when the run must stop (Ctrl-C); long items check it between batches.
    pub cancel: CancellationToken,
}

impl PhaseContext {
    /// Whether both sides can do `cap` (optional parts of a phase).
    pub fn both_can(&self, cap: Capability) -> bool {
        self.source.capabilities().has(cap) && self.destination.capabilities().has(cap)
    }
}

/// The capabilities a phase cannot do without.
#[derive(Clone, Debug, Default)]
pub struct PhaseNeeds {
    /// What the source must read.
    pub source: Vec<Capability>,
    /// What the destination must write.
    pub destination: Vec<Capability>,
}

impl PhaseNeeds {
    /// The first missing capability, as a sentence naming the phase and adapter.
    pub fn missing(
        &self,
        phase: &str,
        source: (&str, &Capabilities),
        destination: (&str, &Capabilities),
    ) -> Option<String> {
        for cap in &self.source {
            if !source.1.has(*cap) {
                return Some(format!(
                    "phase '{phase}' needs a source that reads {cap}, and adapter '{}' does not",
                    source.0
                ));
            }
        }
        for cap in &self.destination {
            if !destination.1.has(*cap) {
                return Some(format!(
                    "phase '{phase}' needs a destination that writes {cap}, and adapter '{}' does not",
                    destination.0
                ));
            }
        }
        None
    }
}

/// One resumable stage of a migration (provisioning, data, shares, files).
///
/// # Contract
/// - `plan` lists the work items with stable keys: the same source yields the same
///   keys in every run, which is how the journal knows what is done. It reads
///   objects, never mail bodies.
/// - `run` does one item completely, idempotently (it may be re-run after a crash
///   at any point), and returns what it changed. A retryable error is retried by
///   the scheduler; any other error marks the item failed and the run goes on.
/// - Phases never print; they emit [`super::ProgressEvent`]s.
#[async_trait]
pub trait Phase: Send + Sync {
    /// The phase's name, as `--phase` takes it.
    fn name(&self) -> &'static str;

    /// What the configured pair must be able to do.
    fn needs(&self) -> PhaseNeeds;

    /// The work items of this phase.
    async fn plan(&self, ctx: &PhaseContext) -> Result<Vec<WorkItem>>;

    /// Does one item.
    async fn run(&self, ctx: &PhaseContext, item: &WorkItem) -> Result<Change>;
}

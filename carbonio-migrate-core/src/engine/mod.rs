//! The engine: phases, procedures, the scheduler and progress events.
//!
//! A [`Procedure`] is an ordered list of [`Phase`]s. The [`Engine`] checks it
//! against the configured pair's capabilities, asks each phase to plan its
//! [`WorkItem`]s, skips what the journal says is done, and runs the rest with
//! bounded concurrency, retrying transient errors with exponential backoff and
//! jitter and recording permanent failures while the run goes on.

mod data;
mod folder_rules;
mod from_config;
mod later_phases;
mod mail_copy;
mod phase;
mod preflight;
mod procedure;
mod progress;
mod provisioning;
mod rate_limit;
mod recognition;
mod retry;
mod runner;
mod scheduler;
mod shard;
mod summary;
mod verify;
mod work;

pub use data::DataPhase;
pub use folder_rules::FolderRules;
pub use later_phases::{FilesPhase, SharesPhase};
pub use phase::{Phase, PhaseContext, PhaseNeeds};
pub use preflight::{AccountPlan, PreflightOptions, PreflightReport};
pub use procedure::Procedure;
pub use progress::{ProgressEvent, ProgressSink};
pub use provisioning::ProvisioningPhase;
pub use rate_limit::RateLimiter;
pub use retry::RetryPolicy;
pub use runner::{retry_policy, Engine, EngineSettings, RunOptions};
pub use shard::Shard;
pub use summary::{Failure, RunSummary};
pub use verify::{AccountVerify, Difference, FolderVerify, VerifyOptions, VerifyReport};
pub use work::{Work, WorkItem};

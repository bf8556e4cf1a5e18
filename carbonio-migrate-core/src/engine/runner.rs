//! The [`Engine`]: plans a procedure's phases and runs them against the journal.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::folder_rules::FolderRules;
use super::phase::PhaseContext;
use super::procedure::Procedure;
use super::progress::{ProgressEvent, ProgressSink};
use super::provisioning::INVALID_PREFIX;
use super::rate_limit::RateLimiter;
use super::retry::RetryPolicy;
use super::scheduler::{HostLimiter, Scheduler};
use super::shard::Shard;
use super::summary::RunSummary;
use super::work::{Work, WorkItem};
use crate::destination::Destination;
use crate::error::Result;
use crate::journal::{ItemState, Journal, RunIdentity};
use crate::model::EmailAddress;
use crate::source::Source;

/// How a migration runs, independent of what it moves.
#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// Accounts (items) in parallel.
    pub concurrency: usize,
    /// Connections to one host at most.
    pub connections_per_host: usize,
    /// Retries of transient errors.
    pub retry: RetryPolicy,
    /// Folder mapping rules.
    pub rules: FolderRules,
    /// Messages above this size are reported as failed instead of copied.
    pub max_message_size: Option<u64>,
    /// Bring the flags of copied messages up to date on re-runs.
    pub sync_flags: bool,
    /// Reader/writer pairs one account's mail uses at most.
    pub connections_per_account: usize,
    /// Messages per second for the whole run, unlimited when `None`.
    pub max_messages_per_second: Option<f64>,
    /// Bytes per second for the whole run, unlimited when `None`.
    pub max_bytes_per_second: Option<u64>,
    /// After a killed run, how long to let the destination finish what the
    /// dead process had sent before reading it (see [`Engine::run`]).
    pub settle_after_interrupt: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            concurrency: 8,
            connections_per_host: 16,
            retry: RetryPolicy::default(),
            rules: FolderRules::default(),
            max_message_size: None,
            sync_flags: false,
            connections_per_account: 2,
            max_messages_per_second: None,
            max_bytes_per_second: None,
            settle_after_interrupt: Duration::from_secs(2),
        }
    }
}

/// What to run this time.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Only these phases (all of the procedure's when `None`).
    pub phases: Option<Vec<String>>,
    /// Only these accounts (their items; shared objects are left out).
    pub accounts: Option<Vec<EmailAddress>>,
    /// Only this shard's accounts.
    pub shard: Option<Shard>,
    /// Plan and list what would run; write nothing, not even the journal's items.
    pub dry_run: bool,
    /// Where progress events go.
    pub progress: ProgressSink,
    /// Cancel to stop cleanly (Ctrl-C): running items stop at their next batch,
    /// the journal keeps everything finished.
    pub cancel: CancellationToken,
    /// The command line, recorded with the run.
    pub command: String,
}

/// Runs a procedure from a source to a destination, resumably.
pub struct Engine {
    source: Arc<dyn Source>,
    destination: Arc<dyn Destination>,
    journal: Arc<Journal>,
    procedure: Procedure,
    settings: EngineSettings,
}

impl Engine {
    /// An engine over the given parts. The journal's identity is checked (and
    /// recorded on first use) here, so a changed configuration is refused before
    /// anything runs.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the journal belongs to another migration.
    pub fn new(
        source: Arc<dyn Source>,
        destination: Arc<dyn Destination>,
        journal: Arc<Journal>,
        procedure: Procedure,
        settings: EngineSettings,
    ) -> Result<Engine> {
        // The phases are checked against the pair when a run names them: a pair
        // may do only part of a procedure (provisioning into Carbonio before its
        // IMAP is configured), and `run --phase provisioning` must then work.
        journal.check_identity(&Self::identity(
            &*source,
            &*destination,
            &procedure,
            &settings,
        ))?;
        Ok(Engine {
            source,
            destination,
            journal,
            procedure,
            settings,
        })
    }

    /// What must stay the same for the journal to stay valid.
    fn identity(
        source: &dyn Source,
        destination: &dyn Destination,
        procedure: &Procedure,
        settings: &EngineSettings,
    ) -> RunIdentity {
        RunIdentity::new()
            .with("procedure", procedure.name())
            .with("source", source.location())
            .with("destination", destination.location())
            .with("mail folder rules", settings.rules.fingerprint())
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn Source> {
        &self.source
    }

    /// The destination.
    pub fn destination(&self) -> &Arc<dyn Destination> {
        &self.destination
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// The procedure.
    pub fn procedure(&self) -> &Procedure {
        &self.procedure
    }

    /// The settings.
    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub(crate) fn context(&self, run: i64, options: &RunOptions) -> PhaseContext {
        PhaseContext {
            source: self.source.clone(),
            destination: self.destination.clone(),
            journal: self.journal.clone(),
            run,
            rules: Arc::new(self.settings.rules.clone()),
            max_message_size: self.settings.max_message_size,
            sync_flags: self.settings.sync_flags,
            connections_per_account: self.settings.connections_per_account,
            throttle: Arc::new(RateLimiter::new(
                self.settings.max_messages_per_second,
                self.settings.max_bytes_per_second.map(|b| b as f64),
            )),
            progress: options.progress.clone(),
            cancel: options.cancel.clone(),
        }
    }

    fn selected(options: &RunOptions, item: &WorkItem) -> bool {
        match (&item.work, item.account()) {
            // Domains and classes of service are what any account needs: ensured in
            // every narrowed run and every shard (idempotent, and few).
            (Work::Domain(_) | Work::Cos(_), _) => true,
            (_, Some(account)) => {
                options
                    .accounts
                    .as_ref()
                    .is_none_or(|list| list.contains(account))
                    && options.shard.is_none_or(|s| s.contains(account.as_str()))
            }
            // Lists and input errors: not when the run is narrowed to some accounts,
            // and only in the first shard, so they are written and reported once.
            (_, None) => {
                options.accounts.is_none() && options.shard.is_none_or(Shard::owns_shared_objects)
            }
        }
    }

    /// When the previous run was killed (it never recorded its end), waits
    /// `settle_after_interrupt` before writing: the destination may still be
    /// committing what the dead process had sent (an APPEND whose bytes had all
    /// arrived), and messages committed after this run reads the destination
    /// could not be recognised and would be copied twice.
    async fn settle_after_interrupted_run(&self, options: &RunOptions) -> Result<()> {
        let interrupted = self
            .journal
            .last_run()?
            .is_some_and(|r| r.finished_at.is_none());
        let resumes = self
            .destination
            .capabilities()
            .has(crate::Capability::ResumeMail);
        let wait = self.settings.settle_after_interrupt;
        if interrupted && resumes && !wait.is_zero() {
            tracing::info!(
                "the previous run was interrupted; waiting {wait:?} for the destination to settle"
            );
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = options.cancel.cancelled() => {}
            }
        }
        Ok(())
    }

    /// Runs the procedure's phases (or the selected ones) and returns what was done.
    ///
    /// Items finished in an earlier run are skipped (mail items of a destination
    /// that resumes are re-run as a delta pass). Failures of single items are
    /// recorded and the run goes on; the returned error is for what stops the run
    /// as a whole (journal failure, a source that cannot be listed).
    ///
    /// # Errors
    /// See above; also [`crate::Error::Config`] for an unknown phase.
    pub async fn run(&self, options: RunOptions) -> Result<RunSummary> {
        self.procedure.check(
            options.phases.as_deref(),
            (self.source.kind(), &self.source.capabilities()),
            (self.destination.kind(), &self.destination.capabilities()),
        )?;
        let mut summary = RunSummary {
            dry_run: options.dry_run,
            ..RunSummary::default()
        };
        if !options.dry_run {
            self.settle_after_interrupted_run(&options).await?;
        }
        let run = if options.dry_run {
            0
        } else {
            self.journal.begin_run(&options.command)?
        };
        let ctx = self.context(run, &options);
        let hosts = HostLimiter::new(self.settings.connections_per_host);
        let scheduler = Scheduler {
            ctx: &ctx,
            concurrency: self.settings.concurrency,
            retry: self.settings.retry,
            hosts: &hosts,
        };
        for phase in self.procedure.phases() {
            if options
                .phases
                .as_ref()
                .is_some_and(|sel| !sel.iter().any(|s| s == phase.name()))
            {
                continue;
            }
            if ctx.cancel.is_cancelled() {
                summary.cancelled = true;
                break;
            }
            let planned = phase.plan(&ctx).await?;
            let done = self.journal.keys_in_state(phase.name(), ItemState::Done)?;
            let mut to_run = Vec::new();
            let mut already = 0u64;
            for item in planned.into_iter().filter(|i| Self::selected(&options, i)) {
                if done.contains(&item.key) && !item.rerun_when_done {
                    already += 1;
                } else {
                    to_run.push(item);
                }
            }
            summary.already_done += already;
            if options.dry_run {
                summary.planned.extend(
                    to_run
                        .iter()
                        .map(|i| (phase.name().to_string(), i.key.clone())),
                );
                continue;
            }
            // Input errors are found again on every run; one fixed since must not linger.
            self.journal.clear_failed(phase.name(), INVALID_PREFIX)?;
            ctx.progress.emit(ProgressEvent::PhaseStarted {
                phase: phase.name().to_string(),
                items: to_run.len() as u64,
                already_done: already,
            });
            scheduler
                .run_phase(phase.as_ref(), to_run, &mut summary)
                .await?;
            if ctx.cancel.is_cancelled() {
                summary.cancelled = true;
                break;
            }
        }
        if options.dry_run {
            return Ok(summary);
        }
        if !summary.cancelled {
            // Idempotent, and writes nothing when nothing changed: always safe, and
            // needed when an earlier run died between its last item and this step.
            self.destination.finalize().await?;
        }
        let outcome = if summary.cancelled {
            "interrupted"
        } else if summary.failed > 0 {
            "finished with failed items"
        } else {
            "done"
        };
        self.journal.finish_run(run, outcome)?;
        Ok(summary)
    }
}

/// Retry settings from `[run]`.
pub fn retry_policy(run: &crate::config::RunConfig) -> RetryPolicy {
    RetryPolicy {
        max_attempts: run.max_attempts,
        base: Duration::from_millis(run.retry_base_ms),
        max: Duration::from_millis(run.retry_max_ms),
    }
}

//! Runs a phase's items: steps in order, items of a step in parallel under the
//! concurrency and per-host limits, transient errors retried with backoff,
//! permanent failures recorded while the rest goes on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::sync::Semaphore;

use super::phase::{Phase, PhaseContext};
use super::progress::ProgressEvent;
use super::retry::RetryPolicy;
use super::summary::{Failure, RunSummary};
use super::work::{Work, WorkItem};
use crate::destination::Change;
use crate::error::{Error, Result};

/// Limits the connections one host gets, across all items of a run.
#[derive(Default)]
pub(crate) struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimiter {
    pub(crate) fn new(per_host: usize) -> Self {
        HostLimiter {
            per_host: per_host.max(1),
            hosts: Mutex::default(),
        }
    }

    fn semaphore(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

pub(crate) struct Scheduler<'a> {
    pub ctx: &'a PhaseContext,
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub hosts: &'a HostLimiter,
}

/// What happened to one item in this run.
enum ItemResult {
    Done(Change),
    Failed(String),
    Cancelled,
}

impl Scheduler<'_> {
    /// Runs `items` (already filtered to what must run) and adds to `summary`.
    pub(crate) async fn run_phase(
        &self,
        phase: &dyn Phase,
        items: Vec<WorkItem>,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let mut steps: BTreeMap<u32, Vec<WorkItem>> = BTreeMap::new();
        for item in items {
            steps.entry(item.step).or_default().push(item);
        }
        let (mut done, mut failed) = (0u64, 0u64);
        for (_, step_items) in steps {
            if self.ctx.cancel.is_cancelled() {
                break;
            }
            let results: Vec<(WorkItem, ItemResult)> = futures::stream::iter(step_items)
                .map(|item| async move {
                    let r = self.run_item(phase, &item).await;
                    (item, r)
                })
                .buffer_unordered(self.concurrency.max(1))
                .collect()
                .await;
            for (item, result) in results {
                match result {
                    ItemResult::Done(change) => {
                        done += 1;
                        summary.count_change(change);
                    }
                    ItemResult::Failed(error) => {
                        failed += 1;
                        summary.failed += 1;
                        summary.push_failure(Failure {
                            phase: phase.name().to_string(),
                            key: item.key.clone(),
                            error,
                        });
                    }
                    ItemResult::Cancelled => summary.cancelled = true,
                }
            }
        }
        self.ctx.progress.emit(ProgressEvent::PhaseFinished {
            phase: phase.name().to_string(),
            done,
            failed,
        });
        Ok(())
    }

    async fn run_item(&self, phase: &dyn Phase, item: &WorkItem) -> ItemResult {
        let ctx = self.ctx;
        let name = phase.name();
        if let Work::Invalid(error) = &item.work {
            return self.record_failure(name, &item.key, error.clone());
        }
        // Mail items hold connections: take a slot on both hosts for the item's life.
        let _permits = if matches!(item.work, Work::Mail(_)) {
            let s = self.hosts.semaphore(&ctx.source.location());
            let d = self.hosts.semaphore(&ctx.destination.location());
            match (s.acquire_owned().await, d.acquire_owned().await) {
                (Ok(a), Ok(b)) => Some((a, b)),
                _ => None,
            }
        } else {
            None
        };
        let mut attempt = 1u32;
        loop {
            if ctx.cancel.is_cancelled() {
                return ItemResult::Cancelled;
            }
            if let Err(e) = ctx.journal.start_item(ctx.run, name, &item.key) {
                return ItemResult::Failed(e.chain());
            }
            ctx.progress.emit(ProgressEvent::ItemStarted {
                phase: name.into(),
                key: item.key.clone(),
                attempt,
            });
            match phase.run(ctx, item).await {
                Ok(change) => {
                    let text = change_text(change);
                    if let Err(e) = ctx.journal.finish_item(ctx.run, name, &item.key, text) {
                        return ItemResult::Failed(e.chain());
                    }
                    ctx.progress.emit(ProgressEvent::ItemFinished {
                        phase: name.into(),
                        key: item.key.clone(),
                        outcome: text.into(),
                        error: None,
                    });
                    return ItemResult::Done(change);
                }
                Err(Error::Cancelled) => return ItemResult::Cancelled,
                Err(e) if e.is_retryable() && attempt < self.retry.max_attempts => {
                    let delay = self.retry.delay(attempt);
                    tracing::warn!(phase = name, item = %item.key, attempt, "retrying after: {}", e.chain());
                    ctx.progress.emit(ProgressEvent::ItemRetrying {
                        phase: name.into(),
                        key: item.key.clone(),
                        error: e.chain(),
                        delay_ms: delay.as_millis() as u64,
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = ctx.cancel.cancelled() => return ItemResult::Cancelled,
                    }
                    attempt += 1;
                }
                Err(e) => {
                    let mut text = e.chain();
                    if e.is_retryable() {
                        text.push_str(&format!(" (gave up after {attempt} attempts)"));
                    }
                    return self.record_failure(name, &item.key, text);
                }
            }
        }
    }

    fn record_failure(&self, phase: &str, key: &str, error: String) -> ItemResult {
        let ctx = self.ctx;
        tracing::debug!(phase, item = key, "failed: {error}");
        if let Err(e) = ctx.journal.fail_item(ctx.run, phase, key, &error) {
            return ItemResult::Failed(format!("{error}; and recording it failed: {}", e.chain()));
        }
        ctx.progress.emit(ProgressEvent::ItemFinished {
            phase: phase.into(),
            key: key.into(),
            outcome: "failed".into(),
            error: Some(error.clone()),
        });
        ItemResult::Failed(error)
    }
}

pub(crate) fn change_text(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
    }
}

//! Phase 2: mail, appointments and contacts of every account.

use async_trait::async_trait;
use futures::StreamExt;

use super::mail_copy::copy_mail;
use super::phase::{Phase, PhaseContext, PhaseNeeds};
use super::provisioning::invalid;
use super::work::{Work, WorkItem};
use crate::capability::Capability;
use crate::destination::Change;
use crate::error::{Error, Result};
use crate::model::Account;
use crate::source::ResultStream;

/// Items are written to PIM writers in batches of this many.
const PIM_BATCH: usize = 200;

/// Copies each account's mail, and its appointments and contacts when both sides
/// can (and `with_pim` is set: the `mail-only` procedure leaves them out).
pub struct DataPhase {
    /// Also copy appointments and contacts.
    pub with_pim: bool,
    /// Record unreadable account records as failed items (when no provisioning
    /// phase runs before, which would have recorded them).
    pub report_invalid: bool,
}

#[async_trait]
impl Phase for DataPhase {
    fn name(&self) -> &'static str {
        "data"
    }

    fn needs(&self) -> PhaseNeeds {
        PhaseNeeds {
            source: vec![Capability::Accounts, Capability::Mail],
            destination: vec![Capability::Mail],
        }
    }

    async fn plan(&self, ctx: &PhaseContext) -> Result<Vec<WorkItem>> {
        let rerun_mail = ctx.destination.capabilities().has(Capability::ResumeMail);
        let pim = |cap| self.with_pim && ctx.both_can(cap);
        let (appointments, contacts) = (pim(Capability::Appointments), pim(Capability::Contacts));
        let mut items = Vec::new();
        let mut s = ctx.source.accounts().await?;
        let mut bad = 0usize;
        while let Some(a) = s.next().await {
            let a = match a {
                Ok(a) => a,
                Err(e) => {
                    if self.report_invalid {
                        bad += 1;
                        items.push(invalid(&e, bad));
                    }
                    continue;
                }
            };
            if appointments {
                items.push(WorkItem::new(
                    format!("calendar:{}", a.address),
                    0,
                    Work::Appointments(a.clone()),
                ));
            }
            if contacts {
                items.push(WorkItem::new(
                    format!("contacts:{}", a.address),
                    0,
                    Work::Contacts(a.clone()),
                ));
            }
            let mut mail = WorkItem::new(format!("mail:{}", a.address), 0, Work::Mail(a));
            // A destination that keeps what it was given can take a delta pass: only
            // messages above the journaled UIDs are copied. One that is rewritten
            // whole (an archive) is done once.
            mail.rerun_when_done = rerun_mail;
            items.push(mail);
        }
        Ok(items)
    }

    async fn run(&self, ctx: &PhaseContext, item: &WorkItem) -> Result<Change> {
        match &item.work {
            Work::Mail(account) => copy_mail(ctx, account).await,
            Work::Appointments(account) => {
                let writer = ctx.destination.appointments(account).await?;
                let items = ctx.source.appointments(account).await?;
                copy_items(account, "appointment", items, writer).await
            }
            Work::Contacts(account) => {
                let writer = ctx.destination.contacts(account).await?;
                let items = ctx.source.contacts(account).await?;
                copy_items(account, "contact", items, writer).await
            }
            other => Err(Error::Protocol {
                context: format!("data item {}", item.key),
                message: format!("not a data item: {other:?}"),
            }),
        }
    }
}

/// Streams items into a writer in batches. An unreadable item fails the whole
/// import of that kind for the account, so nothing is half imported silently.
async fn copy_items<T: Send + 'static>(
    account: &Account,
    what: &str,
    mut items: ResultStream<'_, T>,
    mut writer: Box<dyn crate::destination::ItemWriter<T>>,
) -> Result<Change> {
    let mut batch = Vec::with_capacity(PIM_BATCH);
    let mut total = 0u64;
    while let Some(item) = items.next().await {
        let item = item.map_err(|e| Error::Rejected {
            item: format!("{what} of {}", account.address),
            reason: e.to_string(),
        })?;
        batch.push(item);
        total += 1;
        if batch.len() == PIM_BATCH {
            writer.write(std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        writer.write(batch).await?;
    }
    writer.finish().await?;
    Ok(if total == 0 {
        Change::Unchanged
    } else {
        Change::Created
    })
}

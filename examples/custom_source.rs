//! Writing a source adapter of your own: a read-only "legacy system" that keeps
//! one folder of messages per account in a `Vec`. It implements [`Source`] and
//! [`MailboxReader`], passes the conformance suite, and is migrated with the
//! engine.
//!
//! ```text
//! cargo run -p carbonio-migrate-examples --example custom_source
//! ```

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use carbonio_migrate_core::adapters::memory::MemoryDestination;
use carbonio_migrate_core::conformance::check_source;
use carbonio_migrate_core::engine::{Engine, EngineSettings, Procedure, RunOptions};
use carbonio_migrate_core::journal::Journal;
use carbonio_migrate_core::model::{
    Account, EmailAddress, Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid,
};
use carbonio_migrate_core::{
    Capabilities, Capability, Error, FolderStatus, MailboxReader, ResultStream, Source,
};
use chrono::{DateTime, FixedOffset};

/// A stored message of the legacy system: its date and raw bytes.
type LegacyMessage = (DateTime<FixedOffset>, Vec<u8>);

/// The legacy system: accounts with their messages.
#[derive(Clone)]
struct LegacySystem {
    mailboxes: Arc<Vec<(EmailAddress, Vec<LegacyMessage>)>>,
}

#[async_trait]
impl Source for LegacySystem {
    fn kind(&self) -> &'static str {
        "legacy"
    }

    fn location(&self) -> String {
        "legacy system (example)".to_string()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([Capability::Accounts, Capability::Mail])
    }

    async fn accounts(&self) -> carbonio_migrate_core::Result<ResultStream<'_, Account>> {
        let accounts = self
            .mailboxes
            .iter()
            .map(|(a, _)| Ok(Account::new(a.clone())))
            .collect::<Vec<_>>();
        Ok(Box::pin(futures::stream::iter(accounts)))
    }

    async fn mailbox(
        &self,
        account: &Account,
    ) -> carbonio_migrate_core::Result<Box<dyn MailboxReader>> {
        let messages = self
            .mailboxes
            .iter()
            .find(|(a, _)| *a == account.address)
            .map(|(_, m)| m.clone())
            .ok_or_else(|| Error::NotFound {
                what: format!("mailbox of {}", account.address),
            })?;
        Ok(Box::new(LegacyMailbox { messages }))
    }
}

/// One account's single folder, `INBOX`; UIDs are positions + 1.
struct LegacyMailbox {
    messages: Vec<LegacyMessage>,
}

impl LegacyMailbox {
    fn inbox() -> FolderPath {
        FolderPath::parse("INBOX").expect("a valid folder path")
    }

    fn check(&self, folder: &FolderPath) -> carbonio_migrate_core::Result<()> {
        if *folder == Self::inbox() {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: format!("folder {folder}"),
            })
        }
    }

    fn meta(&self, index: usize) -> Option<MessageMeta> {
        let (date, body) = self.messages.get(index)?;
        Some(MessageMeta {
            uid: Uid::new(u32::try_from(index + 1).ok()?)?,
            flags: Flags::default(),
            internal_date: *date,
            size: body.len() as u64,
        })
    }
}

#[async_trait]
impl MailboxReader for LegacyMailbox {
    async fn folders(&mut self) -> carbonio_migrate_core::Result<Vec<Folder>> {
        Ok(vec![Folder::mail(Self::inbox())])
    }

    async fn status(&mut self, folder: &FolderPath) -> carbonio_migrate_core::Result<FolderStatus> {
        self.check(folder)?;
        let n = self.messages.len();
        Ok(FolderStatus {
            uid_validity: 1,
            messages: n as u64,
            uid_next: Some(n as u32 + 1),
        })
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> carbonio_migrate_core::Result<Vec<MessageMeta>> {
        self.check(folder)?;
        let start = after.map_or(0, |u| u.get() as usize);
        Ok((start..self.messages.len())
            .take(limit)
            .filter_map(|i| self.meta(i))
            .collect())
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> carbonio_migrate_core::Result<ResultStream<'a, Message>> {
        self.check(folder)?;
        let found: Vec<_> = uids
            .iter()
            .filter_map(|uid| {
                let i = uid.get() as usize - 1;
                let meta = self.meta(i)?;
                Some(Ok(Message {
                    meta,
                    body: MessageBody::from_bytes(self.messages[i].1.clone()),
                }))
            })
            .collect();
        Ok(Box::pin(futures::stream::iter(found)))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let date = DateTime::parse_from_rfc3339("2019-11-05T14:00:00+01:00")?;
    let legacy = LegacySystem {
        mailboxes: Arc::new(vec![(
            EmailAddress::parse("ada@example.org")?,
            vec![(date, b"Subject: from the old system\r\n\r\nhi\r\n".to_vec())],
        )]),
    };

    // The same suite the built-in adapters pass.
    let report = check_source(&legacy)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    println!("conformance: {report}");

    let destination = MemoryDestination::new();
    let state = tempfile::tempdir()?;
    let engine = Engine::new(
        Arc::new(legacy),
        Arc::new(destination.clone()),
        Arc::new(Journal::open(state.path())?),
        Procedure::named("generic")?,
        EngineSettings::default(),
    )?;
    let summary = engine.run(RunOptions::default()).await?;
    println!(
        "migrated: {} items, {} failed",
        summary.done, summary.failed
    );
    for failure in &summary.failures {
        println!(
            "  failed {} {}: {}",
            failure.phase, failure.key, failure.error
        );
    }
    let inbox = destination.messages_in(
        &EmailAddress::parse("ada@example.org")?,
        &FolderPath::parse("Inbox")?,
    );
    println!("ada@example.org Inbox holds {} message(s)", inbox.len());
    Ok(())
}

//! Copying one account's mail: folder by folder, in UID order, in batches, each
//! batch journaled in one transaction.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures::{FutureExt, StreamExt};

use super::phase::PhaseContext;
use super::progress::ProgressEvent;
use super::recognition::Unaccounted;
use crate::capability::Capability;
use crate::destination::{Change, MailboxWriter};
use crate::error::{Error, Result};
use crate::journal::{FolderKey, MappedMessage};
use crate::model::{Account, Folder, FolderPath, Message, MessageMeta, MessageSignature, Uid};
use crate::source::{FolderCheck, MailboxReader};

/// Metadata read per `list` call: bounds memory whatever the folder size.
const PAGE: usize = 512;
/// Messages per append batch.
const BATCH_MESSAGES: usize = 64;
/// Bytes per append batch (bodies are streamed; this bounds open streams and the
/// work lost when a batch is retried).
const BATCH_BYTES: u64 = 16 << 20;

/// Copies every not-yet-copied message of `account`.
///
/// Resuming: the journal's highest source UID per folder (for the folder's
/// current UIDVALIDITY) is the checkpoint; only later UIDs are read, and
/// destination messages the journal does not account for are recognised by
/// signature (see [`super::recognition`]). A destination that cannot resume
/// midway has the account's records forgotten first and is rewritten from the
/// start.
pub(crate) async fn copy_mail(ctx: &PhaseContext, account: &Account) -> Result<Change> {
    let resumes = ctx.destination.capabilities().has(Capability::ResumeMail);
    if !resumes {
        ctx.journal.forget_messages(account.address.as_str())?;
    }
    let mut first = AccountCopy::open(ctx, account).await?;
    let folders = first.reader.folders().await?;
    let pairs = ctx.rules.map_all(&folders);
    // More connections only help a destination that takes writes independently;
    // an archive is one stream per account.
    let wanted = if resumes {
        ctx.connections_per_account.max(1)
    } else {
        1
    };
    // Every source folder checked at once: folders with nothing new are done
    // without opening them (a delta pass is one exchange per account).
    let paths: Vec<FolderPath> = pairs.iter().map(|(s, _)| s.path.clone()).collect();
    let checks = first.reader.statuses(&paths).await?;
    let mut work = Vec::new();
    for ((source, dest), check) in pairs
        .into_iter()
        .zip(checks.into_iter().chain(std::iter::repeat(None)))
    {
        match &check {
            Some(check) if first.up_to_date(&source, check)? => {
                // Created even when empty, and again if deleted meanwhile.
                first.writer.ensure_folder(&dest).await?;
            }
            _ => work.push((source, dest, check)),
        }
    }
    // Largest first: with several connections the big folder (usually the
    // inbox) starts at once and the small ones share the other connections,
    // instead of the big one starting last and running alone.
    work.sort_by_key(|(_, _, check)| {
        std::cmp::Reverse(check.as_ref().map_or(u64::MAX, |c| c.status.messages))
    });
    let workers = wanted.min(work.len()).max(1);
    let queue = Mutex::new(
        work.into_iter()
            .map(|(source, dest, _)| (source, dest))
            .collect::<VecDeque<_>>(),
    );
    // The first connection set starts on the largest folder at once; the
    // others join as soon as they are open, so their round trips of opening
    // overlap the copy instead of delaying it.
    let queue = &queue;
    let mut runs = vec![drain(first, queue).boxed()];
    for _ in 1..workers {
        runs.push(
            async move {
                let copy = AccountCopy::open(ctx, account).await?;
                drain(copy, queue).await
            }
            .boxed(),
        );
    }
    let counts = futures::future::try_join_all(runs).await?;
    Ok(if counts.iter().sum::<u64>() == 0 {
        Change::Unchanged
    } else {
        Change::Created
    })
}

/// Copies folders from `queue` over `copy` until the queue is empty, then
/// closes the writer; the number of messages copied.
async fn drain(
    mut copy: AccountCopy<'_>,
    queue: &Mutex<VecDeque<(Folder, Folder)>>,
) -> Result<u64> {
    loop {
        // A poisoned lock only means another worker panicked; the queue is intact.
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some((source_folder, dest_folder)) = next else {
            break;
        };
        copy.folder(&source_folder, &dest_folder).await?;
    }
    let AccountCopy { writer, copied, .. } = copy;
    writer.finish().await?;
    Ok(copied)
}

struct AccountCopy<'a> {
    ctx: &'a PhaseContext,
    account: &'a Account,
    reader: Box<dyn MailboxReader>,
    writer: Box<dyn MailboxWriter>,
    written: Option<Box<dyn MailboxReader>>,
    copied: u64,
}

impl<'a> AccountCopy<'a> {
    /// Opens one connection pair (and a read-back reader where recognition needs it).
    async fn open(ctx: &'a PhaseContext, account: &'a Account) -> Result<AccountCopy<'a>> {
        let caps = ctx.destination.capabilities();
        // Only a destination that keeps what it was given can hold messages the
        // journal does not know; reading it back is how they are recognised.
        let read_back = caps.has(Capability::ResumeMail) && caps.has(Capability::ReadBack);
        // The connections are opened together: each costs several round trips.
        let (reader, writer, written) = futures::try_join!(
            ctx.source.mailbox(account),
            ctx.destination.mailbox(account),
            async {
                if read_back {
                    ctx.destination.read_back(account).await.map(Some)
                } else {
                    Ok(None)
                }
            }
        )?;
        Ok(AccountCopy {
            ctx,
            account,
            reader,
            writer,
            written,
            copied: 0,
        })
    }

    async fn folder(&mut self, source_folder: &Folder, dest_folder: &Folder) -> Result<()> {
        let ctx = self.ctx;
        let address = self.account.address.as_str();
        self.writer.ensure_folder(dest_folder).await?;
        let status = self.reader.status(&source_folder.path).await?;
        let key = FolderKey {
            account: address.to_string(),
            folder: source_folder.path.to_string(),
            uid_validity: status.uid_validity,
        };
        let known = ctx.journal.folder_message_count(&key)?;
        // A folder this run created holds only what this run appends.
        let fresh = self.writer.created(dest_folder);
        let unaccounted = match &mut self.written {
            Some(written) if !fresh => {
                let after = if known == 0 {
                    None
                } else {
                    ctx.journal.max_dst_uid(&key)?
                };
                // With journal rows but no destination UIDs recorded, the
                // destination cannot say which of its messages are new.
                if known > 0 && after.is_none() {
                    Unaccounted::default()
                } else {
                    Unaccounted::read(&mut **written, &dest_folder.path, after).await?
                }
            }
            _ => Unaccounted::default(),
        };
        ctx.progress.emit(ProgressEvent::MailFolderStarted {
            account: address.to_string(),
            folder: source_folder.path.to_string(),
            messages: status.messages,
            already_copied: known,
        });
        let after = ctx.journal.max_uid(&key)?;
        // Messages copied by earlier runs: their flags may have changed since.
        let copied_before = after;
        // The source connection reads the next batch while the destination
        // connection appends this one: each side waits on the other only when
        // a batch is ready and not yet taken (a channel of one batch), so at
        // most two batches are held at a time.
        let (ready, taken) = tokio::sync::mpsc::channel(1);
        let reading = BatchReader {
            ctx,
            account: self.account,
            reader: &mut *self.reader,
            folder: source_folder,
            unaccounted,
        };
        let writing = BatchWriter {
            ctx,
            account: self.account,
            writer: &mut *self.writer,
            source_folder,
            dest_folder,
            key: &key,
            copied: &mut self.copied,
        };
        // Joined, not raced: an append in progress is never abandoned halfway.
        // When writing fails, reading stops at its next hand-over; when reading
        // fails, the batches already read are still written.
        let (read, written) = futures::join!(reading.run(after, ready), writing.run(taken));
        written?;
        read?;
        if ctx.sync_flags {
            if let Some(up_to) = copied_before {
                self.sync_flags(source_folder, dest_folder, &key, up_to)
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether the journal already holds everything `check` says the source
    /// folder has: no UID above the journaled maximum, and with
    /// `mail.sync_flags` no flag change since the last sync (CONDSTORE). Such
    /// a folder is reported and left alone.
    fn up_to_date(&self, source_folder: &Folder, check: &FolderCheck) -> Result<bool> {
        let ctx = self.ctx;
        let key = FolderKey {
            account: self.account.address.to_string(),
            folder: source_folder.path.to_string(),
            uid_validity: check.status.uid_validity,
        };
        let max = ctx.journal.max_uid(&key)?;
        let last_uid = match check.status.uid_next {
            Some(next) => next.saturating_sub(1),
            None if check.status.messages == 0 => 0,
            None => return Ok(false),
        };
        let nothing_new = check.status.messages == 0
            || max.is_some_and(|m| u64::from(last_uid) <= u64::from(m.get()));
        let flags_current = !ctx.sync_flags
            || max.is_none()
            || (check.highest_modseq.is_some()
                && ctx.journal.folder_modseq(&key)? == check.highest_modseq);
        if !(nothing_new && flags_current) {
            return Ok(false);
        }
        ctx.progress.emit(ProgressEvent::MailFolderStarted {
            account: key.account.clone(),
            folder: key.folder.clone(),
            messages: check.status.messages,
            already_copied: ctx.journal.folder_message_count(&key)?,
        });
        Ok(true)
    }

    /// Brings the destination flags of messages copied by earlier runs (source
    /// UIDs up to `up_to`) in line with the source. Only messages whose flags
    /// differ from what the journal says was written are changed; with CONDSTORE
    /// only messages changed since the last sync are even read.
    async fn sync_flags(
        &mut self,
        source_folder: &Folder,
        dest_folder: &Folder,
        key: &FolderKey,
        up_to: Uid,
    ) -> Result<()> {
        let ctx = self.ctx;
        let path = &source_folder.path;
        let since = ctx.journal.folder_modseq(key)?;
        let current = self.reader.highest_modseq(path).await?;
        if since.is_some() && since == current {
            return Ok(());
        }
        let mut cursor = None;
        let mut changed = 0u64;
        let mut done = false;
        while !done {
            let page = match since {
                Some(modseq) => self.reader.list_changed(path, modseq, cursor, PAGE).await?,
                None => self.reader.list(path, cursor, PAGE).await?,
            };
            let Some(last) = page.last() else { break };
            cursor = Some(last.uid);
            let mut updates = Vec::new();
            let mut fingerprints = Vec::new();
            for meta in page {
                if meta.uid > up_to {
                    // Copied in this run, with the flags it has now.
                    done = true;
                    break;
                }
                let Some(row) = ctx.journal.lookup(key, meta.uid)? else {
                    continue;
                };
                let (Some(dst_uid), fingerprint) = (row.dst_uid, meta.flags.fingerprint()) else {
                    continue;
                };
                if row.flags != Some(fingerprint) {
                    updates.push((dst_uid, meta.flags));
                    fingerprints.push((meta.uid, fingerprint));
                }
            }
            if !updates.is_empty() {
                changed += updates.len() as u64;
                self.writer.set_flags(dest_folder, updates).await?;
                ctx.journal.set_flags(key, &fingerprints)?;
            }
        }
        if let Some(modseq) = current {
            ctx.journal.set_folder_modseq(key, modseq)?;
        }
        if changed > 0 {
            tracing::info!(account = %self.account.address, folder = %path, changed, "flags synced");
        }
        Ok(())
    }
}

/// A batch read from the source and ready to append.
struct ReadBatch {
    /// Messages found already on the destination: journal rows, nothing to write.
    recognised: Vec<MappedMessage>,
    /// Messages to append, bodies read (in memory or spooled).
    messages: Vec<Message>,
}

/// The reading half of a folder copy: lists the folder after the checkpoint,
/// leaves out what is too big or already on the destination, and reads the
/// bodies of the rest, batch by batch.
struct BatchReader<'a> {
    ctx: &'a PhaseContext,
    account: &'a Account,
    reader: &'a mut dyn MailboxReader,
    folder: &'a Folder,
    unaccounted: Unaccounted,
}

impl BatchReader<'_> {
    /// Reads every batch after `after` into `ready`; stops early, without an
    /// error, when the writing half has stopped taking batches.
    async fn run(
        mut self,
        mut after: Option<Uid>,
        ready: tokio::sync::mpsc::Sender<ReadBatch>,
    ) -> Result<()> {
        loop {
            if self.ctx.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let page = self.reader.list(&self.folder.path, after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.uid);
            for batch in batches(page) {
                if self.ctx.cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                let read = self.read(batch).await?;
                if ready.send(read).await.is_err() {
                    return Ok(());
                }
            }
        }
    }

    async fn read(&mut self, batch: Vec<MessageMeta>) -> Result<ReadBatch> {
        let ctx = self.ctx;
        let mut recognised = Vec::new();
        let mut wanted = Vec::with_capacity(batch.len());
        for meta in &batch {
            match ctx.max_message_size {
                Some(max) if meta.size > max => {
                    let reason = format!(
                        "{} bytes is over mail.max_message_size ({max} bytes); not copied",
                        meta.size
                    );
                    fail_message(
                        ctx,
                        &message_item(self.account, self.folder, meta.uid),
                        reason,
                    )?;
                }
                _ => wanted.push(meta.uid),
            }
        }
        if !self.unaccounted.is_empty() && !wanted.is_empty() {
            // Already on the destination though not journaled: record, don't copy.
            let headers = self
                .reader
                .fetch_headers(&self.folder.path, &wanted)
                .await?;
            for (uid, header, size) in headers {
                let signature = MessageSignature::compute(&header, size);
                if let Some(dst_uid) = self.unaccounted.take(&signature) {
                    wanted.retain(|u| *u != uid);
                    recognised.push(MappedMessage {
                        src_uid: uid,
                        dst_uid: Some(dst_uid),
                        size,
                        signature: Some(signature),
                        // What the destination copy carries is unknown: a flag
                        // sync sets it.
                        flags: None,
                    });
                }
            }
        }
        let mut messages: Vec<Message> = Vec::with_capacity(wanted.len());
        if !wanted.is_empty() {
            let mut stream = self.reader.fetch(&self.folder.path, &wanted).await?;
            while let Some(m) = stream.next().await {
                messages.push(m?);
            }
        }
        // Metadata from the listing is authoritative for flags and dates; the
        // fetch gives the body. Keep them paired by UID.
        for m in &mut messages {
            if let Some(meta) = batch.iter().find(|b| b.uid == m.meta.uid) {
                m.meta = meta.clone();
            }
        }
        Ok(ReadBatch {
            recognised,
            messages,
        })
    }
}

/// The writing half of a folder copy: appends each batch the reading half
/// hands over and journals it in one transaction.
struct BatchWriter<'a> {
    ctx: &'a PhaseContext,
    account: &'a Account,
    writer: &'a mut dyn MailboxWriter,
    source_folder: &'a Folder,
    dest_folder: &'a Folder,
    key: &'a FolderKey,
    copied: &'a mut u64,
}

impl BatchWriter<'_> {
    /// Writes batches until the reading half is done (or gone).
    async fn run(mut self, mut taken: tokio::sync::mpsc::Receiver<ReadBatch>) -> Result<()> {
        while let Some(batch) = taken.recv().await {
            self.write(batch).await?;
        }
        Ok(())
    }

    async fn write(&mut self, batch: ReadBatch) -> Result<()> {
        let ctx = self.ctx;
        let account = self.account;
        let ReadBatch {
            recognised: mut rows,
            messages,
        } = batch;
        let metas: Vec<MessageMeta> = messages.iter().map(|m| m.meta.clone()).collect();
        let outcomes = if messages.is_empty() {
            Vec::new()
        } else {
            let bytes: u64 = metas.iter().map(|m| m.size).sum();
            ctx.throttle.acquire(metas.len() as u64, bytes).await;
            self.writer.append(self.dest_folder, messages).await?
        };
        if outcomes.len() != metas.len() {
            return Err(Error::Protocol {
                context: format!(
                    "appending to {} of {}",
                    self.dest_folder.path, account.address
                ),
                message: format!("{} outcomes for {} messages", outcomes.len(), metas.len()),
            });
        }
        let mut bytes = 0u64;
        let mut copied = 0u64;
        let mut slow_down = None;
        for (meta, outcome) in metas.iter().zip(outcomes) {
            if slow_down.is_some() {
                // Answers after a throttled message are not journaled: the
                // checkpoint must not pass the throttled one. What they
                // stored is recognised by signature when the copy resumes.
                continue;
            }
            match outcome {
                Err(e) if e.is_retryable() => slow_down = Some(e),
                Ok(dst_uid) => {
                    bytes += meta.size;
                    copied += 1;
                    rows.push(MappedMessage {
                        src_uid: meta.uid,
                        dst_uid,
                        size: meta.size,
                        signature: None,
                        flags: Some(meta.flags.fingerprint()),
                    });
                }
                Err(e) => fail_message(
                    ctx,
                    &message_item(account, self.source_folder, meta.uid),
                    e.to_string(),
                )?,
            }
        }
        ctx.journal.record_messages(self.key, &rows)?;
        *self.copied += copied;
        ctx.progress.emit(ProgressEvent::MailCopied {
            account: account.address.to_string(),
            folder: self.source_folder.path.to_string(),
            messages: copied,
            bytes,
        });
        // A server asking to slow down (or a message lost with its
        // connection) fails the account's attempt: it is retried with backoff
        // from the checkpoint just journaled.
        match slow_down {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The item key a message failure is recorded under.
fn message_item(account: &Account, folder: &Folder, uid: Uid) -> String {
    format!("message {} {} uid {uid}", account.address, folder.path)
}

/// Records a message the run could not copy, and goes on.
fn fail_message(ctx: &PhaseContext, key: &str, reason: String) -> Result<()> {
    ctx.journal.fail_item(ctx.run, "data", key, &reason)?;
    ctx.progress.emit(ProgressEvent::ItemFinished {
        phase: "data".into(),
        key: key.to_string(),
        outcome: "failed".into(),
        error: Some(reason),
    });
    Ok(())
}

/// Splits a page into append batches bounded in count and bytes.
fn batches(page: Vec<MessageMeta>) -> Vec<Vec<MessageMeta>> {
    let mut out: Vec<Vec<MessageMeta>> = Vec::new();
    let mut bytes = 0u64;
    for meta in page {
        let full = out
            .last()
            .is_none_or(|b| b.len() >= BATCH_MESSAGES || bytes + meta.size > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += meta.size;
        if let Some(b) = out.last_mut() {
            b.push(meta);
        }
    }
    out
}

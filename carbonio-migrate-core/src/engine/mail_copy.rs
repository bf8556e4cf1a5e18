//! Copying one account's mail: folder by folder, in UID order, in batches, each
//! batch journaled in one transaction.

use futures::StreamExt;

use super::phase::PhaseContext;
use super::progress::ProgressEvent;
use crate::capability::Capability;
use crate::destination::Change;
use crate::error::{Error, Result};
use crate::journal::{FolderKey, MappedMessage};
use crate::model::{Account, Folder, Message, MessageMeta, Uid};

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
/// current UIDVALIDITY) is the checkpoint; only later UIDs are read. A
/// destination that cannot resume midway has the account's records forgotten
/// first and is rewritten from the start.
pub(crate) async fn copy_mail(ctx: &PhaseContext, account: &Account) -> Result<Change> {
    let address = account.address.as_str();
    if !ctx.destination.capabilities().has(Capability::ResumeMail) {
        ctx.journal.forget_messages(address)?;
    }
    let mut reader = ctx.source.mailbox(account).await?;
    let mut writer = ctx.destination.mailbox(account).await?;
    let folders = reader.folders().await?;
    let mut copied = 0u64;
    for (source_folder, dest_folder) in ctx.rules.map_all(&folders) {
        writer.ensure_folder(&dest_folder).await?;
        let status = reader.status(&source_folder.path).await?;
        let key = FolderKey {
            account: address.to_string(),
            folder: source_folder.path.to_string(),
            uid_validity: status.uid_validity,
        };
        let mut after = ctx.journal.max_uid(&key)?;
        ctx.progress.emit(ProgressEvent::MailFolderStarted {
            account: address.to_string(),
            folder: source_folder.path.to_string(),
            messages: status.messages,
            already_copied: ctx.journal.folder_message_count(&key)?,
        });
        loop {
            if ctx.cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let page = reader.list(&source_folder.path, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.uid);
            for batch in batches(page) {
                if ctx.cancel.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                copied += copy_batch(
                    ctx,
                    account,
                    &mut *reader,
                    &mut *writer,
                    &source_folder,
                    &dest_folder,
                    &key,
                    batch,
                )
                .await?;
            }
        }
    }
    writer.finish().await?;
    Ok(if copied == 0 {
        Change::Unchanged
    } else {
        Change::Created
    })
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

#[allow(clippy::too_many_arguments)]
async fn copy_batch(
    ctx: &PhaseContext,
    account: &Account,
    reader: &mut dyn crate::source::MailboxReader,
    writer: &mut dyn crate::destination::MailboxWriter,
    source_folder: &Folder,
    dest_folder: &Folder,
    key: &FolderKey,
    batch: Vec<MessageMeta>,
) -> Result<u64> {
    let item = |uid: Uid| {
        format!(
            "message {} {} uid {uid}",
            account.address, source_folder.path
        )
    };
    let mut wanted = Vec::with_capacity(batch.len());
    for meta in &batch {
        match ctx.max_message_size {
            Some(max) if meta.size > max => {
                let reason = format!(
                    "{} bytes is over mail.max_message_size ({max} bytes); not copied",
                    meta.size
                );
                ctx.journal
                    .fail_item(ctx.run, "data", &item(meta.uid), &reason)?;
                ctx.progress.emit(ProgressEvent::ItemFinished {
                    phase: "data".into(),
                    key: item(meta.uid),
                    outcome: "failed".into(),
                    error: Some(reason),
                });
            }
            _ => wanted.push(meta.uid),
        }
    }
    let mut messages: Vec<Message> = Vec::with_capacity(wanted.len());
    {
        let mut stream = reader.fetch(&source_folder.path, &wanted).await?;
        while let Some(m) = stream.next().await {
            messages.push(m?);
        }
    }
    // Metadata from the listing is authoritative for flags and dates; the fetch
    // gives the body. Keep them paired by UID.
    for m in &mut messages {
        if let Some(meta) = batch.iter().find(|b| b.uid == m.meta.uid) {
            m.meta = meta.clone();
        }
    }
    let metas: Vec<MessageMeta> = messages.iter().map(|m| m.meta.clone()).collect();
    let outcomes = writer.append(dest_folder, messages).await?;
    if outcomes.len() != metas.len() {
        return Err(Error::Protocol {
            context: format!("appending to {} of {}", dest_folder.path, account.address),
            message: format!("{} outcomes for {} messages", outcomes.len(), metas.len()),
        });
    }
    let mut rows = Vec::with_capacity(metas.len());
    let mut bytes = 0u64;
    for (meta, outcome) in metas.iter().zip(outcomes) {
        match outcome {
            Ok(dst_uid) => {
                bytes += meta.size;
                rows.push(MappedMessage {
                    src_uid: meta.uid,
                    dst_uid,
                    size: meta.size,
                    signature: None,
                });
            }
            Err(e) => {
                let reason = e.to_string();
                ctx.journal
                    .fail_item(ctx.run, "data", &item(meta.uid), &reason)?;
                ctx.progress.emit(ProgressEvent::ItemFinished {
                    phase: "data".into(),
                    key: item(meta.uid),
                    outcome: "failed".into(),
                    error: Some(reason),
                });
            }
        }
    }
    ctx.journal.record_messages(key, &rows)?;
    ctx.progress.emit(ProgressEvent::MailCopied {
        account: account.address.to_string(),
        folder: source_folder.path.to_string(),
        messages: rows.len() as u64,
        bytes,
    });
    Ok(rows.len() as u64)
}

//! `verify`: compares what the source holds with what the destination holds,
//! folder by folder, and names every missing, extra or different message.

use std::collections::HashMap;

use futures::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::runner::Engine;
use super::shard::Shard;
use crate::capability::Capability;
use crate::error::{Error, Result};
use crate::model::{header_block, Account, EmailAddress, FolderPath, Uid};
use crate::source::MailboxReader;

/// Messages fetched per request while hashing.
const FETCH_BATCH: usize = 64;

/// What `verify` compares.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Hash every message on both sides (otherwise counts and bytes, and hashes
    /// only for folders whose counts or bytes differ, to name the messages).
    pub deep: bool,
    /// Only these accounts.
    pub accounts: Option<Vec<EmailAddress>>,
    /// Only this shard's accounts.
    pub shard: Option<Shard>,
}

impl VerifyOptions {
    /// Every account, every message hashed on both sides (`verify --deep`).
    pub fn deep() -> Self {
        VerifyOptions {
            deep: true,
            ..VerifyOptions::default()
        }
    }
}

/// Counts and bytes of one folder on both sides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FolderVerify {
    /// The source folder.
    pub source_folder: String,
    /// Where it goes on the destination.
    pub destination_folder: String,
    /// Messages on the source.
    pub source_messages: u64,
    /// Bytes on the source.
    pub source_bytes: u64,
    /// Messages on the destination.
    pub destination_messages: u64,
    /// Bytes on the destination.
    pub destination_bytes: u64,
}

/// One account's folders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountVerify {
    /// The account.
    pub address: String,
    /// Its folders.
    pub folders: Vec<FolderVerify>,
}

/// One difference, named so an admin can find the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The account.
    pub account: String,
    /// The source folder (or the destination folder for `extra`).
    pub folder: String,
    /// `missing`, `extra`, `folder missing` or `unreadable`.
    pub kind: String,
    /// The message's UID on the side it is on.
    pub uid: Option<u32>,
    /// Its Message-ID.
    pub message_id: Option<String>,
    /// Its subject.
    pub subject: Option<String>,
    /// A sentence saying what differs.
    pub detail: String,
}

/// The result of `verify`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Per account, per folder counts.
    pub accounts: Vec<AccountVerify>,
    /// Every difference found.
    pub differences: Vec<Difference>,
}

impl VerifyReport {
    /// True when both sides hold the same messages.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

struct Described {
    uid: Uid,
    message_id: Option<String>,
    subject: Option<String>,
}

fn describe(uid: Uid, raw: &[u8]) -> Described {
    let parsed = mail_parser::MessageParser::new().parse_headers(header_block(raw));
    Described {
        uid,
        message_id: parsed
            .as_ref()
            .and_then(|m| m.message_id().map(|s| format!("<{s}>"))),
        subject: parsed
            .as_ref()
            .and_then(|m| m.subject().map(str::to_string)),
    }
}

/// Lists a folder fully, page by page, returning (count, bytes, uids in order).
async fn inventory(
    reader: &mut dyn MailboxReader,
    folder: &FolderPath,
) -> Result<(u64, u64, Vec<Uid>)> {
    let (mut count, mut bytes, mut uids) = (0u64, 0u64, Vec::new());
    let mut after = None;
    loop {
        let page = reader.list(folder, after, 1024).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.uid);
        count += page.len() as u64;
        bytes += page.iter().map(|m| m.size).sum::<u64>();
        uids.extend(page.iter().map(|m| m.uid));
    }
    Ok((count, bytes, uids))
}

/// Hashes every message of `uids`, calling `each` with the hash and a description.
async fn hash_all(
    reader: &mut dyn MailboxReader,
    folder: &FolderPath,
    uids: &[Uid],
    mut each: impl FnMut([u8; 32], Described),
) -> Result<()> {
    for chunk in uids.chunks(FETCH_BATCH) {
        let mut stream = reader.fetch(folder, chunk).await?;
        while let Some(m) = stream.next().await {
            let m = m?;
            let uid = m.meta.uid;
            let raw = m.body.read_all().await?;
            each(Sha256::digest(&raw).into(), describe(uid, &raw));
        }
    }
    Ok(())
}

impl Engine {
    /// Compares source and destination mail for every selected account.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the destination cannot read back; errors that
    /// stop the comparison as a whole. A mailbox that cannot be read is a
    /// difference of kind `unreadable`, and the other accounts go on.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        if !self.destination().capabilities().has(Capability::ReadBack) {
            return Err(Error::unsupported(
                "reading back mail for verify",
                self.destination().kind(),
            ));
        }
        let mut report = VerifyReport::default();
        let mut accounts = self.source().accounts().await?;
        while let Some(account) = accounts.next().await {
            let Ok(account) = account else { continue };
            if options
                .accounts
                .as_ref()
                .is_some_and(|l| !l.contains(&account.address))
                || options
                    .shard
                    .is_some_and(|s| !s.contains(account.address.as_str()))
            {
                continue;
            }
            if let Err(e) = self
                .verify_account(&account, options.deep, &mut report)
                .await
            {
                report.differences.push(Difference {
                    account: account.address.to_string(),
                    folder: String::new(),
                    kind: "unreadable".into(),
                    uid: None,
                    message_id: None,
                    subject: None,
                    detail: e.chain(),
                });
            }
        }
        Ok(report)
    }

    async fn verify_account(
        &self,
        account: &Account,
        deep: bool,
        report: &mut VerifyReport,
    ) -> Result<()> {
        let mut src = self.source().mailbox(account).await?;
        let mut dst = self.destination().read_back(account).await?;
        let dst_folders = dst.folders().await?;
        let mut result = AccountVerify {
            address: account.address.to_string(),
            folders: Vec::new(),
        };
        let folders = src.folders().await?;
        for (source_folder, dest_folder) in self.settings().rules.map_all(&folders) {
            let (sc, sb, suids) = inventory(&mut *src, &source_folder.path).await?;
            let exists = dst_folders.iter().any(|f| f.path == dest_folder.path);
            let (dc, db, duids) = if exists {
                inventory(&mut *dst, &dest_folder.path).await?
            } else {
                (0, 0, Vec::new())
            };
            result.folders.push(FolderVerify {
                source_folder: source_folder.path.to_string(),
                destination_folder: dest_folder.path.to_string(),
                source_messages: sc,
                source_bytes: sb,
                destination_messages: dc,
                destination_bytes: db,
            });
            if !exists {
                report.differences.push(Difference {
                    account: account.address.to_string(),
                    folder: source_folder.path.to_string(),
                    kind: "folder missing".into(),
                    uid: None,
                    message_id: None,
                    subject: None,
                    detail: format!(
                        "destination has no folder {} ({sc} messages on the source)",
                        dest_folder.path
                    ),
                });
                continue;
            }
            if !deep && sc == dc && sb == db {
                continue;
            }
            // Match messages by content hash: a multiset, so duplicates count.
            let mut on_dest: HashMap<[u8; 32], Vec<Described>> = HashMap::new();
            hash_all(&mut *dst, &dest_folder.path, &duids, |h, d| {
                on_dest.entry(h).or_default().push(d)
            })
            .await?;
            let mut missing = Vec::new();
            hash_all(&mut *src, &source_folder.path, &suids, |h, d| match on_dest
                .get_mut(&h)
                .and_then(|v| v.pop())
            {
                Some(_) => {}
                None => missing.push(d),
            })
            .await?;
            for d in missing {
                report.differences.push(Difference {
                    account: account.address.to_string(),
                    folder: source_folder.path.to_string(),
                    kind: "missing".into(),
                    uid: Some(d.uid.get()),
                    detail: format!(
                        "source message uid {} is not in destination folder {} with the same bytes",
                        d.uid, dest_folder.path
                    ),
                    message_id: d.message_id,
                    subject: d.subject,
                });
            }
            let mut extra: Vec<Described> = on_dest.into_values().flatten().collect();
            extra.sort_by_key(|d| d.uid);
            for d in extra {
                report.differences.push(Difference {
                    account: account.address.to_string(),
                    folder: dest_folder.path.to_string(),
                    kind: "extra".into(),
                    uid: Some(d.uid.get()),
                    detail: format!(
                        "destination message uid {} has no identical message on the source",
                        d.uid
                    ),
                    message_id: d.message_id,
                    subject: d.subject,
                });
            }
        }
        report.accounts.push(result);
        Ok(())
    }
}

//! One account's mail held in memory, and the [`MailboxReader`] over it shared by
//! [`super::MemorySource`] and [`super::MemoryDestination::read_back`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset};

use crate::error::{Error, Result};
use crate::model::{
    EmailAddress, Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid,
};
use crate::source::{FolderStatus, MailboxReader, ResultStream};

/// Locks a mutex, going on with the data when a test thread panicked while
/// holding it: the stores are plain collections that a panic cannot leave
/// half-updated in a way that matters to a test.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A message as the memory adapters hold it, for inspection by tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its UID in the folder (assigned 1, 2, 3... in the order added).
    pub uid: Uid,
    /// Its flags and keywords.
    pub flags: Flags,
    /// Its internal date.
    pub internal_date: DateTime<FixedOffset>,
    /// The raw bytes.
    pub body: Vec<u8>,
}

/// A message in a folder; the body is [`Bytes`] so a fetch shares it instead of
/// copying it.
#[derive(Clone, Debug)]
struct HeldMessage {
    flags: Flags,
    internal_date: DateTime<FixedOffset>,
    body: Bytes,
}

impl HeldMessage {
    fn meta(&self, uid: Uid) -> MessageMeta {
        MessageMeta {
            uid,
            flags: self.flags.clone(),
            internal_date: self.internal_date,
            size: self.body.len() as u64,
        }
    }
}

/// One folder: its description, UIDVALIDITY and messages by UID.
#[derive(Clone, Debug)]
struct HeldFolder {
    folder: Folder,
    uid_validity: u32,
    next_uid: u32,
    messages: BTreeMap<Uid, HeldMessage>,
}

/// The mail of one account: folders in the order they were created.
#[derive(Clone, Debug, Default)]
pub(crate) struct MailStore {
    folders: Vec<HeldFolder>,
}

impl MailStore {
    fn position(&self, path: &FolderPath) -> Option<usize> {
        self.folders.iter().position(|f| &f.folder.path == path)
    }

    fn held(&self, path: &FolderPath) -> Option<&HeldFolder> {
        self.folders.iter().find(|f| &f.folder.path == path)
    }

    /// Whether the folder exists.
    pub(crate) fn has_folder(&self, path: &FolderPath) -> bool {
        self.position(path).is_some()
    }

    /// Adds the folder unless a folder with its path exists; true when added.
    pub(crate) fn add_folder(&mut self, folder: Folder) -> bool {
        if self.has_folder(&folder.path) {
            return false;
        }
        self.folders.push(HeldFolder {
            folder,
            uid_validity: 1,
            next_uid: 1,
            messages: BTreeMap::new(),
        });
        true
    }

    /// Sets a folder's UIDVALIDITY, creating it as a mail folder if missing. UIDs
    /// are kept: tests use this to simulate a server that renumbered a folder.
    pub(crate) fn set_uid_validity(&mut self, path: &FolderPath, uid_validity: u32) {
        self.add_folder(Folder::mail(path.clone()));
        if let Some(i) = self.position(path) {
            self.folders[i].uid_validity = uid_validity;
        }
    }

    /// Replaces a message's flags; `false` when there is no such message.
    pub(crate) fn set_flags(&mut self, path: &FolderPath, uid: Uid, flags: Flags) -> bool {
        let Some(i) = self.position(path) else {
            return false;
        };
        match self.folders[i].messages.get_mut(&uid) {
            Some(message) => {
                message.flags = flags;
                true
            }
            None => false,
        }
    }

    /// Stores a message with the folder's next UID, creating the folder as a mail
    /// folder if missing.
    pub(crate) fn add_message(
        &mut self,
        path: &FolderPath,
        flags: Flags,
        internal_date: DateTime<FixedOffset>,
        body: Bytes,
    ) -> Result<Uid> {
        self.add_folder(Folder::mail(path.clone()));
        let Some(i) = self.position(path) else {
            return Err(Error::NotFound {
                what: format!("folder {path}"),
            });
        };
        let held = &mut self.folders[i];
        // UID u32::MAX stays unused so `uid_next` always fits.
        let uid = Uid::new(held.next_uid)
            .filter(|_| held.next_uid < u32::MAX)
            .ok_or_else(|| Error::Protocol {
                context: format!("appending to folder {path}"),
                message: "the folder ran out of UIDs".into(),
            })?;
        held.next_uid += 1;
        held.messages.insert(
            uid,
            HeldMessage {
                flags,
                internal_date,
                body,
            },
        );
        Ok(uid)
    }

    /// Every folder, parents (when present) before children, otherwise in
    /// creation order.
    pub(crate) fn folders(&self) -> Vec<Folder> {
        let mut out: Vec<Folder> = Vec::with_capacity(self.folders.len());
        for held in &self.folders {
            // Ancestors first, outermost first, each when it exists and was not emitted.
            let segments = held.folder.path.segments();
            for depth in 1..=segments.len() {
                let Ok(prefix) = FolderPath::new(segments[..depth].iter().cloned()) else {
                    continue;
                };
                if out.iter().any(|f| f.path == prefix) {
                    continue;
                }
                if let Some(found) = self.held(&prefix) {
                    out.push(found.folder.clone());
                }
            }
        }
        out
    }

    /// The messages of a folder in UID order; empty when the folder is missing.
    pub(crate) fn messages(&self, path: &FolderPath) -> Vec<StoredMessage> {
        self.held(path)
            .map(|held| {
                held.messages
                    .iter()
                    .map(|(uid, m)| StoredMessage {
                        uid: *uid,
                        flags: m.flags.clone(),
                        internal_date: m.internal_date,
                        body: m.body.to_vec(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// UIDVALIDITY and counts of a folder, `None` when it is missing.
    pub(crate) fn status(&self, path: &FolderPath) -> Option<FolderStatus> {
        self.held(path).map(|held| FolderStatus {
            uid_validity: held.uid_validity,
            messages: held.messages.len() as u64,
            uid_next: Some(held.next_uid),
        })
    }
}

/// The mail of every account of one memory adapter, shared with its readers.
pub(crate) type SharedMail = Arc<Mutex<BTreeMap<EmailAddress, MailStore>>>;

/// Reads one account's mail from a [`SharedMail`]. Every call sees the store as
/// it is now, so messages added between two calls show up (delta passes).
pub(crate) struct MemoryMailboxReader {
    mail: SharedMail,
    account: EmailAddress,
    /// `memory source` or `memory destination`, for error messages.
    side: &'static str,
}

impl MemoryMailboxReader {
    /// A reader of `account`'s mail.
    pub(crate) fn new(mail: SharedMail, account: EmailAddress, side: &'static str) -> Self {
        MemoryMailboxReader {
            mail,
            account,
            side,
        }
    }

    fn missing_folder(&self, path: &FolderPath) -> Error {
        Error::NotFound {
            what: format!("folder {path} of account {} in {}", self.account, self.side),
        }
    }

    /// Runs `read` on the folder, or fails naming account and folder.
    fn with_folder<T>(&self, path: &FolderPath, read: impl FnOnce(&HeldFolder) -> T) -> Result<T> {
        let mail = lock(&self.mail);
        mail.get(&self.account)
            .and_then(|store| store.held(path))
            .map(read)
            .ok_or_else(|| self.missing_folder(path))
    }
}

#[async_trait]
impl MailboxReader for MemoryMailboxReader {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        let mail = lock(&self.mail);
        Ok(mail
            .get(&self.account)
            .map(MailStore::folders)
            .unwrap_or_default())
    }

    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        let mail = lock(&self.mail);
        mail.get(&self.account)
            .and_then(|store| store.status(folder))
            .ok_or_else(|| self.missing_folder(folder))
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        self.with_folder(folder, |held| {
            let range = match after {
                Some(after) => held
                    .messages
                    .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
                None => held.messages.range(..),
            };
            range.take(limit).map(|(uid, m)| m.meta(*uid)).collect()
        })
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        // Cloning `Bytes` shares the stored body, so this holds no copy of the mail.
        let found: Vec<Result<Message>> = self.with_folder(folder, |held| {
            uids.iter()
                .filter_map(|uid| {
                    held.messages.get(uid).map(|m| {
                        Ok(Message {
                            meta: m.meta(*uid),
                            body: MessageBody::from_bytes(m.body.clone()),
                        })
                    })
                })
                .collect()
        })?;
        Ok(Box::pin(futures::stream::iter(found)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn date() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2012-02-29T23:59:59+01:00").unwrap()
    }

    fn reader_with(paths: &[&str], messages: usize) -> MemoryMailboxReader {
        let account = EmailAddress::parse("ada@example.org").unwrap();
        let mut store = MailStore::default();
        for p in paths {
            store.add_folder(Folder::mail(FolderPath::parse(p).unwrap()));
        }
        let inbox = FolderPath::parse("Inbox").unwrap();
        for i in 0..messages {
            store
                .add_message(
                    &inbox,
                    Flags::default(),
                    date(),
                    Bytes::from(format!("m{i}")),
                )
                .unwrap();
        }
        let mail: SharedMail = Arc::new(Mutex::new(BTreeMap::from([(account.clone(), store)])));
        MemoryMailboxReader::new(mail, account, "memory source")
    }

    #[tokio::test]
    async fn folders_come_parents_first_even_when_added_later() {
        let mut r = reader_with(&["Inbox/Projekte/Überblick", "Inbox", "Inbox/Projekte"], 0);
        let paths: Vec<String> = r
            .folders()
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.path.to_string())
            .collect();
        assert_eq!(
            paths,
            ["Inbox", "Inbox/Projekte", "Inbox/Projekte/Überblick"]
        );
    }

    #[tokio::test]
    async fn list_pages_after_a_uid_within_the_limit() {
        let mut r = reader_with(&[], 5);
        let inbox = FolderPath::parse("Inbox").unwrap();
        let page = r.list(&inbox, Uid::new(2), 2).await.unwrap();
        let uids: Vec<u32> = page.iter().map(|m| m.uid.get()).collect();
        assert_eq!(uids, [3, 4]);
        assert_eq!(page[0].size, 2);
        assert!(r.list(&inbox, Uid::new(5), 10).await.unwrap().is_empty());
        assert_eq!(r.status(&inbox).await.unwrap().messages, 5);
    }

    #[tokio::test]
    async fn fetch_keeps_asked_order_and_leaves_out_missing() {
        let mut r = reader_with(&[], 3);
        let inbox = FolderPath::parse("Inbox").unwrap();
        let uids = [
            Uid::new(3).unwrap(),
            Uid::new(9).unwrap(),
            Uid::new(1).unwrap(),
        ];
        let mut got: Vec<Message> = r
            .fetch(&inbox, &uids)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].meta.uid.get(), 3);
        let second = got.remove(1);
        assert_eq!(second.meta.uid.get(), 1);
        assert_eq!(second.body.read_all().await.unwrap(), b"m0");
    }

    #[tokio::test]
    async fn unknown_folder_names_account_and_folder() {
        let mut r = reader_with(&[], 0);
        let err = r
            .list(&FolderPath::parse("Nope/Sub").unwrap(), None, 10)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "not found: folder Nope/Sub of account ada@example.org in memory source"
        );
    }
}

//! The [`MailboxReader`] of one account of an export: folders from the directory
//! tree, messages from `.eml` files and mbox files.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::model::{header_block, EmailAddress, Folder, FolderPath, Message, MessageMeta, Uid};
use crate::source::{FolderStatus, MailboxReader, ResultStream};

use super::blocking::run_blocking;
use super::eml::{self, modified_time, read_prefix, HEADER_READ_LIMIT};
use super::header_fields::HeaderFields;
use super::mail_folders::{discover_folders, FolderEntry, FolderStorage};
use super::mbox::{index_mbox, open_body, MboxEntry};

/// UIDs are positions in a folder that never changes between runs, so validity
/// is constant.
const UID_VALIDITY: u32 = 1;

/// The messages of one folder, in UID order (UID = position + 1).
enum FolderIndex {
    Eml(Vec<PathBuf>),
    Mbox {
        file: PathBuf,
        modified: DateTime<FixedOffset>,
        messages: Vec<MboxEntry>,
    },
}

impl FolderIndex {
    fn len(&self) -> usize {
        match self {
            FolderIndex::Eml(files) => files.len(),
            FolderIndex::Mbox { messages, .. } => messages.len(),
        }
    }

    /// Where the message at `position` is, owned so it outlives the index borrow.
    fn locate(&self, position: usize) -> Option<StoredMessage> {
        let uid = Uid::new(u32::try_from(position + 1).ok()?)?;
        match self {
            FolderIndex::Eml(files) => files.get(position).map(|path| StoredMessage::Eml {
                path: path.clone(),
                uid,
            }),
            FolderIndex::Mbox {
                file,
                modified,
                messages,
            } => messages.get(position).map(|entry| StoredMessage::Mbox {
                file: file.clone(),
                modified: *modified,
                entry: entry.clone(),
                uid,
            }),
        }
    }
}

/// One message and where it is stored.
enum StoredMessage {
    Eml {
        path: PathBuf,
        uid: Uid,
    },
    Mbox {
        file: PathBuf,
        modified: DateTime<FixedOffset>,
        entry: MboxEntry,
        uid: Uid,
    },
}

impl StoredMessage {
    async fn meta(&self) -> Result<MessageMeta> {
        match self {
            StoredMessage::Eml { path, uid } => eml::read_meta(path, *uid).await,
            StoredMessage::Mbox {
                file,
                modified,
                entry,
                uid,
            } => mbox_meta(file, *modified, entry, *uid).await,
        }
    }

    async fn open(self) -> Result<Message> {
        match &self {
            StoredMessage::Eml { path, uid } => eml::open_message(path, *uid).await,
            StoredMessage::Mbox { file, entry, .. } => {
                let meta = self.meta().await?;
                let body = open_body(file, entry).await?;
                Ok(Message { meta, body })
            }
        }
    }
}

async fn mbox_meta(
    file: &Path,
    modified: DateTime<FixedOffset>,
    entry: &MboxEntry,
    uid: Uid,
) -> Result<MessageMeta> {
    use tokio::io::AsyncSeekExt;
    let io_error = |e| Error::io(format!("reading {}", file.display()), e);
    let mut handle = tokio::fs::File::open(file).await.map_err(io_error)?;
    handle
        .seek(std::io::SeekFrom::Start(entry.offset))
        .await
        .map_err(io_error)?;
    let prefix = read_prefix(&mut handle, entry.stored_len.min(HEADER_READ_LIMIT))
        .await
        .map_err(io_error)?;
    let fields = HeaderFields::parse(header_block(&prefix));
    Ok(MessageMeta {
        uid,
        internal_date: entry
            .from_date
            .or(fields.received)
            .or(fields.date)
            .unwrap_or(modified),
        flags: fields.flags,
        size: entry.size,
    })
}

/// Reads `mail/<address>/` of an export. The folder list is read once; the index
/// of the folder being read is kept until another folder is asked for.
pub(super) struct ExportDirMailbox {
    account: EmailAddress,
    root: PathBuf,
    folders: Option<Vec<FolderEntry>>,
    current: Option<(FolderPath, FolderIndex)>,
}

impl ExportDirMailbox {
    /// A reader of the account directory `root` (which may not exist).
    pub fn new(account: EmailAddress, root: PathBuf) -> Self {
        ExportDirMailbox {
            account,
            root,
            folders: None,
            current: None,
        }
    }

    async fn entries(&mut self) -> Result<&[FolderEntry]> {
        if self.folders.is_none() {
            let root = self.root.clone();
            let found = run_blocking(format!("reading {}", root.display()), move || {
                discover_folders(&root)
            })
            .await?;
            self.folders = Some(found);
        }
        Ok(self.folders.as_deref().unwrap_or_default())
    }

    async fn index(&mut self, folder: &FolderPath) -> Result<&FolderIndex> {
        let cached = matches!(&self.current, Some((path, _)) if path == folder);
        if !cached {
            let account = self.account.clone();
            let root = self.root.clone();
            let storage = self
                .entries()
                .await?
                .iter()
                .find(|entry| &entry.path == folder)
                .map(|entry| entry.storage.clone())
                .ok_or_else(|| Error::NotFound {
                    what: format!("folder {folder} of {account} in {}", root.display()),
                })?;
            self.current = None;
            let index = run_blocking(format!("indexing folder {folder}"), move || {
                build_index(storage)
            })
            .await?;
            self.current = Some((folder.clone(), index));
        }
        match &self.current {
            Some((_, index)) => Ok(index),
            None => Err(Error::NotFound {
                what: format!("folder {folder} of {}", self.account),
            }),
        }
    }
}

fn build_index(storage: FolderStorage) -> Result<FolderIndex> {
    match storage {
        FolderStorage::Directory(dir) => Ok(FolderIndex::Eml(eml::list_eml_files(&dir)?)),
        FolderStorage::Mbox(file) => {
            let metadata = std::fs::metadata(&file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            let messages = index_mbox(&file)?;
            Ok(FolderIndex::Mbox {
                file,
                modified: modified_time(&metadata),
                messages,
            })
        }
    }
}

#[async_trait]
impl MailboxReader for ExportDirMailbox {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        Ok(self
            .entries()
            .await?
            .iter()
            .map(|entry| Folder::mail(entry.path.clone()))
            .collect())
    }

    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        let count = self.index(folder).await?.len();
        let uid_next = u32::try_from(count + 1).map_err(|_| Error::Input {
            file: self.root.clone(),
            line: None,
            message: format!("folder {folder} has more messages than UIDs can number"),
        })?;
        Ok(FolderStatus {
            uid_validity: UID_VALIDITY,
            messages: count as u64,
            uid_next: Some(uid_next),
        })
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let index = self.index(folder).await?;
        let start = after.map_or(0, |uid| uid.get() as usize);
        let stored: Vec<StoredMessage> = (start..index.len())
            .take(limit)
            .filter_map(|position| index.locate(position))
            .collect();
        let mut page = Vec::with_capacity(stored.len());
        for message in stored {
            page.push(message.meta().await?);
        }
        Ok(page)
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let index = self.index(folder).await?;
        let stored: Vec<StoredMessage> = uids
            .iter()
            .filter_map(|uid| index.locate((uid.get() as usize).checked_sub(1)?))
            .collect();
        Ok(futures::stream::iter(stored)
            .then(StoredMessage::open)
            .boxed())
    }
}

//! The [`Source`] trait: where a migration reads from.

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::capability::Capabilities;
use crate::error::{Error, Result};
use crate::model::{
    header_block, Account, Appointment, Contact, Cos, DistributionList, Domain, Folder, FolderPath,
    Message, MessageMeta, Uid,
};

/// A stream of results: a source streams objects instead of collecting them, and
/// an `Err` item concerns that one record (a bad CSV row) while the stream goes on.
pub type ResultStream<'a, T> = BoxStream<'a, Result<T>>;

/// A system a migration reads from.
///
/// # Contract
/// - **Never modifies the source system.** IMAP readers use `EXAMINE` and
///   `BODY.PEEK`; file readers open files read-only.
/// - `capabilities()` is truthful: every capability it declares is implemented,
///   every method outside it returns [`Error::Unsupported`] naming the operation and
///   [`Source::kind`]. The default methods do exactly that.
/// - Object streams yield each object once, in a stable order across calls, so a
///   re-run plans the same work. A record that cannot be read becomes one `Err`
///   item naming the file and line (or entry), and the stream goes on.
/// - Streams never hold a whole mailbox or directory in memory.
/// - Object-safe and `Send + Sync`: used as `Arc<dyn Source>` from many tasks.
#[async_trait]
pub trait Source: Send + Sync {
    /// The adapter's registered name (`export-dir`, `imap`, ...).
    fn kind(&self) -> &'static str;

    /// Where it reads from, without secrets (`export-dir at ./export`). Part of the
    /// run's identity: the journal refuses to resume when it changes.
    fn location(&self) -> String;

    /// What this source can read.
    fn capabilities(&self) -> Capabilities;

    /// Domains to create, each once.
    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        Err(Error::unsupported("reading domains", self.kind()))
    }

    /// Classes of service.
    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        Err(Error::unsupported(
            "reading classes of service",
            self.kind(),
        ))
    }

    /// Accounts, each once.
    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        Err(Error::unsupported("reading accounts", self.kind()))
    }

    /// Distribution lists with their members.
    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        Err(Error::unsupported(
            "reading distribution lists",
            self.kind(),
        ))
    }

    /// A reader of one account's mail. Each call returns an independent reader
    /// (its own connection, for network sources).
    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        let _ = account;
        Err(Error::unsupported("reading mail", self.kind()))
    }

    /// One account's appointments, each UID once.
    async fn appointments(&self, account: &Account) -> Result<ResultStream<'_, Appointment>> {
        let _ = account;
        Err(Error::unsupported("reading appointments", self.kind()))
    }

    /// One account's contacts.
    async fn contacts(&self, account: &Account) -> Result<ResultStream<'_, Contact>> {
        let _ = account;
        Err(Error::unsupported("reading contacts", self.kind()))
    }
}

/// The state of a folder that decides what the journal's UIDs still mean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderStatus {
    /// IMAP UIDVALIDITY: when it changes, every UID recorded for the folder is void.
    pub uid_validity: u32,
    /// Number of messages.
    pub messages: u64,
    /// The UID the next message will get (an upper bound of present UIDs).
    pub uid_next: Option<u32>,
}

/// What [`MailboxReader::statuses`] reports of one folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderCheck {
    /// UIDVALIDITY, message count and UIDNEXT.
    pub status: FolderStatus,
    /// The CONDSTORE HIGHESTMODSEQ, when the server keeps one.
    pub highest_modseq: Option<u64>,
}

/// Reads one account's mail.
///
/// # Contract
/// - `folders` lists every mail folder once, parents before children.
/// - `list` returns at most `limit` messages with UID greater than `after` (all
///   when `None`), in increasing UID order. Calling it again with the last UID
///   returned pages through the folder; the caller bounds memory with `limit`.
/// - `fetch` yields the messages of `uids` in the order given. A UID that no longer
///   exists is left out; an `Err` item concerns one message and the stream goes on.
/// - Bodies are byte-for-byte what the source stores, streamed.
#[async_trait]
pub trait MailboxReader: Send {
    /// Every mail folder, parents before children.
    async fn folders(&mut self) -> Result<Vec<Folder>>;

    /// UIDVALIDITY and counts of a folder.
    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus>;

    /// The status and HIGHESTMODSEQ of each of `folders`, in the order given;
    /// `None` for a folder the reader could not check this way (the caller
    /// then asks [`MailboxReader::status`]). Called once per account so a
    /// pass with nothing new costs one exchange, not several per folder. The
    /// default asks [`MailboxReader::status`] and
    /// [`MailboxReader::highest_modseq`] folder by folder; readers that can ask
    /// for all at once (IMAP STATUS, pipelined) override it.
    async fn statuses(&mut self, folders: &[FolderPath]) -> Result<Vec<Option<FolderCheck>>> {
        let mut out = Vec::with_capacity(folders.len());
        for folder in folders {
            let status = self.status(folder).await?;
            let highest_modseq = self.highest_modseq(folder).await?;
            out.push(Some(FolderCheck {
                status,
                highest_modseq,
            }));
        }
        Ok(out)
    }

    /// A page of message metadata after `after`, at most `limit` long.
    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>>;

    /// The messages with these UIDs, bodies streamed.
    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>>;

    /// The folder's CONDSTORE HIGHESTMODSEQ, when the server keeps one. Used with
    /// [`MailboxReader::list_changed`] so a flag sync reads only what changed.
    async fn highest_modseq(&mut self, folder: &FolderPath) -> Result<Option<u64>> {
        let _ = folder;
        Ok(None)
    }

    /// Like [`MailboxReader::list`], but only messages whose flags changed after
    /// `modseq` (CONDSTORE `CHANGEDSINCE`). Returning more than that is allowed
    /// (the default lists everything); returning less is not.
    async fn list_changed(
        &mut self,
        folder: &FolderPath,
        modseq: u64,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let _ = modseq;
        self.list(folder, after, limit).await
    }

    /// The header block (up to and including the empty line) and total size of
    /// each message of `uids` that exists, in the order asked. Used to recognise
    /// messages by [`MessageSignature`] without their bodies. The default reads
    /// whole bodies; readers that can fetch headers alone (IMAP `BODY.PEEK[HEADER]`)
    /// override it.
    ///
    /// [`MessageSignature`]: crate::model::MessageSignature
    async fn fetch_headers(
        &mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<Vec<(Uid, Vec<u8>, u64)>> {
        let mut out = Vec::with_capacity(uids.len());
        let mut stream = self.fetch(folder, uids).await?;
        while let Some(message) = futures::StreamExt::next(&mut stream).await {
            let message = message?;
            let uid = message.meta.uid;
            let raw = message.body.read_all().await?;
            out.push((uid, header_block(&raw).to_vec(), raw.len() as u64));
        }
        Ok(out)
    }
}

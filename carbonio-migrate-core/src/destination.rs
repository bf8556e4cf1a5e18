//! The [`Destination`] trait: where a migration writes to.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::capability::Capabilities;
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, DistributionList, Domain, EmailAddress, Flags, Folder,
    Message, Uid,
};
use crate::source::{FolderStatus, MailboxReader};

/// What an `ensure_*` call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The object did not exist and was created.
    Created,
    /// The object existed and some of its attributes were changed.
    Updated,
    /// The object existed as wanted: nothing was written.
    Unchanged,
}

/// A system a migration writes to.
///
/// # Contract
/// - `ensure_*` are idempotent: an existing object is found and brought up to
///   date (never an error), and a call that finds it as wanted writes nothing and
///   returns [`Change::Unchanged`].
/// - Objects are ensured in dependency order by the engine: domains, classes of
///   service, accounts, aliases, lists, members. A call may assume what it depends
///   on was ensured before.
/// - `capabilities()` is truthful, as for [`crate::Source`]; the default methods
///   return [`Error::Unsupported`].
/// - [`Destination::finalize`] is called once at the end of every run that did
///   work; it is idempotent and writes nothing when nothing changed.
/// - Object-safe and `Send + Sync`.
#[async_trait]
pub trait Destination: Send + Sync {
    /// The adapter's registered name (`bundle`, `carbonio`, `imap`, ...).
    fn kind(&self) -> &'static str;

    /// Where it writes, without secrets. Part of the run's identity.
    fn location(&self) -> String;

    /// What this destination can write.
    fn capabilities(&self) -> Capabilities;

    /// Creates the domain or brings its attributes up to date.
    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        let _ = domain;
        Err(Error::unsupported("writing domains", self.kind()))
    }

    /// Creates the class of service or brings its attributes up to date.
    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        let _ = cos;
        Err(Error::unsupported(
            "writing classes of service",
            self.kind(),
        ))
    }

    /// Creates the account (not its aliases) or brings it up to date.
    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        let _ = account;
        Err(Error::unsupported("writing accounts", self.kind()))
    }

    /// Adds `alias` to `account`. An alias already on this account is
    /// [`Change::Unchanged`]; one owned by another object is
    /// [`Error::AlreadyExists`] naming both.
    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        let _ = (account, alias);
        Err(Error::unsupported("writing aliases", self.kind()))
    }

    /// Creates the list with its attributes and aliases (not its members).
    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        let _ = list;
        Err(Error::unsupported(
            "writing distribution lists",
            self.kind(),
        ))
    }

    /// Makes every address of `members` a member of `list` (others are kept).
    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        let _ = (list, members);
        Err(Error::unsupported("writing list members", self.kind()))
    }

    /// A writer of one account's mail.
    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        let _ = account;
        Err(Error::unsupported("writing mail", self.kind()))
    }

    /// A writer of one account's appointments.
    async fn appointments(&self, account: &Account) -> Result<Box<dyn ItemWriter<Appointment>>> {
        let _ = account;
        Err(Error::unsupported("writing appointments", self.kind()))
    }

    /// A writer of one account's contacts.
    async fn contacts(&self, account: &Account) -> Result<Box<dyn ItemWriter<Contact>>> {
        let _ = account;
        Err(Error::unsupported("writing contacts", self.kind()))
    }

    /// A reader of what the destination holds for `account`, for `verify`.
    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        let _ = account;
        Err(Error::unsupported("reading back mail", self.kind()))
    }

    /// Completes the output (for example writes a script that applies it).
    async fn finalize(&self) -> Result<()> {
        Ok(())
    }
}

/// The outcome of appending one message.
pub type AppendOutcome = Result<Option<Uid>>;

/// Writes one account's mail.
///
/// # Contract
/// - `ensure_folder` creates the folder (and its parents) if missing; idempotent.
/// - `append` writes the messages in order into the folder, byte for byte, with
///   their flags and internal date, and returns one outcome per message in the
///   same order: the destination UID when the server tells it, or the error that
///   rejected that one message. An `Err` of the call itself means none of the
///   batch is known to be written.
/// - `finish` makes everything written durable. A writer without
///   [`crate::Capability::ResumeMail`] may hold output back until then, and must
///   produce the same result when the account is redone from its start.
#[async_trait]
pub trait MailboxWriter: Send {
    /// Creates the folder if it does not exist.
    async fn ensure_folder(&mut self, folder: &Folder) -> Result<()>;

    /// True when this writer created `folder` itself (it did not exist when
    /// the writer was opened), so the folder holds nothing this writer did not
    /// append: the engine then skips reading it back to recognise messages.
    /// `false` (the default) is always safe; `true` for a folder someone else
    /// may have written to is not.
    fn created(&self, folder: &Folder) -> bool {
        let _ = folder;
        false
    }

    /// The destination folder's UIDVALIDITY and counts, when it can tell.
    async fn status(&mut self, folder: &Folder) -> Result<Option<FolderStatus>> {
        let _ = folder;
        Ok(None)
    }

    /// Appends a batch of messages to `folder`.
    async fn append(
        &mut self,
        folder: &Folder,
        messages: Vec<Message>,
    ) -> Result<Vec<AppendOutcome>>;

    /// Replaces the flags of messages already written (by destination UID), for
    /// `mail.sync_flags`. Writers that cannot change a message once written keep
    /// the default, which refuses.
    async fn set_flags(&mut self, folder: &Folder, changes: Vec<(Uid, Flags)>) -> Result<()> {
        let _ = (folder, changes);
        Err(Error::unsupported(
            "changing the flags of copied messages",
            "this destination",
        ))
    }

    /// Makes the account's mail durable.
    async fn finish(self: Box<Self>) -> Result<()>;
}

/// Writes one account's items of one kind (appointments, contacts).
///
/// # Contract
/// `write` may be called many times with batches; `finish` completes the import.
/// Like [`MailboxWriter`], an unfinished import is redone from its start on resume.
#[async_trait]
pub trait ItemWriter<T: Send + 'static>: Send {
    /// Writes a batch of items.
    async fn write(&mut self, items: Vec<T>) -> Result<()>;

    /// Completes the import.
    async fn finish(self: Box<Self>) -> Result<()>;
}

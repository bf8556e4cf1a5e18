//! [`MemoryDestination`]: a destination that keeps what it is given, for tests to
//! inspect, and that can be told to fail.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;

use super::directory::Directory;
use super::faults::Faults;
use super::mailbox::{lock, MemoryMailboxReader, SharedMail, StoredMessage};
use super::source::KIND;
use crate::capability::{Capabilities, Capability};
use crate::destination::{AppendOutcome, Change, Destination, ItemWriter, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, DistributionList, Domain, EmailAddress, Flags, Folder,
    FolderPath, Message, Uid,
};
use crate::source::{FolderStatus, MailboxReader};

/// Appointments and contacts written, per account, in the order first written.
#[derive(Default)]
struct Items {
    appointments: BTreeMap<EmailAddress, Vec<Appointment>>,
    contacts: BTreeMap<EmailAddress, Vec<Contact>>,
}

#[derive(Default)]
struct Shared {
    directory: Mutex<Directory>,
    faults: Mutex<Faults>,
    items: Mutex<Items>,
    mail: SharedMail,
    write_calls: AtomicU64,
}

impl Shared {
    fn wrote(&self, n: u64) {
        self.write_calls.fetch_add(n, Ordering::SeqCst);
    }

    /// Counts a change that wrote something and passes it on.
    fn counted(&self, change: Change) -> Change {
        if change != Change::Unchanged {
            self.wrote(1);
        }
        change
    }

    fn need_account(&self, account: &EmailAddress, for_what: &str) -> Result<()> {
        if lock(&self.directory).has_account(account) {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: format!("account {account} in memory destination ({for_what})"),
            })
        }
    }
}

/// A [`Destination`] that keeps everything in memory: the reference destination
/// of the conformance suite and the destination of engine tests and examples.
///
/// Cheap to clone: clones share the same data. It enforces what a real directory
/// does (a domain before its accounts, a CoS before the accounts naming it, one
/// owner per address, an account before its mail), so an engine that gets the
/// order wrong fails here too. Writes are immediate (it declares
/// [`Capability::ResumeMail`]) and [`Destination::read_back`] reads them.
///
/// Capabilities: every write capability the [`Destination`] trait has a method for
/// (domains, classes of service, accounts, distribution lists, mail, appointments,
/// contacts), [`Capability::ReadBack`] and [`Capability::ResumeMail`].
#[derive(Clone, Default)]
pub struct MemoryDestination {
    shared: Arc<Shared>,
}

impl MemoryDestination {
    /// An empty destination.
    pub fn new() -> Self {
        Self::default()
    }

    /// Domains, by name.
    pub fn domains(&self) -> Vec<Domain> {
        lock(&self.shared.directory).domains()
    }

    /// Classes of service, by name.
    pub fn classes_of_service(&self) -> Vec<Cos> {
        lock(&self.shared.directory).classes_of_service()
    }

    /// Accounts by address, each with the aliases ensured for it (in the order
    /// added). Source-side fields (`source_user`, `source_password`) are not kept.
    pub fn accounts(&self) -> Vec<Account> {
        lock(&self.shared.directory).accounts()
    }

    /// The aliases of an account or list, in the order added; empty when unknown.
    pub fn aliases_of(&self, address: &EmailAddress) -> Vec<EmailAddress> {
        lock(&self.shared.directory).aliases_of(address)
    }

    /// Distribution lists by address, with their aliases and members.
    pub fn distribution_lists(&self) -> Vec<DistributionList> {
        lock(&self.shared.directory).distribution_lists()
    }

    /// The members of a list, in the order added; empty when unknown.
    pub fn members_of(&self, list: &EmailAddress) -> Vec<EmailAddress> {
        lock(&self.shared.directory).members_of(list)
    }

    /// An account's folders, parents before children; empty when it has no mail.
    pub fn folders_of(&self, account: &EmailAddress) -> Vec<Folder> {
        lock(&self.shared.mail)
            .get(account)
            .map(|store| store.folders())
            .unwrap_or_default()
    }

    /// The messages of a folder in UID order; empty when the folder is missing.
    pub fn messages_in(&self, account: &EmailAddress, folder: &FolderPath) -> Vec<StoredMessage> {
        lock(&self.shared.mail)
            .get(account)
            .map(|store| store.messages(folder))
            .unwrap_or_default()
    }

    /// An account's appointments, in the order first written.
    pub fn appointments_of(&self, account: &EmailAddress) -> Vec<Appointment> {
        let items = lock(&self.shared.items);
        items.appointments.get(account).cloned().unwrap_or_default()
    }

    /// An account's contacts, in the order first written.
    pub fn contacts_of(&self, account: &EmailAddress) -> Vec<Contact> {
        let items = lock(&self.shared.items);
        items.contacts.get(account).cloned().unwrap_or_default()
    }

    /// How many writes changed something: each `ensure_*` that returned
    /// [`Change::Created`] or [`Change::Updated`], each folder created (parents
    /// included), each message stored, each appointment or contact added or changed.
    /// A re-run that finds everything done leaves it where it was.
    pub fn write_calls(&self) -> u64 {
        self.shared.write_calls.load(Ordering::SeqCst)
    }

    /// The next `n` [`MailboxWriter::append`] calls (of any account) fail as a whole
    /// with `make()`, storing nothing. Replaces an earlier plan.
    pub fn fail_appends(&self, n: usize, make: fn() -> Error) {
        lock(&self.shared.faults).fail_appends(n, make);
    }

    /// Every appended message whose bytes contain `needle` gets
    /// `Err(Error::Rejected { reason, .. })` as its outcome and is not stored; the
    /// other messages of the batch are.
    pub fn reject_messages_containing(&self, needle: &'static [u8], reason: impl Into<String>) {
        lock(&self.shared.faults).reject_containing(needle, reason.into());
    }

    /// The next `times` appended messages whose bytes contain `needle` get a
    /// throttling answer (`Err(Error::Network)`, "the server asks to slow
    /// down") as their outcome and are not stored, while the other messages of
    /// the batch are, as when a server answers one pipelined APPEND with
    /// `NO [UNAVAILABLE]`.
    pub fn throttle_messages_containing(&self, needle: &'static [u8], times: usize) {
        lock(&self.shared.faults).throttle_containing(needle, times);
    }

    /// The next `times` calls of `ensure_account` for `account` fail with `make()`
    /// (`usize::MAX`: always). Replaces an earlier plan for that account.
    pub fn fail_ensure_account(&self, account: &EmailAddress, make: fn() -> Error, times: usize) {
        lock(&self.shared.faults).fail_account(account.clone(), times, make);
    }
}

#[async_trait]
impl Destination for MemoryDestination {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn location(&self) -> String {
        "memory destination".into()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Domains,
            Capability::ClassesOfService,
            Capability::Accounts,
            Capability::DistributionLists,
            Capability::Mail,
            Capability::Appointments,
            Capability::Contacts,
            Capability::ReadBack,
            Capability::ResumeMail,
        ])
    }

    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        let change = lock(&self.shared.directory).ensure_domain(domain);
        Ok(self.shared.counted(change))
    }

    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        let change = lock(&self.shared.directory).ensure_cos(cos);
        Ok(self.shared.counted(change))
    }

    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        if let Some(error) = lock(&self.shared.faults).take_account_failure(&account.address) {
            return Err(error);
        }
        let change = lock(&self.shared.directory).ensure_account(account)?;
        Ok(self.shared.counted(change))
    }

    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        let change = lock(&self.shared.directory).ensure_alias(account, alias)?;
        Ok(self.shared.counted(change))
    }

    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        let change = lock(&self.shared.directory).ensure_distribution_list(list)?;
        Ok(self.shared.counted(change))
    }

    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        let change = lock(&self.shared.directory).ensure_members(list, members)?;
        Ok(self.shared.counted(change))
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        self.shared.need_account(&account.address, "writing mail")?;
        Ok(Box::new(MemoryMailboxWriter {
            shared: self.shared.clone(),
            account: account.address.clone(),
        }))
    }

    async fn appointments(&self, account: &Account) -> Result<Box<dyn ItemWriter<Appointment>>> {
        self.shared
            .need_account(&account.address, "writing appointments")?;
        Ok(Box::new(MemoryItemWriter {
            shared: self.shared.clone(),
            account: account.address.clone(),
            shelf: |items| &mut items.appointments,
            key: |a: &Appointment| a.uid.clone(),
        }))
    }

    async fn contacts(&self, account: &Account) -> Result<Box<dyn ItemWriter<Contact>>> {
        self.shared
            .need_account(&account.address, "writing contacts")?;
        Ok(Box::new(MemoryItemWriter {
            shared: self.shared.clone(),
            account: account.address.clone(),
            shelf: |items| &mut items.contacts,
            key: |c: &Contact| c.uid.clone(),
        }))
    }

    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        self.shared.need_account(&account.address, "reading back")?;
        Ok(Box::new(MemoryMailboxReader::new(
            self.shared.mail.clone(),
            account.address.clone(),
            "memory destination",
        )))
    }
}

/// Writes one account's mail into the destination's store, immediately.
struct MemoryMailboxWriter {
    shared: Arc<Shared>,
    account: EmailAddress,
}

impl MemoryMailboxWriter {
    fn missing_folder(&self, path: &FolderPath) -> Error {
        Error::NotFound {
            what: format!(
                "folder {path} of account {} in memory destination (ensure it first)",
                self.account
            ),
        }
    }
}

#[async_trait]
impl MailboxWriter for MemoryMailboxWriter {
    async fn ensure_folder(&mut self, folder: &Folder) -> Result<()> {
        let mut mail = lock(&self.shared.mail);
        let store = mail.entry(self.account.clone()).or_default();
        let segments = folder.path.segments();
        let mut created = 0;
        // Parents a real server creates implicitly, as plain mail folders.
        for depth in 1..segments.len() {
            let parent = FolderPath::new(segments[..depth].iter().cloned())?;
            if store.add_folder(Folder::mail(parent)) {
                created += 1;
            }
        }
        if store.add_folder(folder.clone()) {
            created += 1;
        }
        self.shared.wrote(created);
        Ok(())
    }

    async fn status(&mut self, folder: &Folder) -> Result<Option<FolderStatus>> {
        let mail = lock(&self.shared.mail);
        Ok(mail
            .get(&self.account)
            .and_then(|store| store.status(&folder.path)))
    }

    async fn append(
        &mut self,
        folder: &Folder,
        messages: Vec<Message>,
    ) -> Result<Vec<AppendOutcome>> {
        if let Some(error) = lock(&self.shared.faults).take_append_failure() {
            return Err(error);
        }
        let path = &folder.path;
        let exists = lock(&self.shared.mail)
            .get(&self.account)
            .is_some_and(|store| store.has_folder(path));
        if !exists {
            return Err(self.missing_folder(path));
        }
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            let meta = message.meta;
            // The store holds whole bodies by design; reading one at a time keeps
            // at most one unstored body in flight.
            let body = match message.body.read_all().await {
                Ok(body) => body,
                Err(e) => {
                    outcomes.push(Err(e));
                    continue;
                }
            };
            if lock(&self.shared.faults).take_throttle(&body) {
                outcomes.push(Err(Error::Network {
                    context: format!(
                        "appending message uid {} of account {} folder {path}: the server asks to slow down: NO [UNAVAILABLE] try again later",
                        meta.uid, self.account
                    ),
                    source: None,
                }));
                continue;
            }
            if let Some(reason) = lock(&self.shared.faults).rejection_of(&body) {
                outcomes.push(Err(Error::Rejected {
                    item: format!(
                        "message uid {} of account {} folder {path}",
                        meta.uid, self.account
                    ),
                    reason: reason.to_string(),
                }));
                continue;
            }
            let stored = lock(&self.shared.mail)
                .get_mut(&self.account)
                .ok_or_else(|| self.missing_folder(path))
                .and_then(|store| {
                    store.add_message(path, meta.flags, meta.internal_date, Bytes::from(body))
                });
            if stored.is_ok() {
                self.shared.wrote(1);
            }
            outcomes.push(stored.map(Some));
        }
        Ok(outcomes)
    }

    async fn set_flags(&mut self, folder: &Folder, changes: Vec<(Uid, Flags)>) -> Result<()> {
        let mut mail = lock(&self.shared.mail);
        let store = mail
            .get_mut(&self.account)
            .ok_or_else(|| self.missing_folder(&folder.path))?;
        for (uid, flags) in changes {
            if !store.set_flags(&folder.path, uid, flags) {
                return Err(Error::NotFound {
                    what: format!(
                        "message uid {uid} of account {} folder {}",
                        self.account, folder.path
                    ),
                });
            }
            self.shared.wrote(1);
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// Writes one account's items of one kind; an item with the UID of one already
/// written replaces it, so redoing an unfinished import gives the same result.
struct MemoryItemWriter<T> {
    shared: Arc<Shared>,
    account: EmailAddress,
    shelf: fn(&mut Items) -> &mut BTreeMap<EmailAddress, Vec<T>>,
    key: fn(&T) -> String,
}

#[async_trait]
impl<T: Clone + PartialEq + Send + 'static> ItemWriter<T> for MemoryItemWriter<T> {
    async fn write(&mut self, batch: Vec<T>) -> Result<()> {
        let mut items = lock(&self.shared.items);
        let held = (self.shelf)(&mut items)
            .entry(self.account.clone())
            .or_default();
        let mut changed = 0;
        for item in batch {
            let key = (self.key)(&item);
            match held.iter_mut().find(|x| (self.key)(x) == key) {
                Some(existing) if *existing == item => {}
                Some(existing) => {
                    *existing = item;
                    changed += 1;
                }
                None => {
                    held.push(item);
                    changed += 1;
                }
            }
        }
        self.shared.wrote(changed);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{DomainName, Flags, MessageBody, MessageMeta, Uid};
    use chrono::DateTime;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    async fn with_account(dest: &MemoryDestination) -> Account {
        dest.ensure_domain(&Domain::new(DomainName::parse("example.org").unwrap()))
            .await
            .unwrap();
        let account = Account::new(addr("ada@example.org"));
        dest.ensure_account(&account).await.unwrap();
        account
    }

    fn message(uid: u32, body: &'static [u8]) -> Message {
        Message {
            meta: MessageMeta {
                uid: Uid::new(uid).unwrap(),
                flags: Flags {
                    seen: true,
                    ..Flags::default()
                },
                internal_date: DateTime::parse_from_rfc3339("2031-12-31T12:00:00+00:00").unwrap(),
                size: body.len() as u64,
            },
            body: MessageBody::from_bytes(body),
        }
    }

    #[tokio::test]
    async fn append_assigns_uids_and_rejects_only_the_bad_message() {
        let dest = MemoryDestination::new();
        let account = with_account(&dest).await;
        dest.reject_messages_containing(b"VIRUS", "infected");
        let mut writer = dest.mailbox(&account).await.unwrap();
        let folder = Folder::mail(FolderPath::parse("Inbox/Projekte/Überblick").unwrap());
        writer.ensure_folder(&folder).await.unwrap();
        writer.ensure_folder(&folder).await.unwrap();
        let before = dest.write_calls();
        let outcomes = writer
            .append(
                &folder,
                vec![
                    message(10, b"one"),
                    message(11, b"a VIRUS"),
                    message(12, b"three"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(outcomes[0].as_ref().unwrap(), &Uid::new(1));
        assert_eq!(
            outcomes[1].as_ref().unwrap_err().to_string(),
            "rejected message uid 11 of account ada@example.org folder Inbox/Projekte/Überblick: infected"
        );
        assert_eq!(outcomes[2].as_ref().unwrap(), &Uid::new(2));
        assert_eq!(dest.write_calls(), before + 2);
        let stored = dest.messages_in(&account.address, &folder.path);
        let bodies: Vec<&[u8]> = stored.iter().map(|m| m.body.as_slice()).collect();
        assert_eq!(bodies, [&b"one"[..], &b"three"[..]]);
        let paths: Vec<String> = dest
            .folders_of(&account.address)
            .iter()
            .map(|f| f.path.to_string())
            .collect();
        assert_eq!(
            paths,
            ["Inbox", "Inbox/Projekte", "Inbox/Projekte/Überblick"]
        );
    }

    #[tokio::test]
    async fn planned_append_failures_store_nothing() {
        let dest = MemoryDestination::new();
        let account = with_account(&dest).await;
        dest.fail_appends(1, || Error::Network {
            context: "append".into(),
            source: None,
        });
        let mut writer = dest.mailbox(&account).await.unwrap();
        let folder = Folder::mail(FolderPath::parse("Inbox").unwrap());
        writer.ensure_folder(&folder).await.unwrap();
        let err = writer
            .append(&folder, vec![message(1, b"x")])
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(dest.messages_in(&account.address, &folder.path).is_empty());
        assert_eq!(
            writer
                .append(&folder, vec![message(1, b"x")])
                .await
                .unwrap()
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn append_to_a_folder_not_ensured_is_not_found() {
        let dest = MemoryDestination::new();
        let account = with_account(&dest).await;
        let mut writer = dest.mailbox(&account).await.unwrap();
        let folder = Folder::mail(FolderPath::parse("Nope").unwrap());
        let err = writer
            .append(&folder, vec![message(1, b"x")])
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "not found: folder Nope of account ada@example.org in memory destination (ensure it first)"
        );
    }

    #[tokio::test]
    async fn ensure_account_fails_as_planned_then_succeeds() {
        let dest = MemoryDestination::new();
        dest.ensure_domain(&Domain::new(DomainName::parse("example.org").unwrap()))
            .await
            .unwrap();
        let ada = addr("ada@example.org");
        dest.fail_ensure_account(&ada, || Error::config("boom"), 1);
        let account = Account::new(ada.clone());
        assert!(dest.ensure_account(&account).await.is_err());
        assert_eq!(
            dest.ensure_account(&account).await.unwrap(),
            Change::Created
        );
        assert_eq!(
            dest.ensure_account(&account).await.unwrap(),
            Change::Unchanged
        );
    }

    #[tokio::test]
    async fn mail_needs_the_account_first() {
        let dest = MemoryDestination::new();
        let err = dest
            .mailbox(&Account::new(addr("ghost@example.org")))
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "not found: account ghost@example.org in memory destination (writing mail)"
        );
    }

    #[tokio::test]
    async fn items_rewritten_identically_count_once() {
        let dest = MemoryDestination::new();
        let account = with_account(&dest).await;
        let contact = Contact {
            uid: "c1".into(),
            full_name: Some("Ada".into()),
            vcard: "BEGIN:VCARD\r\nFN:Ada\r\nEND:VCARD\r\n".into(),
        };
        let before = dest.write_calls();
        for _ in 0..2 {
            let mut w = dest.contacts(&account).await.unwrap();
            w.write(vec![contact.clone()]).await.unwrap();
            w.finish().await.unwrap();
        }
        assert_eq!(dest.write_calls(), before + 1);
        assert_eq!(dest.contacts_of(&account.address), [contact]);
    }
}

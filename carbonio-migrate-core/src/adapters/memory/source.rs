//! [`MemorySource`]: a source whose objects and mail tests put in by hand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset};

use super::mailbox::{lock, MemoryMailboxReader, SharedMail};
use crate::capability::{Capabilities, Capability};
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, DistributionList, Domain, EmailAddress, Flags, Folder,
    FolderPath, Uid,
};
use crate::source::{MailboxReader, ResultStream, Source};

/// The adapter name of both memory adapters.
pub(crate) const KIND: &str = "memory";

/// An entry of the accounts stream: an account, or an injected bad record.
enum AccountEntry {
    Good(Account),
    Bad(Error),
}

#[derive(Default)]
struct Directory {
    domains: Vec<Domain>,
    classes_of_service: Vec<Cos>,
    accounts: Vec<AccountEntry>,
    distribution_lists: Vec<DistributionList>,
    appointments: BTreeMap<EmailAddress, Vec<Appointment>>,
    contacts: BTreeMap<EmailAddress, Vec<Contact>>,
}

/// A [`Source`] over objects and mail held in memory: the reference source of the
/// conformance suite, and the source of engine tests and examples.
///
/// Cheap to clone: clones share the same data. Every method takes `&self`, so a
/// test can add messages between two runs to exercise delta passes. Streams yield
/// objects in the order they were added; adding an object with the address (or
/// name) of an existing one replaces it in place.
///
/// Capabilities: every read capability the [`Source`] trait has a method for
/// (domains, classes of service, accounts, distribution lists, mail,
/// appointments, contacts).
#[derive(Clone, Default)]
pub struct MemorySource {
    directory: Arc<Mutex<Directory>>,
    mail: SharedMail,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a domain, or replaces the one with the same name.
    pub fn add_domain(&self, domain: Domain) {
        let mut d = lock(&self.directory);
        match d.domains.iter_mut().find(|x| x.name == domain.name) {
            Some(existing) => *existing = domain,
            None => d.domains.push(domain),
        }
    }

    /// Adds a class of service, or replaces the one with the same name.
    pub fn add_cos(&self, cos: Cos) {
        let mut d = lock(&self.directory);
        match d.classes_of_service.iter_mut().find(|x| x.name == cos.name) {
            Some(existing) => *existing = cos,
            None => d.classes_of_service.push(cos),
        }
    }

    /// Adds an account (with an empty mailbox unless it has one), or replaces the
    /// one with the same address.
    pub fn add_account(&self, account: Account) {
        lock(&self.mail).entry(account.address.clone()).or_default();
        let mut d = lock(&self.directory);
        let existing = d
            .accounts
            .iter_mut()
            .find(|entry| matches!(entry, AccountEntry::Good(a) if a.address == account.address));
        match existing {
            Some(entry) => *entry = AccountEntry::Good(account),
            None => d.accounts.push(AccountEntry::Good(account)),
        }
    }

    /// Puts an `Err` item into the accounts stream at this position, as a source
    /// reports a record it cannot read. Every call of [`Source::accounts`] yields
    /// an equivalent error (same variant and message; an I/O or network cause is
    /// carried as text).
    pub fn add_bad_account(&self, error: Error) {
        lock(&self.directory)
            .accounts
            .push(AccountEntry::Bad(error));
    }

    /// Adds a distribution list, or replaces the one with the same address.
    pub fn add_distribution_list(&self, list: DistributionList) {
        let mut d = lock(&self.directory);
        match d
            .distribution_lists
            .iter_mut()
            .find(|x| x.address == list.address)
        {
            Some(existing) => *existing = list,
            None => d.distribution_lists.push(list),
        }
    }

    /// Adds a folder to an account's mailbox unless one with its path exists.
    pub fn add_folder(&self, account: &EmailAddress, folder: Folder) {
        lock(&self.mail)
            .entry(account.clone())
            .or_default()
            .add_folder(folder);
    }

    /// Adds a message to a folder (created with [`Folder::mail`] if missing) and
    /// returns its UID: 1, 2, 3... in each folder, in the order added.
    ///
    /// # Panics
    /// When a folder already holds `u32::MAX - 1` messages.
    pub fn add_message(
        &self,
        account: &EmailAddress,
        folder: &FolderPath,
        flags: Flags,
        internal_date: DateTime<FixedOffset>,
        body: impl Into<Bytes>,
    ) -> Uid {
        let added = lock(&self.mail)
            .entry(account.clone())
            .or_default()
            .add_message(folder, flags, internal_date, body.into());
        match added {
            Ok(uid) => uid,
            Err(e) => panic!("memory source cannot add a message to {folder}: {e}"),
        }
    }

    /// Sets a folder's UIDVALIDITY (1 by default), creating the folder if missing.
    /// Messages keep their UIDs: this simulates a server that declares its UIDs void.
    pub fn set_uid_validity(&self, account: &EmailAddress, folder: &FolderPath, uid_validity: u32) {
        lock(&self.mail)
            .entry(account.clone())
            .or_default()
            .set_uid_validity(folder, uid_validity);
    }

    /// Changes the flags of a message (as a user reading mail during the
    /// migration would); `false` when there is no such message.
    pub fn set_flags(
        &self,
        account: &EmailAddress,
        folder: &FolderPath,
        uid: Uid,
        flags: Flags,
    ) -> bool {
        lock(&self.mail)
            .get_mut(account)
            .is_some_and(|store| store.set_flags(folder, uid, flags))
    }

    /// Adds an appointment to an account, or replaces the one with the same UID.
    pub fn add_appointment(&self, account: &EmailAddress, appointment: Appointment) {
        let mut d = lock(&self.directory);
        let items = d.appointments.entry(account.clone()).or_default();
        match items.iter_mut().find(|x| x.uid == appointment.uid) {
            Some(existing) => *existing = appointment,
            None => items.push(appointment),
        }
    }

    /// Adds a contact to an account, or replaces the one with the same UID.
    pub fn add_contact(&self, account: &EmailAddress, contact: Contact) {
        let mut d = lock(&self.directory);
        let items = d.contacts.entry(account.clone()).or_default();
        match items.iter_mut().find(|x| x.uid == contact.uid) {
            Some(existing) => *existing = contact,
            None => items.push(contact),
        }
    }
}

/// A stream over a snapshot taken now: later additions show up in the next call.
fn snapshot<'a, T: Send + 'a>(items: Vec<Result<T>>) -> ResultStream<'a, T> {
    Box::pin(futures::stream::iter(items))
}

/// An equivalent of an injected error, since [`Error`] is not `Clone`: the same
/// variant and message, with a non-clonable cause carried as its text.
fn replicate(error: &Error) -> Error {
    let cause_text = |e: &Error| -> Option<crate::error::Cause> {
        std::error::Error::source(e).map(|c| c.to_string().into())
    };
    match error {
        Error::Config { message } => Error::Config {
            message: message.clone(),
        },
        Error::Input {
            file,
            line,
            message,
        } => Error::Input {
            file: file.clone(),
            line: *line,
            message: message.clone(),
        },
        Error::InvalidValue {
            what,
            value,
            reason,
        } => Error::InvalidValue {
            what,
            value: value.clone(),
            reason: reason.clone(),
        },
        Error::Auth { target, .. } => Error::Auth {
            target: target.clone(),
            source: cause_text(error),
        },
        Error::NotFound { what } => Error::NotFound { what: what.clone() },
        Error::AlreadyExists { what } => Error::AlreadyExists { what: what.clone() },
        Error::Unsupported { operation, adapter } => Error::Unsupported {
            operation: operation.clone(),
            adapter: adapter.clone(),
        },
        Error::Protocol { context, message } => Error::Protocol {
            context: context.clone(),
            message: message.clone(),
        },
        Error::Network { context, .. } => Error::Network {
            context: context.clone(),
            source: cause_text(error),
        },
        Error::Io { context, source } => Error::Io {
            context: context.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Journal { context, .. } => Error::Journal {
            context: context.clone(),
            source: cause_text(error),
        },
        Error::Rejected { item, reason } => Error::Rejected {
            item: item.clone(),
            reason: reason.clone(),
        },
        Error::Cancelled => Error::Cancelled,
    }
}

#[async_trait]
impl Source for MemorySource {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn location(&self) -> String {
        "memory source".into()
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
        ])
    }

    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        let d = lock(&self.directory);
        Ok(snapshot(d.domains.iter().cloned().map(Ok).collect()))
    }

    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        let d = lock(&self.directory);
        Ok(snapshot(
            d.classes_of_service.iter().cloned().map(Ok).collect(),
        ))
    }

    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        let d = lock(&self.directory);
        let items = d
            .accounts
            .iter()
            .map(|entry| match entry {
                AccountEntry::Good(a) => Ok(a.clone()),
                AccountEntry::Bad(e) => Err(replicate(e)),
            })
            .collect();
        Ok(snapshot(items))
    }

    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        let d = lock(&self.directory);
        Ok(snapshot(
            d.distribution_lists.iter().cloned().map(Ok).collect(),
        ))
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        if !lock(&self.mail).contains_key(&account.address) {
            return Err(Error::NotFound {
                what: format!("account {} in memory source", account.address),
            });
        }
        Ok(Box::new(MemoryMailboxReader::new(
            self.mail.clone(),
            account.address.clone(),
            "memory source",
        )))
    }

    async fn appointments(&self, account: &Account) -> Result<ResultStream<'_, Appointment>> {
        let d = lock(&self.directory);
        let items = d.appointments.get(&account.address).cloned();
        Ok(snapshot(
            items.unwrap_or_default().into_iter().map(Ok).collect(),
        ))
    }

    async fn contacts(&self, account: &Account) -> Result<ResultStream<'_, Contact>> {
        let d = lock(&self.directory);
        let items = d.contacts.get(&account.address).cloned();
        Ok(snapshot(
            items.unwrap_or_default().into_iter().map(Ok).collect(),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[tokio::test]
    async fn bad_account_is_yielded_in_place_on_every_call() {
        let source = MemorySource::new();
        source.add_account(Account::new(addr("a@example.org")));
        source.add_bad_account(Error::input(
            "accounts.csv",
            Some(3),
            "bad e-mail address \"x\"",
        ));
        source.add_account(Account::new(addr("b@example.org")));
        for _ in 0..2 {
            let items: Vec<Result<Account>> = source.accounts().await.unwrap().collect().await;
            assert_eq!(items.len(), 3);
            assert_eq!(items[0].as_ref().unwrap().address.as_str(), "a@example.org");
            assert_eq!(
                items[1].as_ref().unwrap_err().to_string(),
                "accounts.csv:3: bad e-mail address \"x\""
            );
            assert_eq!(items[2].as_ref().unwrap().address.as_str(), "b@example.org");
        }
    }

    #[tokio::test]
    async fn messages_added_between_calls_are_seen_by_the_same_reader() {
        let source = MemorySource::new();
        let ada = addr("ada@example.org");
        source.add_account(Account::new(ada.clone()));
        let inbox = FolderPath::parse("Inbox").unwrap();
        let date = DateTime::parse_from_rfc3339("1998-03-14T09:26:53-05:00").unwrap();
        let first = source.add_message(&ada, &inbox, Flags::default(), date, &b"one"[..]);
        let mut reader = source.mailbox(&Account::new(ada.clone())).await.unwrap();
        assert_eq!(reader.list(&inbox, None, 10).await.unwrap().len(), 1);
        let second = source.add_message(&ada, &inbox, Flags::default(), date, &b"two"[..]);
        assert_eq!((first.get(), second.get()), (1, 2));
        let delta = reader.list(&inbox, Some(first), 10).await.unwrap();
        assert_eq!(delta.len(), 1);
        assert_eq!(delta[0].uid, second);
        source.set_uid_validity(&ada, &inbox, 77);
        assert_eq!(reader.status(&inbox).await.unwrap().uid_validity, 77);
    }

    #[tokio::test]
    async fn unknown_account_has_no_mailbox() {
        let source = MemorySource::new();
        let err = source
            .mailbox(&Account::new(addr("ghost@example.org")))
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "not found: account ghost@example.org in memory source"
        );
    }

    #[test]
    fn replicated_errors_keep_variant_and_message() {
        let net = Error::Network {
            context: "connect".into(),
            source: Some("refused".into()),
        };
        let copy = replicate(&net);
        assert!(copy.is_retryable());
        assert_eq!(copy.chain(), "network error: connect: refused");
    }
}

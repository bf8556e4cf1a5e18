//! The fixed data the destination suite writes, also loadable into a
//! [`MemorySource`] for source tests.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, FixedOffset, NaiveDate};
use rand::Rng;

use crate::adapters::memory::MemorySource;
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, CosName, DistributionList, Domain, DomainName,
    EmailAddress, Flags, Folder, FolderPath, Password, PasswordHash, Secret,
};

/// One message of the fixture mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureMessage {
    /// The folder it goes into.
    pub folder: FolderPath,
    /// Its flags.
    pub flags: Flags,
    /// Its internal date.
    pub internal_date: DateTime<FixedOffset>,
    /// The raw message.
    pub body: Bytes,
}

/// The data the destination suite writes: objects with every kind of attribute
/// and dependency, and a mailbox with what breaks naive writers (nested
/// non-ASCII folders, every flag, dates across decades, an empty body, a 1 MiB
/// body). Every address is under the domains `<label>.example.org` and
/// `<label>.example.net`, so runs with different labels do not collide.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The namespace label (`conf-1a2b3c4d`).
    pub label: String,
    /// Two domains, the first with an attribute.
    pub domains: Vec<Domain>,
    /// One class of service with an attribute.
    pub classes_of_service: Vec<Cos>,
    /// Three accounts: one with a `{SSHA}` hash and two aliases, one with a clear
    /// password, must-change and the CoS, one in the second domain with an alias.
    pub accounts: Vec<Account>,
    /// One list with an alias and members (two accounts and an external address).
    pub distribution_lists: Vec<DistributionList>,
    /// The account owning the mailbox (the first account).
    pub mail_account: EmailAddress,
    /// The mailbox's folders, parents before children.
    pub folders: Vec<Folder>,
    /// The mailbox's messages, in the order to append them.
    pub messages: Vec<FixtureMessage>,
    /// The mail account's appointments.
    pub appointments: Vec<Appointment>,
    /// The mail account's contacts.
    pub contacts: Vec<Contact>,
}

/// The fixture under a fresh random label, `conf-` and 8 hex digits.
pub fn fixture() -> Fixture {
    let label = format!("conf-{:08x}", rand::rng().random::<u32>());
    match Fixture::with_label(&label) {
        Ok(fixture) => fixture,
        Err(e) => unreachable!("a hex label always makes valid names: {e}"),
    }
}

fn date(
    y: i32,
    m: u32,
    d: u32,
    hms: (u32, u32, u32),
    offset_secs: i32,
) -> Result<DateTime<FixedOffset>> {
    let invalid = || Error::InvalidValue {
        what: "fixture date",
        value: format!("{y}-{m}-{d}"),
        reason: "not a calendar date".into(),
    };
    let offset = FixedOffset::east_opt(offset_secs).ok_or_else(invalid)?;
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|day| day.and_hms_opt(hms.0, hms.1, hms.2))
        .and_then(|t| t.and_local_timezone(offset).single())
        .ok_or_else(invalid)
}

/// A plain text message; `text` is the body after the blank line.
fn text_message(label: &str, n: u32, date_header: &str, subject: &str, text: &[u8]) -> Bytes {
    let mut raw = format!(
        "Message-ID: <{n}.{label}@example.org>\r\nDate: {date_header}\r\nFrom: ada@{label}.example.org\r\n\
         To: bob@{label}.example.org\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(text);
    Bytes::from(raw)
}

/// Exactly 1 MiB of CRLF-terminated lines, each distinct so a dropped or moved
/// line is noticed.
fn one_mebibyte() -> Vec<u8> {
    const SIZE: usize = 1 << 20;
    let mut out = Vec::with_capacity(SIZE);
    let mut n = 0u32;
    while out.len() < SIZE {
        let line = format!("line {n:06} of a large message, quoted-printable safe text.\r\n");
        out.extend_from_slice(line.as_bytes());
        n += 1;
    }
    out.truncate(SIZE - 2);
    out.extend_from_slice(b"\r\n");
    out
}

impl Fixture {
    /// The fixture under `label`, which must be a valid DNS label (letters,
    /// digits, inner hyphens).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the label makes an invalid domain name.
    pub fn with_label(label: &str) -> Result<Fixture> {
        let org = DomainName::parse(&format!("{label}.example.org"))?;
        let net = DomainName::parse(&format!("{label}.example.net"))?;
        let at_org = |local: &str| EmailAddress::parse(&format!("{local}@{org}"));
        let at_net = |local: &str| EmailAddress::parse(&format!("{local}@{net}"));

        let mut first_domain = Domain::new(org.clone());
        first_domain
            .attributes
            .insert("description".into(), format!("conformance {label}"));
        let domains = vec![first_domain, Domain::new(net.clone())];

        let cos_name = CosName::parse(&format!("{label}-staff"))?;
        let mut cos = Cos::new(cos_name.clone());
        cos.attributes
            .insert("zimbraMailQuota".into(), "1073741824".into());

        let mut ada = Account::new(at_org("ada")?);
        ada.aliases = vec![at_org("ada.lovelace")?, at_net("countess")?];
        ada.display_name = Some("Ada Lovelace".into());
        ada.given_name = Some("Ada".into());
        ada.surname = Some("Lovelace".into());
        ada.password = Password::Hash(PasswordHash::parse("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")?);
        let mut bob = Account::new(at_org("bob")?);
        bob.display_name = Some("Bob Ñúñez".into());
        bob.password = Password::Clear(Secret::new("Conformance-2031!"));
        bob.must_change_password = true;
        bob.cos = Some(cos_name);
        bob.attributes = BTreeMap::from([(
            "zimbraPrefPasswordRecoveryAddress".to_string(),
            format!("bob.recovery@{net}"),
        )]);
        let mut chen = Account::new(at_net("chen")?);
        chen.aliases = vec![at_net("chen.wei")?];
        chen.display_name = Some("陈伟".into());

        let mut list = DistributionList::new(at_org("all")?);
        list.aliases = vec![at_org("everyone")?];
        list.display_name = Some("Everyone".into());
        list.description = Some("all staff".into());
        list.members = vec![
            ada.address.clone(),
            bob.address.clone(),
            EmailAddress::parse("partner@external.example.com")?,
        ];

        let path = FolderPath::parse;
        let folders = vec![
            Folder::mail(path("Inbox")?),
            Folder::mail(path("Inbox/Projekte")?),
            Folder::mail(path("Inbox/Projekte/Überblick 2024")?),
            Folder::mail(path("Archiv")?),
            Folder::mail(path("Archiv/Ελληνικά")?),
            Folder::mail(path("日本語")?),
        ];

        let every_flag = Flags {
            seen: true,
            answered: true,
            flagged: true,
            deleted: true,
            draft: true,
            keywords: [
                "$Forwarded".to_string(),
                "$Label1".to_string(),
                "project_x".to_string(),
            ]
            .into_iter()
            .collect(),
        };
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        let keyword_only = Flags {
            keywords: ["$Junk".to_string()].into_iter().collect(),
            ..Flags::default()
        };
        let messages = vec![
            FixtureMessage {
                folder: path("Inbox")?,
                flags: every_flag,
                internal_date: date(1998, 3, 14, (9, 26, 53), -5 * 3600)?,
                body: text_message(
                    label,
                    1,
                    "Sat, 14 Mar 1998 09:26:53 -0500",
                    "every flag",
                    b"Seen, answered, flagged, deleted, draft and three keywords.\r\n",
                ),
            },
            FixtureMessage {
                folder: path("Inbox")?,
                flags: Flags::default(),
                internal_date: date(2012, 2, 29, (23, 59, 59), 3600)?,
                body: text_message(
                    label,
                    2,
                    "Wed, 29 Feb 2012 23:59:59 +0100",
                    "empty body",
                    b"",
                ),
            },
            FixtureMessage {
                folder: path("Inbox/Projekte/Überblick 2024")?,
                flags: seen.clone(),
                // Past, not future: servers (Dovecot) store the APPEND time instead of
                // an INTERNALDATE in the future.
                internal_date: date(2023, 12, 31, (12, 0, 0), 0)?,
                body: text_message(
                    label,
                    3,
                    "Sun, 31 Dec 2023 12:00:00 +0000",
                    "=?utf-8?q?=C3=9Cberblick?=",
                    "Grüße aus Zürich — 2023.\r\n".as_bytes(),
                ),
            },
            FixtureMessage {
                folder: path("Archiv/Ελληνικά")?,
                flags: keyword_only,
                internal_date: date(2012, 6, 30, (23, 59, 59), 5 * 3600 + 1800)?,
                body: text_message(
                    label,
                    4,
                    "Sat, 30 Jun 2012 23:59:59 +0530",
                    "=?utf-8?b?zrHPgM+MIM+Dz4TOsc+Dzrc=?=",
                    "Καλημέρα.\r\n".as_bytes(),
                ),
            },
            FixtureMessage {
                folder: path("日本語")?,
                flags: seen,
                internal_date: date(2012, 1, 1, (0, 0, 0), 9 * 3600)?,
                body: text_message(
                    label,
                    5,
                    "Sun, 1 Jan 2012 00:00:00 +0900",
                    "1 MiB body",
                    &one_mebibyte(),
                ),
            },
        ];

        let appointments = vec![Appointment {
            uid: format!("{label}-appointment-1"),
            summary: Some("Review".into()),
            components: format!(
                "BEGIN:VEVENT\r\nUID:{label}-appointment-1\r\nDTSTAMP:20120229T120000Z\r\n\
                 DTSTART:20310101T090000Z\r\nDTEND:20310101T100000Z\r\nSUMMARY:Review\r\nEND:VEVENT\r\n"
            ),
            timezones: Vec::new(),
        }];
        let contacts = vec![Contact {
            uid: format!("{label}-contact-1"),
            full_name: Some("Grace Hopper".into()),
            vcard: format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{label}-contact-1\r\nFN:Grace Hopper\r\n\
                 N:Hopper;Grace;;;\r\nEMAIL:grace@external.example.com\r\nEND:VCARD\r\n"
            ),
        }];

        Ok(Fixture {
            label: label.to_string(),
            domains,
            classes_of_service: vec![cos],
            mail_account: ada.address.clone(),
            accounts: vec![ada, bob, chen],
            distribution_lists: vec![list],
            folders,
            messages,
            appointments,
            contacts,
        })
    }

    /// The messages of one folder, in append order.
    pub fn messages_in<'a>(
        &'a self,
        folder: &'a FolderPath,
    ) -> impl Iterator<Item = &'a FixtureMessage> + 'a {
        self.messages.iter().filter(move |m| &m.folder == folder)
    }

    /// A [`MemorySource`] holding everything of the fixture.
    pub fn to_memory_source(&self) -> MemorySource {
        let source = MemorySource::new();
        self.domains
            .iter()
            .cloned()
            .for_each(|d| source.add_domain(d));
        self.classes_of_service
            .iter()
            .cloned()
            .for_each(|c| source.add_cos(c));
        self.accounts
            .iter()
            .cloned()
            .for_each(|a| source.add_account(a));
        self.distribution_lists
            .iter()
            .cloned()
            .for_each(|l| source.add_distribution_list(l));
        for folder in &self.folders {
            source.add_folder(&self.mail_account, folder.clone());
        }
        for m in &self.messages {
            source.add_message(
                &self.mail_account,
                &m.folder,
                m.flags.clone(),
                m.internal_date,
                m.body.clone(),
            );
        }
        for a in &self.appointments {
            source.add_appointment(&self.mail_account, a.clone());
        }
        for c in &self.contacts {
            source.add_contact(&self.mail_account, c.clone());
        }
        source
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fixture_has_what_the_brief_promises() {
        let f = Fixture::with_label("conf-test").unwrap();
        assert_eq!(f.domains[0].name.as_str(), "conf-test.example.org");
        assert_eq!(f.domains.len(), 2);
        assert!(matches!(&f.accounts[0].password, Password::Hash(h) if h.scheme() == "SSHA"));
        assert!(f.accounts[1].must_change_password);
        let years: Vec<String> = f
            .messages
            .iter()
            .map(|m| m.internal_date.format("%Y").to_string())
            .collect();
        for y in ["1998", "2012", "2023"] {
            assert!(years.iter().any(|x| x == y), "{y}");
        }
        let big = f.messages.iter().map(|m| m.body.len()).max().unwrap();
        assert!(big > 1 << 20, "{big}");
        assert!(f.messages.iter().any(|m| m.body.ends_with(b"\r\n\r\n")));
        assert_eq!(one_mebibyte().len(), 1 << 20);
    }

    #[test]
    fn random_labels_differ() {
        assert_ne!(fixture().label, fixture().label);
        assert!(fixture().label.starts_with("conf-"));
    }
}

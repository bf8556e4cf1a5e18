//! [`check_destination`]: writes the [`Fixture`] with the declared capabilities,
//! in dependency order, twice, and checks the answers and what reads back.

use futures::StreamExt;

use super::check;
use super::fixture::{fixture, Fixture};
use super::report::{ConformanceFailure, ConformanceReport};
use crate::capability::Capability;
use crate::destination::{Change, Destination};
use crate::error::Error;
use crate::model::{Account, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid};

/// How [`check_destination_with`] runs.
#[derive(Clone, Debug)]
pub struct DestinationChecks {
    /// Whether the adapter keeps flags and keywords, so read-back flags are
    /// compared. Default `true`.
    pub keeps_flags: bool,
    /// The fixture's namespace label; `None` (default) takes a fresh random one,
    /// so a real server can run the suite repeatedly.
    pub label: Option<String>,
    /// The account to write mail, appointments and contacts into instead of the
    /// fixture's, for destinations that cannot create accounts. Default `None`.
    pub mail_account: Option<Account>,
}

impl Default for DestinationChecks {
    fn default() -> Self {
        DestinationChecks {
            keeps_flags: true,
            label: None,
            mail_account: None,
        }
    }
}

/// Runs the destination checks with [`DestinationChecks::default`].
///
/// # Errors
/// The first [`ConformanceFailure`].
pub async fn check_destination(
    dest: &dyn Destination,
) -> Result<ConformanceReport, ConformanceFailure> {
    check_destination_with(dest, DestinationChecks::default()).await
}

/// Runs the destination checks: undeclared capabilities answer `Unsupported`;
/// the fixture's objects are ensured twice (`Created`/`Updated`, then
/// `Unchanged`); an alias clash is `AlreadyExists`; the mailbox, appointments and
/// contacts are written; with [`Capability::ReadBack`] every folder and message
/// reads back byte-identical with its date (and flags when kept); `finalize`
/// succeeds.
///
/// # Errors
/// The first [`ConformanceFailure`], naming the check, account and folder.
pub async fn check_destination_with(
    dest: &dyn Destination,
    checks: DestinationChecks,
) -> Result<ConformanceReport, ConformanceFailure> {
    let fixture = match &checks.label {
        Some(label) => Fixture::with_label(label).map_err(|e| {
            ConformanceFailure::new(check::DESTINATION_ENSURE_CREATES, e.to_string())
        })?,
        None => fixture(),
    };
    let mut report = ConformanceReport::new(dest.kind());
    let mail_account = match &checks.mail_account {
        Some(a) => a.clone(),
        None => fixture
            .accounts
            .iter()
            .find(|a| a.address == fixture.mail_account)
            .cloned()
            .unwrap_or_else(|| Account::new(fixture.mail_account.clone())),
    };
    check_capabilities(dest, &fixture, &mail_account, &mut report).await?;
    provision(dest, &fixture, Pass::First).await?;
    report.pass(check::DESTINATION_ENSURE_CREATES, fixture.label.clone());
    provision(dest, &fixture, Pass::Second).await?;
    report.pass(check::DESTINATION_ENSURE_IDEMPOTENT, fixture.label.clone());
    check_alias_clash(dest, &fixture, &mut report).await?;
    let written = write_mail(dest, &fixture, &mail_account, &mut report).await?;
    write_items(dest, &fixture, &mail_account, &mut report).await?;
    match written {
        Some(uids) if dest.capabilities().has(Capability::ReadBack) => {
            read_back(dest, &fixture, &mail_account, &uids, &checks, &mut report).await?;
        }
        _ => {
            for c in [
                check::DESTINATION_READ_BACK_FOLDERS,
                check::DESTINATION_READ_BACK_BODIES,
                check::DESTINATION_READ_BACK_DATES,
                check::DESTINATION_READ_BACK_FLAGS,
            ] {
                report.skip(c, "reading back and mail are not both declared");
            }
        }
    }
    dest.finalize().await.map_err(|e| {
        ConformanceFailure::new(
            check::DESTINATION_FINALIZE,
            format!("finalize() failed: {e}"),
        )
    })?;
    report.pass(check::DESTINATION_FINALIZE, "");
    Ok(report)
}

fn is_unsupported_by<T>(result: &crate::Result<T>, kind: &str) -> Result<(), String> {
    match result {
        Err(Error::Unsupported { adapter, .. }) if adapter == kind => Ok(()),
        Err(Error::Unsupported { adapter, .. }) => Err(format!(
            "returned Unsupported naming adapter '{adapter}', not '{kind}'"
        )),
        Err(e) => Err(format!("returned \"{e}\" instead of Unsupported")),
        Ok(_) => Err("succeeded instead of returning Unsupported".into()),
    }
}

/// Undeclared capabilities answer `Unsupported` naming the kind. Declared ones
/// are checked by using them.
async fn check_capabilities(
    dest: &dyn Destination,
    f: &Fixture,
    account: &Account,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let caps = dest.capabilities();
    let kind = dest.kind();
    let fail = |cap: Capability, method: &str, detail: String| {
        Err(ConformanceFailure::new(
            check::DESTINATION_CAPABILITIES,
            format!("{cap} is not declared but {method} {detail}"),
        ))
    };
    for cap in Capability::ALL {
        if caps.has(cap) {
            continue;
        }
        let answers: Vec<(&str, Result<(), String>)> = match cap {
            Capability::Domains => match f.domains.first() {
                Some(d) => vec![(
                    "ensure_domain()",
                    is_unsupported_by(&dest.ensure_domain(d).await, kind),
                )],
                None => Vec::new(),
            },
            Capability::ClassesOfService => match f.classes_of_service.first() {
                Some(c) => vec![(
                    "ensure_cos()",
                    is_unsupported_by(&dest.ensure_cos(c).await, kind),
                )],
                None => Vec::new(),
            },
            Capability::Accounts => vec![
                (
                    "ensure_account()",
                    is_unsupported_by(&dest.ensure_account(account).await, kind),
                ),
                (
                    "ensure_alias()",
                    is_unsupported_by(
                        &dest.ensure_alias(&account.address, &account.address).await,
                        kind,
                    ),
                ),
            ],
            Capability::DistributionLists => match f.distribution_lists.first() {
                Some(l) => vec![
                    (
                        "ensure_distribution_list()",
                        is_unsupported_by(&dest.ensure_distribution_list(l).await, kind),
                    ),
                    (
                        "ensure_members()",
                        is_unsupported_by(&dest.ensure_members(&l.address, &l.members).await, kind),
                    ),
                ],
                None => Vec::new(),
            },
            Capability::Mail => vec![(
                "mailbox()",
                is_unsupported_by(&dest.mailbox(account).await, kind),
            )],
            Capability::Appointments => vec![(
                "appointments()",
                is_unsupported_by(&dest.appointments(account).await, kind),
            )],
            Capability::Contacts => vec![(
                "contacts()",
                is_unsupported_by(&dest.contacts(account).await, kind),
            )],
            Capability::ReadBack => vec![(
                "read_back()",
                is_unsupported_by(&dest.read_back(account).await, kind),
            )],
            // No method to call: resuming is a promise about durability, shares and
            // files have no destination method yet.
            Capability::ResumeMail | Capability::Shares | Capability::Files => Vec::new(),
        };
        for (method, answer) in answers {
            if let Err(detail) = answer {
                return fail(cap, method, detail);
            }
        }
    }
    report.pass(check::DESTINATION_CAPABILITIES, "");
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    First,
    Second,
}

fn expect(pass: Pass, what: String, got: crate::Result<Change>) -> Result<(), ConformanceFailure> {
    let check = match pass {
        Pass::First => check::DESTINATION_ENSURE_CREATES,
        Pass::Second => check::DESTINATION_ENSURE_IDEMPOTENT,
    };
    let detail = match (pass, got) {
        (_, Err(e)) => format!("{what} failed: {e}"),
        (Pass::First, Ok(Change::Unchanged)) => {
            format!("{what} returned Unchanged for an object that did not exist")
        }
        (Pass::Second, Ok(c)) if c != Change::Unchanged => {
            format!("{what} returned {c:?} on the second call, wanted Unchanged")
        }
        _ => return Ok(()),
    };
    Err(ConformanceFailure::new(check, detail))
}

/// Ensures every fixture object the destination declares, in dependency order.
async fn provision(
    dest: &dyn Destination,
    f: &Fixture,
    pass: Pass,
) -> Result<(), ConformanceFailure> {
    let caps = dest.capabilities();
    if caps.has(Capability::Domains) {
        for d in &f.domains {
            expect(
                pass,
                format!("ensure_domain {}", d.name),
                dest.ensure_domain(d).await,
            )?;
        }
    }
    if caps.has(Capability::ClassesOfService) {
        for c in &f.classes_of_service {
            expect(
                pass,
                format!("ensure_cos {}", c.name),
                dest.ensure_cos(c).await,
            )?;
        }
    }
    if caps.has(Capability::Accounts) {
        for a in &f.accounts {
            let mut account = a.clone();
            if !caps.has(Capability::ClassesOfService) {
                account.cos = None;
            }
            let got = dest.ensure_account(&account).await;
            expect(pass, format!("ensure_account {}", a.address), got)
                .map_err(|e| e.account(&a.address))?;
        }
        for a in &f.accounts {
            for alias in &a.aliases {
                let got = dest.ensure_alias(&a.address, alias).await;
                expect(pass, format!("ensure_alias {alias} of {}", a.address), got)
                    .map_err(|e| e.account(&a.address))?;
            }
        }
    }
    if caps.has(Capability::DistributionLists) {
        for l in &f.distribution_lists {
            let got = dest.ensure_distribution_list(l).await;
            expect(pass, format!("ensure_distribution_list {}", l.address), got)?;
            let got = dest.ensure_members(&l.address, &l.members).await;
            expect(pass, format!("ensure_members of {}", l.address), got)?;
        }
    }
    Ok(())
}

async fn check_alias_clash(
    dest: &dyn Destination,
    f: &Fixture,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let holder = f.accounts.iter().find(|a| !a.aliases.is_empty());
    let other = f.accounts.iter().find(|a| a.aliases.is_empty());
    let (Some(holder), Some(other), true) =
        (holder, other, dest.capabilities().has(Capability::Accounts))
    else {
        report.skip(check::DESTINATION_ALIAS_CLASH, "accounts are not declared");
        return Ok(());
    };
    let alias = &holder.aliases[0];
    let fail = |detail: String| {
        Err(ConformanceFailure::new(check::DESTINATION_ALIAS_CLASH, detail).account(&other.address))
    };
    match dest.ensure_alias(&other.address, alias).await {
        Err(Error::AlreadyExists { what }) => {
            if !what.contains(alias.as_str()) || !what.contains(holder.address.as_str()) {
                return fail(format!(
                    "AlreadyExists for alias {alias} must name it and its holder {}, it says \"{what}\"",
                    holder.address
                ));
            }
        }
        Err(e) => {
            return fail(format!(
                "ensure_alias {alias} (held by {}) returned \"{e}\", wanted AlreadyExists",
                holder.address
            ))
        }
        Ok(c) => {
            return fail(format!(
                "ensure_alias {alias} (held by {}) returned {c:?}, wanted AlreadyExists",
                holder.address
            ))
        }
    }
    report.pass(check::DESTINATION_ALIAS_CLASH, other.address.to_string());
    Ok(())
}

/// The destination UIDs appended per folder (`None` when not told), in order.
type Written = Vec<(FolderPath, Vec<Option<Uid>>)>;

fn message_of(meta_uid: u32, m: &super::fixture::FixtureMessage) -> Option<Message> {
    Some(Message {
        meta: MessageMeta {
            uid: Uid::new(meta_uid)?,
            flags: m.flags.clone(),
            internal_date: m.internal_date,
            size: m.body.len() as u64,
        },
        body: MessageBody::from_bytes(m.body.clone()),
    })
}

async fn write_mail(
    dest: &dyn Destination,
    f: &Fixture,
    account: &Account,
    report: &mut ConformanceReport,
) -> Result<Option<Written>, ConformanceFailure> {
    if !dest.capabilities().has(Capability::Mail) {
        report.skip(check::DESTINATION_MAIL_WRITE, "mail is not declared");
        return Ok(None);
    }
    let fail = |folder: Option<&FolderPath>, detail: String| {
        let e = ConformanceFailure::new(check::DESTINATION_MAIL_WRITE, detail)
            .account(&account.address);
        match folder {
            Some(p) => e.folder(p),
            None => e,
        }
    };
    let mut writer = dest
        .mailbox(account)
        .await
        .map_err(|e| fail(None, format!("mailbox() failed: {e}")))?;
    for folder in &f.folders {
        for _ in 0..2 {
            writer
                .ensure_folder(folder)
                .await
                .map_err(|e| fail(Some(&folder.path), format!("ensure_folder failed: {e}")))?;
        }
    }
    let mut written = Written::new();
    for folder in &f.folders {
        let messages: Vec<Message> = f
            .messages_in(&folder.path)
            .zip(1u32..)
            .filter_map(|(m, uid)| message_of(uid, m))
            .collect();
        if messages.is_empty() {
            written.push((folder.path.clone(), Vec::new()));
            continue;
        }
        let count = messages.len();
        let outcomes = writer
            .append(folder, messages)
            .await
            .map_err(|e| fail(Some(&folder.path), format!("append failed: {e}")))?;
        if outcomes.len() != count {
            return Err(fail(
                Some(&folder.path),
                format!(
                    "append of {count} messages returned {} outcomes",
                    outcomes.len()
                ),
            ));
        }
        let mut uids = Vec::with_capacity(count);
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let uid = outcome
                .map_err(|e| fail(Some(&folder.path), format!("message {i} was refused: {e}")))?;
            uids.push(uid);
        }
        written.push((folder.path.clone(), uids));
    }
    writer
        .finish()
        .await
        .map_err(|e| fail(None, format!("finish failed: {e}")))?;
    report.pass(check::DESTINATION_MAIL_WRITE, account.address.to_string());
    Ok(Some(written))
}

async fn write_items(
    dest: &dyn Destination,
    f: &Fixture,
    account: &Account,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let caps = dest.capabilities();
    let fail = |detail: String| {
        ConformanceFailure::new(check::DESTINATION_ITEMS_WRITE, detail).account(&account.address)
    };
    if caps.has(Capability::Appointments) {
        let mut w = dest
            .appointments(account)
            .await
            .map_err(|e| fail(format!("appointments() failed: {e}")))?;
        w.write(f.appointments.clone())
            .await
            .map_err(|e| fail(format!("writing appointments failed: {e}")))?;
        w.finish()
            .await
            .map_err(|e| fail(format!("finishing appointments failed: {e}")))?;
        report.pass(
            check::DESTINATION_ITEMS_WRITE,
            format!("{} appointments", account.address),
        );
    } else {
        report.skip(
            check::DESTINATION_ITEMS_WRITE,
            "appointments are not declared",
        );
    }
    if caps.has(Capability::Contacts) {
        let mut w = dest
            .contacts(account)
            .await
            .map_err(|e| fail(format!("contacts() failed: {e}")))?;
        w.write(f.contacts.clone())
            .await
            .map_err(|e| fail(format!("writing contacts failed: {e}")))?;
        w.finish()
            .await
            .map_err(|e| fail(format!("finishing contacts failed: {e}")))?;
        report.pass(
            check::DESTINATION_ITEMS_WRITE,
            format!("{} contacts", account.address),
        );
    } else {
        report.skip(check::DESTINATION_ITEMS_WRITE, "contacts are not declared");
    }
    Ok(())
}

/// The offset of the first byte that differs, for a failure message.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

async fn read_back(
    dest: &dyn Destination,
    f: &Fixture,
    account: &Account,
    written: &Written,
    checks: &DestinationChecks,
    report: &mut ConformanceReport,
) -> Result<(), ConformanceFailure> {
    let fail = |check: &'static str, folder: Option<&FolderPath>, detail: String| {
        let e = ConformanceFailure::new(check, detail).account(&account.address);
        match folder {
            Some(p) => e.folder(p),
            None => e,
        }
    };
    let mut reader = dest.read_back(account).await.map_err(|e| {
        fail(
            check::DESTINATION_READ_BACK_FOLDERS,
            None,
            format!("read_back() failed: {e}"),
        )
    })?;
    let folders: Vec<Folder> = reader.folders().await.map_err(|e| {
        fail(
            check::DESTINATION_READ_BACK_FOLDERS,
            None,
            format!("folders() failed: {e}"),
        )
    })?;
    for folder in &f.folders {
        if !folders.iter().any(|x| x.path == folder.path) {
            return Err(fail(
                check::DESTINATION_READ_BACK_FOLDERS,
                Some(&folder.path),
                "the folder written is not read back".into(),
            ));
        }
    }
    let mut compared = 0usize;
    for (path, uids) in written {
        let wanted: Vec<&super::fixture::FixtureMessage> = f.messages_in(path).collect();
        let listed = reader.list(path, None, usize::MAX).await.map_err(|e| {
            fail(
                check::DESTINATION_READ_BACK_FOLDERS,
                Some(path),
                format!("list failed: {e}"),
            )
        })?;
        if listed.len() != wanted.len() {
            return Err(fail(
                check::DESTINATION_READ_BACK_FOLDERS,
                Some(path),
                format!(
                    "{} messages were written, {} read back",
                    wanted.len(),
                    listed.len()
                ),
            ));
        }
        // The UIDs the append told, else the order listed (a fresh folder lists
        // messages in the order appended).
        let ask: Vec<Uid> = if uids.iter().all(Option::is_some) {
            uids.iter().flatten().copied().collect()
        } else {
            listed.iter().map(|m| m.uid).collect()
        };
        let mut stream = reader.fetch(path, &ask).await.map_err(|e| {
            fail(
                check::DESTINATION_READ_BACK_BODIES,
                Some(path),
                format!("fetch failed: {e}"),
            )
        })?;
        let mut i = 0usize;
        while let Some(item) = stream.next().await {
            let message = item.map_err(|e| {
                fail(
                    check::DESTINATION_READ_BACK_BODIES,
                    Some(path),
                    format!("fetch yielded an error: {e}"),
                )
            })?;
            let (Some(want), Some(uid)) = (wanted.get(i), ask.get(i)) else {
                return Err(fail(
                    check::DESTINATION_READ_BACK_BODIES,
                    Some(path),
                    format!("fetch of {} messages yielded more", ask.len()),
                ));
            };
            if message.meta.uid != *uid {
                return Err(fail(
                    check::DESTINATION_READ_BACK_BODIES,
                    Some(path),
                    format!("fetch of uid {uid} yielded uid {}", message.meta.uid),
                ));
            }
            let meta = message.meta;
            let body = message.body.read_all().await.map_err(|e| {
                fail(
                    check::DESTINATION_READ_BACK_BODIES,
                    Some(path),
                    format!("uid {uid}: {e}"),
                )
            })?;
            if body[..] != want.body[..] {
                return Err(fail(
                    check::DESTINATION_READ_BACK_BODIES,
                    Some(path),
                    format!(
                        "uid {uid}: {} bytes written, {} read back, first difference at byte {}",
                        want.body.len(),
                        body.len(),
                        first_difference(&want.body, &body)
                    ),
                ));
            }
            if meta.internal_date.timestamp() != want.internal_date.timestamp() {
                return Err(fail(
                    check::DESTINATION_READ_BACK_DATES,
                    Some(path),
                    format!(
                        "uid {uid}: internal date {} written, {} read back",
                        want.internal_date.to_rfc3339(),
                        meta.internal_date.to_rfc3339()
                    ),
                ));
            }
            if checks.keeps_flags && meta.flags != want.flags {
                return Err(fail(
                    check::DESTINATION_READ_BACK_FLAGS,
                    Some(path),
                    format!(
                        "uid {uid}: flags ({}) written, ({}) read back",
                        want.flags.to_imap(),
                        meta.flags.to_imap()
                    ),
                ));
            }
            i += 1;
        }
        if i != wanted.len() {
            return Err(fail(
                check::DESTINATION_READ_BACK_BODIES,
                Some(path),
                format!("fetch of {} messages yielded {i}", ask.len()),
            ));
        }
        compared += i;
    }
    let subject = format!("{} ({compared} messages)", account.address);
    report.pass(check::DESTINATION_READ_BACK_FOLDERS, subject.clone());
    report.pass(check::DESTINATION_READ_BACK_BODIES, subject.clone());
    report.pass(check::DESTINATION_READ_BACK_DATES, subject.clone());
    if checks.keeps_flags {
        report.pass(check::DESTINATION_READ_BACK_FLAGS, subject);
    } else {
        report.skip(
            check::DESTINATION_READ_BACK_FLAGS,
            "the adapter is declared not to keep flags",
        );
    }
    Ok(())
}

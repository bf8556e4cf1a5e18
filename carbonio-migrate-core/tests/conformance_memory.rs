//! The conformance suite against the memory adapters (which must pass) and
//! against deliberately broken adapters (which must fail, naming the right check).
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use bytes::Bytes;
use carbonio_migrate_core::adapters::memory::{MemoryDestination, MemorySource};
use carbonio_migrate_core::conformance::{
    check, check_destination, check_destination_with, check_source, check_source_with,
    ConformanceFailure, DestinationChecks, Fixture, SourceChecks,
};
use carbonio_migrate_core::model::{
    Account, Appointment, Contact, Cos, DistributionList, Domain, EmailAddress, Flags, Folder,
    FolderPath, Message, MessageBody, MessageMeta, Uid,
};
use carbonio_migrate_core::{
    AppendOutcome, Capabilities, Capability, Change, Destination, Error, FolderStatus, ItemWriter,
    MailboxReader, MailboxWriter, Result, ResultStream, Source,
};
use chrono::DateTime;
use futures::StreamExt;

/// The fixture plus a second mailbox with enough messages to need many pages,
/// some folders added child-first, and a bad account record.
fn realistic_source() -> MemorySource {
    let f = Fixture::with_label("conf-src").unwrap();
    let source = f.to_memory_source();
    let bob = f.accounts[1].address.clone();
    let date = DateTime::parse_from_rfc3339("2012-02-29T23:59:59+01:00").unwrap();
    let deep = FolderPath::parse("Projekte/Überblick 2024").unwrap();
    let inbox = FolderPath::parse("Inbox").unwrap();
    for i in 0..40u32 {
        let flags = Flags {
            seen: i % 2 == 0,
            flagged: i % 5 == 0,
            ..Flags::default()
        };
        let body = format!(
            "Subject: message {i}\r\n\r\n{}\r\n",
            "x".repeat(i as usize * 37)
        );
        source.add_message(&bob, &inbox, flags, date, body);
    }
    source.add_message(
        &bob,
        &deep,
        Flags::default(),
        date,
        &b"Subject: deep\r\n\r\n"[..],
    );
    source.add_folder(&bob, Folder::mail(FolderPath::parse("Projekte").unwrap()));
    source.add_bad_account(Error::input(
        "accounts.csv",
        Some(9),
        "bad e-mail address \"@\"",
    ));
    source
}

#[tokio::test]
async fn memory_source_passes_every_check() {
    let report = check_source(&realistic_source()).await.unwrap();
    for c in [
        check::SOURCE_CAPABILITIES,
        check::SOURCE_STREAMS_STABLE,
        check::SOURCE_UNIQUE,
        check::SOURCE_FOLDERS,
        check::SOURCE_LIST_PAGING,
        check::SOURCE_STATUS_COUNT,
        check::SOURCE_FETCH_ORDER,
        check::SOURCE_FETCH_BODY,
        check::SOURCE_FETCH_REPEATABLE,
        check::SOURCE_FETCH_MISSING,
        check::SOURCE_UNKNOWN_FOLDER,
    ] {
        assert!(report.has_passed(c), "{c} did not pass: {report}");
    }
    let paged: Vec<&str> = report
        .passed
        .iter()
        .filter(|p| p.check == check::SOURCE_LIST_PAGING)
        .map(|p| p.subject.as_str())
        .collect();
    assert!(
        paged.contains(&"bob@conf-src.example.org Inbox"),
        "{paged:?}"
    );
    assert!(
        paged.contains(&"ada@conf-src.example.org Archiv/Ελληνικά"),
        "{paged:?}"
    );
}

#[tokio::test]
async fn empty_memory_source_passes_with_skips() {
    let report = check_source(&MemorySource::new()).await.unwrap();
    assert!(report.has_passed(check::SOURCE_CAPABILITIES));
    assert_eq!(
        report.skip_reason(check::SOURCE_FOLDERS),
        Some("no account to read mail, appointments or contacts of")
    );
}

#[tokio::test]
async fn memory_destination_passes_every_check() {
    let dest = MemoryDestination::new();
    let report = check_destination(&dest).await.unwrap();
    for c in [
        check::DESTINATION_CAPABILITIES,
        check::DESTINATION_ENSURE_CREATES,
        check::DESTINATION_ENSURE_IDEMPOTENT,
        check::DESTINATION_ALIAS_CLASH,
        check::DESTINATION_MAIL_WRITE,
        check::DESTINATION_ITEMS_WRITE,
        check::DESTINATION_READ_BACK_FOLDERS,
        check::DESTINATION_READ_BACK_BODIES,
        check::DESTINATION_READ_BACK_DATES,
        check::DESTINATION_READ_BACK_FLAGS,
        check::DESTINATION_FINALIZE,
    ] {
        assert!(report.has_passed(c), "{c} did not pass: {report}");
    }
    // It really wrote the fixture, under a random namespace.
    assert_eq!(dest.domains().len(), 2);
    assert!(dest.domains()[0].name.as_str().starts_with("conf-"));
    let ada = &dest.accounts()[0];
    assert_eq!(dest.aliases_of(&ada.address).len(), 2);
    let big = FolderPath::parse("日本語").unwrap();
    assert!(dest.messages_in(&ada.address, &big)[0].body.len() > 1 << 20);
    // A second run (fresh label) does not collide with the first.
    check_destination(&dest).await.unwrap();
    assert_eq!(dest.domains().len(), 4);
}

// ---------------------------------------------------------------------------
// Broken sources: a wrapper around a good MemorySource with one defect.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SourceDefect {
    ListIgnoresAfter,
    ListIgnoresLimit,
    MailDeclaredButUnsupported,
    DomainsUndeclaredButServed,
    UnsupportedNamesWrongAdapter,
    AccountsReordered,
    AccountsTwice,
    ChildBeforeParent,
    FetchSorted,
    FetchInventsMissing,
    StatusMiscounts,
    BodyShorterThanSize,
    UnknownFolderEmpty,
}

struct BrokenSource {
    inner: MemorySource,
    defect: SourceDefect,
    calls: std::sync::atomic::AtomicUsize,
}

impl BrokenSource {
    fn new(defect: SourceDefect) -> Self {
        BrokenSource {
            inner: realistic_source(),
            defect,
            calls: Default::default(),
        }
    }
}

#[async_trait]
impl Source for BrokenSource {
    fn kind(&self) -> &'static str {
        "broken"
    }
    fn location(&self) -> String {
        "broken source".into()
    }
    fn capabilities(&self) -> Capabilities {
        let caps = self.inner.capabilities();
        match self.defect {
            SourceDefect::DomainsUndeclaredButServed
            | SourceDefect::UnsupportedNamesWrongAdapter => {
                Capabilities::of(caps.iter().filter(|c| *c != Capability::Domains))
            }
            _ => caps,
        }
    }
    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        if self.defect == SourceDefect::UnsupportedNamesWrongAdapter {
            return Err(Error::unsupported("reading domains", "memory"));
        }
        self.inner.domains().await
    }
    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        self.inner.classes_of_service().await
    }
    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        let items: Vec<Result<Account>> = self.inner.accounts().await?.collect().await;
        let mut good: Vec<Account> = items.into_iter().filter_map(|r| r.ok()).collect();
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.defect {
            SourceDefect::AccountsReordered if n % 2 == 1 => good.reverse(),
            SourceDefect::AccountsTwice => {
                let first = good[0].clone();
                good.push(first);
            }
            _ => {}
        }
        Ok(Box::pin(futures::stream::iter(good.into_iter().map(Ok))))
    }
    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        self.inner.distribution_lists().await
    }
    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        if self.defect == SourceDefect::MailDeclaredButUnsupported {
            return Err(Error::unsupported("reading mail", self.kind()));
        }
        Ok(Box::new(BrokenReader {
            inner: self.inner.mailbox(account).await?,
            defect: self.defect,
        }))
    }
    async fn appointments(&self, account: &Account) -> Result<ResultStream<'_, Appointment>> {
        self.inner.appointments(account).await
    }
    async fn contacts(&self, account: &Account) -> Result<ResultStream<'_, Contact>> {
        self.inner.contacts(account).await
    }
}

struct BrokenReader {
    inner: Box<dyn MailboxReader>,
    defect: SourceDefect,
}

#[async_trait]
impl MailboxReader for BrokenReader {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        let mut folders = self.inner.folders().await?;
        if self.defect == SourceDefect::ChildBeforeParent {
            folders.reverse();
        }
        Ok(folders)
    }
    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        let mut status = self.inner.status(folder).await?;
        if self.defect == SourceDefect::StatusMiscounts && status.messages > 0 {
            status.messages -= 1;
        }
        Ok(status)
    }
    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        if self.defect == SourceDefect::UnknownFolderEmpty
            && folder.name().starts_with("conformance-missing")
        {
            return Ok(Vec::new());
        }
        match self.defect {
            SourceDefect::ListIgnoresAfter => self.inner.list(folder, None, limit).await,
            SourceDefect::ListIgnoresLimit => self.inner.list(folder, after, usize::MAX).await,
            _ => self.inner.list(folder, after, limit).await,
        }
    }
    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let defect = self.defect;
        let mut asked = uids.to_vec();
        if defect == SourceDefect::FetchSorted {
            asked.sort();
        }
        let mut out: Vec<Result<Message>> = self.inner.fetch(folder, &asked).await?.collect().await;
        if defect == SourceDefect::FetchInventsMissing && out.len() < uids.len() {
            let date = DateTime::parse_from_rfc3339("2000-01-01T00:00:00+00:00").unwrap();
            let missing = uids
                .iter()
                .find(|u| !out.iter().any(|m| m.as_ref().unwrap().meta.uid == **u))
                .unwrap();
            out.push(Ok(Message {
                meta: MessageMeta {
                    uid: *missing,
                    flags: Flags::default(),
                    internal_date: date,
                    size: 0,
                },
                body: MessageBody::from_bytes(Bytes::new()),
            }));
        }
        if defect == SourceDefect::BodyShorterThanSize {
            let mut shortened = Vec::new();
            for m in out {
                let m = m?;
                let mut bytes = m.body.read_all().await?;
                bytes.pop();
                let len = m.meta.size;
                // Announces the listed size but yields one byte less.
                shortened.push(Ok(Message {
                    meta: m.meta,
                    body: MessageBody::from_reader(len, std::io::Cursor::new(bytes)),
                }));
            }
            out = shortened;
        }
        Ok(Box::pin(futures::stream::iter(out)))
    }
}

async fn source_failure(defect: SourceDefect) -> ConformanceFailure {
    match check_source_with(&BrokenSource::new(defect), SourceChecks::default()).await {
        Ok(report) => panic!("{defect:?} passed: {report}"),
        Err(failure) => failure,
    }
}

#[tokio::test]
async fn list_ignoring_after_fails_paging() {
    let f = source_failure(SourceDefect::ListIgnoresAfter).await;
    assert_eq!(f.check, check::SOURCE_LIST_PAGING, "{f}");
    assert_eq!(f.account.as_deref(), Some("ada@conf-src.example.org"));
    assert_eq!(f.folder.as_deref(), Some("Inbox"));
    assert!(f.to_string().contains("which is not after"), "{f}");
}

#[tokio::test]
async fn list_ignoring_limit_fails_paging() {
    let f = source_failure(SourceDefect::ListIgnoresLimit).await;
    assert_eq!(f.check, check::SOURCE_LIST_PAGING, "{f}");
    assert!(f.detail.contains("limit 7"), "{f}");
}

#[tokio::test]
async fn declared_mail_answering_unsupported_fails_capabilities() {
    let f = source_failure(SourceDefect::MailDeclaredButUnsupported).await;
    assert_eq!(f.check, check::SOURCE_CAPABILITIES, "{f}");
    assert_eq!(
        f.detail,
        "mail is declared but mailbox() returned Unsupported"
    );
}

#[tokio::test]
async fn undeclared_domains_served_anyway_fails_capabilities() {
    let f = source_failure(SourceDefect::DomainsUndeclaredButServed).await;
    assert_eq!(f.check, check::SOURCE_CAPABILITIES, "{f}");
    assert_eq!(
        f.detail,
        "domains is not declared but domains() succeeded instead of returning Unsupported"
    );
}

#[tokio::test]
async fn unsupported_must_name_the_adapter_kind() {
    let f = source_failure(SourceDefect::UnsupportedNamesWrongAdapter).await;
    assert_eq!(f.check, check::SOURCE_CAPABILITIES, "{f}");
    assert!(
        f.detail.contains("naming adapter 'memory', not 'broken'"),
        "{f}"
    );
}

#[tokio::test]
async fn unstable_accounts_fail_stability() {
    let f = source_failure(SourceDefect::AccountsReordered).await;
    assert_eq!(f.check, check::SOURCE_STREAMS_STABLE, "{f}");
    assert!(
        f.detail
            .starts_with("accounts item 0 is ada@conf-src.example.org on the first call"),
        "{f}"
    );
}

#[tokio::test]
async fn duplicate_accounts_fail_uniqueness() {
    let f = source_failure(SourceDefect::AccountsTwice).await;
    assert_eq!(f.check, check::SOURCE_UNIQUE, "{f}");
    assert_eq!(f.detail, "accounts yields ada@conf-src.example.org twice");
}

#[tokio::test]
async fn child_listed_before_parent_fails_folder_order() {
    let f = source_failure(SourceDefect::ChildBeforeParent).await;
    assert_eq!(f.check, check::SOURCE_FOLDERS, "{f}");
    assert!(f.detail.contains("is listed before its parent"), "{f}");
}

#[tokio::test]
async fn fetch_in_uid_order_fails_fetch_order() {
    let f = source_failure(SourceDefect::FetchSorted).await;
    assert_eq!(f.check, check::SOURCE_FETCH_ORDER, "{f}");
    assert_eq!(f.folder.as_deref(), Some("Inbox"));
    assert_eq!(f.detail, "fetch of [2, 1] yielded [1, 2]");
}

#[tokio::test]
async fn fetch_inventing_a_missing_uid_fails() {
    let f = source_failure(SourceDefect::FetchInventsMissing).await;
    assert_eq!(f.check, check::SOURCE_FETCH_MISSING, "{f}");
}

#[tokio::test]
async fn miscounting_status_fails() {
    let f = source_failure(SourceDefect::StatusMiscounts).await;
    assert_eq!(f.check, check::SOURCE_STATUS_COUNT, "{f}");
    assert_eq!(f.detail, "status() counts 1 messages, list gives 2");
}

#[tokio::test]
async fn short_body_fails_body_size() {
    let f = source_failure(SourceDefect::BodyShorterThanSize).await;
    assert_eq!(f.check, check::SOURCE_FETCH_BODY, "{f}");
    assert!(f.detail.contains("yields"), "{f}");
}

#[tokio::test]
async fn unknown_folder_listed_as_empty_fails() {
    let f = source_failure(SourceDefect::UnknownFolderEmpty).await;
    assert_eq!(f.check, check::SOURCE_UNKNOWN_FOLDER, "{f}");
}

// ---------------------------------------------------------------------------
// Broken destinations: a wrapper around a good MemoryDestination with one defect.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum DestinationDefect {
    EnsureDomainAlwaysCreates,
    AliasClashAccepted,
    BodyByteAltered,
    FlagsDropped,
    DateShifted,
    ContactsUndeclaredButWritten,
}

struct BrokenDestination {
    inner: MemoryDestination,
    defect: DestinationDefect,
}

#[async_trait]
impl Destination for BrokenDestination {
    fn kind(&self) -> &'static str {
        "broken"
    }
    fn location(&self) -> String {
        "broken destination".into()
    }
    fn capabilities(&self) -> Capabilities {
        let caps = self.inner.capabilities();
        if self.defect == DestinationDefect::ContactsUndeclaredButWritten {
            return Capabilities::of(caps.iter().filter(|c| *c != Capability::Contacts));
        }
        caps
    }
    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        let change = self.inner.ensure_domain(domain).await?;
        Ok(
            if self.defect == DestinationDefect::EnsureDomainAlwaysCreates {
                Change::Created
            } else {
                change
            },
        )
    }
    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        self.inner.ensure_cos(cos).await
    }
    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        self.inner.ensure_account(account).await
    }
    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        match self.inner.ensure_alias(account, alias).await {
            Err(Error::AlreadyExists { .. })
                if self.defect == DestinationDefect::AliasClashAccepted =>
            {
                Ok(Change::Unchanged)
            }
            other => other,
        }
    }
    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        self.inner.ensure_distribution_list(list).await
    }
    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        self.inner.ensure_members(list, members).await
    }
    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        Ok(Box::new(BrokenWriter {
            inner: self.inner.mailbox(account).await?,
            defect: self.defect,
        }))
    }
    async fn appointments(&self, account: &Account) -> Result<Box<dyn ItemWriter<Appointment>>> {
        self.inner.appointments(account).await
    }
    async fn contacts(&self, account: &Account) -> Result<Box<dyn ItemWriter<Contact>>> {
        self.inner.contacts(account).await
    }
    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        self.inner.read_back(account).await
    }
}

struct BrokenWriter {
    inner: Box<dyn MailboxWriter>,
    defect: DestinationDefect,
}

#[async_trait]
impl MailboxWriter for BrokenWriter {
    async fn ensure_folder(&mut self, folder: &Folder) -> Result<()> {
        self.inner.ensure_folder(folder).await
    }
    async fn append(
        &mut self,
        folder: &Folder,
        messages: Vec<Message>,
    ) -> Result<Vec<AppendOutcome>> {
        let mut changed = Vec::with_capacity(messages.len());
        for mut m in messages {
            let mut bytes = m.body.read_all().await?;
            match self.defect {
                DestinationDefect::BodyByteAltered if bytes.len() > 100 => bytes[100] ^= 0x20,
                DestinationDefect::FlagsDropped => m.meta.flags = Flags::default(),
                DestinationDefect::DateShifted => {
                    m.meta.internal_date += chrono::Duration::hours(1)
                }
                _ => {}
            }
            changed.push(Message {
                meta: m.meta,
                body: MessageBody::from_bytes(bytes),
            });
        }
        self.inner.append(folder, changed).await
    }
    async fn finish(self: Box<Self>) -> Result<()> {
        self.inner.finish().await
    }
}

async fn destination_failure(
    defect: DestinationDefect,
    checks: DestinationChecks,
) -> ConformanceFailure {
    let dest = BrokenDestination {
        inner: MemoryDestination::new(),
        defect,
    };
    match check_destination_with(&dest, checks).await {
        Ok(report) => panic!("{defect:?} passed: {report}"),
        Err(failure) => failure,
    }
}

fn labelled() -> DestinationChecks {
    DestinationChecks {
        label: Some("conf-broken".into()),
        ..DestinationChecks::default()
    }
}

#[tokio::test]
async fn non_idempotent_ensure_fails_idempotence() {
    let f = destination_failure(DestinationDefect::EnsureDomainAlwaysCreates, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_ENSURE_IDEMPOTENT, "{f}");
    assert_eq!(
        f.detail,
        "ensure_domain conf-broken.example.org returned Created on the second call, wanted Unchanged"
    );
}

#[tokio::test]
async fn accepted_alias_clash_fails() {
    let f = destination_failure(DestinationDefect::AliasClashAccepted, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_ALIAS_CLASH, "{f}");
    assert_eq!(f.account.as_deref(), Some("bob@conf-broken.example.org"));
    assert_eq!(
        f.detail,
        "ensure_alias ada.lovelace@conf-broken.example.org (held by ada@conf-broken.example.org) \
         returned Unchanged, wanted AlreadyExists"
    );
}

#[tokio::test]
async fn altered_body_byte_fails_read_back() {
    let f = destination_failure(DestinationDefect::BodyByteAltered, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_READ_BACK_BODIES, "{f}");
    assert_eq!(f.folder.as_deref(), Some("Inbox"));
    assert!(f.detail.ends_with("first difference at byte 100"), "{f}");
}

#[tokio::test]
async fn dropped_flags_fail_only_when_flags_are_kept() {
    let f = destination_failure(DestinationDefect::FlagsDropped, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_READ_BACK_FLAGS, "{f}");
    assert!(
        f.detail.contains("flags (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded $Label1 project_x) written, () read back"),
        "{f}"
    );
    let dest = BrokenDestination {
        inner: MemoryDestination::new(),
        defect: DestinationDefect::FlagsDropped,
    };
    let report = check_destination_with(
        &dest,
        DestinationChecks {
            keeps_flags: false,
            ..labelled()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        report.skip_reason(check::DESTINATION_READ_BACK_FLAGS),
        Some("the adapter is declared not to keep flags")
    );
}

#[tokio::test]
async fn shifted_date_fails_read_back_dates() {
    let f = destination_failure(DestinationDefect::DateShifted, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_READ_BACK_DATES, "{f}");
    assert!(
        f.detail.contains("1998-03-14T09:26:53-05:00 written"),
        "{f}"
    );
}

#[tokio::test]
async fn undeclared_capability_that_works_fails_capabilities() {
    let f = destination_failure(DestinationDefect::ContactsUndeclaredButWritten, labelled()).await;
    assert_eq!(f.check, check::DESTINATION_CAPABILITIES, "{f}");
    assert!(
        f.detail
            .starts_with("contacts is not declared but contacts() returned"),
        "{f}"
    );
}

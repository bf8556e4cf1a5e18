//! The `export-dir` source read through its public API, on exports built in
//! temporary directories.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};

use carbonio_migrate_core::adapters::export_dir::{ExportDirConfig, ExportDirSource};
use carbonio_migrate_core::model::{Account, EmailAddress, FolderPath, FolderRole, Password, Uid};
use carbonio_migrate_core::{Capability, Error, MailboxReader, Result, Source};
use futures::StreamExt;

struct Export {
    dir: tempfile::TempDir,
}

impl Export {
    fn new(accounts: &str) -> Self {
        let export = Export {
            dir: tempfile::tempdir().unwrap(),
        };
        export.write("accounts.csv", accounts.as_bytes());
        export
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn mkdir(&self, relative: &str) {
        std::fs::create_dir_all(self.dir.path().join(relative)).unwrap();
    }

    fn open(&self) -> ExportDirSource {
        ExportDirSource::open(&ExportDirConfig {
            path: self.dir.path().to_path_buf(),
        })
        .unwrap()
    }

    /// An error's text with the export's path taken out, so tests read like what
    /// an admin sees for `./export`.
    fn shown(&self, error: &Error) -> String {
        error
            .to_string()
            .replace(&format!("{}/", self.dir.path().display()), "")
    }
}

async fn all<T>(stream: Result<carbonio_migrate_core::ResultStream<'_, T>>) -> Vec<Result<T>> {
    stream.unwrap().collect().await
}

fn account(address: &str) -> Account {
    Account::new(EmailAddress::parse(address).unwrap())
}

fn folder(path: &str) -> FolderPath {
    FolderPath::parse(path).unwrap()
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

#[test]
fn open_refuses_a_missing_directory_or_accounts_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = ExportDirSource::open(&ExportDirConfig {
        path: missing.clone(),
    })
    .unwrap_err();
    assert!(matches!(err, Error::Config { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "configuration: export directory {} does not exist or is not a directory",
            missing.display()
        )
    );
    let err = ExportDirSource::open(&ExportDirConfig {
        path: dir.path().to_path_buf(),
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "configuration: {} is missing: an export directory needs accounts.csv",
            dir.path().join("accounts.csv").display()
        )
    );
}

#[test]
fn identity_and_capabilities() {
    let export = Export::new("email\n");
    let source = export.open();
    assert_eq!(source.kind(), "export-dir");
    assert_eq!(
        source.location(),
        format!("export-dir at {}", export.path().display())
    );
    let caps = source.capabilities();
    for cap in [
        Capability::Domains,
        Capability::ClassesOfService,
        Capability::Accounts,
        Capability::DistributionLists,
        Capability::Mail,
        Capability::Appointments,
        Capability::Contacts,
    ] {
        assert!(caps.has(cap), "{cap}");
    }
    assert!(!caps.has(Capability::Shares));
}

#[tokio::test]
async fn accounts_with_bom_quotes_and_non_ascii() {
    let export = Export::new(
        "\u{feff}email,displayName,givenName,surname,password\n\
         ada@x.org,\"Lovelace, Ada \"\"Countess\"\"\",Ada,Lovelace,\"p,w\"\n\
         jose@x.org,José Müller-Łukasiewicz,José,\"Müller\nŁukasiewicz\",\n",
    );
    let source = export.open();
    assert!(source.warnings().is_empty(), "{:?}", source.warnings());
    let accounts = all(source.accounts().await).await;
    assert_eq!(accounts.len(), 2);
    let ada = accounts[0].as_ref().unwrap();
    assert_eq!(ada.address.as_str(), "ada@x.org");
    assert_eq!(
        ada.display_name.as_deref(),
        Some("Lovelace, Ada \"Countess\"")
    );
    assert!(matches!(&ada.password, Password::Clear(p) if p.expose() == "p,w"));
    let jose = accounts[1].as_ref().unwrap();
    assert_eq!(
        jose.display_name.as_deref(),
        Some("José Müller-Łukasiewicz")
    );
    assert_eq!(jose.surname.as_deref(), Some("Müller\nŁukasiewicz"));
    assert_eq!(jose.password, Password::None);
}

#[tokio::test]
async fn bad_rows_are_errors_with_lines_and_good_rows_come_out() {
    let export = Export::new("");
    export.write(
        "accounts.csv",
        b"email,aliases,cos,password_hash\n\
          good1@x.org,g1@x.org,basic,\n\
          x,,,\n\
          bad\xff@x.org,,,\n\
          good1@x.org,,,\n\
          a@x.org,g1@x.org,,\n\
          b@x.org,good2@x.org,,\n\
          c@x.org,,gold,\n\
          d@x.org,,,nohash\n\
          good2@x.org,,BASIC,{SSHA}abc\n\
          e@x.org,\"broken,,\n\
          after@x.org,,,\n",
    );
    export.write(
        "classes_of_service.csv",
        b"name,zimbraMailQuota\nbasic,1000\n",
    );
    let source = export.open();
    let accounts = all(source.accounts().await).await;
    let shown: Vec<String> = accounts
        .iter()
        .map(|a| match a {
            Ok(a) => format!("ok {}", a.address),
            Err(e) => {
                assert!(matches!(e, Error::Input { line: Some(_), .. }));
                export.shown(e)
            }
        })
        .collect();
    assert_eq!(
        shown,
        [
            "ok good1@x.org",
            "accounts.csv:3: invalid e-mail address \"x\": it has no '@'",
            "accounts.csv:4: the row is not valid utf-8 (save the file as utf-8)",
            "accounts.csv:5: duplicate account good1@x.org, first defined at line 2",
            "accounts.csv:6: duplicate alias g1@x.org, first defined at line 2",
            "accounts.csv:7: alias good2@x.org is the address of the account defined at line 10",
            "accounts.csv:8: unknown class of service \"gold\": it is not in classes_of_service.csv",
            "accounts.csv:9: invalid password hash \"***\": it must start with a {SCHEME} such as {SSHA}",
            "ok good2@x.org",
            "accounts.csv:11: the row has 2 fields, the header has 4 (a quoted field runs over several lines: is a closing quote missing?)",
            // The broken quote swallows no later row.
            "ok after@x.org",
        ]
    );
}

#[tokio::test]
async fn missing_email_column_is_one_error() {
    let export = Export::new("mail,password\nada@x.org,x\n");
    let source = export.open();
    let accounts = all(source.accounts().await).await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        export.shown(accounts[0].as_ref().unwrap_err()),
        "accounts.csv:1: missing required column \"email\""
    );
}

#[tokio::test]
async fn warnings_name_unknown_columns_and_orphan_directories() {
    let export = Export::new("email,phone\nada@x.org,123\n");
    export.mkdir("mail/Ada@X.org/Inbox");
    export.mkdir("mail/ghost@x.org/Inbox");
    export.write("calendar/ghost@x.org.ics", b"");
    export.write("contacts/notes.txt", b"");
    let source = export.open();
    let warnings: Vec<String> = source
        .warnings()
        .iter()
        .map(|w| w.replace(&format!("{}/", export.path().display()), ""))
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert!(warnings[0].starts_with("accounts.csv: unknown column \"phone\" is ignored"));
    assert_eq!(
        warnings[1],
        "mail/ghost@x.org belongs to no account of accounts.csv; it is not migrated"
    );
    assert_eq!(
        warnings[2],
        "calendar/ghost@x.org.ics belongs to no account of accounts.csv; it is not migrated"
    );
    assert_eq!(
        warnings[3],
        "contacts/notes.txt is not a .vcf file; it is ignored"
    );
    // The account's directory is found whatever its case.
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let folders = mailbox.folders().await.unwrap();
    assert_eq!(folders.len(), 1);
    assert_eq!(folders[0].role, Some(FolderRole::Inbox));
}

#[tokio::test]
async fn domains_classes_of_service_and_lists() {
    let export = Export::new("email,aliases\nada@b.org,ada@c.org;a2@b.org\nbob@a.org,\n");
    export.write(
        "domains.csv",
        b"name,description\na.org,First\nbad_domain.org,\n",
    );
    export.write(
        "classes_of_service.csv",
        b"name,zimbraMailQuota,zimbraFeatureCalendarEnabled\nbasic,1048576,\npro,,TRUE\nBasic,1,\n",
    );
    export.write(
        "distribution_lists.csv",
        b"staff@d.org,Staff,The staff,ada@b.org,someone@external.net\nbad,,,\n",
    );
    let source = export.open();

    let domains = all(source.domains().await).await;
    let shown: Vec<String> = domains
        .iter()
        .map(|d| match d {
            Ok(d) => format!("{} {:?}", d.name, d.attributes),
            Err(e) => export.shown(e),
        })
        .collect();
    assert_eq!(
        shown,
        [
            "a.org {\"description\": \"First\"}",
            "domains.csv:3: invalid domain name \"bad_domain.org\": only letters, digits and '-' are allowed (write IDNs in xn-- form)",
            "b.org {}",
            "c.org {}",
            "d.org {}",
        ]
    );

    let cos = all(source.classes_of_service().await).await;
    assert_eq!(cos.len(), 3);
    let basic = cos[0].as_ref().unwrap();
    assert_eq!(basic.name.as_str(), "basic");
    assert_eq!(basic.attributes.len(), 1);
    assert_eq!(basic.attributes["zimbraMailQuota"], "1048576");
    assert_eq!(
        cos[1].as_ref().unwrap().attributes["zimbraFeatureCalendarEnabled"],
        "TRUE"
    );
    assert_eq!(
        export.shown(cos[2].as_ref().unwrap_err()),
        "classes_of_service.csv:4: duplicate class of service Basic, first defined at line 2"
    );

    let lists = all(source.distribution_lists().await).await;
    assert_eq!(lists.len(), 2);
    let staff = lists[0].as_ref().unwrap();
    assert_eq!(staff.address.as_str(), "staff@d.org");
    assert_eq!(staff.description.as_deref(), Some("Staff"));
    assert_eq!(staff.display_name.as_deref(), Some("The staff"));
    assert_eq!(staff.members.len(), 2);
    assert_eq!(
        export.shown(lists[1].as_ref().unwrap_err()),
        "distribution_lists.csv:2: invalid e-mail address \"bad\": it has no '@'"
    );
}

#[tokio::test]
async fn optional_files_absent_give_empty_streams() {
    let export = Export::new("email\nada@x.org\n");
    let source = export.open();
    assert!(all(source.classes_of_service().await).await.is_empty());
    assert!(all(source.distribution_lists().await).await.is_empty());
    let ada = account("ada@x.org");
    assert!(all(source.appointments(&ada).await).await.is_empty());
    assert!(all(source.contacts(&ada).await).await.is_empty());
    let mut mailbox = source.mailbox(&ada).await.unwrap();
    assert!(mailbox.folders().await.unwrap().is_empty());
    let domains = all(source.domains().await).await;
    assert_eq!(domains.len(), 1);
}

const EML_1: &[u8] = b"Received: from mx by mail; Tue, 2 Jan 2024 08:00:00 +0100\r\n\
Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
Status: RO\r\n\
X-Status: AF\r\n\
X-Keywords: $Label1, Work\r\n\
Subject: first\r\n\
\r\n\
Body one\r\n";
const EML_2: &[u8] = b"Date: Wed, 3 Jan 2024 09:30:00 -0500\n\
Subject: second\n\
\n\
Status: R\n";
const EML_3: &[u8] = b"Subject: no dates\r\nX-Status: TD\r\nKeywords: a b,c\r\n\r\nx";

fn eml_export() -> Export {
    let export = Export::new("email\nada@x.org\n");
    export.write("mail/ada@x.org/Inbox/003.eml", EML_3);
    export.write("mail/ada@x.org/Inbox/001.eml", EML_1);
    export.write("mail/ada@x.org/Inbox/002.eml", EML_2);
    export.write("mail/ada@x.org/Inbox/notes.txt", b"ignored");
    export.mkdir("mail/ada@x.org/Empty");
    export.write("mail/ada@x.org/Projekte/Überblick 2024/Ä.B/1.eml", EML_2);
    export.mkdir("mail/ada@x.org/Projekte/Alpha");
    export.mkdir("mail/ada@x.org/Sent Items");
    export
}

#[tokio::test]
async fn eml_folders_in_order_with_roles() {
    let export = eml_export();
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let folders = mailbox.folders().await.unwrap();
    let paths: Vec<String> = folders.iter().map(|f| f.path.to_string()).collect();
    assert_eq!(
        paths,
        [
            "Empty",
            "Inbox",
            "Projekte",
            "Projekte/Alpha",
            "Projekte/Überblick 2024",
            "Projekte/Überblick 2024/Ä.B",
            "Sent Items"
        ]
    );
    assert_eq!(folders[1].role, Some(FolderRole::Inbox));
    assert_eq!(folders[6].role, Some(FolderRole::Sent));
    assert_eq!(folders[0].role, None);
    let empty = mailbox.status(&folder("Empty")).await.unwrap();
    assert_eq!(
        (empty.uid_validity, empty.messages, empty.uid_next),
        (1, 0, Some(1))
    );
    assert!(mailbox
        .list(&folder("Empty"), None, 10)
        .await
        .unwrap()
        .is_empty());
    let nested = mailbox
        .status(&folder("Projekte/Überblick 2024/Ä.B"))
        .await
        .unwrap();
    assert_eq!(nested.messages, 1);
    let missing = mailbox.status(&folder("Nope")).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
}

#[tokio::test]
async fn eml_flags_dates_sizes_and_paging() {
    let export = eml_export();
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let inbox = folder("Inbox");
    let status = mailbox.status(&inbox).await.unwrap();
    assert_eq!((status.messages, status.uid_next), (3, Some(4)));

    let first_page = mailbox.list(&inbox, None, 2).await.unwrap();
    assert_eq!(first_page.len(), 2);
    let m1 = &first_page[0];
    assert_eq!(m1.uid, uid(1));
    assert_eq!(
        m1.flags.to_imap(),
        "\\Seen \\Answered \\Flagged $Label1 Work"
    );
    assert_eq!(m1.internal_date.to_rfc3339(), "2024-01-02T08:00:00+01:00");
    assert_eq!(m1.size, EML_1.len() as u64);
    let m2 = &first_page[1];
    assert_eq!(m2.uid, uid(2));
    // "Status: R" in the body is not a header.
    assert_eq!(m2.flags.to_imap(), "");
    assert_eq!(m2.internal_date.to_rfc3339(), "2024-01-03T09:30:00-05:00");

    let second_page = mailbox.list(&inbox, Some(uid(2)), 2).await.unwrap();
    assert_eq!(second_page.len(), 1);
    let m3 = &second_page[0];
    assert_eq!(m3.uid, uid(3));
    assert_eq!(m3.flags.to_imap(), "\\Deleted \\Draft a b c");
    // No date header: the file's modification time.
    let modified: chrono::DateTime<chrono::Utc> =
        std::fs::metadata(export.path().join("mail/ada@x.org/Inbox/003.eml"))
            .unwrap()
            .modified()
            .unwrap()
            .into();
    assert_eq!(m3.internal_date.timestamp(), modified.timestamp());
    assert!(mailbox
        .list(&inbox, Some(uid(3)), 2)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn eml_fetch_gives_exact_bytes_in_the_order_asked() {
    let export = eml_export();
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let inbox = folder("Inbox");
    let mut fetched = Vec::new();
    {
        let mut stream = mailbox
            .fetch(&inbox, &[uid(3), uid(9), uid(1)])
            .await
            .unwrap();
        while let Some(message) = stream.next().await {
            let message = message.unwrap();
            assert_eq!(message.body.len(), message.meta.size);
            fetched.push((message.meta.uid, message.body.read_all().await.unwrap()));
        }
    }
    assert_eq!(
        fetched,
        [(uid(3), EML_3.to_vec()), (uid(1), EML_1.to_vec())]
    );
}

#[tokio::test]
async fn mbox_folders_escaping_line_ends_and_dates() {
    let export = Export::new("email\nada@x.org\n");
    let mbox = b"From alice@x.org Mon Jan  1 10:00:00 2024\n\
Subject: one\n\
Status: RO\n\
\n\
>From the start\n\
>>From quoted\n\
From no date here is body text\n\
\n\
From bob@x.org Tue Feb 13 08:05:09 2024\n\
Subject: two\n\
Date: Wed, 3 Jan 2024 09:30:00 -0500\n\
X-Status: F\n\
\n\
last\n\
\n";
    export.write("mail/ada@x.org/Archive/2019.mbox", mbox);
    let crlf = b"From x@y.org Wed Mar  6 07:00:00 2024 +0100\r\n\
Subject: crlf\r\n\
\r\n\
>From a\r\n\
\r\n\
From x@y.org Thu Mar  7 07:00:00 2024\r\n\
Subject: crlf2\r\n\
\r\n\
b\r\n";
    export.write("mail/ada@x.org/Crlf.mbox", crlf);
    export.write("mail/ada@x.org/Empty.mbox", b"");
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let paths: Vec<String> = mailbox
        .folders()
        .await
        .unwrap()
        .iter()
        .map(|f| f.path.to_string())
        .collect();
    assert_eq!(paths, ["Archive", "Archive/2019", "Crlf", "Empty"]);

    let archive = folder("Archive/2019");
    assert_eq!(mailbox.status(&archive).await.unwrap().messages, 2);
    let metas = mailbox.list(&archive, None, 10).await.unwrap();
    let expected_one: &[u8] =
        b"Subject: one\nStatus: RO\n\nFrom the start\n>From quoted\nFrom no date here is body text\n";
    let expected_two: &[u8] =
        b"Subject: two\nDate: Wed, 3 Jan 2024 09:30:00 -0500\nX-Status: F\n\nlast\n";
    assert_eq!(metas[0].size, expected_one.len() as u64);
    assert_eq!(metas[0].flags.to_imap(), "\\Seen");
    assert_eq!(
        metas[0].internal_date.to_rfc3339(),
        "2024-01-01T10:00:00+00:00"
    );
    assert_eq!(metas[1].size, expected_two.len() as u64);
    assert_eq!(metas[1].flags.to_imap(), "\\Flagged");
    // The From_ line wins over Date:.
    assert_eq!(
        metas[1].internal_date.to_rfc3339(),
        "2024-02-13T08:05:09+00:00"
    );
    let bodies = fetch_all(&mut *mailbox, &archive, &[uid(2), uid(1)]).await;
    assert_eq!(bodies, [expected_two.to_vec(), expected_one.to_vec()]);

    let crlf_folder = folder("Crlf");
    let metas = mailbox.list(&crlf_folder, None, 10).await.unwrap();
    assert_eq!(
        metas[0].internal_date.to_rfc3339(),
        "2024-03-06T07:00:00+01:00"
    );
    let bodies = fetch_all(&mut *mailbox, &crlf_folder, &[uid(1), uid(2)]).await;
    assert_eq!(
        bodies,
        [
            b"Subject: crlf\r\n\r\nFrom a\r\n".to_vec(),
            b"Subject: crlf2\r\n\r\nb\r\n".to_vec()
        ]
    );
    // Paging through an mbox.
    let page = mailbox.list(&crlf_folder, Some(uid(1)), 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].uid, uid(2));

    assert_eq!(mailbox.status(&folder("Empty")).await.unwrap().messages, 0);
}

async fn fetch_all(
    mailbox: &mut dyn MailboxReader,
    folder: &FolderPath,
    uids: &[Uid],
) -> Vec<Vec<u8>> {
    let mut stream = mailbox.fetch(folder, uids).await.unwrap();
    let mut bodies = Vec::new();
    while let Some(message) = stream.next().await {
        bodies.push(message.unwrap().body.read_all().await.unwrap());
    }
    bodies
}

#[tokio::test]
async fn a_directory_and_an_mbox_of_the_same_folder_is_an_error() {
    let export = Export::new("email\nada@x.org\n");
    export.mkdir("mail/ada@x.org/Archive");
    export.write("mail/ada@x.org/Archive.mbox", b"");
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let err = mailbox.folders().await.unwrap_err();
    assert!(matches!(err, Error::Input { line: None, .. }));
    assert_eq!(
        export.shown(&err),
        format!(
            "mail/ada@x.org/Archive.mbox: {}/mail/ada@x.org/Archive.mbox and {}/mail/ada@x.org/Archive are both folder Archive; merge them or rename one",
            export.path().display(),
            export.path().display()
        )
        .replace(&format!("{}/", export.path().display()), "")
    );
}

#[tokio::test]
async fn an_invalid_folder_name_is_an_error_naming_the_file() {
    let export = Export::new("email\nada@x.org\n");
    export.mkdir("mail/ada@x.org/tab\there");
    let source = export.open();
    let mut mailbox = source.mailbox(&account("ada@x.org")).await.unwrap();
    let err = mailbox.folders().await.unwrap_err();
    assert_eq!(
        export.shown(&err),
        "mail/ada@x.org/tab\there: invalid folder path \"tab\\there\": the name \"tab\\there\" contains '\\t'"
    );
}

const ICS: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
BEGIN:VTIMEZONE\r\n\
TZID:Europe/Berlin\r\n\
BEGIN:STANDARD\r\n\
DTSTART:19701025T030000\r\n\
TZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n\
BEGIN:VEVENT\r\n\
UID:standup@x.org\r\n\
DTSTART;TZID=Europe/Berlin:20240101T090000\r\n\
RRULE:FREQ=DAILY\r\n\
SUMMARY:Standup\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
UID:dentist@x.org\r\n\
DTSTART:20240105T140000Z\r\n\
SUMMARY:Dentist\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
UID:standup@x.org\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20240102T090000\r\n\
DTSTART;TZID=Europe/Berlin:20240102T100000\r\n\
SUMMARY:Standup (late)\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

#[tokio::test]
async fn calendar_two_events_one_recurring_with_an_exception() {
    let export = Export::new("email\nada@x.org\n");
    export.write("calendar/ada@x.org.ics", ICS.as_bytes());
    let source = export.open();
    let items = all(source.appointments(&account("ada@x.org")).await).await;
    assert_eq!(items.len(), 2);
    let standup = items[0].as_ref().unwrap();
    assert_eq!(standup.uid, "standup@x.org");
    assert_eq!(standup.summary.as_deref(), Some("Standup"));
    assert_eq!(
        standup.components,
        "BEGIN:VEVENT\r\nUID:standup@x.org\r\nDTSTART;TZID=Europe/Berlin:20240101T090000\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:standup@x.org\r\nRECURRENCE-ID;TZID=Europe/Berlin:20240102T090000\r\nDTSTART;TZID=Europe/Berlin:20240102T100000\r\nSUMMARY:Standup (late)\r\nEND:VEVENT\r\n"
    );
    assert_eq!(
        standup.timezones,
        ["BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"]
    );
    let dentist = items[1].as_ref().unwrap();
    assert_eq!(dentist.uid, "dentist@x.org");
    assert!(dentist.timezones.is_empty());
}

#[tokio::test]
async fn contacts_two_cards() {
    let export = Export::new("email\nada@x.org\n");
    export.write(
        "contacts/ada@x.org.vcf",
        b"BEGIN:VCARD\nVERSION:3.0\nUID:1\nFN:Grace Hopper\nEND:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:Alan Turing\nEMAIL:alan@x.org\nEND:VCARD\n",
    );
    let source = export.open();
    let items = all(source.contacts(&account("ada@x.org")).await).await;
    assert_eq!(items.len(), 2);
    let grace = items[0].as_ref().unwrap();
    assert_eq!(grace.uid, "1");
    assert_eq!(grace.full_name.as_deref(), Some("Grace Hopper"));
    assert_eq!(
        grace.vcard,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:Grace Hopper\r\nEND:VCARD\r\n"
    );
    let alan = items[1].as_ref().unwrap();
    assert_eq!(alan.full_name.as_deref(), Some("Alan Turing"));
    assert_eq!(alan.uid.len(), 64);
}

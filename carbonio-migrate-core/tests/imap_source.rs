//! The `imap` source against a real private Dovecot (feature `testkit`): a
//! mailbox seeded with raw APPENDs is read back over implicit TLS and
//! STARTTLS, with LOGIN and with master-user impersonation, and compared byte
//! for byte; the source is unchanged afterwards.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::collections::BTreeMap;
use std::sync::Arc;

use carbonio_migrate_core::adapters::imap::mutf7;
use carbonio_migrate_core::adapters::imap::source::ImapSource;
use carbonio_migrate_core::adapters::imap::ImapConfig;
use carbonio_migrate_core::adapters::memory::MemorySource;
use carbonio_migrate_core::conformance::{check_source_with, SourceChecks};
use carbonio_migrate_core::model::{Account, EmailAddress, FolderPath, FolderRole, Secret};
use carbonio_migrate_core::testkit::Dovecot;
use carbonio_migrate_core::wrap::CompositeSource;
use carbonio_migrate_core::{Error, MailboxReader, Source};
use chrono::{DateTime, FixedOffset};
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PASSWORD: &str = "Seed-pass-2031";

/// One seeded message.
#[derive(Clone, Debug)]
struct Seeded {
    folder: &'static str,
    flags: &'static str,
    date: &'static str,
    body: Vec<u8>,
}

fn date(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_str(text, "%d-%b-%Y %H:%M:%S %z").unwrap()
}

fn text_message(n: u32, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "Message-ID: <{n}@seed.example.org>\r\nFrom: ada@example.org\r\nTo: bob@example.org\r\n\
         Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    )
    .into_bytes()
}

/// Exactly 20 MB of distinct CRLF lines.
fn twenty_megabytes() -> Vec<u8> {
    let mut out = b"Message-ID: <big@seed.example.org>\r\nSubject: big\r\n\r\n".to_vec();
    let mut n = 0u32;
    while out.len() < 20_000_000 - 80 {
        out.extend_from_slice(format!("line {n:08} of the twenty megabyte message\r\n").as_bytes());
        n += 1;
    }
    while out.len() < 20_000_000 - 2 {
        out.push(b'x');
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn seed_messages() -> Vec<Seeded> {
    let dup = text_message(3, "duplicate", "the same bytes twice\r\n");
    vec![
        Seeded {
            folder: "INBOX",
            flags: "\\Seen \\Answered \\Flagged \\Deleted \\Draft $Forwarded project_x",
            date: "02-Jan-1970 00:00:00 +0000",
            body: text_message(1, "every flag", "old and flagged\r\n"),
        },
        Seeded {
            folder: "INBOX",
            flags: "",
            // Dovecot 2.3 stores the APPEND time instead of an INTERNALDATE in
            // the future, so 2038 and later cannot be seeded into it: they are
            // covered by the reader's unit tests (`flags_and_dates_parse`).
            date: "13-Feb-2009 23:31:30 +0000",
            body: text_message(2, "unseen", "must stay unseen\r\n"),
        },
        Seeded {
            folder: "INBOX",
            flags: "\\Seen",
            date: "01-Mar-2012 10:00:00 +0100",
            body: dup.clone(),
        },
        Seeded {
            folder: "INBOX",
            flags: "$Label1",
            date: "01-Mar-2012 10:00:00 +0100",
            body: dup,
        },
        Seeded {
            folder: "INBOX",
            flags: "",
            date: "31-Dec-1999 23:59:59 -0800",
            body: "Subject: Grüße aus Zürich\r\nFrom: Jörg <j@example.org>\r\n\r\n8-bit\r\n"
                .as_bytes()
                .to_vec(),
        },
        Seeded {
            folder: "INBOX",
            flags: "",
            date: "01-Jan-2000 00:00:00 +0000",
            body: b"Subject: x\r\n\r\n".to_vec(),
        },
        Seeded {
            folder: "Sent",
            flags: "\\Seen",
            date: "15-Jun-2025 12:00:00 +0530",
            body: text_message(7, "sent", "from the future\r\n"),
        },
        Seeded {
            folder: "Projekte/Überblick 2024",
            flags: "\\Seen $Label2",
            date: "29-Feb-2024 12:00:00 +0000",
            body: text_message(8, "nested", "deep\r\n"),
        },
        Seeded {
            folder: "日本語/メモ",
            flags: "",
            date: "01-Jan-2012 00:00:00 +0900",
            body: text_message(9, "=?utf-8?b?5pel5pys6Kqe?=", "日本語\r\n"),
        },
        Seeded {
            folder: "Space and.dot name",
            flags: "",
            date: "01-Jan-2012 00:00:00 +0000",
            body: text_message(10, "space and dot", "ok\r\n"),
        },
        Seeded {
            folder: "Big",
            flags: "\\Seen",
            date: "01-Jan-2020 00:00:00 +0000",
            body: twenty_megabytes(),
        },
    ]
}

const FOLDERS: &[&str] = &[
    "Sent",
    "Drafts",
    "Trash",
    "Junk",
    "Projekte",
    "Projekte/Überblick 2024",
    "日本語",
    "日本語/メモ",
    "Space and.dot name",
    "Empty",
    "Big",
];

/// A minimal IMAP client on a plain TCP stream, for seeding and for checking
/// the source from outside the adapter.
struct RawClient {
    stream: BufReader<TcpStream>,
    tag: u32,
}

impl RawClient {
    async fn login(port: u16, user: &str) -> RawClient {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut client = RawClient {
            stream: BufReader::new(tcp),
            tag: 0,
        };
        let mut greeting = String::new();
        client.stream.read_line(&mut greeting).await.unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        client
            .command(&format!("LOGIN \"{user}\" \"{PASSWORD}\""))
            .await;
        client
    }

    /// Sends a command, with an optional literal, and returns its untagged lines.
    async fn command_with(&mut self, line: &str, literal: Option<&[u8]>) -> Vec<String> {
        self.tag += 1;
        let tag = format!("T{}", self.tag);
        let stream = self.stream.get_mut();
        match literal {
            Some(bytes) => {
                stream
                    .write_all(format!("{tag} {line} {{{}}}\r\n", bytes.len()).as_bytes())
                    .await
                    .unwrap();
                let mut plus = String::new();
                self.stream.read_line(&mut plus).await.unwrap();
                assert!(plus.starts_with('+'), "{line}: {plus}");
                let stream = self.stream.get_mut();
                stream.write_all(bytes).await.unwrap();
                stream.write_all(b"\r\n").await.unwrap();
            }
            None => stream
                .write_all(format!("{tag} {line}\r\n").as_bytes())
                .await
                .unwrap(),
        }
        let mut untagged = Vec::new();
        loop {
            let mut response = String::new();
            self.stream.read_line(&mut response).await.unwrap();
            if let Some(rest) = response.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{line}: {rest}");
                return untagged;
            }
            untagged.push(response);
        }
    }

    async fn command(&mut self, line: &str) -> Vec<String> {
        self.command_with(line, None).await
    }
}

fn wire(folder: &str) -> String {
    format!("\"{}\"", mutf7::encode(folder))
}

/// A fresh user with the seeded mailbox.
async fn seeded_user(dovecot: &Dovecot) -> (String, Vec<Seeded>) {
    let user = dovecot.unique_user("src");
    dovecot.add_user(&user, PASSWORD).unwrap();
    let mut client = RawClient::login(dovecot.imap_port(), &user).await;
    for folder in FOLDERS {
        client.command(&format!("CREATE {}", wire(folder))).await;
    }
    for folder in ["INBOX", "Sent", "Projekte/Überblick 2024"] {
        client.command(&format!("SUBSCRIBE {}", wire(folder))).await;
    }
    let messages = seed_messages();
    for m in &messages {
        client
            .command_with(
                &format!("APPEND {} ({}) \"{}\"", wire(m.folder), m.flags, m.date),
                Some(&m.body),
            )
            .await;
    }
    client.command("LOGOUT").await;
    (user, messages)
}

fn config(dovecot: &Dovecot, extra: &str, tls: &str) -> ImapConfig {
    let port = match tls {
        "implicit" => dovecot.imaps_port(),
        _ => dovecot.imap_port(),
    };
    toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nca_file = \"{}\"\ntimeout_secs = 30\n{extra}",
        dovecot.ca_file().display()
    ))
    .unwrap()
}

fn account(user: &str) -> Account {
    Account::new(EmailAddress::parse(user).unwrap())
}

fn flag_text(flags: &carbonio_migrate_core::model::Flags) -> String {
    flags.to_imap()
}

fn sorted_flags(text: &str) -> String {
    let mut f = carbonio_migrate_core::adapters::imap::reader::flags_of(text.split_whitespace());
    f.keywords = f.keywords.into_iter().collect();
    f.to_imap()
}

/// Reads everything and checks it against the seed: folders, bytes, flags,
/// dates, sizes.
async fn read_and_compare(reader: &mut dyn MailboxReader, seeded: &[Seeded]) {
    let folders = reader.folders().await.unwrap();
    let paths: Vec<String> = folders.iter().map(|f| f.path.to_string()).collect();
    let mut expected: Vec<String> = FOLDERS.iter().map(|f| f.to_string()).collect();
    expected.push("INBOX".into());
    expected.sort();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert_eq!(paths[0], "INBOX");
    let role = |p: &str| {
        folders
            .iter()
            .find(|f| f.path.to_string() == p)
            .unwrap()
            .role
    };
    assert_eq!(role("INBOX"), Some(FolderRole::Inbox));
    assert_eq!(role("Sent"), Some(FolderRole::Sent));
    assert_eq!(role("Drafts"), Some(FolderRole::Drafts));
    assert_eq!(role("Trash"), Some(FolderRole::Trash));
    assert_eq!(role("Junk"), Some(FolderRole::Junk));
    assert_eq!(role("Projekte/Überblick 2024"), None);
    let subscribed: Vec<String> = folders
        .iter()
        .filter(|f| f.subscribed)
        .map(|f| f.path.to_string())
        .collect();
    assert_eq!(subscribed, ["INBOX", "Projekte/Überblick 2024", "Sent"]);

    let mut by_folder: BTreeMap<&str, Vec<&Seeded>> = BTreeMap::new();
    for m in seeded {
        by_folder.entry(m.folder).or_default().push(m);
    }
    for folder in &folders {
        let path = folder.path.to_string();
        let want = by_folder.get(path.as_str()).cloned().unwrap_or_default();
        let status = reader.status(&folder.path).await.unwrap();
        assert_eq!(status.messages, want.len() as u64, "{path}");
        let metas = reader.list(&folder.path, None, usize::MAX).await.unwrap();
        assert_eq!(metas.len(), want.len(), "{path}");
        let uids: Vec<_> = metas.iter().map(|m| m.uid).collect();
        let mut got = Vec::new();
        let mut stream = reader.fetch(&folder.path, &uids).await.unwrap();
        while let Some(m) = stream.next().await {
            got.push(m.unwrap());
        }
        drop(stream);
        assert_eq!(got.len(), want.len(), "{path}");
        for ((meta, message), seed) in metas.iter().zip(got).zip(&want) {
            assert_eq!(message.meta.uid, meta.uid);
            assert_eq!(meta.size, seed.body.len() as u64, "{path} uid {}", meta.uid);
            assert_eq!(flag_text(&meta.flags), sorted_flags(seed.flags), "{path}");
            assert_eq!(
                meta.internal_date.timestamp(),
                date(seed.date).timestamp(),
                "{path} uid {}",
                meta.uid
            );
            let bytes = message.body.read_all().await.unwrap();
            assert!(bytes == seed.body, "{path} uid {}: bytes differ", meta.uid);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_every_message_exactly_over_tls_and_starttls_with_login_and_impersonation() {
    let dovecot = Dovecot::shared();
    let (user, seeded) = seeded_user(dovecot).await;

    let login = ImapSource::new(
        config(dovecot, "auth = \"login\"", "implicit"),
        Some(Secret::new(PASSWORD)),
    )
    .unwrap();
    assert_eq!(login.kind(), "imap");
    assert_eq!(
        login.location(),
        format!("imap 127.0.0.1:{}", dovecot.imaps_port())
    );
    let mut reader = login.mailbox(&account(&user)).await.unwrap();
    read_and_compare(reader.as_mut(), &seeded).await;

    let master = ImapSource::new(
        config(
            dovecot,
            &format!(
                "auth = \"impersonate\"\nadmin_user = \"{}\"",
                dovecot.master_user()
            ),
            "starttls",
        ),
        Some(Secret::new(dovecot.master_password())),
    )
    .unwrap();
    let mut reader = master.mailbox(&account(&user)).await.unwrap();
    read_and_compare(reader.as_mut(), &seeded).await;

    // Paging with small limits gives the same list as one call.
    let inbox = FolderPath::parse("INBOX").unwrap();
    let full = reader.list(&inbox, None, usize::MAX).await.unwrap();
    for limit in [1, 2, 4] {
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = reader.list(&inbox, after, limit).await.unwrap();
            assert!(page.len() <= limit);
            let Some(last) = page.last() else { break };
            after = Some(last.uid);
            paged.extend(page);
        }
        assert_eq!(paged, full, "limit {limit}");
    }
    // After the last UID, and far beyond it: nothing (no `n:*` surprise).
    let last = full.last().unwrap().uid;
    assert!(reader
        .list(&inbox, Some(last), 10)
        .await
        .unwrap()
        .is_empty());
    let far = carbonio_migrate_core::model::Uid::new(last.get() + 1000).unwrap();
    assert!(reader.list(&inbox, Some(far), 10).await.unwrap().is_empty());
    // Asked in another order, with a UID that does not exist: order kept, gap left out.
    let ask = vec![full[3].uid, far, full[0].uid, full[2].uid];
    let mut got = Vec::new();
    let mut stream = reader.fetch(&inbox, &ask).await.unwrap();
    while let Some(m) = stream.next().await {
        got.push(m.unwrap().meta.uid);
    }
    assert_eq!(got, vec![full[3].uid, full[0].uid, full[2].uid]);
    drop(stream);
    drop(reader);

    // The source is unchanged: flags (\Seen above all) as seeded, seen from a
    // separate client.
    let mut raw = RawClient::login(dovecot.imap_port(), &user).await;
    raw.command("EXAMINE INBOX").await;
    let lines = raw.command("UID FETCH 1:* (FLAGS)").await;
    let flags: Vec<String> = lines
        .iter()
        .map(|l| {
            let start = l.find("FLAGS (").unwrap() + 7;
            let end = start + l[start..].find(')').unwrap();
            sorted_flags(&l[start..end])
        })
        .collect();
    let want: Vec<String> = seeded
        .iter()
        .filter(|m| m.folder == "INBOX")
        .map(|m| sorted_flags(m.flags))
        .collect();
    assert_eq!(flags, want);
}

#[tokio::test]
async fn wrong_password_names_the_account_not_the_password() {
    let dovecot = Dovecot::shared();
    let user = dovecot.unique_user("wrongpw");
    dovecot.add_user(&user, PASSWORD).unwrap();
    let source = ImapSource::new(
        config(dovecot, "", "implicit"),
        Some(Secret::new("Not-The-Password-42")),
    )
    .unwrap();
    let err = match source.mailbox(&account(&user)).await {
        Err(e) => e,
        Ok(_) => panic!("a wrong password logged in"),
    };
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let text = err.chain();
    assert!(
        text.starts_with(&format!(
            "authentication failed for {user} on 127.0.0.1:{}",
            dovecot.imaps_port()
        )),
        "{text}"
    );
    assert!(!text.contains("Not-The-Password-42"), "{text}");
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_configuration_error() {
    let dovecot = Dovecot::shared();
    let config: ImapConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntimeout_secs = 10",
        dovecot.imaps_port()
    ))
    .unwrap();
    let source = ImapSource::new(config, Some(Secret::new(PASSWORD))).unwrap();
    let user = dovecot.unique_user("cert");
    let err = match source.mailbox(&account(&user)).await {
        Err(e) => e,
        Ok(_) => panic!("an untrusted certificate was accepted"),
    };
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "configuration: certificate of 127.0.0.1:{} not trusted:",
            dovecot.imaps_port()
        )),
        "{text}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_passes_on_a_seeded_dovecot_mailbox() {
    let dovecot = Dovecot::shared();
    let (user, _) = seeded_user(dovecot).await;
    let accounts = MemorySource::new();
    accounts.add_account(account(&user));
    let imap =
        ImapSource::new(config(dovecot, "", "starttls"), Some(Secret::new(PASSWORD))).unwrap();
    let source = CompositeSource::new(Arc::new(accounts), Arc::new(imap));
    let report = check_source_with(
        &source,
        SourceChecks {
            max_accounts: 1,
            page_size: 3,
            max_fetch_per_folder: 50,
        },
    )
    .await
    .unwrap_or_else(|f| panic!("{f}"));
    assert!(
        report.to_string().ends_with("checks passed, 0 skipped\n"),
        "{report}"
    );
}

//! The `imap` source against a real private Dovecot (feature `testkit`): a
//! mailbox seeded with raw APPENDs is read back over implicit TLS and
//! STARTTLS, with LOGIN and with master-user impersonation, and compared byte
//! for byte; the source is unchanged afterwards. Also: malformed MIME and
//! missing Message-IDs, header-only fetches, a 20 MB body spooled with its
//! memory measured, CONDSTORE change listing, and throttling answers from a
//! scripted server.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::collections::BTreeMap;
use std::sync::Arc;

use carbonio_migrate_core::adapters::imap::body_spool::SpoolSettings;
use carbonio_migrate_core::adapters::imap::mutf7;
use carbonio_migrate_core::adapters::imap::source::ImapSource;
use carbonio_migrate_core::adapters::imap::ImapConfig;
use carbonio_migrate_core::adapters::memory::MemorySource;
use carbonio_migrate_core::conformance::{check_source_with, SourceChecks};
use carbonio_migrate_core::model::{
    header_block, Account, EmailAddress, FolderPath, FolderRole, MessageSignature, Secret, Uid,
};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_of_all_folders_at_once_match_each_folder_opened() {
    let dovecot = Dovecot::shared();
    let (user, seeded) = seeded_user(dovecot).await;
    let imap =
        ImapSource::new(config(dovecot, "", "starttls"), Some(Secret::new(PASSWORD))).unwrap();
    let mut reader = imap.mailbox(&account(&user)).await.unwrap();
    let folders = reader.folders().await.unwrap();
    let paths: Vec<_> = folders.iter().map(|f| f.path.clone()).collect();
    let checks = reader.statuses(&paths).await.unwrap();
    assert_eq!(checks.len(), paths.len());
    let mut total = 0;
    for (path, check) in paths.iter().zip(checks) {
        let check = check.unwrap_or_else(|| panic!("no status for {path}"));
        assert_eq!(check.status, reader.status(path).await.unwrap(), "{path}");
        assert_eq!(
            check.highest_modseq,
            reader.highest_modseq(path).await.unwrap(),
            "{path}"
        );
        total += check.status.messages;
    }
    assert_eq!(total, seeded.len() as u64);
}

/// Messages a careless parser would "fix": each must come back byte for byte.
fn odd_messages() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "broken multipart boundary",
            b"Message-ID: <mime1@seed.example.org>\r\nSubject: broken boundary\r\n\
              MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"AAA\"\r\n\r\n\
              --AAB\r\nContent-Type: text/plain\r\n\r\nthe boundary never matches\r\n--AAA\r\n\
              Content-Type: text/plain\r\n\r\nunclosed part without the final delimiter\r\n"
                .to_vec(),
        ),
        (
            "bad base64",
            b"Message-ID: <mime2@seed.example.org>\r\nSubject: bad base64\r\n\
              MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n\
              Content-Transfer-Encoding: base64\r\n\r\n%%%not*base64!!\r\nQUJD=\r\n==x\r\n"
                .to_vec(),
        ),
        (
            "unterminated header",
            b"Message-ID: <mime3@seed.example.org>\r\nSubject: no empty line\r\nX-Folded: a\r\n b"
                .to_vec(),
        ),
        (
            "no message-id",
            b"From: ada@example.org\r\nSubject: nobody numbered me\r\n\r\nbody\r\n".to_vec(),
        ),
    ]
}

/// A fresh user with one folder holding `messages`.
async fn user_with(dovecot: &Dovecot, prefix: &str, folder: &str, messages: &[&[u8]]) -> String {
    let user = dovecot.unique_user(prefix);
    dovecot.add_user(&user, PASSWORD).unwrap();
    let mut client = RawClient::login(dovecot.imap_port(), &user).await;
    if folder != "INBOX" {
        client.command(&format!("CREATE {}", wire(folder))).await;
    }
    for body in messages {
        client
            .command_with(
                &format!(
                    "APPEND {} (\\Seen) \"01-Jan-2020 00:00:00 +0000\"",
                    wire(folder)
                ),
                Some(body),
            )
            .await;
    }
    client.command("LOGOUT").await;
    user
}

fn plain_source(dovecot: &Dovecot) -> ImapSource {
    ImapSource::new(
        config(dovecot, "auth = \"login\"", "none"),
        Some(Secret::new(PASSWORD)),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mime_and_missing_message_ids_are_read_byte_for_byte_with_exact_headers() {
    let dovecot = Dovecot::shared();
    let odd = odd_messages();
    let bodies: Vec<&[u8]> = odd.iter().map(|(_, b)| b.as_slice()).collect();
    let user = user_with(dovecot, "odd", "INBOX", &bodies).await;
    let source = plain_source(dovecot);
    let mut reader = source.mailbox(&account(&user)).await.unwrap();
    let inbox = FolderPath::parse("INBOX").unwrap();
    let metas = reader.list(&inbox, None, 100).await.unwrap();
    assert_eq!(metas.len(), odd.len());
    let uids: Vec<Uid> = metas.iter().map(|m| m.uid).collect();
    let mut stream = reader.fetch(&inbox, &uids).await.unwrap();
    let mut got = Vec::new();
    while let Some(m) = stream.next().await {
        got.push(m.unwrap());
    }
    drop(stream);
    assert_eq!(got.len(), odd.len());
    for (message, (what, seed)) in got.into_iter().zip(&odd) {
        assert_eq!(message.meta.size, seed.len() as u64, "{what}");
        let bytes = message.body.read_all().await.unwrap();
        assert!(
            bytes == *seed,
            "{what}: bytes differ: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }

    // Headers alone, in the order asked, with a UID that does not exist left out.
    let far = Uid::new(uids[uids.len() - 1].get() + 100).unwrap();
    let ask = [uids[3], far, uids[0], uids[1], uids[2]];
    let headers = reader.fetch_headers(&inbox, &ask).await.unwrap();
    let order: Vec<Uid> = headers.iter().map(|(uid, _, _)| *uid).collect();
    assert_eq!(order, [uids[3], uids[0], uids[1], uids[2]]);
    for (uid, header, size) in headers {
        let index = uids.iter().position(|u| *u == uid).unwrap();
        let (what, seed) = &odd[index];
        assert_eq!(size, seed.len() as u64, "{what}");
        assert_eq!(
            String::from_utf8_lossy(&header),
            String::from_utf8_lossy(header_block(seed)),
            "{what}"
        );
        // What recognition compares: the same signature from headers alone
        // as from the whole message.
        assert_eq!(
            MessageSignature::compute(&header, size),
            MessageSignature::compute(header_block(seed), seed.len() as u64),
            "{what}"
        );
    }
}

/// The resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Samples VmRSS every millisecond until stopped; returns the peak.
struct RssSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = rss_kib();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_kib());
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            peak.max(rss_kib())
        });
        RssSampler { stop, thread }
    }

    fn peak(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Open descriptors of this process on files under `dir` (deleted or not).
fn open_files_under(dir: &std::path::Path) -> usize {
    let shown = dir.display().to_string();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.display().to_string().starts_with(&shown))
        .count()
}

/// Fetches the one message of `folder` and hashes its body as it streams,
/// checking the spool while the body is alive; returns (peak RSS above the
/// baseline in KiB, digest).
async fn fetch_big_measured(
    source: &ImapSource,
    user: &str,
    folder: &FolderPath,
    spool_dir: &std::path::Path,
    expect_spooled: bool,
) -> (u64, Vec<u8>) {
    use sha2::Digest;
    use tokio::io::AsyncReadExt;
    let mut reader = source.mailbox(&account(user)).await.unwrap();
    let metas = reader.list(folder, None, 10).await.unwrap();
    assert_eq!(metas.len(), 1);
    let baseline = rss_kib();
    let sampler = RssSampler::start();
    let mut stream = reader.fetch(folder, &[metas[0].uid]).await.unwrap();
    let message = stream.next().await.unwrap().unwrap();
    assert!(stream.next().await.is_none());
    drop(stream);
    assert_eq!(message.meta.size, 20_000_000);
    // Unlinked at once: the directory stays empty, the open file holds the data.
    assert_eq!(std::fs::read_dir(spool_dir).unwrap().count(), 0);
    assert_eq!(open_files_under(spool_dir), usize::from(expect_spooled));
    let mut body = message.body.into_reader();
    let mut hasher = sha2::Sha256::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = body.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&chunk[..n]);
    }
    assert_eq!(total, 20_000_000);
    drop(body);
    let peak = sampler.peak();
    assert_eq!(open_files_under(spool_dir), 0, "the spool file is gone");
    (peak.saturating_sub(baseline), hasher.finalize().to_vec())
}

/// Runs in a child process of its own (so no other test's allocations count):
/// a 20 MB message is read with bodies over 1 MiB spooled, then with spooling
/// off, and the RSS peaks above the baseline are compared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twenty_megabyte_body_is_spooled_not_held_in_memory() {
    const CHILD: &str = "CARBONIO_MIGRATE_RSS_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_twenty_megabyte_body_is_spooled_not_held_in_memory",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        print!("{text}");
        eprint!("{errors}");
        assert!(output.status.success(), "the measuring child failed");
        assert!(text.contains("1 passed"), "the child ran no test: {text}");
        return;
    }
    use sha2::Digest;
    let dovecot = Dovecot::shared();
    let (user, want) = {
        let big = twenty_megabytes();
        let user = user_with(dovecot, "big", "Big", &[&big]).await;
        (user, sha2::Sha256::digest(&big).to_vec())
    };
    let folder = FolderPath::parse("Big").unwrap();
    let spool_dir = tempfile::tempdir().unwrap();
    // Spooling as the configuration file sets it.
    let spooled = ImapSource::new(
        config(
            dovecot,
            &format!(
                "auth = \"login\"\nspool_dir = \"{}\"\nspool_over_bytes = 1048576",
                spool_dir.path().display()
            ),
            "none",
        ),
        Some(Secret::new(PASSWORD)),
    )
    .unwrap();
    let (spooled_peak, digest) =
        fetch_big_measured(&spooled, &user, &folder, spool_dir.path(), true).await;
    assert!(digest == want, "spooled bytes differ");
    let in_memory = plain_source(dovecot).with_spool(SpoolSettings {
        dir: spool_dir.path().to_path_buf(),
        over: u32::MAX,
    });
    let (memory_peak, digest) =
        fetch_big_measured(&in_memory, &user, &folder, spool_dir.path(), false).await;
    assert!(digest == want, "in-memory bytes differ");
    println!(
        "peak RSS above baseline reading a 20 MB message: spooled {:.1} MiB, in memory {:.1} MiB",
        spooled_peak as f64 / 1024.0,
        memory_peak as f64 / 1024.0
    );
    assert!(
        spooled_peak < 6 * 1024,
        "spooled read peaked {spooled_peak} KiB above the baseline"
    );
    assert!(
        memory_peak > 15 * 1024,
        "the in-memory read should hold the body ({memory_peak} KiB): is the sampler working?"
    );
}

/// Adds `flag` to one message of INBOX from a raw session (not the reader).
async fn store_flag(port: u16, user: &str, uid: Uid, flag: &str) {
    let mut raw = RawClient::login(port, user).await;
    raw.command("SELECT INBOX").await;
    raw.command(&format!("UID STORE {uid} +FLAGS.SILENT ({flag})"))
        .await;
    raw.command("LOGOUT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condstore_lists_only_what_changed_since_a_modseq() {
    let dovecot = Dovecot::shared();
    let bodies: Vec<Vec<u8>> = (1..=5)
        .map(|n| text_message(100 + n, "modseq", "x\r\n"))
        .collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let user = user_with(dovecot, "modseq", "INBOX", &refs).await;
    let source = plain_source(dovecot);
    let mut reader = source.mailbox(&account(&user)).await.unwrap();
    let inbox = FolderPath::parse("INBOX").unwrap();
    let all = reader.list(&inbox, None, 100).await.unwrap();
    assert_eq!(all.len(), 5);
    let before = reader
        .highest_modseq(&inbox)
        .await
        .unwrap()
        .expect("Dovecot keeps a HIGHESTMODSEQ");
    assert!(reader
        .list_changed(&inbox, before, None, 100)
        .await
        .unwrap()
        .is_empty());

    store_flag(dovecot.imap_port(), &user, all[2].uid, "\\Flagged").await;

    let after = reader.highest_modseq(&inbox).await.unwrap().unwrap();
    assert!(after > before, "{after} > {before}");
    let changed = reader
        .list_changed(&inbox, before, None, 100)
        .await
        .unwrap();
    let shown: Vec<(Uid, String)> = changed.iter().map(|m| (m.uid, m.flags.to_imap())).collect();
    assert_eq!(shown, [(all[2].uid, "\\Seen \\Flagged".to_string())]);
    // Paging after the changed UID, and since the new modseq: nothing.
    assert!(reader
        .list_changed(&inbox, before, Some(all[2].uid), 100)
        .await
        .unwrap()
        .is_empty());
    assert!(reader
        .list_changed(&inbox, after, None, 100)
        .await
        .unwrap()
        .is_empty());
    // The source was only read: the reader changed no flag itself.
    let flags: Vec<String> = reader
        .list(&inbox, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|m| m.flags.to_imap())
        .collect();
    assert_eq!(
        flags,
        ["\\Seen", "\\Seen", "\\Seen \\Flagged", "\\Seen", "\\Seen"]
    );
}

/// A scripted server: answers each command by its name with `reply(tag, command)`.
async fn scripted_server(
    reply: fn(&str, &str) -> String,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (r, mut w) = socket.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] scripted\r\n")
            .await
            .unwrap();
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return seen;
            }
            let line = line.trim_end().to_string();
            let (tag, command) = line.split_once(' ').unwrap_or((&line, ""));
            let answer = reply(tag, command);
            seen.push(line.clone());
            if w.write_all(answer.as_bytes()).await.is_err() {
                return seen;
            }
        }
    });
    (port, task)
}

/// A small, healthy mailbox (INBOX with UID 1) except for what `fetch` says.
fn mailbox_reply(tag: &str, command: &str, fetch: &str) -> String {
    let upper = command.to_ascii_uppercase();
    let body = if upper.starts_with("AUTHENTICATE") {
        "OK logged in"
    } else if upper.starts_with("CAPABILITY") {
        return format!("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n");
    } else if upper.starts_with("LIST \"\" \"\"") {
        return format!("* LIST (\\Noselect) \"/\" \"\"\r\n{tag} OK done\r\n");
    } else if upper.starts_with("LIST") {
        return format!("* LIST () \"/\" INBOX\r\n{tag} OK done\r\n");
    } else if upper.starts_with("EXAMINE") {
        return format!(
            "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n{tag} OK [READ-ONLY] done\r\n"
        );
    } else if upper.starts_with("UID FETCH") {
        return format!("{tag} {fetch}\r\n");
    } else if upper.starts_with("LOGOUT") {
        return format!("* BYE bye\r\n{tag} OK done\r\n");
    } else {
        "OK done"
    };
    format!("{tag} {body}\r\n")
}

fn scripted_source(port: u16) -> ImapSource {
    let config: ImapConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nauth = \"login\"\ntimeout_secs = 5"
    ))
    .unwrap();
    ImapSource::new(config, Some(Secret::new("pw"))).unwrap()
}

#[tokio::test]
async fn throttling_answers_are_retryable_errors() {
    let inbox = FolderPath::parse("INBOX").unwrap();
    let one = Uid::new(1).unwrap();

    // A body fetch refused with [UNAVAILABLE].
    let (port, server) = scripted_server(|tag, command| {
        mailbox_reply(tag, command, "NO [UNAVAILABLE] Server busy, try later")
    })
    .await;
    let source = scripted_source(port);
    let mut reader = source.mailbox(&account("ada@example.org")).await.unwrap();
    let mut stream = reader.fetch(&inbox, &[one]).await.unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "network error: fetching messages of folder INBOX of ada@example.org on \
             127.0.0.1:{port}: the server asks to slow down: NO [UNAVAILABLE] Server busy, try later"
        )
    );
    assert!(stream.next().await.is_none());
    drop(stream);
    // The header-only fetch maps it the same way.
    let err = reader.fetch_headers(&inbox, &[one]).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    drop(reader);
    let seen = server.await.unwrap();
    assert!(
        seen.iter()
            .any(|l| l.contains("UID FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|l| !l.contains("SELECT") && !l.contains("STORE")),
        "{seen:?}"
    );

    let (port, _server) =
        scripted_server(|tag, command| mailbox_reply(tag, command, "NO [LIMIT] Too many commands"))
            .await;
    let mut reader = scripted_source(port)
        .mailbox(&account("ada@example.org"))
        .await
        .unwrap();
    let err = reader.list(&inbox, None, 10).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.to_string().ends_with("NO [LIMIT] Too many commands"),
        "{err}"
    );

    let (port, _server) =
        scripted_server(|tag, command| mailbox_reply(tag, command, "NO [INUSE] Mailbox locked"))
            .await;
    let mut reader = scripted_source(port)
        .mailbox(&account("ada@example.org"))
        .await
        .unwrap();
    let err = reader.fetch_headers(&inbox, &[one]).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");

    // A refusal that is not throttling stays permanent.
    let (port, _server) =
        scripted_server(|tag, command| mailbox_reply(tag, command, "NO Message is corrupted"))
            .await;
    let mut reader = scripted_source(port)
        .mailbox(&account("ada@example.org"))
        .await
        .unwrap();
    let err = reader.list(&inbox, None, 10).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");

    // Dovecot's per-user connection limit at login is throttling, not a
    // wrong password: retried, and named as the server's answer.
    let (port, _server) = scripted_server(|tag, command| {
        if command.to_ascii_uppercase().starts_with("AUTHENTICATE") {
            format!(
                "{tag} NO Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)\r\n"
            )
        } else {
            mailbox_reply(tag, command, "OK done")
        }
    })
    .await;
    let Err(err) = scripted_source(port)
        .mailbox(&account("ada@example.org"))
        .await
    else {
        panic!("logged in despite the connection limit");
    };
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.to_string()
            .contains("the server asks to slow down: NO Maximum number of connections"),
        "{err}"
    );
}

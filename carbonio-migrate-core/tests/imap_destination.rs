//! The `imap` destination against a private Dovecot (feature `testkit`), and
//! against a tiny scripted server for refusals.
//!
//! Every written message is read back through a raw session (`UID FETCH ...
//! BODY.PEEK[]` decoded by imap-codec) and compared byte for byte, with its
//! flags, internal date and the UID the append returned.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone};
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::flag::FlagFetch;
use imap_codec::imap_types::response::{Data, Response, Status};

use carbonio_migrate_core::adapters::imap::append::{AppendLimits, AppendMode};
use carbonio_migrate_core::adapters::imap::codec_client::{ClientLimits, CodecClient, OnNo};
use carbonio_migrate_core::adapters::imap::destination::ImapDestination;
use carbonio_migrate_core::adapters::imap::transport::{self, ImapStream};
use carbonio_migrate_core::adapters::imap::ImapConfig;
use carbonio_migrate_core::model::{
    Account, EmailAddress, Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Secret,
    Uid,
};
use carbonio_migrate_core::testkit::Dovecot;
use carbonio_migrate_core::{Destination, Error};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};

// ---------------------------------------------------------------- helpers

fn config_for(port: u16, auth: &str, admin: Option<&str>) -> ImapConfig {
    let admin = admin
        .map(|a| format!("admin_user = \"{a}\"\n"))
        .unwrap_or_default();
    toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nauth = \"{auth}\"\n{admin}timeout_secs = 20\n"
    ))
    .unwrap()
}

/// A fresh Dovecot user and a destination impersonating it as the master user.
fn fresh_account(mode: Option<AppendMode>) -> (ImapDestination, Account) {
    let dovecot = Dovecot::shared();
    let user = dovecot.unique_user("dst");
    dovecot.add_user(&user, "user-pw").unwrap();
    let config = config_for(
        dovecot.imap_port(),
        "impersonate",
        Some(dovecot.master_user()),
    );
    let mut dest =
        ImapDestination::new(config, Some(Secret::new(dovecot.master_password()))).unwrap();
    if let Some(mode) = mode {
        dest = dest.with_append_mode(mode);
    }
    (dest, Account::new(EmailAddress::parse(&user).unwrap()))
}

fn date(
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    offset_secs: i32,
) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(offset_secs)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
}

fn flags(system: &str, keywords: &[&str]) -> Flags {
    Flags {
        seen: system.contains('S'),
        answered: system.contains('A'),
        flagged: system.contains('F'),
        deleted: system.contains('D'),
        draft: system.contains('R'),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
    }
}

fn message(uid: u32, flags: Flags, internal_date: DateTime<FixedOffset>, body: &[u8]) -> Message {
    Message {
        meta: MessageMeta {
            uid: Uid::new(uid).unwrap(),
            flags,
            internal_date,
            size: body.len() as u64,
        },
        body: MessageBody::from_bytes(body.to_vec()),
    }
}

/// What a raw session reads back of one message.
#[derive(Debug, PartialEq)]
struct Fetched {
    uid: u32,
    flags: BTreeSet<String>,
    date: DateTime<FixedOffset>,
    body: Vec<u8>,
}

/// A raw imap-codec session as the master user impersonating `user`.
async fn raw_session(user: &str) -> CodecClient<ImapStream> {
    let dovecot = Dovecot::shared();
    let config = config_for(dovecot.imap_port(), "login", None);
    let connected = transport::connect(&config).await.unwrap();
    let mut client = CodecClient::after_greeting(
        connected.stream,
        "dovecot",
        connected.capabilities,
        ClientLimits {
            max_response_bytes: 64 << 20,
            io_timeout: Duration::from_secs(30),
        },
    );
    client
        .authenticate_plain(
            user,
            Some(user),
            dovecot.master_user(),
            dovecot.master_password(),
        )
        .await
        .unwrap();
    client
}

/// `UID FETCH 1:*` of a server mailbox, in UID order.
async fn fetch_all(user: &str, server_mailbox: &str) -> Vec<Fetched> {
    let mut client = raw_session(user).await;
    client
        .execute(
            CommandBody::examine(server_mailbox).unwrap(),
            "examine",
            OnNo::Fail,
        )
        .await
        .unwrap();
    client
        .write(b"F1 UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])\r\n")
        .await
        .unwrap();
    client.flush().await.unwrap();
    let mut out = Vec::new();
    loop {
        match client.read_response().await.unwrap() {
            Response::Data(Data::Fetch { items, .. }) => {
                let mut f = Fetched {
                    uid: 0,
                    flags: BTreeSet::new(),
                    date: date(1970, 1, 1, 0, 0, 0, 0),
                    body: Vec::new(),
                };
                for item in items.into_iter() {
                    match item {
                        MessageDataItem::Uid(u) => f.uid = u.get(),
                        MessageDataItem::Flags(list) => {
                            for flag in list {
                                if let FlagFetch::Flag(flag) = flag {
                                    f.flags.insert(flag.to_string());
                                }
                            }
                        }
                        MessageDataItem::InternalDate(d) => f.date = *d.as_ref(),
                        MessageDataItem::BodyExt { data, .. } => {
                            f.body = data.0.map(|s| s.as_ref().to_vec()).unwrap_or_default()
                        }
                        _ => {}
                    }
                }
                out.push(f);
            }
            Response::Status(Status::Tagged(t)) if t.tag.as_ref() == "F1" => break,
            _ => {}
        }
    }
    out.sort_by_key(|f| f.uid);
    out
}

/// Server mailbox names and whether each is subscribed.
async fn list_names(user: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut client = raw_session(user).await;
    let mut names = BTreeSet::new();
    let mut subscribed = BTreeSet::new();
    for (command, set) in [("LIST", &mut names), ("LSUB", &mut subscribed)] {
        client
            .write(format!("L1 {command} \"\" \"*\"\r\n").as_bytes())
            .await
            .unwrap();
        client.flush().await.unwrap();
        loop {
            match client.read_response().await.unwrap() {
                Response::Data(Data::List { mailbox, .. } | Data::Lsub { mailbox, .. }) => {
                    set.insert(carbonio_migrate_core::adapters::imap::writer::wire_name(
                        &mailbox,
                    ));
                }
                Response::Status(Status::Tagged(_)) => break,
                _ => {}
            }
        }
    }
    (names, subscribed)
}

// ---------------------------------------------------------------- the mix

/// What a message should read back as: its flags, its bytes (`None` when it
/// must be refused before sending) and its date.
type Expected = (BTreeSet<String>, Option<Vec<u8>>, DateTime<FixedOffset>);

/// A message mix with what breaks naive writers, and what each should read
/// back as: `(message, expected flags, Some(body) when it is written)`.
fn the_mix() -> Vec<(Message, BTreeSet<String>, Option<Vec<u8>>)> {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let eight_bit = "From: Jürgen Groß <j@example.org>\r\nSubject: Grüße — 日本語\r\n\
                     Message-ID: <dup@example.org>\r\n\r\nÄÖÜ body\r\n"
        .as_bytes()
        .to_vec();
    let plain = b"Subject: plain\r\nMessage-ID: <p@example.org>\r\n\r\nhello\r\n".to_vec();
    let headers_only = b"Subject: headers only\r\n\r\n".to_vec();
    let no_crlf_end = b"Subject: no final newline\r\n\r\nlast line".to_vec();
    vec![
        (
            message(
                11,
                flags("SAFDR", &["$Forwarded", "$Label1", "NonJunk", "Seen"]),
                date(1975, 6, 1, 8, 30, 0, -(3 * 3600 + 1800)),
                &plain,
            ),
            set(&[
                "\\Seen",
                "\\Answered",
                "\\Flagged",
                "\\Deleted",
                "\\Draft",
                "$Forwarded",
                "$Label1",
                "NonJunk",
                "Seen",
            ]),
            Some(plain.clone()),
        ),
        (
            message(
                12,
                flags("", &["NAME:FLAG1", "a b", "(x)", "\\Recent", "()"]),
                date(1999, 12, 31, 23, 59, 59, 0),
                &eight_bit,
            ),
            set(&["NAME_FLAG1", "a_b", "_x_"]),
            Some(eight_bit.clone()),
        ),
        (
            message(
                13,
                flags("S", &[]),
                date(2012, 2, 29, 12, 0, 0, 5 * 3600 + 2700),
                &headers_only,
            ),
            set(&["\\Seen"]),
            Some(headers_only.clone()),
        ),
        // A duplicate stays a duplicate. (Dovecot replaces a future INTERNALDATE
        // with the time of the APPEND, so dates stay in the past.)
        (
            message(
                14,
                flags("", &[]),
                date(2024, 7, 1, 3, 14, 8, 14 * 3600),
                &eight_bit,
            ),
            set(&[]),
            Some(eight_bit.clone()),
        ),
        // Empty: refused before sending (servers refuse 0-byte messages).
        (
            message(15, flags("", &[]), date(2001, 1, 1, 0, 0, 0, 0), b""),
            set(&[]),
            None,
        ),
        (
            message(
                16,
                flags("F", &[]),
                date(1989, 11, 9, 18, 57, 0, 3600),
                &no_crlf_end,
            ),
            set(&["\\Flagged"]),
            Some(no_crlf_end.clone()),
        ),
    ]
}

async fn write_and_verify_mix(mode: AppendMode) {
    let (dest, account) = fresh_account(Some(mode));
    let folder = Folder::mail(FolderPath::parse("Projekte/Überblick 2024/Q1.final").unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    writer.ensure_folder(&folder).await.unwrap();
    let mix = the_mix();
    let expected: Vec<Expected> = mix
        .iter()
        .map(|(m, f, b)| (f.clone(), b.clone(), m.meta.internal_date))
        .collect();
    let messages: Vec<Message> = mix.into_iter().map(|(m, _, _)| m).collect();
    let outcomes = writer.append(&folder, messages).await.unwrap();
    assert_eq!(outcomes.len(), expected.len());
    let status = writer.status(&folder).await.unwrap().unwrap();
    writer.finish().await.unwrap();

    let fetched = fetch_all(
        account.address.as_str(),
        "Projekte/&ANw-berblick 2024/Q1.final",
    )
    .await;
    assert_eq!(status.messages, fetched.len() as u64);
    let mut read = fetched.iter();
    for (i, (outcome, (want_flags, want_body, want_date))) in
        outcomes.iter().zip(&expected).enumerate()
    {
        match want_body {
            None => {
                let err = outcome.as_ref().unwrap_err();
                assert!(matches!(err, Error::Rejected { .. }), "{err}");
                assert_eq!(
                    err.to_string(),
                    format!(
                        "rejected message uid 15 to Projekte/Überblick 2024/Q1.final of {}: \
                         an empty message (0 bytes) is refused by IMAP servers; not sent",
                        account.address
                    )
                );
            }
            Some(body) => {
                let got = read.next().expect("a message read back");
                let uid = outcome.as_ref().unwrap().expect("APPENDUID");
                assert_eq!(
                    uid.get(),
                    got.uid,
                    "message {i}: APPENDUID is the server's UID"
                );
                assert_eq!(&got.body, body, "message {i}: bytes differ");
                assert_eq!(&got.flags, want_flags, "message {i}: flags");
                assert_eq!(
                    got.date.timestamp(),
                    want_date.timestamp(),
                    "message {i}: date"
                );
            }
        }
    }
    assert!(read.next().is_none(), "no extra message");
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn literal_plus_pipeline_writes_the_mix_exactly() {
    write_and_verify_mix(AppendMode::LiteralPlus).await;
}

#[tokio::test]
async fn synchronizing_fallback_writes_the_same() {
    write_and_verify_mix(AppendMode::Synchronizing).await;
}

#[tokio::test]
async fn multiappend_writes_the_same() {
    write_and_verify_mix(AppendMode::MultiAppend).await;
}

#[tokio::test]
async fn folders_are_created_nested_encoded_and_subscribed() {
    let (dest, account) = fresh_account(None);
    let mut writer = dest.mailbox(&account).await.unwrap();
    let mut unsubscribed = Folder::mail(FolderPath::parse("Quiet. Folder").unwrap());
    unsubscribed.subscribed = false;
    let folders = [
        Folder::mail(FolderPath::parse("Inbox").unwrap()),
        Folder::mail(FolderPath::parse("Inbox/Lists").unwrap()),
        Folder::mail(FolderPath::parse("Archiv/Ελληνικά/2024 Q1.a").unwrap()),
        Folder::mail(FolderPath::parse("日本語").unwrap()),
        unsubscribed,
    ];
    for f in &folders {
        writer.ensure_folder(f).await.unwrap();
        writer.ensure_folder(f).await.unwrap();
    }
    // The inbox existed; the others were created by this writer, so the
    // engine need not read them back.
    let created: Vec<bool> = folders.iter().map(|f| writer.created(f)).collect();
    assert_eq!(created, [false, true, true, true, true]);
    writer.finish().await.unwrap();
    // A second writer finds them all there: none is its own.
    let mut again = dest.mailbox(&account).await.unwrap();
    for f in &folders {
        again.ensure_folder(f).await.unwrap();
        assert!(!again.created(f), "{}", f.path);
    }
    again.finish().await.unwrap();
    let (names, subscribed) = list_names(account.address.as_str()).await;
    let want: BTreeSet<String> = [
        "INBOX",
        "INBOX/Lists",
        "Archiv",
        "Archiv/&A5UDuwO7A7cDvQO5A7oDrA-",
        "Archiv/&A5UDuwO7A7cDvQO5A7oDrA-/2024 Q1.a",
        "&ZeVnLIqe-",
        "Quiet. Folder",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(names, want);
    assert!(subscribed.contains("Archiv/&A5UDuwO7A7cDvQO5A7oDrA-/2024 Q1.a"));
    assert!(subscribed.contains("&ZeVnLIqe-"));
    assert!(!subscribed.contains("Quiet. Folder"));
    // Parents are created, not subscribed.
    assert!(!subscribed.contains("Archiv"));
}

/// A body generated on the fly: never in memory, and an error if it is read
/// again after its end (the writer must stream it exactly once).
struct GeneratedBody {
    len: u64,
    pos: u64,
    finished: bool,
    reads: Arc<AtomicU64>,
}

fn generated_byte(i: u64) -> u8 {
    // Printable lines of 78 characters plus CRLF.
    match i % 80 {
        78 => b'\r',
        79 => b'\n',
        k => b'a' + ((i / 80 + k) % 26) as u8,
    }
}

impl AsyncRead for GeneratedBody {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.finished {
            return Poll::Ready(Err(std::io::Error::other("body read twice")));
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let n = (buf.remaining() as u64).min(self.len - self.pos);
        if n == 0 {
            self.finished = true;
            return Poll::Ready(Ok(()));
        }
        let start = self.pos;
        let chunk: Vec<u8> = (start..start + n).map(generated_byte).collect();
        buf.put_slice(&chunk);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn twenty_megabyte_body_is_streamed() {
    const LEN: u64 = 20 << 20;
    let (dest, account) = fresh_account(None);
    let folder = Folder::mail(FolderPath::parse("Big").unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    writer.ensure_folder(&folder).await.unwrap();
    let header = b"Subject: twenty megabytes\r\n\r\n";
    let reads = Arc::new(AtomicU64::new(0));
    let body = tokio::io::AsyncReadExt::chain(
        std::io::Cursor::new(header.to_vec()),
        GeneratedBody {
            len: LEN,
            pos: 0,
            finished: false,
            reads: reads.clone(),
        },
    );
    let total = LEN + header.len() as u64;
    let m = Message {
        meta: MessageMeta {
            uid: Uid::new(1).unwrap(),
            flags: Flags::default(),
            internal_date: date(2020, 5, 5, 5, 5, 5, 7200),
            size: total,
        },
        body: MessageBody::from_reader(total, body),
    };
    let before = rss_kib();
    let outcomes = writer.append(&folder, vec![m]).await.unwrap();
    let after = rss_kib();
    writer.finish().await.unwrap();
    assert!(outcomes[0].as_ref().unwrap().is_some());
    assert!(reads.load(Ordering::Relaxed) > 100, "read in chunks");
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "RSS before {b} KiB, after {a} KiB (+{} KiB) for a 20 MiB body",
            a.saturating_sub(b)
        );
    }
    let fetched = fetch_all(account.address.as_str(), "Big").await;
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].body.len() as u64, total);
    assert_eq!(&fetched[0].body[..header.len()], header);
    assert!(fetched[0].body[header.len()..]
        .iter()
        .enumerate()
        .all(|(i, b)| *b == generated_byte(i as u64)));
}

#[tokio::test]
async fn short_body_fails_the_call_and_marks_the_connection() {
    let (dest, account) = fresh_account(None);
    let folder = Folder::mail(FolderPath::parse("Short").unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    writer.ensure_folder(&folder).await.unwrap();
    let m = Message {
        meta: MessageMeta {
            uid: Uid::new(3).unwrap(),
            flags: Flags::default(),
            internal_date: date(2020, 5, 5, 5, 5, 5, 0),
            size: 100,
        },
        body: MessageBody::from_reader(
            100,
            std::io::Cursor::new(b"Subject: x\r\n\r\nshort".to_vec()),
        ),
    };
    let err = writer.append(&folder, vec![m]).await.unwrap_err();
    assert_eq!(
        err.chain(),
        format!(
            "i/o error: reading the body of message uid 3 to Short of {}: \
             announced 100 bytes, the body ended after 19",
            account.address
        )
    );
    let again = writer.append(&folder, Vec::new()).await.unwrap_err();
    assert!(again.is_retryable(), "{again}");
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_without_the_secret() {
    let dovecot = Dovecot::shared();
    let user = dovecot.unique_user("nopw");
    dovecot.add_user(&user, "right").unwrap();
    let config = config_for(
        dovecot.imap_port(),
        "impersonate",
        Some(dovecot.master_user()),
    );
    let dest = ImapDestination::new(config, Some(Secret::new("wrong-master-pw"))).unwrap();
    let account = Account::new(EmailAddress::parse(&user).unwrap());
    let err = dest.mailbox(&account).await.map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    let text = err.chain();
    assert!(
        text.starts_with(&format!(
            "authentication failed for {user} on 127.0.0.1:{} (as admin migrator)",
            dovecot.imap_port()
        )),
        "{text}"
    );
    assert!(!text.contains("wrong-master-pw"), "{text}");
}

#[tokio::test]
async fn destination_describes_itself() {
    let config = config_for(1143, "login", None);
    let dest = ImapDestination::new(config, Some(Secret::new("pw"))).unwrap();
    assert_eq!(dest.kind(), "imap");
    assert_eq!(dest.location(), "imap 127.0.0.1:1143");
    let missing = ImapDestination::new(config_for(1143, "login", None), None).unwrap_err();
    assert!(
        missing.to_string().contains("needs a password"),
        "{missing}"
    );
}

// ------------------------------------------------- a scripted refusing server

/// A minimal IMAP server: LOGIN, CAPABILITY, LIST, CREATE, APPEND with
/// `{n+}`/`{n}` literals. It answers `NO` to a message whose body contains
/// `REJECT-ME`, `OK [APPENDUID 1 n]` to the others, and records the order in
/// which it read commands and wrote replies.
async fn scripted_server(caps: &'static str) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (r, mut w) = socket.into_split();
        let mut r = BufReader::new(r);
        w.write_all(format!("* OK [CAPABILITY {caps}] ready\r\n").as_bytes())
            .await
            .unwrap();
        let mut log = Vec::new();
        let mut next_uid = 1;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            let tag = line.split(' ').next().unwrap_or("*").to_string();
            let upper = line.to_ascii_uppercase();
            let reply = if upper.contains(" APPEND ") {
                // One or more messages (MULTIAPPEND): each part ends with a
                // literal; an empty rest of line ends the command.
                let mut spec_line = line.clone();
                let mut bodies = Vec::new();
                loop {
                    let open = spec_line.rfind('{').unwrap();
                    let spec = &spec_line[open + 1..spec_line.len() - 1];
                    let n: usize = spec.trim_end_matches('+').parse().unwrap();
                    if !spec.ends_with('+') {
                        w.write_all(b"+ go ahead\r\n").await.unwrap();
                    }
                    let mut body = vec![0u8; n];
                    r.read_exact(&mut body).await.unwrap();
                    bodies.push(body);
                    let mut rest = String::new();
                    r.read_line(&mut rest).await.unwrap();
                    if rest.trim().is_empty() {
                        break;
                    }
                    spec_line = rest.trim_end().to_string();
                }
                // Whether the next command had already arrived: a pipelining
                // client sends it before this one is answered.
                log.push(format!(
                    "read {tag} n={} pending={}",
                    bodies.len(),
                    !r.buffer().is_empty()
                ));
                if bodies
                    .iter()
                    .any(|b| String::from_utf8_lossy(b).contains("REJECT-ME"))
                {
                    format!("{tag} NO [LIMIT] message refused by policy\r\n")
                } else {
                    let first = next_uid;
                    next_uid += bodies.len();
                    let set = if bodies.len() == 1 {
                        first.to_string()
                    } else {
                        format!("{first}:{}", next_uid - 1)
                    };
                    format!("{tag} OK [APPENDUID 1 {set}] done\r\n")
                }
            } else if upper.contains(" LIST ") {
                format!("* LIST () \"/\" INBOX\r\n{tag} OK done\r\n")
            } else if upper.contains(" CAPABILITY") {
                format!("* CAPABILITY {caps}\r\n{tag} OK done\r\n")
            } else if upper.contains(" LOGOUT") {
                w.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())
                    .await
                    .unwrap();
                break;
            } else {
                format!("{tag} OK done\r\n")
            };
            // Replies are delayed a little, so a client that waits for each
            // reply before sending the next command shows in the log.
            tokio::time::sleep(Duration::from_millis(5)).await;
            log.push(format!("replied {tag}"));
            w.write_all(reply.as_bytes()).await.unwrap();
        }
        log
    });
    (port, handle)
}

async fn refusal_case(caps: &'static str) -> Vec<String> {
    let (port, server) = scripted_server(caps).await;
    let config = config_for(port, "login", None);
    let dest = ImapDestination::new(config, Some(Secret::new("pw"))).unwrap();
    let account = Account::new(EmailAddress::parse("ada@example.org").unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    let folder = Folder::mail(FolderPath::parse("Inbox").unwrap());
    let now = date(2024, 1, 1, 0, 0, 0, 0);
    let messages = vec![
        message(1, Flags::default(), now, b"Subject: a\r\n\r\nfine\r\n"),
        message(2, Flags::default(), now, b"Subject: b\r\n\r\nREJECT-ME\r\n"),
        message(3, Flags::default(), now, b"Subject: c\r\n\r\nfine too\r\n"),
    ];
    let outcomes = writer.append(&folder, messages).await.unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap().map(Uid::get), Some(1));
    assert_eq!(
        outcomes[1].as_ref().unwrap_err().to_string(),
        "rejected message uid 2 to Inbox of ada@example.org: \
         the server answered NO [LIMIT] message refused by policy"
    );
    assert_eq!(outcomes[2].as_ref().unwrap().map(Uid::get), Some(2));
    writer.finish().await.unwrap();
    server.await.unwrap()
}

#[tokio::test]
async fn a_refused_message_fails_alone_pipelined() {
    let log = refusal_case("IMAP4rev1 LITERAL+ UIDPLUS").await;
    let reads: Vec<&String> = log.iter().filter(|l| l.starts_with("read")).collect();
    // Pipelined: the second and third APPEND had arrived before the first and
    // second were answered.
    assert_eq!(
        reads,
        [
            "read C5 n=1 pending=true",
            "read C6 n=1 pending=true",
            "read C7 n=1 pending=false"
        ],
        "{log:?}"
    );
}

#[tokio::test]
async fn a_refused_message_fails_alone_synchronizing() {
    let log = refusal_case("IMAP4rev1 UIDPLUS").await;
    let reads: Vec<&String> = log.iter().filter(|l| l.starts_with("read")).collect();
    // One at a time: nothing pending when an APPEND is read.
    assert_eq!(
        reads,
        [
            "read C5 n=1 pending=false",
            "read C6 n=1 pending=false",
            "read C7 n=1 pending=false"
        ],
        "{log:?}"
    );
}

#[tokio::test]
async fn a_refused_multiappend_is_resent_one_by_one() {
    let log = refusal_case("IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS").await;
    let reads: Vec<&String> = log.iter().filter(|l| l.starts_with("read")).collect();
    // The group of three is refused, then each message is sent alone.
    assert_eq!(
        reads,
        [
            "read C5 n=3 pending=false",
            "read C6 n=1 pending=true",
            "read C7 n=1 pending=true",
            "read C8 n=1 pending=false"
        ],
        "{log:?}"
    );
}

// ---------------------------------------------------------------- conformance

#[tokio::test]
async fn conformance_suite_passes_against_dovecot() {
    use carbonio_migrate_core::conformance::{check, check_destination_with, DestinationChecks};
    let (dest, account) = fresh_account(None);
    let checks = DestinationChecks {
        keeps_flags: true,
        mail_account: Some(account),
        ..DestinationChecks::default()
    };
    let report = check_destination_with(&dest, checks)
        .await
        .unwrap_or_else(|failure| panic!("{failure}"));
    println!("{report}");
    for name in [
        check::DESTINATION_READ_BACK_BODIES,
        check::DESTINATION_READ_BACK_FLAGS,
        check::DESTINATION_READ_BACK_DATES,
    ] {
        assert!(report.has_passed(name), "{name} not run: {report}");
    }
}

// ---------------------------------------------------------------- throughput

async fn appends_per_second(mode: AppendMode, count: u32) -> f64 {
    let (dest, account) = fresh_account(Some(mode));
    let dest = dest.with_append_limits(AppendLimits::default());
    let folder = Folder::mail(FolderPath::parse("Speed").unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    writer.ensure_folder(&folder).await.unwrap();
    let start = Instant::now();
    let mut uid = 1;
    while uid <= count {
        let batch: Vec<Message> = (uid..(uid + 64).min(count + 1))
            .map(|n| {
                let body = format!(
                    "Message-ID: <{n}@bench>\r\nSubject: small {n}\r\n\r\n{}\r\n",
                    "text ".repeat(400)
                );
                message(
                    n,
                    flags("S", &["$Label1"]),
                    date(2020, 1, 1, 0, 0, 0, 0),
                    body.as_bytes(),
                )
            })
            .collect();
        uid += batch.len() as u32;
        let outcomes = writer.append(&folder, batch).await.unwrap();
        assert!(outcomes.iter().all(|o| o.is_ok()));
    }
    let elapsed = start.elapsed();
    writer.finish().await.unwrap();
    f64::from(count) / elapsed.as_secs_f64()
}

#[tokio::test]
async fn measure_pipelined_versus_synchronizing() {
    let count = 1000;
    let sync = appends_per_second(AppendMode::Synchronizing, count).await;
    let plus = appends_per_second(AppendMode::LiteralPlus, count).await;
    let multi = appends_per_second(AppendMode::MultiAppend, count).await;
    println!(
        "{count} small messages (2 KiB) into Dovecot on loopback: synchronizing {sync:.0}/s, \
         LITERAL+ pipelined {plus:.0}/s ({:.1}x), MULTIAPPEND {multi:.0}/s ({:.1}x)",
        plus / sync,
        multi / sync
    );
}

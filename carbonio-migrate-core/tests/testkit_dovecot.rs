//! The testkit's real servers: a private Dovecot (logins, master user, TLS,
//! folder layout) and the fault-injecting proxy, checked over raw sockets.
//!
//! Needs dovecot-imapd and openssl (`scripts/install-test-deps.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use carbonio_migrate_core::testkit::{unique_token, Direction, Dovecot, FaultPlan, FaultProxy};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::{self, RootCertStore};
use tokio_rustls::TlsConnector;

/// Long enough for a slow CI machine, short enough that a hang fails the test.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

const MESSAGE: &[u8] = b"From: ada@example.org\r\nTo: bob@example.org\r\nSubject: testkit\r\n\r\nhello from the testkit\r\n";

/// A minimal IMAP client over any stream: tagged commands, raw lines back.
struct Imap<S> {
    stream: BufReader<S>,
    next_tag: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Imap<S> {
    /// Wraps a fresh connection and returns it with the server greeting.
    async fn connect(stream: S) -> (Self, String) {
        let mut imap = Imap {
            stream: BufReader::new(stream),
            next_tag: 1,
        };
        let greeting = imap.line().await;
        (imap, greeting)
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(IO_TIMEOUT, self.stream.read_line(&mut line))
            .await
            .expect("timed out reading from the server")
            .expect("reading from the server");
        assert!(n > 0, "the server closed the connection");
        line
    }

    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.get_mut().write_all(bytes).await?;
        self.stream.get_mut().flush().await
    }

    /// Sends `<tag> <command>` and returns (untagged lines, tagged line).
    async fn command(&mut self, command: &str) -> (Vec<String>, String) {
        let tag = self.tag();
        self.send(format!("{tag} {command}\r\n").as_bytes())
            .await
            .unwrap();
        self.until_tagged(&tag).await
    }

    async fn until_tagged(&mut self, tag: &str) -> (Vec<String>, String) {
        let mut untagged = Vec::new();
        loop {
            let line = self.line().await;
            if line.starts_with(&format!("{tag} ")) {
                return (untagged, line);
            }
            untagged.push(line);
        }
    }

    /// APPENDs `message` to `mailbox` with a synchronising literal.
    async fn append(&mut self, mailbox: &str, message: &[u8]) -> String {
        let tag = self.tag();
        self.send(format!("{tag} APPEND {mailbox} {{{}}}\r\n", message.len()).as_bytes())
            .await
            .unwrap();
        let go_ahead = self.line().await;
        assert!(go_ahead.starts_with("+ "), "{go_ahead}");
        self.send(message).await.unwrap();
        self.send(b"\r\n").await.unwrap();
        self.until_tagged(&tag).await.1
    }

    fn tag(&mut self) -> String {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        tag
    }
}

async fn plain(dovecot: &Dovecot) -> (Imap<TcpStream>, String) {
    let stream = TcpStream::connect(("127.0.0.1", dovecot.imap_port()))
        .await
        .unwrap();
    Imap::connect(stream).await
}

fn tls_connector(ca_file: &Path) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn sasl_plain(authzid: &str, authcid: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{authzid}\0{authcid}\0{password}"))
}

/// The files of a maildir folder's `new` and `cur`.
fn messages_in(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(folder.join(sub)) {
            files.extend(entries.map(|e| e.unwrap().path()));
        }
    }
    files
}

fn new_user(dovecot: &Dovecot, prefix: &str) -> (String, String) {
    let user = dovecot.unique_user(prefix);
    let password = format!("pw-{}", unique_token());
    dovecot.add_user(&user, &password).unwrap();
    (user, password)
}

#[tokio::test]
async fn login_works_and_a_wrong_password_fails() {
    let dovecot = Dovecot::shared();
    let (user, password) = new_user(dovecot, "ada");

    let (mut imap, greeting) = plain(dovecot).await;
    assert!(greeting.starts_with("* OK "), "{greeting}");
    let (_, tagged) = imap.command(&format!("LOGIN {user} {password}")).await;
    assert!(tagged.starts_with("a1 OK "), "{tagged}");
    // No folders but INBOX: nothing from /etc/dovecot's auto-created mailboxes.
    let (list, tagged) = imap.command("LIST \"\" \"*\"").await;
    assert!(tagged.starts_with("a2 OK "), "{tagged}");
    assert_eq!(list, vec!["* LIST (\\HasNoChildren) \"/\" INBOX\r\n"]);

    let (mut imap, _) = plain(dovecot).await;
    let (_, tagged) = imap
        .command(&format!("LOGIN {user} wrong-{password}"))
        .await;
    assert_eq!(
        tagged,
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
    );

    let (mut imap, _) = plain(dovecot).await;
    let (_, tagged) = imap
        .command(&format!("LOGIN nobody-{user} {password}"))
        .await;
    assert!(
        tagged.starts_with("a1 NO [AUTHENTICATIONFAILED]"),
        "{tagged}"
    );
}

#[tokio::test]
async fn master_user_logs_in_as_the_user() {
    let dovecot = Dovecot::shared();
    let (user, _) = new_user(dovecot, "grace");
    assert_eq!(dovecot.master_user(), "migrator");

    let (mut imap, _) = plain(dovecot).await;
    let sasl = sasl_plain(&user, dovecot.master_user(), dovecot.master_password());
    let (_, tagged) = imap.command(&format!("AUTHENTICATE PLAIN {sasl}")).await;
    assert!(tagged.starts_with("a1 OK "), "{tagged}");
    let tagged = imap.append("INBOX", MESSAGE).await;
    assert!(tagged.starts_with("a2 OK [APPENDUID "), "{tagged}");
    let (untagged, tagged) = imap.command("SELECT INBOX").await;
    assert!(tagged.starts_with("a3 OK [READ-WRITE]"), "{tagged}");
    assert!(
        untagged.contains(&"* 1 EXISTS\r\n".to_string()),
        "{untagged:?}"
    );

    // The message is in the impersonated user's maildir, stored with LF line
    // ends (Dovecot's default mail_save_crlf = no).
    let files = messages_in(&dovecot.maildir(&user));
    assert_eq!(files.len(), 1, "{files:?}");
    let stored = std::fs::read(&files[0]).unwrap();
    let expected = String::from_utf8(MESSAGE.to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(String::from_utf8(stored).unwrap(), expected);
    // The master user has no mailbox of its own.
    assert!(!dovecot.maildir(dovecot.master_user()).exists());

    // The LOGIN form `user*master` works too (auth_master_user_separator).
    let (mut imap, _) = plain(dovecot).await;
    let (_, tagged) = imap
        .command(&format!(
            "LOGIN {user}*{} {}",
            dovecot.master_user(),
            dovecot.master_password()
        ))
        .await;
    assert!(tagged.starts_with("a1 OK "), "{tagged}");
    let (untagged, _) = imap.command("STATUS INBOX (MESSAGES)").await;
    assert_eq!(untagged, vec!["* STATUS INBOX (MESSAGES 1)\r\n"]);

    // A wrong master password is refused.
    let (mut imap, _) = plain(dovecot).await;
    let sasl = sasl_plain(&user, dovecot.master_user(), "not-the-master-password");
    let (_, tagged) = imap.command(&format!("AUTHENTICATE PLAIN {sasl}")).await;
    assert!(
        tagged.starts_with("a1 NO [AUTHENTICATIONFAILED]"),
        "{tagged}"
    );
}

#[tokio::test]
async fn folder_names_with_dots_are_kept_under_a_slash_separator() {
    let dovecot = Dovecot::shared();
    let (user, password) = new_user(dovecot, "dots");
    let (mut imap, _) = plain(dovecot).await;
    imap.command(&format!("LOGIN {user} {password}")).await;
    let (_, tagged) = imap.command("CREATE \"Projects/v1.2\"").await;
    assert!(tagged.starts_with("a2 OK "), "{tagged}");
    let (list, _) = imap.command("LIST \"\" \"Projects/*\"").await;
    assert_eq!(
        list,
        vec!["* LIST (\\HasNoChildren) \"/\" Projects/v1.2\r\n"]
    );
    assert!(dovecot.maildir(&user).join("Projects/v1.2/cur").is_dir());
}

#[tokio::test]
async fn plain_port_advertises_starttls_and_upgrades_with_the_private_ca() {
    let dovecot = Dovecot::shared();
    let (user, password) = new_user(dovecot, "tls");
    let (mut imap, _) = plain(dovecot).await;
    let (untagged, _) = imap.command("CAPABILITY").await;
    let capabilities: Vec<&str> = untagged[0].split_whitespace().collect();
    for wanted in ["STARTTLS", "IDLE", "LITERAL+", "AUTH=PLAIN", "AUTH=LOGIN"] {
        assert!(
            capabilities.contains(&wanted),
            "{wanted} in {capabilities:?}"
        );
    }
    let (_, tagged) = imap.command("STARTTLS").await;
    assert!(tagged.starts_with("a2 OK "), "{tagged}");

    let tcp = imap.stream.into_inner();
    let tls = tls_connector(dovecot.ca_file())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let mut imap = Imap {
        stream: BufReader::new(tls),
        next_tag: 10,
    };
    let (_, tagged) = imap.command(&format!("LOGIN {user} {password}")).await;
    assert!(tagged.starts_with("a10 OK "), "{tagged}");
}

#[tokio::test]
async fn imaps_certificate_verifies_for_localhost_and_127_0_0_1_only() {
    let dovecot = Dovecot::shared();
    let connector = tls_connector(dovecot.ca_file());
    for name in ["localhost", "127.0.0.1"] {
        let tcp = TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
            .await
            .unwrap();
        let tls = connector
            .connect(ServerName::try_from(name).unwrap(), tcp)
            .await
            .unwrap_or_else(|e| panic!("TLS to {name}: {e}"));
        let (_, greeting) = Imap::connect(tls).await;
        assert!(greeting.starts_with("* OK "), "{greeting}");
    }

    let tcp = TcpStream::connect(("127.0.0.1", dovecot.imaps_port()))
        .await
        .unwrap();
    let err = connector
        .connect(ServerName::try_from("mail.example.org").unwrap(), tcp)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("certificate not valid for name"),
        "{err}"
    );
}

#[tokio::test]
async fn two_instances_run_side_by_side_and_stop_on_drop() {
    let first = Dovecot::start().unwrap();
    let second = Dovecot::start().unwrap();
    let ports = [
        first.imap_port(),
        first.imaps_port(),
        second.imap_port(),
        second.imaps_port(),
    ];
    let mut distinct = ports.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{ports:?}");
    assert_ne!(first.master_password(), second.master_password());

    // A user of one instance does not exist on the other.
    first.add_user("only-first@example.org", "pw1").unwrap();
    let (mut imap, _) = plain(&first).await;
    let (_, tagged) = imap.command("LOGIN only-first@example.org pw1").await;
    assert!(tagged.starts_with("a1 OK "), "{tagged}");
    let (mut imap, _) = plain(&second).await;
    let (_, tagged) = imap.command("LOGIN only-first@example.org pw1").await;
    assert!(tagged.starts_with("a1 NO "), "{tagged}");

    let dir = first.dir().to_path_buf();
    let port = first.imap_port();
    drop(first);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    let (_, greeting) = plain(&second).await;
    assert!(greeting.starts_with("* OK "), "{greeting}");
}

#[test]
fn add_user_refuses_names_the_passwd_file_cannot_hold() {
    let dovecot = Dovecot::shared();
    let err = dovecot.add_user("a:b@example.org", "pw").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid test user name or password \"a:b@example.org\": must not contain ':', '/', '*' or line breaks"
    );
    let err = dovecot
        .add_user("ok@example.org", "pass\nword")
        .unwrap_err();
    assert!(!err.to_string().contains("pass\nword"), "{err}");
}

// ---- fault proxy ----

/// A loopback echo server.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// A loopback server that writes `data` to each connection, then closes it.
async fn source_server(data: Vec<u8>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let data = data.clone();
            tokio::spawn(async move {
                let _ = stream.write_all(&data).await;
            });
        }
    });
    addr
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

async fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    // A cut may surface as EOF or as a reset; both end the data.
    let _ = tokio::time::timeout(IO_TIMEOUT, stream.read_to_end(&mut data))
        .await
        .expect("timed out reading through the proxy");
    data
}

#[tokio::test]
async fn proxy_passes_bytes_through_unchanged() {
    let proxy = FaultProxy::start(echo_server().await, FaultPlan::pass_through()).unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let sent = pattern(200_000);
    let (mut r, mut w) = stream.split();
    let writer = async {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut received = Vec::new();
    let reader = r.read_to_end(&mut received);
    let ((), read) = tokio::join!(writer, reader);
    read.unwrap();
    assert_eq!(received, sent);
    assert_eq!(proxy.connections_seen(), 1);
    assert_eq!(proxy.connections_cut(), 0);
}

#[tokio::test]
async fn proxy_cuts_server_to_client_after_n_bytes_for_the_first_connection() {
    let data = pattern(100_000);
    let plan = FaultPlan::cut_after(Direction::ServerToClient, 1234).for_first_connections(1);
    let proxy = FaultProxy::start(source_server(data.clone()).await, plan).unwrap();

    let mut first = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(read_all(&mut first).await, data[..1234]);
    let mut second = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(read_all(&mut second).await, data);
    assert_eq!(proxy.connections_seen(), 2);
    assert_eq!(proxy.connections_cut(), 1);
}

#[tokio::test]
async fn proxy_cut_mid_append_stores_nothing_and_the_retry_passes() {
    let dovecot = Dovecot::shared();
    let (user, password) = new_user(dovecot, "append");
    let target = ([127, 0, 0, 1], dovecot.imap_port()).into();
    let login = format!("a1 LOGIN {user} {password}\r\n");
    // Cut 10 bytes into the message literal of the first connection.
    let cut_at = login.len() + format!("a2 APPEND INBOX {{{}}}\r\n", MESSAGE.len()).len() + 10;
    let plan =
        FaultPlan::cut_after(Direction::ClientToServer, cut_at as u64).for_first_connections(1);
    let proxy = FaultProxy::start(target, plan).unwrap();

    let (mut imap, _) = Imap::connect(TcpStream::connect(proxy.addr()).await.unwrap()).await;
    let (_, tagged) = imap.command(&format!("LOGIN {user} {password}")).await;
    assert!(tagged.starts_with("a1 OK "), "{tagged}");
    imap.send(format!("a2 APPEND INBOX {{{}}}\r\n", MESSAGE.len()).as_bytes())
        .await
        .unwrap();
    let go_ahead = imap.line().await;
    assert!(go_ahead.starts_with("+ "), "{go_ahead}");
    let _ = imap.send(MESSAGE).await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(IO_TIMEOUT, imap.stream.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&rest).contains("a2 OK"),
        "{rest:?}"
    );
    assert_eq!(proxy.connections_cut(), 1);

    let (mut imap, _) = Imap::connect(TcpStream::connect(proxy.addr()).await.unwrap()).await;
    imap.command(&format!("LOGIN {user} {password}")).await;
    let (untagged, _) = imap.command("STATUS INBOX (MESSAGES)").await;
    assert_eq!(untagged, vec!["* STATUS INBOX (MESSAGES 0)\r\n"]);
    let tagged = imap.append("INBOX", MESSAGE).await;
    assert!(tagged.starts_with("a3 OK "), "{tagged}");
    assert_eq!(messages_in(&dovecot.maildir(&user)).len(), 1);
    assert_eq!(proxy.connections_seen(), 2);
    assert_eq!(proxy.connections_cut(), 1);
}

#[tokio::test]
async fn proxy_stall_holds_the_rest_for_the_duration() {
    let data = b"0123456789".to_vec();
    let stall = Duration::from_millis(400);
    let plan = FaultPlan::stall_after(Direction::ServerToClient, 4, stall);
    let proxy = FaultProxy::start(source_server(data).await, plan).unwrap();

    let started = Instant::now();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"0123");
    assert!(started.elapsed() < stall, "{:?}", started.elapsed());
    let rest = read_all(&mut stream).await;
    assert_eq!(rest, b"456789");
    assert!(started.elapsed() >= stall, "{:?}", started.elapsed());
    assert_eq!(proxy.connections_stalled(), 1);
    assert_eq!(proxy.connections_cut(), 0);
}

#[tokio::test]
async fn proxy_latency_delays_each_direction_and_keeps_order() {
    let one_way = Duration::from_millis(60);
    let plan = FaultPlan::pass_through().with_latency(one_way);
    let proxy = FaultProxy::start(echo_server().await, plan).unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();

    let started = Instant::now();
    stream.write_all(b"ping").await.unwrap();
    let mut pong = [0u8; 4];
    stream.read_exact(&mut pong).await.unwrap();
    let round_trip = started.elapsed();
    assert_eq!(&pong, b"ping");
    assert!(round_trip >= 2 * one_way, "{round_trip:?}");

    // Many small writes come back complete and in order, and the delays overlap
    // (pipelined), so 100 chunks take far less than 100 round trips.
    let started = Instant::now();
    let mut sent = Vec::new();
    for i in 0..100u32 {
        let chunk = format!("{i:03},");
        stream.write_all(chunk.as_bytes()).await.unwrap();
        sent.extend_from_slice(chunk.as_bytes());
    }
    let mut received = vec![0u8; sent.len()];
    stream.read_exact(&mut received).await.unwrap();
    assert_eq!(received, sent);
    assert!(started.elapsed() < 20 * one_way, "{:?}", started.elapsed());
}

#[tokio::test]
async fn dropped_proxy_refuses_connections() {
    let proxy = FaultProxy::start(echo_server().await, FaultPlan::pass_through()).unwrap();
    let addr = proxy.addr();
    let mut open = TcpStream::connect(addr).await.unwrap();
    drop(proxy);
    if let Ok(stream) = TcpStream::connect(addr).await {
        // The local address tells a self-connect or a port reuse from a leak.
        panic!(
            "{addr} still accepts connections after drop (local {:?})",
            stream.local_addr()
        );
    }
    // Relayed connections are closed too.
    assert_eq!(read_all(&mut open).await, b"");
}

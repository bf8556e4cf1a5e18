//! Mail from one real Dovecot account to another through the engine, with
//! admin impersonation on both sides: every message exactly once, byte for
//! byte, with flags, date and folder; delta passes; and connections dropped
//! mid-FETCH and mid-APPEND by a fault-injecting proxy.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonio_migrate_core::adapters::imap::destination::ImapDestination;
use carbonio_migrate_core::adapters::imap::source::ImapSource;
use carbonio_migrate_core::adapters::imap::ImapConfig;
use carbonio_migrate_core::adapters::memory::MemorySource;
use carbonio_migrate_core::engine::{
    Engine, EngineSettings, Procedure, RetryPolicy, RunOptions, VerifyOptions,
};
use carbonio_migrate_core::journal::Journal;
use carbonio_migrate_core::model::{
    Account, EmailAddress, Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Secret,
    Uid,
};
use carbonio_migrate_core::testkit::dovecot::Dovecot;
use carbonio_migrate_core::testkit::fault_proxy::{Direction, FaultPlan, FaultProxy};
use carbonio_migrate_core::wrap::CompositeSource;
use carbonio_migrate_core::{Destination, Source};
use chrono::{DateTime, FixedOffset};
use futures::StreamExt;

const PASSWORD: &str = "user-password";

/// One message as seeded on the source.
#[derive(Clone, Debug)]
struct Seed {
    folder: &'static str,
    flags: Flags,
    date: DateTime<FixedOffset>,
    body: Vec<u8>,
}

fn flags(seen: bool, answered: bool, flagged: bool, draft: bool, keywords: &[&str]) -> Flags {
    Flags {
        seen,
        answered,
        flagged,
        draft,
        deleted: false,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
    }
}

fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    let folders = [
        "INBOX",
        "Sent",
        "Drafts",
        "Projekte/Überblick 2024",
        "Team.Notes 2.0",
        "日本語/メモ",
    ];
    for i in 0..60u32 {
        let folder = folders[i as usize % folders.len()];
        let date = DateTime::parse_from_rfc3339(&format!(
            "{}-0{}-1{}T0{}:15:00+0{}:00",
            1995 + i % 30,
            1 + i % 9,
            i % 10,
            i % 10,
            i % 6
        ))
        .unwrap();
        let size = if i % 7 == 0 {
            200_000
        } else {
            300 + i as usize * 13
        };
        let filler: String = (0..size)
            .map(|n| (b'a' + ((n as u32 + i) % 26) as u8) as char)
            .collect();
        let body = format!(
            "Message-ID: <e2e-{i}@example.org>\r\nDate: Mon, 1 Jan 2001 00:00:00 +0000\r\nSubject: Grüße {i}\r\nFrom: a@example.org\r\n\r\n{}\r\n",
            filler
        )
        .into_bytes();
        out.push(Seed {
            folder,
            flags: flags(
                i % 2 == 0,
                i % 3 == 0,
                i % 5 == 0,
                folder == "Drafts",
                if i % 4 == 0 {
                    &["$Forwarded", "project-x"]
                } else {
                    &[]
                },
            ),
            date,
            body,
        });
    }
    // Same-folder duplicates stay duplicates.
    let dup = out[1].clone();
    out.push(dup);
    out
}

fn imap_config(port: u16, admin: &str) -> ImapConfig {
    toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{admin}\"\ntimeout_secs = 20\n"
    ))
    .unwrap()
}

/// Writes the seeds into `user`'s mailbox through the IMAP destination.
async fn seed(dovecot: &Dovecot, user: &str, seeds: &[Seed]) {
    let dest = ImapDestination::new(
        imap_config(dovecot.imap_port(), dovecot.master_user()),
        Some(Secret::new(dovecot.master_password())),
    )
    .unwrap();
    let account = Account::new(EmailAddress::parse(user).unwrap());
    let mut writer = dest.mailbox(&account).await.unwrap();
    for (n, s) in seeds.iter().enumerate() {
        let folder = Folder::mail(FolderPath::parse(s.folder).unwrap());
        writer.ensure_folder(&folder).await.unwrap();
        let meta = MessageMeta {
            uid: Uid::new(n as u32 + 1).unwrap(),
            flags: s.flags.clone(),
            internal_date: s.date,
            size: s.body.len() as u64,
        };
        let out = writer
            .append(
                &folder,
                vec![Message {
                    meta,
                    body: MessageBody::from_bytes(s.body.clone()),
                }],
            )
            .await
            .unwrap();
        out[0].as_ref().unwrap();
    }
    writer.finish().await.unwrap();
}

struct Pair {
    dovecot: &'static Dovecot,
    src: String,
    dst: String,
    state: tempfile::TempDir,
}

fn pair() -> Pair {
    let dovecot = Dovecot::shared();
    let src = dovecot.unique_user("e2e-src");
    let dst = dovecot.unique_user("e2e-dst");
    dovecot.add_user(&src, PASSWORD).unwrap();
    dovecot.add_user(&dst, PASSWORD).unwrap();
    Pair {
        dovecot,
        src,
        dst,
        state: tempfile::tempdir().unwrap(),
    }
}

impl Pair {
    fn engine(&self, source_port: u16, dest_port: u16) -> Engine {
        self.engine_with(source_port, dest_port, |_| {})
    }

    /// [`Self::engine`] with settings changed by `adjust`.
    fn engine_with(
        &self,
        source_port: u16,
        dest_port: u16,
        adjust: impl FnOnce(&mut EngineSettings),
    ) -> Engine {
        let accounts = MemorySource::new();
        let mut account = Account::new(EmailAddress::parse(&self.dst).unwrap());
        account.source_user = Some(self.src.clone());
        accounts.add_account(account);
        let secret = Some(Secret::new(self.dovecot.master_password()));
        let source = ImapSource::new(
            imap_config(source_port, self.dovecot.master_user()),
            secret.clone(),
        )
        .unwrap();
        let dest = ImapDestination::new(imap_config(dest_port, self.dovecot.master_user()), secret)
            .unwrap();
        let settings = EngineSettings {
            retry: RetryPolicy {
                max_attempts: 8,
                base: Duration::from_millis(10),
                max: Duration::from_millis(50),
            },
            ..EngineSettings::default()
        };
        let mut settings = settings;
        adjust(&mut settings);
        Engine::new(
            Arc::new(CompositeSource::new(Arc::new(accounts), Arc::new(source))),
            Arc::new(dest),
            Arc::new(Journal::open(self.state.path()).unwrap()),
            Procedure::named("mail-only").unwrap(),
            settings,
        )
        .unwrap()
    }

    /// Every message of the destination account, read independently of the
    /// engine: (folder, flags, date, body), sorted.
    async fn destination_contents(&self) -> Vec<(String, String, DateTime<FixedOffset>, Vec<u8>)> {
        let config = imap_config(self.dovecot.imap_port(), self.dovecot.master_user());
        let source =
            ImapSource::new(config, Some(Secret::new(self.dovecot.master_password()))).unwrap();
        let account = Account::new(EmailAddress::parse(&self.dst).unwrap());
        let mut reader = source.mailbox(&account).await.unwrap();
        let mut out = Vec::new();
        for folder in reader.folders().await.unwrap() {
            let metas = reader.list(&folder.path, None, usize::MAX).await.unwrap();
            let uids: Vec<Uid> = metas.iter().map(|m| m.uid).collect();
            let mut stream = reader.fetch(&folder.path, &uids).await.unwrap();
            let mut bodies = Vec::new();
            while let Some(m) = stream.next().await {
                let m = m.unwrap();
                bodies.push((m.meta.uid, m.body.read_all().await.unwrap()));
            }
            drop(stream);
            for (meta, (uid, body)) in metas.iter().zip(bodies) {
                assert_eq!(meta.uid, uid);
                out.push((
                    folder.path.to_string(),
                    meta.flags.to_imap(),
                    meta.internal_date,
                    body,
                ));
            }
        }
        out.sort();
        out
    }
}

/// What the destination must hold for these seeds: folders as Carbonio names
/// them (`INBOX` → `Inbox`), everything else as is.
fn expected(seeds: &[Seed]) -> Vec<(String, String, DateTime<FixedOffset>, Vec<u8>)> {
    let mut out: Vec<_> = seeds
        .iter()
        .map(|s| {
            let folder = if s.folder == "INBOX" {
                "INBOX".to_string()
            } else {
                s.folder.to_string()
            };
            (folder, s.flags.to_imap(), s.date, s.body.clone())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_to_imap_copies_every_message_exactly_once_then_only_what_is_new() {
    let p = pair();
    let seeds = seeds();
    seed(p.dovecot, &p.src, &seeds).await;
    let engine = p.engine(p.dovecot.imap_port(), p.dovecot.imap_port());

    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    assert_eq!(
        p.destination_contents().await,
        expected(&seeds),
        "bytes, flags, dates and folders"
    );
    let report = engine.verify(&VerifyOptions::deep()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);

    // Delta pass with nothing new.
    let start = Instant::now();
    let again = engine.run(RunOptions::default()).await.unwrap();
    println!("delta pass with nothing new: {:?}", start.elapsed());
    assert!(again.wrote_nothing(), "{again:?}");
    assert_eq!(p.destination_contents().await.len(), seeds.len());

    // One new message on the source: exactly one more on the destination.
    let new = Seed {
        folder: "Sent",
        flags: flags(true, false, false, false, &[]),
        date: DateTime::parse_from_rfc3339("2024-06-01T10:00:00+02:00").unwrap(),
        body: b"Message-ID: <new@example.org>\r\nSubject: new\r\n\r\nnew\r\n".to_vec(),
    };
    seed(p.dovecot, &p.src, std::slice::from_ref(&new)).await;
    engine.run(RunOptions::default()).await.unwrap();
    let mut all = seeds.clone();
    all.push(new);
    assert_eq!(p.destination_contents().await, expected(&all));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_flags_brings_changed_flags_over_and_then_writes_nothing() {
    let p = pair();
    let seeds = seeds();
    seed(p.dovecot, &p.src, &seeds).await;
    let engine = p.engine_with(p.dovecot.imap_port(), p.dovecot.imap_port(), |s| {
        s.sync_flags = true;
    });
    let first = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(first.failed, 0, "{:?}", first.failures);
    assert_eq!(p.destination_contents().await, expected(&seeds));

    // Nothing changed: the folders are checked, nothing is written.
    let again = engine.run(RunOptions::default()).await.unwrap();
    assert!(again.wrote_nothing(), "{again:?}");

    // A user flags and reads the first Sent message on the source after the
    // first pass; no new message arrives anywhere.
    let sent = seeds.iter().position(|s| s.folder == "Sent").unwrap();
    let changed = flags(true, true, true, false, &["project-x"]);
    let writer_side = ImapDestination::new(
        imap_config(p.dovecot.imap_port(), p.dovecot.master_user()),
        Some(Secret::new(p.dovecot.master_password())),
    )
    .unwrap();
    let mut source_writer = writer_side
        .mailbox(&Account::new(EmailAddress::parse(&p.src).unwrap()))
        .await
        .unwrap();
    let folder = Folder::mail(FolderPath::parse("Sent").unwrap());
    source_writer
        .set_flags(&folder, vec![(Uid::new(1).unwrap(), changed.clone())])
        .await
        .unwrap();
    source_writer.finish().await.unwrap();

    engine.run(RunOptions::default()).await.unwrap();
    let mut now = seeds.clone();
    now[sent].flags = changed;
    assert_eq!(p.destination_contents().await, expected(&now));
    let last = engine.run(RunOptions::default()).await.unwrap();
    assert!(last.wrote_nothing(), "{last:?}");
}

async fn run_through_faults(source_plan: FaultPlan, dest_plan: FaultPlan) {
    let p = pair();
    let seeds = seeds();
    seed(p.dovecot, &p.src, &seeds).await;
    let target: SocketAddr = format!("127.0.0.1:{}", p.dovecot.imap_port())
        .parse()
        .unwrap();
    let source_proxy = FaultProxy::start(target, source_plan).unwrap();
    let dest_proxy = FaultProxy::start(target, dest_plan).unwrap();
    let engine = p.engine(source_proxy.port(), dest_proxy.port());
    let mut rounds = 0;
    loop {
        rounds += 1;
        let summary = engine.run(RunOptions::default()).await.unwrap();
        if summary.failed == 0 {
            break;
        }
        assert!(
            rounds < 5,
            "still failing after {rounds} runs: {:?}",
            summary.failures
        );
    }
    assert!(
        source_proxy.connections_cut() + dest_proxy.connections_cut() > 0,
        "the proxies cut nothing: the test proves nothing"
    );
    assert_eq!(
        p.destination_contents().await,
        expected(&seeds),
        "exactly once, byte-identical"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_dropped_mid_fetch_are_resumed_exactly_once() {
    // Cut the server→client stream of the first 3 source connections after
    // 150 KB: in the middle of a FETCH of bodies.
    let plan = FaultPlan::cut_after(Direction::ServerToClient, 150_000).for_first_connections(3);
    run_through_faults(plan, FaultPlan::pass_through()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_dropped_mid_append_are_resumed_exactly_once() {
    // Cut the client→server stream of the first 3 destination connections after
    // 120 KB: in the middle of pipelined APPENDs.
    let plan = FaultPlan::cut_after(Direction::ClientToServer, 120_000).for_first_connections(3);
    run_through_faults(FaultPlan::pass_through(), plan).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_journal_recognises_every_message_already_on_the_destination() {
    let p = pair();
    let seeds = seeds();
    seed(p.dovecot, &p.src, &seeds).await;
    let port = p.dovecot.imap_port();
    p.engine(port, port)
        .run(RunOptions::default())
        .await
        .unwrap();
    // The same migration with its journal lost.
    let fresh = Pair {
        dovecot: p.dovecot,
        src: p.src.clone(),
        dst: p.dst.clone(),
        state: tempfile::tempdir().unwrap(),
    };
    let summary = fresh
        .engine(port, port)
        .run(RunOptions::default())
        .await
        .unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    assert_eq!(
        p.destination_contents().await,
        expected(&seeds),
        "nothing copied twice"
    );
}

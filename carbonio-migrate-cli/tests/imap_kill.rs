//! SIGKILL-then-resume against real IMAP servers: the CLI migrates a Dovecot
//! account to another with admin impersonation, is killed with SIGKILL at
//! random points, and re-run; the destination ends with every message exactly
//! once (`verify --deep` finds nothing missing and nothing extra).

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carbonio_migrate_core::model::{
    Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid,
};
use carbonio_migrate_core::testkit::dovecot::Dovecot;
use common::*;
use rand::Rng;

const MESSAGES: u32 = 400;

/// Seeds `user` with MESSAGES messages over four folders, 2–60 KB each.
async fn seed(dovecot: &Dovecot, user: &str) {
    let mut writer = dovecot.writer(user).await.unwrap();
    let folders = ["INBOX", "Archiv/2019", "Kunden/Müller & Söhne", "Sent"];
    for f in folders {
        writer
            .ensure_folder(&Folder::mail(FolderPath::parse(f).unwrap()))
            .await
            .unwrap();
    }
    let mut batch = Vec::new();
    for i in 1..=MESSAGES {
        let folder = Folder::mail(FolderPath::parse(folders[i as usize % folders.len()]).unwrap());
        let filler = "x".repeat(2_000 + (i as usize * 7919) % 58_000);
        let body = format!(
            "Message-ID: <kill-{i}@example.org>\r\nSubject: kill test {i}\r\n\r\n{filler}\r\n"
        )
        .into_bytes();
        let meta = MessageMeta {
            uid: Uid::new(i).unwrap(),
            flags: Flags {
                seen: i % 3 == 0,
                ..Flags::default()
            },
            internal_date: chrono::DateTime::parse_from_rfc3339("2020-02-02T20:20:20+01:00")
                .unwrap(),
            size: body.len() as u64,
        };
        batch.push((
            folder,
            Message {
                meta,
                body: MessageBody::from_bytes(body),
            },
        ));
    }
    for (folder, message) in batch {
        let out = writer.append(&folder, vec![message]).await.unwrap();
        out[0].as_ref().unwrap();
    }
    writer.finish().await.unwrap();
}

fn write_config(root: &Path, dovecot: &Dovecot, src: &str, dst: &str) {
    std::fs::create_dir_all(root.join("accounts")).unwrap();
    std::fs::write(
        root.join("accounts/accounts.csv"),
        format!("email,source_user\n{dst},{src}\n"),
    )
    .unwrap();
    let side = |name: &str| {
        format!(
            "[{name}]\ntype = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{}\"\npassword_env = \"CM_TEST_MASTER_PASSWORD\"\n",
            dovecot.imap_port(),
            dovecot.master_user()
        )
    };
    std::fs::write(
        root.join("migration.toml"),
        format!(
            "procedure = \"mail-only\"\n[provisioning]\ntype = \"export-dir\"\npath = \"accounts\"\n{}{}",
            side("source"),
            side("destination")
        ),
    )
    .unwrap();
}

fn command(root: &Path, dovecot: &Dovecot, args: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.arg("--config")
        .arg(root.join("migration.toml"))
        .args(args)
        .env("CM_TEST_MASTER_PASSWORD", dovecot.master_password());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_then_rerun_copies_every_message_exactly_once() {
    let dovecot = Dovecot::shared();
    let src = dovecot.unique_user("kill-src");
    dovecot.add_user(&src, "pw").unwrap();
    seed(dovecot, &src).await;

    // An uninterrupted run, to know how long one takes.
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    let dst = dovecot.unique_user("kill-ref");
    dovecot.add_user(&dst, "pw").unwrap();
    write_config(&reference, dovecot, &src, &dst);
    let started = Instant::now();
    let out = command(&reference, dovecot, &["run"]).output().unwrap();
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = command(&reference, dovecot, &["verify", "--deep"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let clean = format!("1 account(s), 6 folder(s), {MESSAGES} message(s) on both sides");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&clean),
        "{}",
        text(&out)
    );

    let mut rng = rand::rng();
    let mut killed = 0;
    for round in 0..4 {
        let root = dir.path().join(format!("round{round}"));
        let dst = dovecot.unique_user(&format!("kill-{round}"));
        dovecot.add_user(&dst, "pw").unwrap();
        write_config(&root, dovecot, &src, &dst);
        // Up to five attempts to kill two runs mid-way; a run that finished
        // before its kill instant is simply done.
        let mut killed_here = 0;
        for attempt in 0..5 {
            if killed_here == 2 {
                break;
            }
            let mut child = command(&root, dovecot, &["run"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // After a kill the next run first lets the destination settle (2 s,
            // `[run] settle_after_interrupt_ms`): kill it after that, mid-copy.
            let settle = if attempt > 0 && killed_here > 0 {
                Duration::from_secs(2)
            } else {
                Duration::ZERO
            };
            std::thread::sleep(
                settle + Duration::from_micros(rng.random_range(0..=full.as_micros() as u64 / 2)),
            );
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
                killed_here += 1;
            }
            child.wait().unwrap();
        }
        let out = command(&root, dovecot, &["run"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
        let out = command(&root, dovecot, &["verify", "--deep"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&clean),
            "round {round}: {}",
            text(&out)
        );
    }
    assert!(
        killed >= 4,
        "only {killed} runs were killed mid-way: the test proves little"
    );
}

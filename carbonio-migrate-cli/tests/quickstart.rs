//! The quickstart end to end with the real binary: the migration, `verify`,
//! a re-run that writes nothing, and SIGKILL at random points followed by
//! re-runs giving a bundle identical to an uninterrupted run.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rand::Rng;

#[test]
fn quickstart_migrates_verifies_and_reruns_as_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let root = quickstart_copy(dir.path());

    let out = cli(&root, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let bundle = root.join("bundle");
    let files = tree(&bundle);
    assert_eq!(
        files
            .keys()
            .filter(|k| k.starts_with("mail/") && k.ends_with(".tgz"))
            .count(),
        10
    );
    assert_eq!(
        files.keys().filter(|k| k.starts_with("calendar/")).count(),
        3
    );
    assert_eq!(
        files.keys().filter(|k| k.starts_with("contacts/")).count(),
        3
    );
    let cmd = String::from_utf8(files["provisioning.cmd"].clone()).unwrap();
    for line in [
        "cd acme.example description 'Acme Corporation – head office, Milano & Berlin'",
        "cc staff zimbraFeatureCalendarEnabled TRUE zimbraMailQuota 5368709120",
        "ca chiara.rossi@acme.example 'Quickstart-Chiara-2026!' givenName Chiara sn Rossi displayName 'Rossi, Chiara \"Kiki\"' zimbraPasswordMustChange TRUE",
        "sac chiara.rossi@acme.example staff",
        "aaa chiara.rossi@acme.example kiki@acme.example",
    ] {
        assert!(cmd.lines().any(|l| l == line), "missing line {line:?} in:\n{cmd}");
    }
    assert!(
        cmd.contains("userPassword '{SSHA}"),
        "hashes are carried as is"
    );
    assert!(
        cmd.lines()
            .any(|l| l.starts_with("adlm all-staff@acme.example ")),
        "{cmd}"
    );

    // The message count from verify: every message on both sides, identical bytes.
    let out = cli(&root, &["verify", "--deep"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("verify: clean: 10 account(s), 45 folder(s), 200 message(s) on both sides"),
        "{}",
        text(&out)
    );

    // Re-running writes nothing and says so.
    let inodes: Vec<(String, u64, i64)> = walk_meta(&bundle);
    let out = cli(&root, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("nothing to do: all 52 items were already done"),
        "{}",
        text(&out)
    );
    assert_eq!(
        walk_meta(&bundle),
        inodes,
        "no file of the bundle was rewritten"
    );
    assert_same_tree(&files, &tree(&bundle), "after the re-run");
}

/// (path, inode, mtime) of every file, to prove nothing was rewritten.
fn walk_meta(dir: &std::path::Path) -> Vec<(String, u64, i64)> {
    tree(dir)
        .keys()
        .map(|k| {
            let m = std::fs::metadata(dir.join(k)).unwrap();
            (
                k.clone(),
                m.ino(),
                m.mtime_nsec() + m.mtime() * 1_000_000_000,
            )
        })
        .collect()
}

#[test]
fn sigkill_at_random_points_then_rerun_gives_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let reference_root = quickstart_copy(&dir.path().join("reference"));
    let started = Instant::now();
    let out = cli(&reference_root, &["run"]);
    let full = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let reference = tree(&reference_root.join("bundle"));

    let mut rng = rand::rng();
    let rounds = 8;
    let mut total_killed = 0;
    for round in 0..rounds {
        let root = quickstart_copy(&dir.path().join(format!("round{round}")));
        // Kill up to three times per round, each at a random instant within the
        // length of a full run, then let the last run finish.
        let mut killed = 0;
        // Up to six attempts to kill two runs mid-way: each kill lands at a random
        // instant; a run that finished first is simply done (and counts nothing).
        for _ in 0..6 {
            if killed == 2 {
                break;
            }
            let mut child = Command::new(binary())
                .arg("--config")
                .arg(root.join("migration.toml"))
                .arg("run")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Within the first half of a full run's length: later runs of the
            // round have less left to do, and timings vary with the machine's load.
            let delay = Duration::from_micros(rng.random_range(0..=full.as_micros() as u64 / 2));
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
            child.wait().unwrap();
        }
        total_killed += killed;
        let out = cli(&root, &["run"]);
        assert!(
            matches!(out.status.code(), Some(0)),
            "round {round} (killed {killed} times): {}",
            text(&out)
        );
        assert_same_tree(
            &reference,
            &tree(&root.join("bundle")),
            &format!("round {round}, killed {killed} times"),
        );
        let out = cli(&root, &["verify", "--deep"]);
        assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
    }
    assert!(
        total_killed >= rounds,
        "only {total_killed} runs were killed mid-way: the test proves little"
    );
}

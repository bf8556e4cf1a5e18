//! Engine behaviour against the in-memory reference adapters: exact copies,
//! re-runs that write nothing, delta passes, bad input, retries, rejections,
//! cancellation, identity checks, sharding and verify.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::sync::{Arc, Mutex};

use carbonio_migrate_core::adapters::memory::{MemoryDestination, MemorySource};
use carbonio_migrate_core::engine::{
    Engine, EngineSettings, Procedure, ProgressEvent, ProgressSink, RetryPolicy, RunOptions, Shard,
    VerifyOptions,
};
use carbonio_migrate_core::journal::{ItemState, Journal};
use carbonio_migrate_core::model::{
    Account, Domain, DomainName, EmailAddress, Flags, Folder, FolderPath,
};
use carbonio_migrate_core::Error;
use chrono::{DateTime, FixedOffset};

fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn date(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn msg(subject: &str, body: &str) -> Vec<u8> {
    format!("Message-ID: <{subject}@example.org>\r\nSubject: {subject}\r\n\r\n{body}\r\n")
        .into_bytes()
}

struct Fixture {
    source: MemorySource,
    dest: MemoryDestination,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let source = MemorySource::new();
        source.add_domain(Domain::new(DomainName::parse("example.org").unwrap()));
        for name in ["ada", "bob", "eve"] {
            let mut a = Account::new(addr(&format!("{name}@example.org")));
            a.aliases.push(addr(&format!("{name}.alias@example.org")));
            source.add_account(a);
        }
        let ada = addr("ada@example.org");
        let inbox = FolderPath::parse("INBOX").unwrap();
        let nested = FolderPath::parse("Projekte/Überblick 2024").unwrap();
        source.add_folder(&ada, Folder::mail(FolderPath::parse("Projekte").unwrap()));
        let seen = Flags {
            seen: true,
            ..Flags::default()
        };
        let mut tagged = Flags {
            flagged: true,
            answered: true,
            ..Flags::default()
        };
        tagged.keywords.insert("$Forwarded".into());
        source.add_message(
            &ada,
            &inbox,
            seen.clone(),
            date("1998-03-01T10:00:00+01:00"),
            msg("one", "hello"),
        );
        source.add_message(
            &ada,
            &inbox,
            tagged,
            date("2012-07-15T08:30:00-05:00"),
            msg("two", "world"),
        );
        // Same-folder duplicates stay duplicates.
        source.add_message(
            &ada,
            &inbox,
            seen.clone(),
            date("2031-01-01T00:00:00Z"),
            msg("dup", "same"),
        );
        source.add_message(
            &ada,
            &inbox,
            seen,
            date("2031-01-01T00:00:00Z"),
            msg("dup", "same"),
        );
        source.add_message(
            &ada,
            &nested,
            Flags::default(),
            date("2024-02-29T12:00:00+09:00"),
            msg("drei", "ü"),
        );
        source.add_message(
            &addr("bob@example.org"),
            &inbox,
            Flags::default(),
            date("2020-01-01T00:00:00Z"),
            Vec::new(),
        );
        Fixture {
            source,
            dest: MemoryDestination::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn engine(&self, settings: EngineSettings) -> Result<Engine, Error> {
        let journal = Arc::new(Journal::open(self.dir.path())?);
        Engine::new(
            Arc::new(self.source.clone()),
            Arc::new(self.dest.clone()),
            journal,
            Procedure::named("generic")?,
            settings,
        )
    }
}

fn fast_retries() -> EngineSettings {
    EngineSettings {
        retry: RetryPolicy {
            max_attempts: 4,
            base: std::time::Duration::from_millis(1),
            max: std::time::Duration::from_millis(5),
        },
        ..EngineSettings::default()
    }
}

#[tokio::test]
async fn copies_everything_exactly_and_rerun_writes_nothing() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);

    let ada = addr("ada@example.org");
    assert_eq!(f.dest.accounts().len(), 3);
    assert_eq!(f.dest.aliases_of(&ada), vec![addr("ada.alias@example.org")]);
    let paths: Vec<String> = f
        .dest
        .folders_of(&ada)
        .iter()
        .map(|f| f.path.to_string())
        .collect();
    assert!(
        paths.contains(&"Inbox".to_string()),
        "INBOX maps to Carbonio's Inbox: {paths:?}"
    );
    assert!(
        paths.contains(&"Projekte/Überblick 2024".to_string()),
        "{paths:?}"
    );

    let inbox = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap());
    assert_eq!(inbox.len(), 4, "duplicates stay duplicates");
    assert_eq!(inbox[0].body, msg("one", "hello"));
    assert!(inbox[0].flags.seen && !inbox[0].flags.flagged);
    assert_eq!(inbox[0].internal_date, date("1998-03-01T10:00:00+01:00"));
    assert!(
        inbox[1].flags.flagged
            && inbox[1].flags.answered
            && inbox[1].flags.keywords.contains("$Forwarded")
    );
    assert_eq!(inbox[1].internal_date, date("2012-07-15T08:30:00-05:00"));
    assert_eq!(inbox[2].body, inbox[3].body);
    let bob_inbox = f.dest.messages_in(
        &addr("bob@example.org"),
        &FolderPath::parse("Inbox").unwrap(),
    );
    assert_eq!(bob_inbox.len(), 1);
    assert!(bob_inbox[0].body.is_empty(), "empty body copied as empty");

    // The journal maps every message.
    assert_eq!(
        engine.journal().message_count("ada@example.org").unwrap(),
        5
    );

    let writes = f.dest.write_calls();
    let again = engine.run(RunOptions::default()).await.unwrap();
    assert!(again.wrote_nothing(), "{again:?}");
    assert_eq!(
        f.dest.write_calls(),
        writes,
        "a finished re-run writes nothing"
    );
    assert!(again.already_done > 0);

    let report = engine.verify(&VerifyOptions::deep()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
}

#[tokio::test]
async fn delta_pass_copies_only_new_messages() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    engine.run(RunOptions::default()).await.unwrap();
    let ada = addr("ada@example.org");
    let inbox = FolderPath::parse("INBOX").unwrap();
    f.source.add_message(
        &ada,
        &inbox,
        Flags::default(),
        date("2025-05-05T05:05:05Z"),
        msg("new", "fresh"),
    );
    let writes = f.dest.write_calls();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0);
    assert_eq!(
        f.dest.write_calls(),
        writes + 1,
        "only the new message is written"
    );
    let got = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap());
    assert_eq!(got.len(), 5);
    assert_eq!(got[4].body, msg("new", "fresh"));
}

#[tokio::test]
async fn bad_rows_are_reported_and_the_rest_migrates() {
    let f = Fixture::new();
    f.source.add_bad_account(Error::input(
        "export/accounts.csv",
        Some(4),
        "invalid e-mail address \"x\": it has no '@'",
    ));
    let engine = f.engine(EngineSettings::default()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 1);
    assert_eq!(
        summary.failures[0].error,
        "export/accounts.csv:4: invalid e-mail address \"x\": it has no '@'"
    );
    assert_eq!(f.dest.accounts().len(), 3);
}

#[tokio::test]
async fn transient_append_failures_are_retried_without_duplicates() {
    let f = Fixture::new();
    f.dest.fail_appends(2, || Error::Network {
        context: "connection reset by peer".into(),
        source: None,
    });
    let engine = f.engine(fast_retries()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = events.clone();
        ProgressSink::new(move |e| events.lock().unwrap().push(e))
    };
    let summary = engine
        .run(RunOptions {
            progress: sink,
            ..RunOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let ada = addr("ada@example.org");
    assert_eq!(
        f.dest
            .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())
            .len(),
        4
    );
    let retries = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ProgressEvent::ItemRetrying { .. }))
        .count();
    assert_eq!(retries, 2);
}

#[tokio::test]
async fn transient_failures_give_up_after_max_attempts() {
    let f = Fixture::new();
    f.dest.fail_appends(100, || Error::Network {
        context: "connection refused".into(),
        source: None,
    });
    let engine = f.engine(fast_retries()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert!(summary.failed >= 1);
    let failure = summary
        .failures
        .iter()
        .find(|x| x.key.starts_with("mail:"))
        .unwrap();
    assert!(
        failure
            .error
            .contains("network error: connection refused (gave up after 4 attempts)"),
        "{}",
        failure.error
    );
}

#[tokio::test]
async fn a_rejected_message_is_recorded_and_the_rest_go_on() {
    let f = Fixture::new();
    f.dest
        .reject_messages_containing(b"world", "message too large for the server");
    let engine = f.engine(EngineSettings::default()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "the mail item itself finishes");
    let ada = addr("ada@example.org");
    assert_eq!(
        f.dest
            .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())
            .len(),
        3
    );
    let mut failed = Vec::new();
    engine
        .journal()
        .for_each_item(|r| {
            if r.state == ItemState::Failed {
                failed.push((r.key, r.error.unwrap_or_default()));
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "message ada@example.org INBOX uid 2");
    assert!(
        failed[0].1.contains("message too large for the server"),
        "{}",
        failed[0].1
    );
    let report = engine.verify(&VerifyOptions::default()).await.unwrap();
    let d = &report.differences[0];
    assert_eq!(
        (d.kind.as_str(), d.uid, d.subject.as_deref()),
        ("missing", Some(2), Some("two"))
    );
    assert_eq!(d.message_id.as_deref(), Some("<two@example.org>"));
}

#[tokio::test]
async fn a_throttled_append_is_retried_and_every_message_lands_once() {
    let f = Fixture::new();
    // "two" is answered "slow down" once; the two messages after it in the
    // same batch are stored all the same, as with pipelined APPENDs.
    f.dest.throttle_messages_containing(b"world", 1);
    let engine = f.engine(fast_retries()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let ada = addr("ada@example.org");
    let mut subjects: Vec<String> = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())
        .iter()
        .map(|m| {
            let text = String::from_utf8_lossy(&m.body).into_owned();
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["dup", "dup", "one", "two"]);
    let report = engine.verify(&VerifyOptions::deep()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
}

#[tokio::test]
async fn oversized_messages_are_reported_by_name() {
    let f = Fixture::new();
    let settings = EngineSettings {
        max_message_size: Some(50),
        ..EngineSettings::default()
    };
    let engine = f.engine(settings).unwrap();
    engine.run(RunOptions::default()).await.unwrap();
    let mut failed = Vec::new();
    engine
        .journal()
        .for_each_item(|r| {
            if r.state == ItemState::Failed {
                failed.push(format!("{}: {}", r.key, r.error.unwrap_or_default()));
            }
            Ok(())
        })
        .unwrap();
    assert!(
        failed
            .iter()
            .any(|f| f.starts_with("message ada@example.org INBOX uid 1: ")
                && f.contains("over mail.max_message_size (50 bytes)")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn cancelled_run_stops_and_resumes_exactly_once() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    let options = RunOptions::default();
    // Cancel as soon as the first message batch is copied.
    let cancel = options.cancel.clone();
    let sink = ProgressSink::new(move |e| {
        if matches!(e, ProgressEvent::MailCopied { .. }) {
            cancel.cancel();
        }
    });
    let summary = engine
        .run(RunOptions {
            progress: sink,
            ..options
        })
        .await
        .unwrap();
    assert!(summary.cancelled);
    let resumed = engine.run(RunOptions::default()).await.unwrap();
    assert!(!resumed.cancelled);
    let ada = addr("ada@example.org");
    assert_eq!(
        f.dest
            .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())
            .len(),
        4,
        "exactly once"
    );
    assert_eq!(
        engine
            .journal()
            .last_run()
            .unwrap()
            .unwrap()
            .outcome
            .as_deref(),
        Some("done")
    );
}

#[tokio::test]
async fn a_changed_destination_is_refused() {
    let f = Fixture::new();
    f.engine(EngineSettings::default()).unwrap();
    let journal = Arc::new(Journal::open(f.dir.path()).unwrap());
    let settings = EngineSettings {
        rules: carbonio_migrate_core::engine::FolderRules::from_config(
            &carbonio_migrate_core::config::MailConfig {
                exclude: vec!["Junk".into()],
                ..Default::default()
            },
        )
        .unwrap(),
        ..EngineSettings::default()
    };
    let err = Engine::new(
        Arc::new(f.source.clone()),
        Arc::new(f.dest.clone()),
        journal,
        Procedure::named("generic").unwrap(),
        settings,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("mail folder rules was \"exclude[] include[] rename[]\", now \"exclude[Junk] include[] rename[]\""), "{err}");
}

#[tokio::test]
async fn dry_run_writes_nothing_and_lists_items() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    let summary = engine
        .run(RunOptions {
            dry_run: true,
            ..RunOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(f.dest.write_calls(), 0);
    assert!(summary.planned.contains(&(
        "provisioning".to_string(),
        "account:ada@example.org".to_string()
    )));
    assert!(summary
        .planned
        .contains(&("data".to_string(), "mail:bob@example.org".to_string())));
    assert!(
        engine.journal().last_run().unwrap().is_none(),
        "a dry run records no run"
    );
}

#[tokio::test]
async fn shards_split_accounts() {
    let mut total = 0;
    for k in 1..=2 {
        let f = Fixture::new();
        let engine = f.engine(EngineSettings::default()).unwrap();
        let shard = Shard::new(k, 2).unwrap();
        engine
            .run(RunOptions {
                shard: Some(shard),
                ..RunOptions::default()
            })
            .await
            .unwrap();
        total += f.dest.accounts().len();
        assert_eq!(
            f.dest.domains().len(),
            1,
            "every shard ensures the domains its accounts need"
        );
    }
    assert_eq!(total, 3, "every account in exactly one shard");
}

#[tokio::test]
async fn account_selection_narrows_the_run() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    engine
        .run(RunOptions {
            accounts: Some(vec![addr("bob@example.org")]),
            ..RunOptions::default()
        })
        .await
        .unwrap();
    let got: Vec<String> = f
        .dest
        .accounts()
        .iter()
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(got, ["bob@example.org"]);
    assert!(f
        .dest
        .messages_in(
            &addr("ada@example.org"),
            &FolderPath::parse("Inbox").unwrap()
        )
        .is_empty());
}

#[tokio::test]
async fn a_procedure_the_pair_cannot_do_is_refused_by_name() {
    let f = Fixture::new();
    let journal = Arc::new(Journal::open(f.dir.path()).unwrap());
    let engine = Engine::new(
        Arc::new(f.source.clone()),
        Arc::new(f.dest.clone()),
        journal,
        Procedure::named("zimbra").unwrap(),
        EngineSettings::default(),
    )
    .unwrap();
    let err = engine
        .run(RunOptions::default())
        .await
        .err()
        .unwrap()
        .to_string();
    assert_eq!(err, "configuration: procedure 'zimbra' cannot run: phase 'shares' needs a source that reads shares, and adapter 'memory' does not");
    assert_eq!(f.dest.write_calls(), 0, "refused before anything ran");
    // The phases the pair can do run on their own.
    let summary = engine
        .run(RunOptions {
            phases: Some(vec!["provisioning".into()]),
            ..RunOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.failed, 0);
}

#[tokio::test]
async fn progress_tells_folder_totals_and_copied_bytes_per_account() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = events.clone();
        ProgressSink::new(move |e| events.lock().unwrap().push(e))
    };
    engine
        .run(RunOptions {
            progress: sink,
            ..RunOptions::default()
        })
        .await
        .unwrap();
    let events = events.lock().unwrap();
    let inbox_total = events.iter().find_map(|e| match e {
        ProgressEvent::MailFolderStarted {
            account,
            folder,
            messages,
            already_copied,
        } if account == "ada@example.org" && folder == "INBOX" => {
            Some((*messages, *already_copied))
        }
        _ => None,
    });
    assert_eq!(inbox_total, Some((4, 0)));
    let (msgs, bytes) = events.iter().fold((0, 0), |(m, b), e| match e {
        ProgressEvent::MailCopied {
            account,
            messages,
            bytes,
            ..
        } if account == "ada@example.org" => (m + messages, b + bytes),
        _ => (m, b),
    });
    assert_eq!(msgs, 5);
    let expected: u64 = [
        msg("one", "hello"),
        msg("two", "world"),
        msg("dup", "same"),
        msg("dup", "same"),
        msg("drei", "ü"),
    ]
    .iter()
    .map(|m| m.len() as u64)
    .sum();
    assert_eq!(bytes, expected);
    assert!(events.iter().any(|e| matches!(e, ProgressEvent::PhaseStarted { phase, items: 7, .. } if phase == "provisioning")));
}

#[tokio::test]
async fn a_lost_journal_copies_nothing_twice() {
    let f = Fixture::new();
    f.engine(EngineSettings::default())
        .unwrap()
        .run(RunOptions::default())
        .await
        .unwrap();
    let writes = f.dest.write_calls();
    // Same source and destination, a new state directory: no journal at all.
    let other_state = tempfile::tempdir().unwrap();
    let engine = Engine::new(
        Arc::new(f.source.clone()),
        Arc::new(f.dest.clone()),
        Arc::new(Journal::open(other_state.path()).unwrap()),
        Procedure::named("generic").unwrap(),
        EngineSettings::default(),
    )
    .unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    assert_eq!(
        f.dest.write_calls(),
        writes,
        "every message recognised on the destination"
    );
    let ada = addr("ada@example.org");
    assert_eq!(
        f.dest
            .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())
            .len(),
        4
    );
    assert_eq!(
        engine.journal().message_count("ada@example.org").unwrap(),
        5,
        "recognised messages are journaled"
    );
}

#[tokio::test]
async fn a_uidvalidity_change_recognises_instead_of_duplicating() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    engine.run(RunOptions::default()).await.unwrap();
    let ada = addr("ada@example.org");
    let inbox = FolderPath::parse("INBOX").unwrap();
    f.source.set_uid_validity(&ada, &inbox, 99);
    f.source.add_message(
        &ada,
        &inbox,
        Flags::default(),
        date("2025-01-01T00:00:00Z"),
        msg("after", "reset"),
    );
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let got = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap());
    assert_eq!(got.len(), 5, "the four old ones once, the new one once");
    assert_eq!(got[4].body, msg("after", "reset"));
}

#[tokio::test]
async fn partly_copied_folders_get_only_what_is_missing_and_duplicates_stay_counted() {
    // The destination already holds two messages of ada's INBOX, one of them one
    // of the two identical "dup" messages, written by a run whose journal is lost.
    let f = Fixture::new();
    let partial = MemorySource::new();
    partial.add_domain(Domain::new(DomainName::parse("example.org").unwrap()));
    let ada = addr("ada@example.org");
    partial.add_account(Account::new(ada.clone()));
    let inbox = FolderPath::parse("INBOX").unwrap();
    partial.add_message(
        &ada,
        &inbox,
        Flags::default(),
        date("1998-03-01T10:00:00+01:00"),
        msg("one", "hello"),
    );
    partial.add_message(
        &ada,
        &inbox,
        Flags::default(),
        date("2031-01-01T00:00:00Z"),
        msg("dup", "same"),
    );
    let first_state = tempfile::tempdir().unwrap();
    Engine::new(
        Arc::new(partial),
        Arc::new(f.dest.clone()),
        Arc::new(Journal::open(first_state.path()).unwrap()),
        Procedure::named("generic").unwrap(),
        EngineSettings::default(),
    )
    .unwrap()
    .run(RunOptions::default())
    .await
    .unwrap();
    let engine = f.engine(EngineSettings::default()).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let got = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap());
    let bodies: Vec<Vec<u8>> = got.iter().map(|m| m.body.clone()).collect();
    assert_eq!(
        got.len(),
        4,
        "{:?}",
        bodies
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        bodies.iter().filter(|b| **b == msg("dup", "same")).count(),
        2,
        "a copy is a copy, not a dedupe"
    );
    assert_eq!(
        bodies.iter().filter(|b| **b == msg("one", "hello")).count(),
        1
    );
}

#[tokio::test]
async fn sync_flags_updates_only_what_changed_and_then_writes_nothing() {
    let f = Fixture::new();
    let settings = EngineSettings {
        sync_flags: true,
        ..EngineSettings::default()
    };
    let engine = f.engine(settings).unwrap();
    engine.run(RunOptions::default()).await.unwrap();
    let ada = addr("ada@example.org");
    let inbox = FolderPath::parse("INBOX").unwrap();
    let mut read_and_tagged = Flags {
        seen: true,
        flagged: true,
        ..Flags::default()
    };
    read_and_tagged.keywords.insert("urgent".into());
    assert!(f.source.set_flags(
        &ada,
        &inbox,
        carbonio_migrate_core::model::Uid::new(2).unwrap(),
        read_and_tagged.clone()
    ));
    let writes = f.dest.write_calls();
    engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(
        f.dest.write_calls(),
        writes + 1,
        "one message's flags changed, one write"
    );
    let got = f
        .dest
        .messages_in(&ada, &FolderPath::parse("Inbox").unwrap());
    assert_eq!(got[1].flags, read_and_tagged);
    assert!(
        got[0].flags.seen && !got[0].flags.flagged,
        "others untouched"
    );
    let writes = f.dest.write_calls();
    engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(
        f.dest.write_calls(),
        writes,
        "flags in sync: nothing written"
    );
}

#[tokio::test]
async fn without_sync_flags_copied_messages_keep_their_first_flags() {
    let f = Fixture::new();
    let engine = f.engine(EngineSettings::default()).unwrap();
    engine.run(RunOptions::default()).await.unwrap();
    let ada = addr("ada@example.org");
    let inbox = FolderPath::parse("INBOX").unwrap();
    f.source.set_flags(
        &ada,
        &inbox,
        carbonio_migrate_core::model::Uid::new(1).unwrap(),
        Flags::default(),
    );
    let writes = f.dest.write_calls();
    engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(f.dest.write_calls(), writes);
    assert!(
        f.dest
            .messages_in(&ada, &FolderPath::parse("Inbox").unwrap())[0]
            .flags
            .seen
    );
}

#[tokio::test]
async fn several_connections_per_account_copy_every_folder_exactly_once() {
    let f = Fixture::new();
    let ada = addr("ada@example.org");
    for i in 0..12 {
        let folder = FolderPath::parse(&format!("Archive/{}", 2000 + i)).unwrap();
        for j in 0..5 {
            f.source.add_message(
                &ada,
                &folder,
                Flags::default(),
                date("2010-01-01T00:00:00Z"),
                msg(&format!("a{i}-{j}"), "x"),
            );
        }
    }
    let settings = EngineSettings {
        connections_per_account: 4,
        ..EngineSettings::default()
    };
    let engine = f.engine(settings).unwrap();
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    for i in 0..12 {
        let got = f.dest.messages_in(
            &ada,
            &FolderPath::parse(&format!("Archive/{}", 2000 + i)).unwrap(),
        );
        assert_eq!(got.len(), 5, "Archive/{}", 2000 + i);
    }
    let report = engine.verify(&VerifyOptions::deep()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
    let writes = f.dest.write_calls();
    engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(f.dest.write_calls(), writes);
}

#[tokio::test]
async fn after_a_killed_run_the_destination_is_given_time_to_settle() {
    let f = Fixture::new();
    let settings = EngineSettings {
        settle_after_interrupt: std::time::Duration::from_millis(300),
        ..EngineSettings::default()
    };
    let engine = f.engine(settings).unwrap();
    // A run that never recorded its end: the process was killed.
    engine.journal().begin_run("killed").unwrap();
    let start = std::time::Instant::now();
    engine.run(RunOptions::default()).await.unwrap();
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    // A run that ended (even interrupted by Ctrl-C) needs no wait.
    let start = std::time::Instant::now();
    engine.run(RunOptions::default()).await.unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
}

//! The `bundle` destination: exact output, determinism, crash safety, read-back
//! and the generated `apply.sh`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use carbonio_migrate_core::adapters::bundle::{BundleConfig, BundleDestination};
use carbonio_migrate_core::model::{
    Account, Appointment, Contact, Cos, CosName, DistributionList, Domain, DomainName,
    EmailAddress, Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Password,
    PasswordHash, Secret, Uid,
};
use carbonio_migrate_core::{Capability, Change, Destination, Error};
use chrono::DateTime;
use futures::StreamExt;

fn addr(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

fn open(dir: &Path) -> BundleDestination {
    let config = BundleConfig {
        path: dir.join("out"),
        staging_dir: None,
    };
    BundleDestination::open(&config, &dir.join("staging")).unwrap()
}

fn ada() -> Account {
    let mut a = Account::new(addr("ada@example.org"));
    a.given_name = Some("Ada".into());
    a.surname = Some("Lovelace".into());
    a.display_name = Some("Ada Lovelace".into());
    a.password = Password::Clear(Secret::new("Initial#Pass1"));
    a.must_change_password = true;
    a.cos = Some(CosName::parse("staff").unwrap());
    a.aliases = vec![addr("ada.l@example.org")];
    a
}

fn bob() -> Account {
    let mut b = Account::new(addr("bob@example.org"));
    b.password = Password::Hash(PasswordHash::parse("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=").unwrap());
    b
}

fn team() -> DistributionList {
    let mut l = DistributionList::new(addr("team@example.org"));
    l.display_name = Some("Team".into());
    l.description = Some("All staff".into());
    l.aliases = vec![addr("all@example.org")];
    l.members = (0..150)
        .map(|i| addr(&format!("m{i:03}@example.org")))
        .collect();
    l
}

/// Provisions the small set, in an order unlike the output's.
async fn provision(dest: &BundleDestination) {
    let mut staff = Cos::new(CosName::parse("staff").unwrap());
    staff
        .attributes
        .insert("zimbraMailQuota".into(), "5368709120".into());
    staff
        .attributes
        .insert("description".into(), "Staff members".into());
    let mut org = Domain::new(DomainName::parse("example.org").unwrap());
    org.attributes
        .insert("zimbraAuthMech".into(), "zimbra".into());
    let net = Domain::new(DomainName::parse("example.net").unwrap());
    dest.ensure_domain(&org).await.unwrap();
    dest.ensure_domain(&net).await.unwrap();
    dest.ensure_cos(&staff).await.unwrap();
    dest.ensure_account(&bob()).await.unwrap();
    dest.ensure_account(&ada()).await.unwrap();
    dest.ensure_alias(&addr("bob@example.org"), &addr("robert@example.org"))
        .await
        .unwrap();
    dest.ensure_alias(&addr("ada@example.org"), &addr("ada.l@example.org"))
        .await
        .unwrap();
    let list = team();
    dest.ensure_distribution_list(&list).await.unwrap();
    // Members in two batches, the second overlapping the first.
    dest.ensure_members(&list.address, &list.members[..120])
        .await
        .unwrap();
    dest.ensure_members(&list.address, &list.members[100..])
        .await
        .unwrap();
}

fn message(uid: u32, seconds: i64, seen: bool, body: &[u8]) -> Message {
    Message {
        meta: MessageMeta {
            uid: Uid::new(uid).unwrap(),
            flags: Flags {
                seen,
                ..Flags::default()
            },
            internal_date: DateTime::from_timestamp(seconds, 0).unwrap().fixed_offset(),
            size: body.len() as u64,
        },
        body: MessageBody::from_bytes(body.to_vec()),
    }
}

fn folder(path: &str) -> Folder {
    Folder::mail(FolderPath::parse(path).unwrap())
}

const LONG_FOLDER: &str = "Progetti/Überblick über alle laufenden Projekte des Jahres zweitausendvierundzwanzig und fünfundzwanzig";

async fn write_mail(dest: &BundleDestination) {
    let mut w = dest.mailbox(&ada()).await.unwrap();
    w.ensure_folder(&folder("Inbox")).await.unwrap();
    w.ensure_folder(&folder("Inbox/Empty")).await.unwrap();
    let out = w
        .append(
            &folder("Inbox"),
            vec![
                message(10, 1_700_000_000, true, b"Subject: one\r\n\r\nfirst\r\n"),
                message(11, -86_400, false, b"Subject: old\r\n\r\nbefore 1970\r\n"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|o| matches!(o, Ok(None))));
    w.append(
        &folder(LONG_FOLDER),
        vec![message(1, 1_600_000_000, true, &vec![b'x'; 70_000])],
    )
    .await
    .unwrap();
    w.append(
        &folder("Inbox"),
        vec![message(12, 1_700_000_100, true, b"Subject: three\r\n\r\n")],
    )
    .await
    .unwrap();
    w.finish().await.unwrap();
}

async fn write_items(dest: &BundleDestination) {
    let tz = "BEGIN:VTIMEZONE\nTZID:Europe/Rome\nEND:VTIMEZONE\n".to_string();
    let mut cal = dest.appointments(&ada()).await.unwrap();
    cal.write(vec![Appointment {
        uid: "a1".into(),
        summary: Some("Standup".into()),
        components: "BEGIN:VEVENT\r\nUID:a1\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n".into(),
        timezones: vec![tz.clone()],
    }])
    .await
    .unwrap();
    cal.write(vec![Appointment {
        uid: "a2".into(),
        summary: None,
        components: "BEGIN:VEVENT\nUID:a2\nEND:VEVENT".into(),
        timezones: vec![tz],
    }])
    .await
    .unwrap();
    cal.finish().await.unwrap();
    let mut cards = dest.contacts(&ada()).await.unwrap();
    cards
        .write(vec![
            Contact {
                uid: "c1".into(),
                full_name: Some("Bob".into()),
                vcard: "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD\n".into(),
            },
            Contact {
                uid: "c2".into(),
                full_name: None,
                vcard: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eve\r\nEND:VCARD".into(),
            },
        ])
        .await
        .unwrap();
    cards.finish().await.unwrap();
}

async fn full_run(dir: &Path) -> BundleDestination {
    let dest = open(dir);
    provision(&dest).await;
    write_mail(&dest).await;
    write_items(&dest).await;
    dest.finalize().await.unwrap();
    dest
}

/// Every file under `root` (relative path → bytes).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

const EXPECTED_HEAD: &str = "\
cd example.net
cd example.org zimbraAuthMech zimbra
cc staff description 'Staff members' zimbraMailQuota 5368709120
ca ada@example.org 'Initial#Pass1' givenName Ada sn Lovelace displayName 'Ada Lovelace' zimbraPasswordMustChange TRUE
sac ada@example.org staff
ca bob@example.org '' userPassword '{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='
aaa ada@example.org ada.l@example.org
aaa bob@example.org robert@example.org
cdl team@example.org displayName Team description 'All staff'
adla team@example.org all@example.org
";

#[tokio::test]
async fn provisioning_cmd_is_exact_and_private() {
    let dir = tempfile::tempdir().unwrap();
    full_run(dir.path()).await;
    let out = dir.path().join("out");
    let text = std::fs::read_to_string(out.join("provisioning.cmd")).unwrap();
    let members = |range: std::ops::Range<usize>| {
        range
            .map(|i| format!("m{i:03}@example.org"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let expected = format!(
        "{EXPECTED_HEAD}adlm team@example.org {}\nadlm team@example.org {}\n",
        members(0..100),
        members(100..150)
    );
    assert_eq!(text, expected);
    let mode = |name: &str| {
        std::fs::metadata(out.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("provisioning.cmd"), 0o600);
    assert_eq!(mode("apply.sh"), 0o755);
    let readme = std::fs::read_to_string(out.join("README.txt")).unwrap();
    assert_eq!(readme.lines().count(), 2);
    assert!(readme.contains("bash apply.sh"), "{readme}");
}

#[tokio::test]
async fn repeat_is_unchanged_change_is_updated_and_alias_clash_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let dest = open(dir.path());
    assert_eq!(dest.kind(), "bundle");
    assert_eq!(
        dest.location(),
        format!("bundle at {}", dir.path().join("out").display())
    );
    let caps = dest.capabilities();
    assert!(caps.has(Capability::ReadBack) && caps.has(Capability::Mail));
    assert!(!caps.has(Capability::ResumeMail));

    assert_eq!(dest.ensure_account(&ada()).await.unwrap(), Change::Created);
    assert_eq!(
        dest.ensure_account(&ada()).await.unwrap(),
        Change::Unchanged
    );
    let mut changed = ada();
    changed.surname = Some("King".into());
    assert_eq!(
        dest.ensure_account(&changed).await.unwrap(),
        Change::Updated
    );

    let (a, b, alias) = (
        addr("ada@example.org"),
        addr("bob@example.org"),
        addr("x@example.org"),
    );
    assert_eq!(
        dest.ensure_alias(&a, &alias).await.unwrap(),
        Change::Created
    );
    assert_eq!(
        dest.ensure_alias(&a, &alias).await.unwrap(),
        Change::Unchanged
    );
    let err = dest.ensure_alias(&b, &alias).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }));
    assert_eq!(
        err.to_string(),
        "already exists: alias x@example.org belongs to ada@example.org, cannot add it to bob@example.org"
    );

    let list = team();
    assert_eq!(
        dest.ensure_members(&list.address, &list.members)
            .await
            .unwrap(),
        Change::Created
    );
    assert_eq!(
        dest.ensure_members(&list.address, &list.members[..3])
            .await
            .unwrap(),
        Change::Unchanged
    );
    // Staged secrets never show in Debug.
    let debug = format!("{dest:?}");
    assert!(!debug.contains("Initial#Pass1"), "{debug}");
}

#[tokio::test]
async fn archive_entries_have_exact_names_dates_modes_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    full_run(dir.path()).await;
    let file = std::fs::File::open(dir.path().join("out/mail/ada@example.org.tgz")).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let header = entry.header().clone();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        assert_eq!(header.uid().unwrap(), 0);
        assert_eq!(header.gid().unwrap(), 0);
        assert_eq!(header.username_bytes(), Some(&b""[..]));
        seen.push((
            name,
            header.entry_type().is_dir(),
            header.mtime().unwrap(),
            header.mode().unwrap(),
            body,
        ));
    }
    let expected: Vec<(String, bool, u64, u32, Vec<u8>)> = vec![
        ("Inbox/".into(), true, 0, 0o755, vec![]),
        ("Inbox/Empty/".into(), true, 0, 0o755, vec![]),
        (
            "Inbox/000001.eml".into(),
            false,
            1_700_000_000,
            0o644,
            b"Subject: one\r\n\r\nfirst\r\n".to_vec(),
        ),
        (
            "Inbox/000002.eml".into(),
            false,
            0,
            0o444,
            b"Subject: old\r\n\r\nbefore 1970\r\n".to_vec(),
        ),
        ("Progetti/".into(), true, 0, 0o755, vec![]),
        (format!("{LONG_FOLDER}/"), true, 0, 0o755, vec![]),
        (
            format!("{LONG_FOLDER}/000001.eml"),
            false,
            1_600_000_000,
            0o644,
            vec![b'x'; 70_000],
        ),
        (
            "Inbox/000003.eml".into(),
            false,
            1_700_000_100,
            0o644,
            b"Subject: three\r\n\r\n".to_vec(),
        ),
    ];
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn identical_runs_give_identical_bytes_and_a_rerun_writes_nothing() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let dest = full_run(one.path()).await;
    full_run(two.path()).await;
    let a = snapshot(&one.path().join("out"));
    let b = snapshot(&two.path().join("out"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert_eq!(a, b);
    assert_eq!(a.len(), 6, "{:?}", a.keys().collect::<Vec<_>>());

    let inode = |name: &str| {
        std::fs::metadata(one.path().join("out").join(name))
            .unwrap()
            .ino()
    };
    let before = [
        inode("provisioning.cmd"),
        inode("apply.sh"),
        inode("README.txt"),
    ];
    provision(&dest).await;
    dest.finalize().await.unwrap();
    let after = [
        inode("provisioning.cmd"),
        inode("apply.sh"),
        inode("README.txt"),
    ];
    assert_eq!(before, after, "a finished re-run must not rewrite files");
}

#[tokio::test]
async fn interrupted_writers_leave_no_final_file_and_a_rerun_matches() {
    let reference = tempfile::tempdir().unwrap();
    full_run(reference.path()).await;

    let dir = tempfile::tempdir().unwrap();
    {
        // Killed midway: writers dropped without finish, staging half done.
        let dest = open(dir.path());
        dest.ensure_domain(&Domain::new(DomainName::parse("example.org").unwrap()))
            .await
            .unwrap();
        let mut w = dest.mailbox(&ada()).await.unwrap();
        w.append(&folder("Inbox"), vec![message(1, 5, true, b"half")])
            .await
            .unwrap();
        drop(w);
        let mut cal = dest.appointments(&ada()).await.unwrap();
        cal.write(vec![Appointment {
            uid: "z".into(),
            summary: None,
            components: "BEGIN:VEVENT\r\nUID:z\r\nEND:VEVENT\r\n".into(),
            timezones: vec![],
        }])
        .await
        .unwrap();
        drop(cal);
        let mail = dir.path().join("out/mail");
        assert!(!mail.join("ada@example.org.tgz").exists());
        assert!(mail.join("ada@example.org.tgz.partial").exists());
        assert!(!dir.path().join("out/calendar/ada@example.org.ics").exists());
    }
    full_run(dir.path()).await;
    let mut got = snapshot(&dir.path().join("out"));
    // Leftover spool of the killed calendar writer is not part of the bundle.
    got.retain(|p, _| !p.to_string_lossy().ends_with(".partial"));
    assert_eq!(got, snapshot(&reference.path().join("out")));
    assert!(!dir
        .path()
        .join("out/mail/ada@example.org.tgz.partial")
        .exists());
}

#[tokio::test]
async fn read_back_round_trips_folders_metadata_and_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let dest = full_run(dir.path()).await;
    let mut reader = dest.read_back(&ada()).await.unwrap();
    let folders: Vec<String> = reader
        .folders()
        .await
        .unwrap()
        .iter()
        .map(|f| f.path.to_string())
        .collect();
    assert_eq!(folders, ["Inbox", "Inbox/Empty", "Progetti", LONG_FOLDER]);
    let inbox = FolderPath::parse("Inbox").unwrap();
    let status = reader.status(&inbox).await.unwrap();
    assert_eq!(
        (status.uid_validity, status.messages, status.uid_next),
        (1, 3, Some(4))
    );
    let page = reader.list(&inbox, Uid::new(1), 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].uid.get(), 2);
    assert_eq!(page[0].internal_date.timestamp(), 0);
    assert!(!page[0].flags.seen);
    assert_eq!(page[1].internal_date.timestamp(), 1_700_000_100);
    assert_eq!(page[1].size, 18);

    let uids = [
        Uid::new(3).unwrap(),
        Uid::new(1).unwrap(),
        Uid::new(9).unwrap(),
    ];
    let fetched: Vec<_> = reader.fetch(&inbox, &uids).await.unwrap().collect().await;
    assert_eq!(fetched.len(), 2, "unknown UIDs are left out");
    let mut bodies = Vec::new();
    for m in fetched {
        let m = m.unwrap();
        bodies.push((m.meta.uid.get(), m.body.read_all().await.unwrap()));
    }
    assert_eq!(
        bodies,
        [
            (3, b"Subject: three\r\n\r\n".to_vec()),
            (1, b"Subject: one\r\n\r\nfirst\r\n".to_vec())
        ]
    );

    let missing = dest
        .read_back(&bob())
        .await
        .unwrap()
        .folders()
        .await
        .unwrap();
    assert!(missing.is_empty());
}

#[tokio::test]
async fn calendar_and_contacts_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    full_run(dir.path()).await;
    let ics = std::fs::read_to_string(dir.path().join("out/calendar/ada@example.org.ics")).unwrap();
    assert_eq!(
        ics,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//carbonio-migrate//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:a1\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:a2\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    let vcf = std::fs::read_to_string(dir.path().join("out/contacts/ada@example.org.vcf")).unwrap();
    assert_eq!(
        vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eve\r\nEND:VCARD\r\n"
    );
}

#[tokio::test]
async fn apply_sh_is_valid_bash() {
    let dir = tempfile::tempdir().unwrap();
    full_run(dir.path()).await;
    let status = Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("out/apply.sh"))
        .status()
        .unwrap();
    assert!(status.success());
}

/// Puts fake `id` and `carbonio` first on PATH: `carbonio` records its arguments
/// and prints `$FAIL_OUTPUT` when they contain `$FAIL_ON`.
fn fake_tools(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let write = |name: &str, text: &str| {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    write("id", "#!/bin/sh\necho \"${FAKE_USER:-zextras}\"\n");
    write(
        "carbonio",
        "#!/bin/sh\necho \"$*\" >> \"$CALLS\"\n\
         case \"$*\" in *\"$FAIL_ON\"*) if [ -n \"$FAIL_ON\" ]; then echo \"$FAIL_OUTPUT\" >&2; exit \"${FAIL_EXIT:-0}\"; fi;; esac\n\
         echo 'ERROR: account.ACCOUNT_EXISTS (email address already exists: ada@example.org)' >&2\n",
    );
    bin
}

fn run_apply(out: &Path, bin: &Path, calls: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new("bash");
    cmd.arg(out.join("apply.sh"))
        .current_dir("/")
        .env("PATH", path)
        .env("CALLS", calls)
        .env("FAIL_ON", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn apply_sh_runs_in_order_and_stops_at_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    full_run(dir.path()).await;
    let out = dir.path().join("out");
    let bin = fake_tools(dir.path());
    let calls = dir.path().join("calls.txt");

    // Not zextras: refused before anything runs.
    let refused = run_apply(&out, &bin, &calls, &[("FAKE_USER", "root")]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("run this script as the zextras user")
    );
    assert!(!calls.exists());

    // The calendar import fails: mail was imported, contacts never tried.
    let failed = run_apply(
        &out,
        &bin,
        &calls,
        &[
            ("FAIL_ON", "Calendar"),
            (
                "FAIL_OUTPUT",
                "ERROR: service.FAILURE (system failure: boom)",
            ),
        ],
    );
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("importing calendar/ada@example.org.ics into ada@example.org failed (exit 0): ERROR: service.FAILURE (system failure: boom)"),
        "{stderr}"
    );
    let recorded = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        recorded,
        "prov -f provisioning.cmd\n\
         prov sm ada@example.org postRestURL //?fmt=tgz&resolve=skip mail/ada@example.org.tgz\n\
         prov sm ada@example.org postRestURL /Calendar?fmt=ics calendar/ada@example.org.ics\n"
    );

    // Re-run after the fix: provisioning again (exists accepted), mail skipped.
    std::fs::remove_file(&calls).unwrap();
    let ok = run_apply(&out, &bin, &calls, &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "prov -f provisioning.cmd\n\
         prov sm ada@example.org postRestURL /Calendar?fmt=ics calendar/ada@example.org.ics\n\
         prov sm ada@example.org postRestURL /Contacts?fmt=vcf contacts/ada@example.org.vcf\n"
    );

    // A provisioning error other than "exists" stops before any import.
    std::fs::remove_file(&calls).unwrap();
    let bad = run_apply(
        &out,
        &bin,
        &calls,
        &[
            ("FAIL_ON", "provisioning.cmd"),
            (
                "FAIL_OUTPUT",
                "ERROR: account.INVALID_ATTR_NAME (invalid attr name: zimbraBogus)",
            ),
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("provisioning.cmd failed (exit 0): ERROR: account.INVALID_ATTR_NAME (invalid attr name: zimbraBogus)"));
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "prov -f provisioning.cmd\n"
    );
}

#[tokio::test]
async fn large_bodies_read_back_streamed_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let dest = open(dir.path());
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = dest.mailbox(&bob()).await.unwrap();
    w.append(
        &folder("Archive/2020"),
        vec![
            message(1, 10, true, &big),
            message(2, 20, true, b"small"),
            message(3, 30, true, &big[..1_200_000]),
        ],
    )
    .await
    .unwrap();
    w.finish().await.unwrap();
    let mut reader = dest.read_back(&bob()).await.unwrap();
    let path = FolderPath::parse("Archive/2020").unwrap();
    let uids = [
        Uid::new(3).unwrap(),
        Uid::new(2).unwrap(),
        Uid::new(1).unwrap(),
    ];
    let fetched: Vec<_> = reader.fetch(&path, &uids).await.unwrap().collect().await;
    let mut bodies = Vec::new();
    for m in fetched {
        bodies.push(m.unwrap().body.read_all().await.unwrap());
    }
    assert_eq!(bodies, [big[..1_200_000].to_vec(), b"small".to_vec(), big]);
}

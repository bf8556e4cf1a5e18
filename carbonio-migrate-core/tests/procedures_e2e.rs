//! Procedures 3 and 4 of the migration guide end to end, each from one
//! configuration file: provisioning into the Carbonio emulator (accounts from
//! CSV; from a real OpenLDAP), then mail from one real Dovecot account set to
//! another (the harness creates on the destination Dovecot the accounts the
//! emulator received, as Carbonio would), calendars and contacts through REST,
//! then `verify`, then a re-run that writes nothing. Procedure 4 talks to the
//! emulator over HTTPS (`ca_file`), procedure 3 over HTTP.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::Path;

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Engine, RunOptions, VerifyOptions};
use carbonio_migrate_core::model::{
    Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid,
};
use carbonio_migrate_core::testkit::carbonio::CarbonioEmulator;
use carbonio_migrate_core::testkit::dovecot::Dovecot;
use carbonio_migrate_core::testkit::slapd::Slapd;

/// Puts `count` messages in two folders of `user` on the source Dovecot.
async fn seed_mail(dovecot: &Dovecot, user: &str, count: u32) {
    let mut writer = dovecot.writer(user).await.unwrap();
    for n in 1..=count {
        let folder = Folder::mail(
            FolderPath::parse(if n % 2 == 0 {
                "INBOX"
            } else {
                "Projekte/Überblick"
            })
            .unwrap(),
        );
        writer.ensure_folder(&folder).await.unwrap();
        let body =
            format!("Message-ID: <p-{n}-{user}>\r\nSubject: Nachricht {n}\r\n\r\nHallo {n}\r\n")
                .into_bytes();
        let meta = MessageMeta {
            uid: Uid::new(n).unwrap(),
            flags: Flags {
                seen: n % 3 == 0,
                ..Flags::default()
            },
            internal_date: chrono::DateTime::parse_from_rfc3339("2021-03-04T05:06:07+01:00")
                .unwrap(),
            size: body.len() as u64,
        };
        writer
            .append(
                &folder,
                vec![Message {
                    meta,
                    body: MessageBody::from_bytes(body),
                }],
            )
            .await
            .unwrap()[0]
            .as_ref()
            .unwrap();
    }
    writer.finish().await.unwrap();
}

/// The `[source]` and `[destination]` sections shared by both procedures.
fn data_sections(dovecot: &Dovecot, emulator: &CarbonioEmulator) -> String {
    format!(
        "[source]\ntype = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{master}\"\npassword_env = \"E2E_MASTER_PASSWORD\"\n\n\
         [destination]\ntype = \"carbonio\"\nadmin_url = \"{url}\"\nadmin_user = \"{admin}\"\npassword_env = \"E2E_CARBONIO_PASSWORD_{emu}\"\n{ca}\n\
         [destination.imap]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{master}\"\npassword_env = \"E2E_MASTER_PASSWORD\"\n",
        port = dovecot.imap_port(),
        master = dovecot.master_user(),
        url = emulator.admin_url(),
        admin = emulator.admin_user(),
        emu = emulator_port(emulator),
        ca = emulator
            .ca_file()
            .map(|ca| format!("ca_file = {:?}\n", ca.display().to_string()))
            .unwrap_or_default(),
    )
}

fn set_secrets(dovecot: &Dovecot, emulator: &CarbonioEmulator) {
    // One Dovecot is shared, so its master password is the same for both
    // tests; each emulator has its own admin password, hence one variable per
    // emulator (tests run concurrently in this process).
    std::env::set_var("E2E_MASTER_PASSWORD", dovecot.master_password());
    std::env::set_var(
        format!("E2E_CARBONIO_PASSWORD_{}", emulator_port(emulator)),
        emulator.admin_password(),
    );
}

/// The emulator's port, which tells the emulators of concurrent tests apart.
fn emulator_port(emulator: &CarbonioEmulator) -> String {
    emulator
        .rest_base()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs provisioning, creates on the destination Dovecot every account the
/// emulator now has (as Carbonio would), runs everything, verifies, re-runs.
async fn provision_then_migrate(
    dovecot: &Dovecot,
    emulator: &CarbonioEmulator,
    config_file: &Path,
) -> Engine {
    let config = Config::load(config_file).unwrap();
    let engine = Engine::from_config(&config).unwrap();
    let summary = engine
        .run(RunOptions {
            phases: Some(vec!["provisioning".into()]),
            ..RunOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    for account in emulator.state().accounts.keys() {
        dovecot.add_user(account, "unused").unwrap();
    }
    let summary = engine.run(RunOptions::default()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let report = engine.verify(&VerifyOptions::deep()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.differences);
    assert!(report.accounts.iter().all(|a| a
        .folders
        .iter()
        .map(|f| f.destination_messages)
        .sum::<u64>()
        > 0));

    let writes = emulator.write_calls();
    let again = engine.run(RunOptions::default()).await.unwrap();
    assert!(again.wrote_nothing(), "{again:?}");
    assert_eq!(
        emulator.write_calls(),
        writes,
        "a finished migration re-run makes zero write calls"
    );
    engine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedure_4_accounts_from_csv_mail_over_imap_calendars_and_contacts_from_files() {
    let dovecot = Dovecot::shared();
    // Over HTTPS, trusting the emulator's private CA through ca_file.
    let emulator = CarbonioEmulator::start_https().unwrap();
    set_secrets(dovecot, &emulator);
    let (ada_src, bob_src) = (
        dovecot.unique_user("p4-ada-src"),
        dovecot.unique_user("p4-bob-src"),
    );
    let (ada, bob) = (dovecot.unique_user("p4-ada"), dovecot.unique_user("p4-bob"));
    for u in [&ada_src, &bob_src] {
        dovecot.add_user(u, "pw").unwrap();
    }
    seed_mail(dovecot, &ada_src, 6).await;
    seed_mail(dovecot, &bob_src, 3).await;

    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("calendar")).unwrap();
    std::fs::create_dir_all(export.join("contacts")).unwrap();
    let alias = dovecot.unique_user("p4-alias");
    std::fs::write(
        export.join("accounts.csv"),
        format!(
            "email,givenName,surname,displayName,password,must_change,password_hash,aliases,cos,source_user\n\
             {ada},Ada,Lovelace,\"Lovelace, Ada\",Initial#1,true,,{alias},staff,{ada_src}\n\
             {bob},Bob,Byte,Bob Byte,,,{{SSHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=,,,{bob_src}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        export.join("classes_of_service.csv"),
        "name,zimbraMailQuota\nstaff,5368709120\n",
    )
    .unwrap();
    let team = dovecot.unique_user("p4-team");
    std::fs::write(
        export.join("distribution_lists.csv"),
        format!("{team},All of us,Team,{ada},{bob},partner@elsewhere.example\n"),
    )
    .unwrap();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e2e-1\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240301T090000Z\r\nSUMMARY:Kickoff\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    std::fs::write(export.join(format!("calendar/{ada}.ics")), ics).unwrap();
    let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1\r\nFN:Grace Hopper\r\nEMAIL:grace@navy.example\r\nEND:VCARD\r\n";
    std::fs::write(export.join(format!("contacts/{bob}.vcf")), vcf).unwrap();

    let config_file = dir.path().join("migration.toml");
    std::fs::write(
        &config_file,
        format!(
            "procedure = \"generic\"\n\n[provisioning]\ntype = \"export-dir\"\npath = \"export\"\n\n{}\n[run]\nsettle_after_interrupt_ms = 0\n",
            data_sections(dovecot, &emulator)
        ),
    )
    .unwrap();
    provision_then_migrate(dovecot, &emulator, &config_file).await;

    let state = emulator.state();
    let ada_record = &state.accounts[&ada];
    assert_eq!(
        ada_record.attrs.get("givenName").map(|v| v.as_slice()),
        Some(&["Ada".to_string()][..])
    );
    assert_eq!(ada_record.aliases, vec![alias.clone()]);
    let staff_id = state.classes_of_service["staff"].id.clone();
    assert_eq!(
        ada_record.attrs.get("zimbraCOSId").map(|v| v.as_slice()),
        Some(&[staff_id][..])
    );
    assert!(format!("{:?}", state.accounts[&bob].password)
        .contains("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="));
    let members = &state.lists[&team].members;
    assert_eq!(members.len(), 3, "{members:?}");
    let calendar = state
        .imports
        .iter()
        .find(|i| i.account == ada && i.fmt == "ics")
        .unwrap();
    assert!(String::from_utf8_lossy(&calendar.body).contains("SUMMARY:Kickoff"));
    let contacts = state
        .imports
        .iter()
        .find(|i| i.account == bob && i.fmt == "vcf")
        .unwrap();
    assert!(String::from_utf8_lossy(&contacts.body).contains("FN:Grace Hopper"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedure_3_accounts_from_openldap_mail_over_imap() {
    let dovecot = Dovecot::shared();
    let slapd = Slapd::shared();
    let emulator = CarbonioEmulator::start().unwrap();
    set_secrets(dovecot, &emulator);
    std::env::set_var("E2E_LDAP_PASSWORD", slapd.reader_password());
    let (ada_src, bob_src) = (
        dovecot.unique_user("p3-ada-src"),
        dovecot.unique_user("p3-bob-src"),
    );
    let (ada, bob) = (dovecot.unique_user("p3-ada"), dovecot.unique_user("p3-bob"));
    for u in [&ada_src, &bob_src] {
        dovecot.add_user(u, "pw").unwrap();
    }
    seed_mail(dovecot, &ada_src, 4).await;
    seed_mail(dovecot, &bob_src, 5).await;
    // A subtree of our own, so only these entries are read.
    let ou = format!(
        "ou=p3-{},{}",
        carbonio_migrate_core::testkit::unique::unique_token(),
        slapd.base_dn()
    );
    let team = dovecot.unique_user("p3-team");
    slapd
        .add_ldif(&format!(
            "dn: {ou}\nobjectClass: organizationalUnit\nou: {ou_name}\n\n\
             dn: uid={ada_src},{ou}\nobjectClass: inetOrgPerson\nuid: {ada_src}\ncn: Ada L\ngivenName: Ada\nsn: Lovelace\nmail: {ada}\nuserPassword: {{SSHA}}3hQWRYkYJoDCM4uEH3YJ7gjBaSWep8Qs\n\n\
             dn: uid={bob_src},{ou}\nobjectClass: inetOrgPerson\nuid: {bob_src}\ncn: Bob B\ngivenName: Bob\nsn: Byte\nmail: {bob}\n\n\
             dn: cn=team,{ou}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\ncn: team\nmail: {team}\nmember: uid={ada_src},{ou}\nmember: uid={bob_src},{ou}\n",
            ou_name = ou.split(',').next().unwrap().trim_start_matches("ou="),
        ))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("migration.toml");
    std::fs::write(
        &config_file,
        format!(
            "procedure = \"ldap\"\n\n[provisioning]\ntype = \"ldap\"\nurl = \"{url}\"\nbind_dn = \"{reader}\"\npassword_env = \"E2E_LDAP_PASSWORD\"\nbase_dn = \"{ou}\"\nprofile = \"openldap\"\nattribute_map = {{ source_user = \"uid\" }}\n\n{data}\n[run]\nsettle_after_interrupt_ms = 0\n",
            url = slapd.url(),
            reader = slapd.reader_dn(),
            data = data_sections(dovecot, &emulator)
        ),
    )
    .unwrap();
    provision_then_migrate(dovecot, &emulator, &config_file).await;

    let state = emulator.state();
    assert!(
        state.accounts.contains_key(&ada) && state.accounts.contains_key(&bob),
        "{:?}",
        state.accounts.keys()
    );
    assert!(
        format!("{:?}", state.accounts[&ada].password)
            .contains("{SSHA}3hQWRYkYJoDCM4uEH3YJ7gjBaSWep8Qs"),
        "hash kept"
    );
    let mut members = state.lists[&team].members.clone();
    members.sort();
    let mut expected = vec![ada.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);
}

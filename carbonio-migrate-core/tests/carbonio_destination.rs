//! The `carbonio` destination against the emulator (feature `testkit`): full
//! provisioning checked object by object in the emulator's state, re-runs that
//! write nothing, clashes named, ICS/VCF imports byte for byte, and the
//! conformance suite (mail through a private Dovecot); contacts as CSV in
//! both column formats, field by field as the emulator stored them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use carbonio_migrate_core::adapters::carbonio::{
    CarbonioConfig, CarbonioDestination, ContactsFormat, CsvContactsFormat,
};
use carbonio_migrate_core::adapters::imap::ImapConfig;
use carbonio_migrate_core::conformance::{
    check, check_destination_with, DestinationChecks, Fixture,
};
use carbonio_migrate_core::model::{Account, Appointment, Contact, EmailAddress, Password, Secret};
use carbonio_migrate_core::testkit::carbonio::state::EmulatorState;
use carbonio_migrate_core::testkit::carbonio::{CarbonioEmulator, PasswordRecord};
use carbonio_migrate_core::testkit::{unique_token, Dovecot};
use carbonio_migrate_core::{Capability, Change, Destination, Error};

fn destination(emu: &CarbonioEmulator) -> CarbonioDestination {
    let config = CarbonioConfig::new(emu.admin_url(), emu.admin_user());
    CarbonioDestination::new(config, Secret::new(emu.admin_password()), None).unwrap()
}

fn addr(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

/// Ensures every object of the fixture in dependency order; the changes in order.
async fn provision(dest: &CarbonioDestination, f: &Fixture) -> Vec<(String, Change)> {
    let mut out = Vec::new();
    for d in &f.domains {
        out.push((
            format!("domain {}", d.name),
            dest.ensure_domain(d).await.unwrap(),
        ));
    }
    for c in &f.classes_of_service {
        out.push((format!("cos {}", c.name), dest.ensure_cos(c).await.unwrap()));
    }
    for a in &f.accounts {
        out.push((
            format!("account {}", a.address),
            dest.ensure_account(a).await.unwrap(),
        ));
    }
    for a in &f.accounts {
        for alias in &a.aliases {
            let change = dest.ensure_alias(&a.address, alias).await.unwrap();
            out.push((format!("alias {alias}"), change));
        }
    }
    for l in &f.distribution_lists {
        out.push((
            format!("list {}", l.address),
            dest.ensure_distribution_list(l).await.unwrap(),
        ));
        out.push((
            format!("members {}", l.address),
            dest.ensure_members(&l.address, &l.members).await.unwrap(),
        ));
    }
    out
}

fn label() -> String {
    format!("cb-{}", unique_token().to_ascii_lowercase())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn envelopes(emu: &CarbonioEmulator, name: &str) -> Vec<Value> {
    emu.state()
        .envelopes
        .into_iter()
        .filter_map(|e| e["Body"].get(name).cloned())
        .collect()
}

// ---------------------------------------------------------------- provisioning

#[tokio::test]
async fn provisions_every_object_and_attribute_then_a_rerun_writes_nothing() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    let l = label();
    let f = Fixture::with_label(&l).unwrap();
    let first = provision(&dest, &f).await;
    let created: Vec<&str> = first
        .iter()
        .filter(|(_, c)| *c == Change::Created)
        .map(|(w, _)| w.as_str())
        .collect();
    assert_eq!(created.len(), 2 + 1 + 3 + 3 + 1, "{first:?}");
    assert!(
        first.iter().all(|(_, c)| *c != Change::Unchanged),
        "{first:?}"
    );

    let s = emu.state();
    let (org, net) = (format!("{l}.example.org"), format!("{l}.example.net"));
    assert_eq!(
        s.domains[&org].attrs["description"],
        [format!("conformance {l}")]
    );
    assert!(s.domains.contains_key(&net));
    let cos = &s.classes_of_service[&format!("{l}-staff")];
    assert_eq!(cos.attrs["zimbraMailQuota"], ["1073741824"]);

    let ada = &s.accounts[&format!("ada@{org}")];
    assert_eq!(
        ada.password,
        PasswordRecord::Hash("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=".into())
    );
    assert_eq!(ada.attrs["givenName"], ["Ada"]);
    assert_eq!(ada.attrs["sn"], ["Lovelace"]);
    assert_eq!(ada.attrs["displayName"], ["Ada Lovelace"]);
    assert_eq!(
        ada.aliases,
        [format!("ada.lovelace@{org}"), format!("countess@{net}")]
    );
    assert!(!ada.attrs.contains_key("zimbraCOSId"));
    assert!(!ada.attrs.contains_key("zimbraPasswordMustChange"));

    let bob = &s.accounts[&format!("bob@{org}")];
    assert_eq!(
        bob.password,
        PasswordRecord::Clear {
            sha256: sha256_hex("Conformance-2031!")
        }
    );
    assert_eq!(bob.attrs["zimbraPasswordMustChange"], ["TRUE"]);
    assert_eq!(bob.attrs["zimbraCOSId"], std::slice::from_ref(&cos.id));
    assert_eq!(bob.attrs["displayName"], ["Bob Ñúñez"]);
    assert_eq!(
        bob.attrs["zimbraPrefPasswordRecoveryAddress"],
        [format!("bob.recovery@{net}")]
    );

    let chen = &s.accounts[&format!("chen@{net}")];
    assert_eq!(chen.password, PasswordRecord::None);
    assert_eq!(chen.aliases, [format!("chen.wei@{net}")]);

    let list = &s.lists[&format!("all@{org}")];
    assert_eq!(list.attrs["displayName"], ["Everyone"]);
    assert_eq!(list.attrs["description"], ["all staff"]);
    assert_eq!(list.aliases, [format!("everyone@{org}")]);
    assert_eq!(
        list.members,
        [
            format!("ada@{org}"),
            format!("bob@{org}"),
            "partner@external.example.com".to_string()
        ]
    );

    // The exact requests for the hash account and an alias.
    let creates = envelopes(&emu, "CreateAccountRequest");
    assert_eq!(
        creates[0],
        json!({"_jsns": "urn:zimbraAdmin", "name": {"_content": format!("ada@{org}")},
               "a": [{"n": "givenName", "_content": "Ada"}, {"n": "sn", "_content": "Lovelace"},
                     {"n": "displayName", "_content": "Ada Lovelace"},
                     {"n": "userPassword", "_content": "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}]})
    );
    assert!(creates[0].get("password").is_none());
    assert_eq!(
        creates[1]["password"],
        json!({"_content": "Conformance-2031!"})
    );
    let alias = &envelopes(&emu, "AddAccountAliasRequest")[0];
    assert_eq!(
        alias,
        &json!({"_jsns": "urn:zimbraAdmin", "id": {"_content": ada.id}, "alias": {"_content": format!("ada.lovelace@{org}")}})
    );
    assert_eq!(
        envelopes(&emu, "CreateCosRequest")[0],
        json!({"_jsns": "urn:zimbraAdmin", "name": {"_content": format!("{l}-staff")},
               "a": [{"n": "zimbraMailQuota", "_content": "1073741824"}]})
    );

    // A re-run, by a fresh destination (empty caches): reads only.
    let writes = emu.write_calls();
    emu.clear_log();
    let again = provision(&destination(&emu), &f).await;
    assert!(
        again.iter().all(|(_, c)| *c == Change::Unchanged),
        "{again:?}"
    );
    assert_eq!(emu.write_calls(), writes);
    assert!(
        emu.requests()
            .iter()
            .all(|r| r.starts_with("Get") || r == "AuthRequest"),
        "{:?}",
        emu.requests()
    );
}

#[tokio::test]
async fn differing_attributes_are_modified_alone_and_passwords_are_left_alone() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    let f = Fixture::with_label(&label()).unwrap();
    provision(&dest, &f).await;

    let mut bob = f.accounts[1].clone();
    bob.display_name = Some("Robert Núñez".into());
    bob.password = Password::Clear(Secret::new("Another-Pass-7"));
    emu.clear_log();
    assert_eq!(dest.ensure_account(&bob).await.unwrap(), Change::Updated);
    assert_eq!(
        emu.requests(),
        ["GetAccountRequest", "ModifyAccountRequest"]
    );
    let modify = &envelopes(&emu, "ModifyAccountRequest")[0];
    assert_eq!(
        modify["a"],
        json!([{"n": "displayName", "_content": "Robert Núñez"}])
    );
    let stored = &emu.state().accounts[bob.address.as_str()];
    assert_eq!(
        stored.password,
        PasswordRecord::Clear {
            sha256: sha256_hex("Conformance-2031!")
        }
    );

    let mut domain = f.domains[0].clone();
    domain
        .attributes
        .insert("zimbraNotes".into(), "moved".into());
    emu.clear_log();
    assert_eq!(dest.ensure_domain(&domain).await.unwrap(), Change::Updated);
    assert_eq!(
        envelopes(&emu, "ModifyDomainRequest")[0]["a"],
        json!([{"n": "zimbraNotes", "_content": "moved"}])
    );
    let mut list = f.distribution_lists[0].clone();
    list.aliases
        .push(addr(&format!("staff@{}", f.domains[0].name)));
    assert_eq!(
        dest.ensure_distribution_list(&list).await.unwrap(),
        Change::Updated
    );
    let more = [addr("new@external.example.com"), list.members[0].clone()];
    emu.clear_log();
    assert_eq!(
        dest.ensure_members(&list.address, &more).await.unwrap(),
        Change::Updated
    );
    assert_eq!(
        envelopes(&emu, "AddDistributionListMemberRequest")[0]["dlm"],
        json!([{"_content": "new@external.example.com"}])
    );
}

#[tokio::test]
async fn clashes_name_both_objects_and_missing_dependencies_are_not_found() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    let f = Fixture::with_label(&label()).unwrap();
    provision(&dest, &f).await;
    let (ada, bob) = (&f.accounts[0], &f.accounts[1]);
    let alias = &ada.aliases[0];
    let writes = emu.write_calls();
    let err = dest.ensure_alias(&bob.address, alias).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "already exists: alias {alias} already belongs to account {} (wanted for account {})",
            ada.address, bob.address
        )
    );
    // Found by reading: nothing written.
    assert_eq!(emu.write_calls(), writes);

    // An alias held by a list: found through the server's ACCOUNT_EXISTS.
    let list_alias = &f.distribution_lists[0].aliases[0];
    let err = dest
        .ensure_alias(&bob.address, list_alias)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "already exists: alias {list_alias} is already an alias of distribution list {} (wanted for account {})",
            f.distribution_lists[0].address, bob.address
        )
    );
    // An account named like an existing alias.
    let err = dest
        .ensure_account(&Account::new(alias.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains(ada.address.as_str()), "{err}");

    let mut stray = Account::new(addr(&format!("zed@{}", f.domains[0].name)));
    stray.cos = Some(carbonio_migrate_core::model::CosName::parse("no-such-cos").unwrap());
    let err = dest.ensure_account(&stray).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "not found: class of service no-such-cos (needed by account {})",
            stray.address
        )
    );
    let err = dest
        .ensure_account(&Account::new(addr("zed@nowhere.example.com")))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not found: creating account zed@nowhere.example.com: account.NO_SUCH_DOMAIN (no such domain: nowhere.example.com)"
    );
}

// ---------------------------------------------------------------- REST

#[tokio::test]
async fn calendars_and_contacts_arrive_as_one_ics_and_one_vcf() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    let f = Fixture::with_label(&label()).unwrap();
    provision(&dest, &f).await;
    let account = &f.accounts[0];
    let tz = "BEGIN:VTIMEZONE\nTZID:Europe/Rome\nEND:VTIMEZONE".to_string();
    let event = |uid: &str| Appointment {
        uid: uid.into(),
        summary: None,
        components: format!(
            "BEGIN:VEVENT\nUID:{uid}\nDTSTART;TZID=Europe/Rome:20240101T100000\nEND:VEVENT\n"
        ),
        timezones: vec![tz.clone()],
    };
    let mut w = dest.appointments(account).await.unwrap();
    w.write(vec![event("a1")]).await.unwrap();
    w.write(vec![event("a2")]).await.unwrap();
    // The token expired meanwhile: the upload renews it and goes through.
    emu.expire_tokens();
    w.finish().await.unwrap();
    let mut w = dest.contacts(account).await.unwrap();
    w.write(vec![Contact {
        uid: "c1".into(),
        full_name: Some("Bob".into()),
        vcard: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEND:VCARD\r\n".into(),
    }])
    .await
    .unwrap();
    w.finish().await.unwrap();
    // No items: no request.
    dest.contacts(&f.accounts[1])
        .await
        .unwrap()
        .finish()
        .await
        .unwrap();

    let s = emu.state();
    let ics = s.imports_of(account.address.as_str(), "Calendar");
    assert_eq!(ics.len(), 1);
    assert_eq!(ics[0].fmt, "ics");
    assert_eq!(
        String::from_utf8(ics[0].body.clone()).unwrap(),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//carbonio-migrate//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:a1\r\nDTSTART;TZID=Europe/Rome:20240101T100000\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:a2\r\nDTSTART;TZID=Europe/Rome:20240101T100000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    let vcf = s.imports_of(account.address.as_str(), "Contacts");
    assert_eq!(vcf[0].fmt, "vcf");
    assert_eq!(
        vcf[0].body,
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEND:VCARD\r\n"
    );
    assert!(s
        .imports_of(f.accounts[1].address.as_str(), "Contacts")
        .is_empty());
}

#[tokio::test]
async fn an_import_into_a_missing_account_fails_with_status_and_body() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    let account = Account::new(addr("ghost@example.org"));
    let mut w = dest.contacts(&account).await.unwrap();
    w.write(vec![Contact {
        uid: "c".into(),
        full_name: None,
        vcard: "BEGIN:VCARD\r\nEND:VCARD\r\n".into(),
    }])
    .await
    .unwrap();
    let err = w.finish().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "protocol error: importing the contacts of ghost@example.org (POST {}/service/home/ghost@example.org/Contacts): HTTP 404 Not Found: \"no such account: ghost@example.org\"",
            emu.rest_base()
        )
    );
    assert!(!err.chain().contains(&emu.admin_password()));
}

// ---------------------------------------------------------------- conformance

#[tokio::test]
async fn passes_the_conformance_suite_without_mail() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = destination(&emu);
    assert_eq!(dest.kind(), "carbonio");
    assert_eq!(dest.location(), format!("carbonio {}", emu.admin_url()));
    assert!(!dest.capabilities().has(Capability::Mail));
    let report = check_destination_with(&dest, DestinationChecks::default())
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    for name in [
        check::DESTINATION_CAPABILITIES,
        check::DESTINATION_ENSURE_IDEMPOTENT,
        check::DESTINATION_ALIAS_CLASH,
        check::DESTINATION_ITEMS_WRITE,
    ] {
        assert!(report.has_passed(name), "{name} not run: {report}");
    }
}

#[tokio::test]
async fn passes_the_conformance_suite_with_mail_through_dovecot() {
    let emu = CarbonioEmulator::start().unwrap();
    let dovecot = Dovecot::shared();
    let l = label();
    // The fixture's mail account exists on the IMAP side too.
    dovecot
        .add_user(&format!("ada@{l}.example.org"), "user-pw")
        .unwrap();
    let mut config = CarbonioConfig::new(emu.admin_url(), emu.admin_user());
    let imap: ImapConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{}\"\ntimeout_secs = 20\n",
        dovecot.imap_port(),
        dovecot.master_user()
    ))
    .unwrap();
    config.imap = Some(imap);
    let dest = CarbonioDestination::new(
        config,
        Secret::new(emu.admin_password()),
        Some(Secret::new(dovecot.master_password())),
    )
    .unwrap();
    assert!(dest.capabilities().has(Capability::ResumeMail));
    let checks = DestinationChecks {
        keeps_flags: true,
        label: Some(l.clone()),
        mail_account: None,
    };
    let report = check_destination_with(&dest, checks)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    for name in [
        check::DESTINATION_MAIL_WRITE,
        check::DESTINATION_READ_BACK_BODIES,
        check::DESTINATION_READ_BACK_FLAGS,
        check::DESTINATION_ITEMS_WRITE,
    ] {
        assert!(report.has_passed(name), "{name} not run: {report}");
    }
    let s = emu.state();
    assert_eq!(
        s.imports_of(&format!("ada@{l}.example.org"), "Calendar")
            .len(),
        1
    );
}

// ---------------------------------------------------------------- contacts as CSV

/// A destination uploading contacts as CSV in `csv_format`.
fn csv_destination(emu: &CarbonioEmulator, csv_format: CsvContactsFormat) -> CarbonioDestination {
    let mut config = CarbonioConfig::new(emu.admin_url(), emu.admin_user());
    config.contacts_format = ContactsFormat::Csv;
    config.contacts_csv_format = csv_format;
    CarbonioDestination::new(config, Secret::new(emu.admin_password()), None).unwrap()
}

/// Two contacts with what CSV has to survive: commas, quotes, newlines in a
/// note, non-ASCII names, several e-mails and phones, addresses, a folded line.
fn tricky_contacts() -> Vec<Contact> {
    let zoe = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-zoe\r\n\
        FN:Zoë Müller-Łukasz\r\n\
        N:Müller-Łukasz;Zoë;;;\r\n\
        NICKNAME:Zo\r\n\
        EMAIL;TYPE=INTERNET,WORK:zoe@example.org\r\n\
        EMAIL;TYPE=INTERNET,HOME:zoe.home@example.net\r\n\
        EMAIL:zoe@third.example\r\n\
        TEL;TYPE=WORK,VOICE:+39 02 1234\r\n\
        TEL;TYPE=HOME:+39 06 5555\r\n\
        TEL;TYPE=CELL:+39 333 000\r\n\
        TEL;TYPE=WORK,FAX:+39 02 9999\r\n\
        TEL;TYPE=PAGER:+39 111\r\n\
        ORG:ACME\\, Inc.;R&D \"Labs\"\r\n\
        TITLE:Chief Engineer\r\n\
        ADR;TYPE=WORK:;;Via Roma 1\\, Scala B;Milano;MI;20121;Italia\r\n\
        ADR;TYPE=HOME:;;Rue de l'Église 5;Paris;;75001;France\r\n\
        URL;TYPE=WORK:https://acme.example/zoe\r\n\
        BDAY:1985-04-12\r\n\
        NOTE:Met at \"FOSDEM\"\\, Brussels.\\nSecond line; with semicolon\r\n  \
        and a folded tail\r\n\
        END:VCARD\r\n";
    let bob = "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEMAIL:bob@example.org\nEND:VCARD\n";
    [("c-zoe", zoe), ("c-bob", bob)]
        .into_iter()
        .map(|(uid, vcard)| Contact {
            uid: uid.into(),
            full_name: None,
            vcard: vcard.into(),
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the server stores for Zoë, whichever CSV format carried her (the
/// Zimbra-field format adds `email3`, for which Thunderbird has no column).
fn zoe_stored() -> std::collections::BTreeMap<String, String> {
    map(&[
        ("firstName", "Zoë"),
        ("lastName", "Müller-Łukasz"),
        ("fullName", "Zoë Müller-Łukasz"),
        ("nickname", "Zo"),
        ("email", "zoe@example.org"),
        ("email2", "zoe.home@example.net"),
        ("company", "ACME, Inc."),
        ("department", "R&D \"Labs\""),
        ("jobTitle", "Chief Engineer"),
        ("workPhone", "+39 02 1234"),
        ("homePhone", "+39 06 5555"),
        ("mobilePhone", "+39 333 000"),
        ("workFax", "+39 02 9999"),
        ("pager", "+39 111"),
        ("workStreet", "Via Roma 1, Scala B"),
        ("workCity", "Milano"),
        ("workState", "MI"),
        ("workPostalCode", "20121"),
        ("workCountry", "Italia"),
        ("homeStreet", "Rue de l'Église 5"),
        ("homeCity", "Paris"),
        ("homePostalCode", "75001"),
        ("homeCountry", "France"),
        ("workURL", "https://acme.example/zoe"),
        ("birthday", "1985-04-12"),
        ("notes", ZOE_NOTE),
    ])
}

const ZOE_NOTE: &str =
    "Met at \"FOSDEM\", Brussels.\nSecond line; with semicolon and a folded tail";

/// Writes the contacts for the first account of a fresh fixture through
/// `dest`; the account's address.
async fn upload_contacts(dest: &CarbonioDestination) -> String {
    let f = Fixture::with_label(&label()).unwrap();
    provision(dest, &f).await;
    let account = &f.accounts[0];
    let mut w = dest.contacts(account).await.unwrap();
    let mut contacts = tricky_contacts();
    let bob = contacts.pop().unwrap();
    w.write(contacts).await.unwrap();
    w.write(vec![bob]).await.unwrap();
    w.finish().await.unwrap();
    account.address.as_str().to_string()
}

/// The body of the only REST request, after checking it went to `address`'s
/// contacts with `query`.
fn the_one_upload(s: &EmulatorState, address: &str, query: &str) -> String {
    let posts: Vec<&String> = s
        .requests
        .iter()
        .filter(|r| r.starts_with("POST"))
        .collect();
    assert_eq!(
        posts,
        [&format!("POST /service/home/{address}/Contacts?{query}")]
    );
    let imports = s.imports_of(address, "Contacts");
    assert_eq!(imports.len(), 1, "one request for the account");
    String::from_utf8(imports[0].body.clone()).unwrap()
}

#[tokio::test]
async fn contacts_as_csv_with_zimbra_field_names_are_stored_field_by_field() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = csv_destination(&emu, CsvContactsFormat::ZimbraFields);
    let address = upload_contacts(&dest).await;

    let s = emu.state();
    let body = the_one_upload(&s, &address, "fmt=csv&csvfmt=csv&csvlocale=en");
    let header = "\u{feff}firstName,middleName,lastName,namePrefix,nameSuffix,fullName,nickname,\
        email,email2,email3,company,department,jobTitle,workPhone,workPhone2,homePhone,homePhone2,\
        mobilePhone,workFax,homeFax,pager,otherPhone,workStreet,workCity,workState,workPostalCode,\
        workCountry,homeStreet,homeCity,homeState,homePostalCode,homeCountry,otherStreet,otherCity,\
        otherState,otherPostalCode,otherCountry,workURL,homeURL,otherURL,birthday,notes\r\n";
    assert!(body.starts_with(header), "{body}");
    // Bob's row: every line ends in CRLF, empty columns stay empty.
    assert!(
        body.ends_with(",,,,,Bob,,bob@example.org,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\r\n"),
        "{body}"
    );

    let mut zoe = zoe_stored();
    zoe.insert("email3".into(), "zoe@third.example".into());
    let stored = s.contacts_of(&address, "Contacts");
    assert_eq!(
        stored,
        [
            &zoe,
            &map(&[("fullName", "Bob"), ("email", "bob@example.org")]),
        ]
    );
}

#[tokio::test]
async fn contacts_as_thunderbird_csv_are_mapped_by_the_server_to_the_same_fields() {
    let emu = CarbonioEmulator::start().unwrap();
    let dest = csv_destination(&emu, CsvContactsFormat::Thunderbird);
    let address = upload_contacts(&dest).await;

    let s = emu.state();
    let body = the_one_upload(&s, &address, "fmt=csv&csvfmt=thunderbird-csv&csvlocale=en");
    let header =
        "\u{feff}First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,\
        Screen Name,Work Phone,Home Phone,Fax Number,Pager Number,Mobile Number,Home Address,\
        Home Address 2,Home City,Home State,Home ZipCode,Home Country,Work Address,Work Address 2,\
        Work City,Work State,Work ZipCode,Work Country,Job Title,Department,Organization,\
        Web Page 1,Web Page 2,Birth Month,Birth Day,Birth Year,Custom 1,Custom 2,Custom 3,\
        Custom 4,Notes\r\n";
    assert!(body.starts_with(header), "{body}");

    // The third e-mail has no Thunderbird column: the rest arrives intact.
    let stored = s.contacts_of(&address, "Contacts");
    assert_eq!(
        stored,
        [
            &zoe_stored(),
            &map(&[("fullName", "Bob"), ("email", "bob@example.org")]),
        ]
    );
}

#[test]
fn an_unknown_contacts_format_is_a_config_error_naming_key_and_values() {
    for (line, message) in [
        (
            "contacts_format = \"xml\"",
            "[destination]: contacts_format = \"xml\" is not one of \"vcf\", \"csv\"",
        ),
        (
            "contacts_format = \"csv\"\ncontacts_csv_format = \"outlook-2003-csv\"",
            "[destination]: contacts_csv_format = \"outlook-2003-csv\" is not one of \"csv\", \"thunderbird-csv\"",
        ),
    ] {
        let config = carbonio_migrate_core::config::Config::parse(&format!(
            "procedure = \"generic\"\n\n[source]\ntype = \"memory\"\n\n[destination]\ntype = \"carbonio\"\n\
             admin_url = \"https://mail.example.org:6071/service/admin/soap\"\n\
             admin_user = \"zextras@example.org\"\npassword_env = \"CB_CSV_TEST_PW\"\n{line}\n"
        ))
        .unwrap();
        let Err(err) = carbonio_migrate_core::adapters::registry::build_destination(
            &config,
            std::path::Path::new("."),
        )
        else {
            panic!("{line}: accepted");
        };
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(err.to_string().ends_with(message), "{err}");
    }
}

//! Procedure 3's alternative end to end: `accounts = "auto-provisioning"`
//! configures Carbonio's auto-provisioning and external authentication on the
//! domain, and has Carbonio create each account from the directory
//! (`AutoProvAccountRequest`). The emulator really searches the OpenLDAP the
//! test starts with the attributes the tool set, so the test proves they work:
//! the accounts exist only if the URL, bind DN, bind password, search base,
//! filter, name map and attribute map are right.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use carbonio_migrate_core::adapters::carbonio::{CarbonioConfig, CarbonioDestination};
use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Engine, RunOptions};
use carbonio_migrate_core::model::{Account, Creation, Domain, DomainName, EmailAddress, Secret};
use carbonio_migrate_core::testkit::carbonio::{CarbonioEmulator, PasswordRecord};
use carbonio_migrate_core::testkit::dovecot::Dovecot;
use carbonio_migrate_core::testkit::slapd::Slapd;
use carbonio_migrate_core::testkit::unique::unique_token;
use carbonio_migrate_core::Destination;

/// Everything logged by the process, to check no secret is in it.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> LogBuffer {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    buffer
}

fn values(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A fresh domain with two people and a list in a subtree of its own of the
/// shared OpenLDAP, and the secrets the configurations name in the environment.
struct Fixture {
    domain: String,
    ada: String,
    bob: String,
    team: String,
    /// The subtree's DN.
    ou: String,
}

fn fixture(slapd: &Slapd) -> Fixture {
    let domain = format!("ap-{}.example.org", unique_token());
    let (ada, bob, team) = (
        format!("ada-{}@{domain}", unique_token()),
        format!("bob-{}@{domain}", unique_token()),
        format!("team@{domain}"),
    );
    let ou = seed_directory(slapd, &ada, &bob, &team);
    std::env::set_var("AP_LDAP_PASSWORD", slapd.reader_password());
    // The mail source of procedure 3 (only the provisioning phase runs here).
    std::env::set_var("AP_MASTER_PASSWORD", Dovecot::shared().master_password());
    Fixture {
        domain,
        ada,
        bob,
        team,
        ou,
    }
}

/// A subtree of our own with two people and a list; returns its DN.
fn seed_directory(slapd: &Slapd, ada: &str, bob: &str, team: &str) -> String {
    let ou_name = format!("ap-{}", unique_token());
    let ou = format!("ou={ou_name},{}", slapd.base_dn());
    let uid = |a: &str| a.split('@').next().unwrap().to_string();
    slapd
        .add_ldif(&format!(
            "dn: {ou}\nobjectClass: organizationalUnit\nou: {ou_name}\n\n\
             dn: uid={ada_uid},{ou}\nobjectClass: inetOrgPerson\nuid: {ada_uid}\ncn: Ada L\ngivenName: Ada\nsn: Lovelace\ndisplayName: Ada Lovelace\nmail: {ada}\nuserPassword: {{SSHA}}3hQWRYkYJoDCM4uEH3YJ7gjBaSWep8Qs\n\n\
             dn: uid={bob_uid},{ou}\nobjectClass: inetOrgPerson\nuid: {bob_uid}\ncn: Bob B\ngivenName: Bob\nsn: Byte\nmail: {bob}\n\n\
             dn: cn=team,{ou}\nobjectClass: groupOfNames\nobjectClass: extensibleObject\ncn: team\nmail: {team}\nmember: uid={ada_uid},{ou}\nmember: uid={bob_uid},{ou}\n",
            ada_uid = uid(ada),
            bob_uid = uid(bob),
        ))
        .unwrap();
    ou
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procedure_3_with_auto_provisioning_configures_the_domain_and_carbonio_creates_the_accounts(
) {
    let logs = capture_logs();
    let slapd = Slapd::shared();
    let emulator = CarbonioEmulator::start().unwrap();
    let Fixture {
        domain,
        ada,
        bob,
        team,
        ou,
    } = fixture(slapd);
    std::env::set_var("AP_CARBONIO_PASSWORD", emulator.admin_password());
    let dovecot = Dovecot::shared();

    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("migration.toml");
    std::fs::write(
        &config_file,
        format!(
            "procedure = \"ldap\"\n\n\
             [provisioning]\ntype = \"ldap\"\nurl = \"{url}\"\nbind_dn = \"{reader}\"\npassword_env = \"AP_LDAP_PASSWORD\"\n\
             base_dn = \"{ou}\"\nprofile = \"openldap\"\nattribute_map = {{ source_user = \"uid\" }}\n\
             accounts = \"auto-provisioning\"\nauto_provisioning_modes = [\"MANUAL\"]\n\n\
             [source]\ntype = \"imap\"\nhost = \"127.0.0.1\"\nport = {imap_port}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{master}\"\npassword_env = \"AP_MASTER_PASSWORD\"\n\n\
             [destination]\ntype = \"carbonio\"\nadmin_url = \"{admin_url}\"\nadmin_user = \"{admin}\"\npassword_env = \"AP_CARBONIO_PASSWORD\"\n\n\
             [run]\nsettle_after_interrupt_ms = 0\n",
            url = slapd.url(),
            reader = slapd.reader_dn(),
            admin_url = emulator.admin_url(),
            admin = emulator.admin_user(),
            imap_port = dovecot.imap_port(),
            master = dovecot.master_user(),
        ),
    )
    .unwrap();
    let config = Config::load(&config_file).unwrap();
    let provisioning = || RunOptions {
        phases: Some(vec!["provisioning".into()]),
        ..RunOptions::default()
    };
    let engine = Engine::from_config(&config).unwrap();
    let summary = engine.run(provisioning()).await.unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);

    let state = emulator.state();
    // The domain holds exactly these attributes (and the ids the server adds).
    let record = &state.domains[&domain];
    let (url, reader, password) = (slapd.url(), slapd.reader_dn(), slapd.reader_password());
    let filter = "(&(objectClass=inetOrgPerson)(mail=%n))";
    let one_valued = [
        ("zimbraAutoProvMode", "MANUAL"),
        ("zimbraAutoProvLdapURL", url.as_str()),
        ("zimbraAutoProvLdapStartTlsEnabled", "FALSE"),
        ("zimbraAutoProvLdapAdminBindDn", reader),
        ("zimbraAutoProvLdapAdminBindPassword", password),
        ("zimbraAutoProvLdapSearchBase", ou.as_str()),
        ("zimbraAutoProvLdapSearchFilter", filter),
        ("zimbraAutoProvAccountNameMap", "uid"),
        ("zimbraAuthMech", "ldap"),
        ("zimbraAuthLdapURL", url.as_str()),
        ("zimbraAuthLdapStartTlsEnabled", "FALSE"),
        ("zimbraAuthLdapSearchBase", ou.as_str()),
        ("zimbraAuthLdapSearchFilter", filter),
        ("zimbraAuthLdapSearchBindDn", reader),
        ("zimbraAuthLdapSearchBindPassword", password),
        ("zimbraDomainName", domain.as_str()),
    ];
    let mut expected: BTreeMap<String, Vec<String>> = one_valued
        .iter()
        .map(|(k, v)| (k.to_string(), values(&[v])))
        .collect();
    expected.insert(
        "zimbraAutoProvAttrMap".into(),
        values(&[
            "givenName=givenName",
            "sn=sn",
            "displayName=displayName",
            "userPassword=userPassword",
        ]),
    );
    expected.insert("zimbraId".into(), vec![record.id.clone()]);
    assert_eq!(record.attrs, expected);

    // Carbonio created the accounts from the directory, named by uid, with
    // the mapped attributes and the directory's password hash.
    let requests = emulator.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| *r == "AutoProvAccountRequest")
            .count(),
        2,
        "{requests:?}"
    );
    assert!(!requests.iter().any(|r| r == "CreateAccountRequest"));
    let ada_record = &state.accounts[&ada];
    let one = |r: &carbonio_migrate_core::testkit::carbonio::AccountRecord, n: &str| {
        r.attrs.get(n).cloned().unwrap_or_default()
    };
    assert_eq!(one(ada_record, "givenName"), ["Ada"]);
    assert_eq!(one(ada_record, "sn"), ["Lovelace"]);
    assert_eq!(one(ada_record, "displayName"), ["Ada Lovelace"]);
    assert_eq!(
        ada_record.password,
        PasswordRecord::Hash("{SSHA}3hQWRYkYJoDCM4uEH3YJ7gjBaSWep8Qs".into())
    );
    let bob_record = &state.accounts[&bob];
    assert_eq!(one(bob_record, "givenName"), ["Bob"]);
    assert_eq!(one(bob_record, "displayName"), Vec::<String>::new());
    assert_eq!(bob_record.password, PasswordRecord::None);
    let mut members = state.lists[&team].members.clone();
    members.sort();
    let mut both = vec![ada.clone(), bob.clone()];
    both.sort();
    assert_eq!(members, both);

    // A re-run without the journal reads everything back and writes nothing.
    let writes = emulator.write_calls();
    let fresh_state = tempfile::tempdir().unwrap();
    let again = Engine::from_config_in(&config, fresh_state.path())
        .unwrap()
        .run(provisioning())
        .await
        .unwrap();
    assert_eq!(again.failed, 0, "{:?}", again.failures);
    assert_eq!(
        emulator.write_calls(),
        writes,
        "the re-run makes zero write calls"
    );

    // The bind password is in no log line, summary, journal or error.
    let logged = logs.0.lock().unwrap().clone();
    assert!(!logged.is_empty(), "the capture works");
    assert!(!contains(&logged, password), "the bind password was logged");
    let printed = format!("{summary:?} {again:?} {config:?} {:?}", emulator.requests());
    assert!(!printed.contains(password), "{printed}");
    for state_dir in [dir.path(), fresh_state.path()] {
        assert!(!contains(&all_bytes(state_dir), password));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_provisioning_is_refused_when_the_domain_mode_lacks_manual() {
    let slapd = Slapd::shared();
    let emulator = CarbonioEmulator::start().unwrap();
    let domain_name = format!("ap-{}.example.org", unique_token());
    let config: CarbonioConfig = toml::from_str(&format!(
        "admin_url = \"{}\"\nadmin_user = \"{}\"\n",
        emulator.admin_url(),
        emulator.admin_user()
    ))
    .unwrap();
    let dest =
        CarbonioDestination::new(config, Secret::new(emulator.admin_password()), None).unwrap();
    let mut domain = Domain::new(DomainName::parse(&domain_name).unwrap());
    domain
        .multi_attributes
        .insert("zimbraAutoProvMode".into(), values(&["EAGER"]));
    domain
        .attributes
        .insert("zimbraAutoProvLdapURL".into(), slapd.url());
    dest.ensure_domain(&domain).await.unwrap();
    let mut account = Account::new(EmailAddress::parse(&format!("ada@{domain_name}")).unwrap());
    account.creation = Creation::AutoProvisioning;
    let err = dest.ensure_account(&account).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "rejected account ada@{domain_name}: Carbonio's auto-provisioning failed: system failure: MANUAL auto provision is not enabled on domain {domain_name} (check the zimbraAutoProv* attributes of domain {domain_name})"
        )
    );
    assert!(emulator.state().accounts.is_empty());

    // With MANUAL added, the same account is looked up in the directory,
    // which has no such entry.
    domain
        .multi_attributes
        .insert("zimbraAutoProvMode".into(), values(&["EAGER", "MANUAL"]));
    domain
        .attributes
        .insert("zimbraAutoProvLdapSearchFilter".into(), "(mail=%n)".into());
    domain.attributes.insert(
        "zimbraAutoProvLdapSearchBase".into(),
        slapd.base_dn().into(),
    );
    domain.attributes.insert(
        "zimbraAutoProvLdapAdminBindDn".into(),
        slapd.reader_dn().into(),
    );
    domain.secret_attributes.insert(
        "zimbraAutoProvLdapAdminBindPassword".into(),
        Secret::new(slapd.reader_password()),
    );
    let writes = emulator.write_calls();
    dest.ensure_domain(&domain).await.unwrap();
    assert_eq!(emulator.write_calls(), writes + 1);
    let modes = emulator.state().domains[&domain_name].attrs["zimbraAutoProvMode"].clone();
    assert_eq!(modes, ["EAGER", "MANUAL"]);
    dest.ensure_domain(&domain).await.unwrap();
    assert_eq!(
        emulator.write_calls(),
        writes + 1,
        "equal attributes: no write"
    );
    let err = dest.ensure_account(&account).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!("not found: ada@{domain_name} in the directory configured on domain {domain_name} (zimbraAutoProvLdapSearchFilter finds no entry; auto-provisioning account ada@{domain_name})")
    );
}

/// The same configuration written as a `carbonio prov -f` file: the domain's
/// `cd` line carries every attribute (a multi-valued one repeated, the bind
/// password too, as account passwords are); with `MANUAL` the accounts are
/// refused by name, since `carbonio prov` cannot auto-provision one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prov_script_writes_the_domain_attributes_and_refuses_manual_accounts() {
    let slapd = Slapd::shared();
    let Fixture {
        domain,
        ada,
        bob,
        team,
        ou,
    } = fixture(slapd);
    let dovecot = Dovecot::shared();
    let dir = tempfile::tempdir().unwrap();
    let run = |modes: &'static str, out: &'static str| {
        let config_file = dir.path().join(format!("{out}.toml"));
        std::fs::write(
            &config_file,
            format!(
                "procedure = \"ldap\"\nstate_dir = \"state-{out}\"\n\n\
                 [source]\ntype = \"imap\"\nhost = \"127.0.0.1\"\nport = {imap_port}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{master}\"\npassword_env = \"AP_MASTER_PASSWORD\"\n\n\
                 [provisioning]\ntype = \"ldap\"\nurl = \"{url}\"\nbind_dn = \"{reader}\"\npassword_env = \"AP_LDAP_PASSWORD\"\n\
                 base_dn = \"{ou}\"\nprofile = \"openldap\"\nattribute_map = {{ source_user = \"uid\" }}\n\
                 accounts = \"auto-provisioning\"\nauto_provisioning_modes = {modes}\n\n\
                 [destination]\ntype = \"prov-script\"\npath = \"{out}\"\n",
                url = slapd.url(),
                reader = slapd.reader_dn(),
                imap_port = dovecot.imap_port(),
                master = dovecot.master_user(),
            ),
        )
        .unwrap();
        Config::load(&config_file).unwrap()
    };
    let options = || RunOptions {
        phases: Some(vec!["provisioning".into()]),
        ..RunOptions::default()
    };

    let eager = run("[\"EAGER\"]", "eager");
    let summary = Engine::from_config(&eager)
        .unwrap()
        .run(options())
        .await
        .unwrap();
    assert_eq!(summary.failed, 0, "{:?}", summary.failures);
    let script = std::fs::read_to_string(dir.path().join("eager/provisioning.cmd")).unwrap();
    let url = slapd.url();
    let reader = slapd.reader_dn();
    let password = slapd.reader_password();
    let domain_line = format!(
        "cd {domain} zimbraAuthLdapSearchBase {ou} zimbraAuthLdapSearchBindDn {reader} \
         zimbraAuthLdapSearchFilter '(&(objectClass=inetOrgPerson)(mail=%n))' zimbraAuthLdapStartTlsEnabled FALSE \
         zimbraAuthLdapURL {url} zimbraAuthMech ldap zimbraAutoProvAccountNameMap uid \
         zimbraAutoProvAttrMap givenName=givenName zimbraAutoProvAttrMap sn=sn zimbraAutoProvAttrMap displayName=displayName \
         zimbraAutoProvAttrMap userPassword=userPassword zimbraAutoProvLdapAdminBindDn {reader} \
         zimbraAutoProvLdapSearchBase {ou} zimbraAutoProvLdapSearchFilter '(objectClass=inetOrgPerson)' \
         zimbraAutoProvLdapStartTlsEnabled FALSE zimbraAutoProvLdapURL {url} zimbraAutoProvMode EAGER \
         zimbraAuthLdapSearchBindPassword {password} zimbraAutoProvLdapAdminBindPassword {password}\n"
    );
    assert!(script.contains(&domain_line), "{script}");
    assert!(
        !script.contains("\nca "),
        "EAGER: Carbonio creates the accounts\n{script}"
    );
    assert!(script.contains(&format!("cdl {team}")), "{script}");

    let manual = run("[\"MANUAL\"]", "manual");
    let summary = Engine::from_config(&manual)
        .unwrap()
        .run(options())
        .await
        .unwrap();
    let mut errors: Vec<String> = summary.failures.iter().map(|f| f.error.clone()).collect();
    errors.sort();
    let refusal = |a: &str| {
        format!("adapter 'prov-script' does not support creating account {a} by auto-provisioning (carbonio prov has no command for one account: use the carbonio destination, or auto_provisioning_modes without MANUAL so Carbonio's EAGER poller creates the accounts)")
    };
    let mut expected = vec![refusal(&ada), refusal(&bob)];
    expected.sort();
    assert_eq!(errors, expected);
}

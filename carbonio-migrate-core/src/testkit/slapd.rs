//! A private OpenLDAP server on loopback, one per [`Slapd`] value.
//!
//! The server is run by `scripts/slapd.sh` (which holds the configuration and
//! its reasons) in a fresh temporary directory: its own cn=config, CA, databases,
//! logs and ports, so instances run side by side and never read `/etc/ldap`.
//! It holds two trees the LDAP source is tested against, loaded from
//! `scripts/ldap/*.ldif`: an OpenLDAP-shaped one under [`Slapd::base_dn`] and an
//! Active Directory-shaped one under [`Slapd::ad_base_dn`].

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::testkit::server_script::{read_ports, read_state, run_script, start_server};
use crate::testkit::unique::unique_token;
use crate::{Error, Result};

/// The OpenLDAP-shaped suffix.
const EXAMPLE_SUFFIX: &str = "dc=example,dc=org";
/// The Active Directory-shaped suffix.
const CORP_SUFFIX: &str = "DC=corp,DC=example,DC=com";

/// A running private slapd listening on 127.0.0.1.
///
/// Contract:
/// - [`url`](Slapd::url) is `ldap://` (StartTLS offered), [`ldaps_url`](Slapd::ldaps_url)
///   is implicit TLS; both present a certificate for `localhost` and `127.0.0.1`
///   signed by the CA in [`ca_file`](Slapd::ca_file).
/// - A plain search returns at most 500 entries (then `sizeLimitExceeded`); a
///   paged search returns every entry in pages of at most 500, as Active
///   Directory does with its 1,000. The root DN is exempt from limits (slapd
///   always exempts it): bind as the [`reader_dn`](Slapd::reader_dn) to be limited.
/// - The reader may read everything (`userPassword` included) and write nothing;
///   the root DN may write both suffixes ([`add_ldif`](Slapd::add_ldif) uses it).
/// - Dropping the value stops the server and deletes its directory. If the
///   process dies without dropping it, the script's watchdog does the same
///   within about a second.
pub struct Slapd {
    dir: PathBuf,
    script: PathBuf,
    ldap_port: u16,
    ldaps_port: u16,
    root_password: String,
    reader_password: String,
}

impl fmt::Debug for Slapd {
    // By hand, so the passwords never reach a test's output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slapd")
            .field("dir", &self.dir)
            .field("ldap_port", &self.ldap_port)
            .field("ldaps_port", &self.ldaps_port)
            .finish_non_exhaustive()
    }
}

impl Slapd {
    /// Starts a new instance with the two test trees, in a fresh directory under
    /// the system temp dir, and returns once both ports accept connections.
    ///
    /// Fails with [`Error::Config`] naming `scripts/install-test-deps.sh` when
    /// slapd or openssl is not installed, and with the server's log tail when
    /// it does not come up.
    pub fn start() -> Result<Slapd> {
        Self::launch(None)
    }

    /// Like [`start`](Slapd::start), with `count` more users loaded offline
    /// (`slapadd`, about a second for 10,000) before the server starts: see
    /// [`bulk_users_ldif`] for what they are.
    pub fn start_with_bulk_users(count: usize) -> Result<Slapd> {
        Self::launch(Some(bulk_users_ldif(BULK_OU, BULK_DOMAIN, count)))
    }

    fn launch(extra_ldif: Option<String>) -> Result<Slapd> {
        let (script, dir) = start_server("slapd", |dir| {
            let Some(ldif) = extra_ldif else {
                return Ok(Vec::new());
            };
            let file = dir.join("extra.ldif");
            std::fs::write(&file, ldif)
                .map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
            Ok(vec!["--ldif".into(), file.into()])
        })?;
        // Built before reading the files, so an error below still stops the
        // server (on drop) instead of leaving it to the watchdog.
        let mut instance = Slapd {
            dir,
            script,
            ldap_port: 0,
            ldaps_port: 0,
            root_password: String::new(),
            reader_password: String::new(),
        };
        let (ldap, ldaps) = read_ports(&instance.dir, ["ldap", "ldaps"])?;
        instance.root_password = read_state(&instance.dir, "root_password")?;
        instance.reader_password = read_state(&instance.dir, "reader_password")?;
        instance.ldap_port = ldap;
        instance.ldaps_port = ldaps;
        Ok(instance)
    }

    /// One instance shared by every caller in this process, started on first use.
    ///
    /// It is never dropped: the script's `--parent-pid` watchdog stops it and
    /// deletes its directory within a second of the process exiting. Tests that
    /// add entries to it must use fresh names ([`crate::testkit::unique_token`]).
    ///
    /// # Panics
    /// When the server cannot start (the message says why, e.g. how to install
    /// slapd); this is a test helper.
    pub fn shared() -> &'static Slapd {
        static SHARED: OnceLock<Slapd> = OnceLock::new();
        SHARED.get_or_init(|| match Slapd::start() {
            Ok(slapd) => slapd,
            Err(e) => panic!("shared slapd test server: {}", e.chain()),
        })
    }

    /// `ldap://127.0.0.1:<port>`: plaintext, StartTLS offered.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// `ldaps://127.0.0.1:<port>`: implicit TLS.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// The plaintext port.
    pub fn ldap_port(&self) -> u16 {
        self.ldap_port
    }

    /// The implicit-TLS port.
    pub fn ldaps_port(&self) -> u16 {
        self.ldaps_port
    }

    /// The root DN, `cn=admin,dc=example,dc=org`: writes both suffixes, and is
    /// exempt from size limits.
    pub fn root_dn(&self) -> &str {
        "cn=admin,dc=example,dc=org"
    }

    /// The root DN's password (random per instance).
    pub fn root_password(&self) -> &str {
        &self.root_password
    }

    /// A read-only account, `cn=reader,dc=example,dc=org`, subject to the size
    /// limit of 500: what a migration's service account is.
    pub fn reader_dn(&self) -> &str {
        "cn=reader,dc=example,dc=org"
    }

    /// The reader's password (random per instance).
    pub fn reader_password(&self) -> &str {
        &self.reader_password
    }

    /// The OpenLDAP-shaped suffix, `dc=example,dc=org` (`ou=people`,
    /// `ou=groups`, `ou=contacts`; mail domain `example.org`).
    pub fn base_dn(&self) -> &str {
        EXAMPLE_SUFFIX
    }

    /// The Active Directory-shaped suffix, `DC=corp,DC=example,DC=com` (users
    /// and groups under `CN=Users`; mail domain `corp.example.com`).
    pub fn ad_base_dn(&self) -> &str {
        CORP_SUFFIX
    }

    /// The base of the users of [`start_with_bulk_users`](Slapd::start_with_bulk_users).
    pub fn bulk_base_dn(&self) -> &str {
        BULK_OU
    }

    /// PEM file of the private CA that signed the server certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The directory holding the whole instance (config, logs, databases).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds the entries of `ldif` (parents before children) to the running
    /// server, as the root DN, with `ldapadd`. Either suffix may be written.
    ///
    /// # Errors
    /// [`Error::Config`] with `ldapadd`'s message when an entry is refused (the
    /// entries before it stay added).
    pub fn add_ldif(&self, ldif: &str) -> Result<()> {
        let file = self.dir.join(format!("add-{}.ldif", unique_token()));
        std::fs::write(&file, ldif)
            .map_err(|e| Error::io(format!("writing {}", file.display()), e))?;
        let output = run_script(
            &self.script,
            &["add-ldif".as_ref(), self.dir.as_os_str(), file.as_os_str()],
        );
        let _ = std::fs::remove_file(&file);
        let output = output?;
        if output.status.success() {
            return Ok(());
        }
        Err(Error::config(format!(
            "adding entries to the slapd test server in {}: {}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        // Best effort: a drop cannot report, and the watchdog is the fallback.
        let _ = run_script(&self.script, &["stop".as_ref(), self.dir.as_os_str()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where [`Slapd::start_with_bulk_users`] puts its users.
const BULK_OU: &str = "ou=bulk,dc=example,dc=org";
/// Their mail domain.
const BULK_DOMAIN: &str = "bulk.example.org";

/// LDIF of the organizational unit `parent` (created too) holding `count`
/// inetOrgPerson users `uid=user00001` ... with `mail` `user00001@<domain>`,
/// given name, surname, display name and one shared `{SSHA}` password hash
/// (of `bulk-password`). Load it with [`Slapd::add_ldif`], or offline with
/// [`Slapd::start_with_bulk_users`] (much faster for thousands).
pub fn bulk_users_ldif(parent: &str, domain: &str, count: usize) -> String {
    let ou = parent
        .split(',')
        .next()
        .and_then(|rdn| rdn.split_once('='))
        .map(|(_, value)| value)
        .unwrap_or("bulk");
    let mut ldif = String::with_capacity(300 * (count + 1));
    let _ = write!(
        ldif,
        "dn: {parent}\nobjectClass: organizationalUnit\nou: {ou}\n\n"
    );
    for n in 1..=count {
        let _ = write!(
            ldif,
            "dn: uid=user{n:05},{parent}\nobjectClass: inetOrgPerson\nuid: user{n:05}\n\
             cn: User {n:05}\ngivenName: User\nsn: Number {n:05}\ndisplayName: User {n:05}\n\
             mail: user{n:05}@{domain}\nuserPassword: {{SSHA}}kyc8r1uEsPNNCoQI6O2YDVH4agRDV2Oh\n\n"
        );
    }
    ldif
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    use crate::testkit::server_script::{script_path, start_error, EXIT_NOT_INSTALLED};

    #[test]
    fn bulk_ldif_has_the_parent_then_numbered_users() {
        let ldif = bulk_users_ldif("ou=many,dc=example,dc=org", "many.example.org", 2);
        assert!(ldif.starts_with(
            "dn: ou=many,dc=example,dc=org\nobjectClass: organizationalUnit\nou: many\n\n"
        ));
        assert!(ldif.contains("dn: uid=user00002,ou=many,dc=example,dc=org\n"));
        assert!(ldif.contains("mail: user00001@many.example.org\n"));
        assert_eq!(ldif.matches("objectClass: inetOrgPerson").count(), 2);
    }

    #[test]
    fn missing_slapd_names_the_install_script() {
        let dir = std::env::temp_dir().join(format!("cmtest-missing-{}", unique_token()));
        let output = Command::new("bash")
            .env("SLAPD", "/nonexistent/slapd")
            .arg(script_path("slapd.sh"))
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(output.status.code(), Some(EXIT_NOT_INSTALLED));
        assert_eq!(
            start_error("slapd", &dir, &output).to_string(),
            "configuration: slapd test server: slapd.sh: slapd not found \
             (/nonexistent/slapd); install it with scripts/install-test-deps.sh (as root)"
        );
    }
}

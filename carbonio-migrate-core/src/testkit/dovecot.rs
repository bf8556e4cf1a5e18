//! A private Dovecot IMAP server on loopback, one per [`Dovecot`] value.
//!
//! The server is run by `scripts/dovecot.sh` (which holds the configuration and
//! its reasons) in a fresh temporary directory: its own config, CA, users,
//! maildirs, logs and ports, so instances run side by side and never read
//! `/etc/dovecot`. See `docs/testing.md`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::testkit::server_script::{read_ports, read_state, run_script, start_server};
use crate::testkit::unique::unique_address;
use crate::{Error, Result};

/// Exit code of `scripts/dovecot.sh` for a refused argument (user name, ...).
const EXIT_USAGE: i32 = 2;

/// A running private Dovecot instance listening on 127.0.0.1.
///
/// Contract:
/// - [`imap_port`](Dovecot::imap_port) speaks plaintext IMAP and offers
///   STARTTLS; [`imaps_port`](Dovecot::imaps_port) is implicit TLS. Both present
///   a certificate for `localhost` and `127.0.0.1` signed by the CA in
///   [`ca_file`](Dovecot::ca_file).
/// - LOGIN and `AUTHENTICATE PLAIN`/`LOGIN` work without TLS; failed logins
///   answer at once (no failure delay).
/// - The master user ([`master_user`](Dovecot::master_user)) logs in as any
///   user with `AUTHENTICATE PLAIN` authzid=user, authcid=master, or with
///   LOGIN `user*migrator`.
/// - Mail lives in `maildir:<dir>/mail/<user>` with `LAYOUT=fs`, separator
///   `/`, no auto-created folders and no plugins.
/// - Dropping the value stops the server and deletes its directory. If the
///   process dies without dropping it, the script's watchdog does the same
///   within about a second.
pub struct Dovecot {
    dir: PathBuf,
    script: PathBuf,
    imap_port: u16,
    imaps_port: u16,
    ca_file: PathBuf,
    master_password: String,
}

impl fmt::Debug for Dovecot {
    // By hand, so the master password never reaches a test's output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dovecot")
            .field("dir", &self.dir)
            .field("imap_port", &self.imap_port)
            .field("imaps_port", &self.imaps_port)
            .finish_non_exhaustive()
    }
}

impl Dovecot {
    /// Starts a new instance in a fresh directory under the system temp dir and
    /// returns once both ports accept connections.
    ///
    /// Fails with [`Error::Config`] naming `scripts/install-test-deps.sh` when
    /// dovecot or openssl is not installed, and with the server's log tail when
    /// it does not come up.
    pub fn start() -> Result<Dovecot> {
        let (script, dir) = start_server("dovecot", |_| Ok(Vec::new()))?;
        // Built before reading the files, so an error below still stops the
        // server (on drop) instead of leaving it to the watchdog.
        let mut instance = Dovecot {
            ca_file: dir.join("ca.pem"),
            dir,
            script,
            imap_port: 0,
            imaps_port: 0,
            master_password: String::new(),
        };
        let (imap_port, imaps_port) = read_ports(&instance.dir, ["imap", "imaps"])?;
        instance.master_password = read_state(&instance.dir, "master_password")?
            .trim()
            .to_string();
        instance.imap_port = imap_port;
        instance.imaps_port = imaps_port;
        Ok(instance)
    }

    /// One instance shared by every caller in this process, started on first use.
    ///
    /// It is never dropped: the script's `--parent-pid` watchdog stops it and
    /// deletes its directory within a second of the process exiting. Tests
    /// sharing it must use fresh users ([`unique_user`](Dovecot::unique_user)).
    ///
    /// # Panics
    /// When the server cannot start (the message says why, e.g. how to install
    /// dovecot); this is a test helper.
    pub fn shared() -> &'static Dovecot {
        static SHARED: OnceLock<Dovecot> = OnceLock::new();
        SHARED.get_or_init(|| match Dovecot::start() {
            Ok(dovecot) => dovecot,
            Err(e) => panic!("shared dovecot test server: {}", e.chain()),
        })
    }

    /// The plaintext IMAP port on 127.0.0.1 (STARTTLS offered).
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// The implicit-TLS IMAP port on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// PEM file of the private CA that signed the server certificate (valid for
    /// `localhost` and `127.0.0.1`).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The master user's name, `migrator`.
    pub fn master_user(&self) -> &str {
        "migrator"
    }

    /// The master user's password (random per instance).
    pub fn master_password(&self) -> &str {
        &self.master_password
    }

    /// A mailbox writer into `user`'s mailbox over plain IMAP, the master user
    /// impersonating them: how tests put mail on this server.
    ///
    /// # Errors
    /// As [`ImapDestination::mailbox`](crate::Destination::mailbox).
    pub async fn writer(&self, user: &str) -> Result<Box<dyn crate::MailboxWriter>> {
        use crate::adapters::imap::destination::ImapDestination;
        use crate::adapters::imap::ImapConfig;
        use crate::Destination as _;
        let config: ImapConfig = toml::from_str(&format!(
            "host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nauth = \"impersonate\"\nadmin_user = \"{}\"\n",
            self.imap_port,
            self.master_user()
        ))
        .map_err(|e| Error::config(format!("test IMAP configuration: {e}")))?;
        let secret = crate::model::Secret::new(self.master_password.clone());
        let destination = ImapDestination::new(config, Some(secret))?;
        let account = crate::model::Account::new(crate::model::EmailAddress::parse(user)?);
        destination.mailbox(&account).await
    }

    /// The directory holding the whole instance (config, `log/dovecot.log`, ...).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a mail user (name lowercased, as Dovecot does at login), or replaces
    /// its password if it exists. The server sees a new user at once; a replaced
    /// password takes about a second (the call waits for it). Names and
    /// passwords must not contain `:` or line breaks.
    pub fn add_user(&self, user: &str, password: &str) -> Result<()> {
        let output = run_script(
            &self.script,
            &[
                "add-user".as_ref(),
                self.dir.as_os_str(),
                user.as_ref(),
                password.as_ref(),
            ],
        )?;
        match output.status.code() {
            Some(0) => Ok(()),
            Some(EXIT_USAGE) => Err(Error::InvalidValue {
                what: "test user name or password",
                value: user.to_string(),
                reason: "must not contain ':', '/', '*' or line breaks".to_string(),
            }),
            _ => Err(Error::config(format!(
                "adding user {user} to the dovecot test server in {}: {}",
                self.dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ))),
        }
    }

    /// A fresh address, e.g. `ada-3f9c1e07@example.org`, unique per call, so each
    /// test gets its own users (not added: call [`add_user`](Dovecot::add_user)).
    pub fn unique_user(&self, prefix: &str) -> String {
        unique_address(prefix)
    }

    /// The user's maildir (INBOX is its `cur`/`new`; folders are subdirectories).
    /// Dovecot lowercases login names, so the path is the lowercased name.
    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.join("mail").join(user.to_lowercase())
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // Best effort: a drop cannot report, and the watchdog is the fallback.
        let _ = run_script(&self.script, &["stop".as_ref(), self.dir.as_os_str()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use crate::testkit::server_script::{script_path, start_error, EXIT_NOT_INSTALLED};
    use crate::testkit::unique::unique_token;

    #[test]
    fn missing_dovecot_names_the_install_script() {
        let script = script_path("dovecot.sh");
        let dir = std::env::temp_dir().join(format!("cmtest-missing-{}", unique_token()));
        let output = Command::new("bash")
            .env("DOVECOT", "/nonexistent/dovecot")
            .arg(&script)
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(output.status.code(), Some(EXIT_NOT_INSTALLED));
        let message = start_error("dovecot", &dir, &output).to_string();
        assert_eq!(
            message,
            "configuration: dovecot test server: dovecot.sh: dovecot not found \
             (/nonexistent/dovecot); install it with scripts/install-test-deps.sh (as root)"
        );
    }
}

//! `[source]` / `[destination]` keys of the `imap` adapter.

use std::path::PathBuf;

use serde::Deserialize;

/// How the connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS, port 993).
    #[default]
    Implicit,
    /// Plain connection upgraded with `STARTTLS` (port 143); refused if the server
    /// does not offer it.
    Starttls,
    /// No TLS at all. Only for loopback tests and trusted networks.
    None,
}

/// How accounts log in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// `AUTHENTICATE PLAIN` with authzid = the account, authcid = `admin_user`:
    /// admin impersonation, no user passwords needed (Zimbra, Carbonio, Dovecot
    /// master users).
    Impersonate,
    /// `LOGIN` (or `AUTHENTICATE PLAIN`) with each account's own password, from the
    /// account list's `source_password`, else the configured password.
    #[default]
    Login,
    /// `AUTHENTICATE XOAUTH2` with a token from `token_file` or `token_command`.
    Xoauth2,
}

/// The configuration of one IMAP side.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// Server host name (checked against the certificate).
    pub host: String,
    /// Port; 993 for implicit TLS, 143 otherwise.
    #[serde(default)]
    pub port: Option<u16>,
    /// TLS mode.
    #[serde(default)]
    pub tls: TlsMode,
    /// Authentication mode.
    #[serde(default)]
    pub auth: AuthMode,
    /// The admin (authcid) for `impersonate`; for `login`, the login used when the
    /// account has no `source_user` (rarely wanted).
    #[serde(default)]
    pub admin_user: Option<String>,
    /// Environment variable holding the admin's (or the shared) password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the admin's (or the shared) password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// XOAUTH2: a file holding the access token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// XOAUTH2: a command printing the access token (run with `sh -c`, with
    /// `CARBONIO_MIGRATE_ACCOUNT` set to the account).
    #[serde(default)]
    pub token_command: Option<String>,
    /// Trust these CA certificates (PEM) instead of the system roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server certificate. An explicit, logged opt-out.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Seconds without progress before a connection is considered dead.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Reading side: where message bodies too large to hold in memory are
    /// spooled (unlinked files, gone when read). The system temp dir when
    /// absent. Give a disk with room for a few of the largest messages per
    /// connection.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Reading side: bodies over this many bytes are spooled to disk instead
    /// of held in memory (1 MiB when absent). Lower it to bound memory with
    /// many accounts at once; raising it costs memory, not speed.
    #[serde(default)]
    pub spool_over_bytes: Option<u32>,
}

fn default_timeout_secs() -> u64 {
    120
}

impl ImapConfig {
    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 993,
            TlsMode::Starttls | TlsMode::None => 143,
        })
    }
}

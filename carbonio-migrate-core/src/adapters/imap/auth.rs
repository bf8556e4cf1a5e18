//! Who logs in and how: per-account credentials from the configuration and the
//! account list, the SASL payloads (PLAIN with an authorization identity for
//! admin impersonation, XOAUTH2), and the login exchange of a reading session.
//!
//! Secrets never reach messages or logs: errors name the account, the server
//! and the admin, and carry the server's answer as their cause.

use crate::error::{Error, Result};
use crate::model::{Account, Secret};

use super::config::{AuthMode, ImapConfig};

/// The environment variable naming the account for `token_command`.
pub const TOKEN_ACCOUNT_ENV: &str = "CARBONIO_MIGRATE_ACCOUNT";

/// What one account logs in with.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// How.
    pub mode: AuthMode,
    /// The account's login; the authorization identity (authzid) when
    /// impersonating.
    pub user: String,
    /// The admin who authenticates (authcid) when impersonating.
    pub admin: Option<String>,
    /// The password (the admin's when impersonating) or the XOAUTH2 token.
    pub secret: Secret,
}

impl Credentials {
    /// The credentials of `account` under `config`:
    /// - `impersonate`: authzid = [`Account::source_login`], authcid =
    ///   `admin_user`, secret = the shared (admin's) secret;
    /// - `login`: login = the account's `source_user`, else `admin_user`, else its
    ///   address; secret = the account's `source_password`, else the shared one;
    /// - `xoauth2`: user = [`Account::source_login`], token = the first line of
    ///   `token_file`, else the output of `token_command` run with `sh -c` and
    ///   [`TOKEN_ACCOUNT_ENV`] set to the account's address.
    ///
    /// `shared_secret` is the password the caller read from `password_env` /
    /// `password_file`. Running `token_command` blocks: call this from
    /// `spawn_blocking` in async code.
    ///
    /// # Errors
    /// [`Error::Config`] when a needed key or secret is missing;
    /// [`Error::Auth`] when the token cannot be read or the command fails.
    pub fn for_account(
        config: &ImapConfig,
        account: &Account,
        shared_secret: Option<&Secret>,
    ) -> Result<Credentials> {
        let address = account.address.as_str();
        match config.auth {
            AuthMode::Impersonate => {
                let admin = config.admin_user.clone().ok_or_else(|| {
                    Error::config(format!(
                        "imap on {}: auth = \"impersonate\" needs admin_user",
                        config.host
                    ))
                })?;
                let secret = shared_secret.cloned().ok_or_else(|| {
                    Error::config(format!(
                        "imap on {}: auth = \"impersonate\" needs the password of {admin} \
                         (password_env or password_file)",
                        config.host
                    ))
                })?;
                Ok(Credentials {
                    mode: AuthMode::Impersonate,
                    user: account.source_login().to_string(),
                    admin: Some(admin),
                    secret,
                })
            }
            AuthMode::Login => {
                let user = account
                    .source_user
                    .clone()
                    .or_else(|| config.admin_user.clone())
                    .unwrap_or_else(|| address.to_string());
                let secret = account
                    .source_password
                    .clone()
                    .or_else(|| shared_secret.cloned())
                    .ok_or_else(|| {
                        Error::config(format!(
                            "imap on {}: no password for {address}: set source_password in the \
                             account list, or password_env or password_file",
                            config.host
                        ))
                    })?;
                Ok(Credentials {
                    mode: AuthMode::Login,
                    user,
                    admin: None,
                    secret,
                })
            }
            AuthMode::Xoauth2 => Ok(Credentials {
                mode: AuthMode::Xoauth2,
                user: account.source_login().to_string(),
                admin: None,
                secret: read_token(config, account)?,
            }),
        }
    }

    /// The subject of an authentication error: `ada@example.org on
    /// imap.example.org:993 (as admin admin@example.org)`, with the login when it
    /// differs from the account's address. Never the secret.
    pub fn describe(&self, account: &str, address: &str) -> String {
        let mut text = account.to_string();
        if self.user != account {
            text.push_str(&format!(" (login {})", self.user));
        }
        text.push_str(&format!(" on {address}"));
        if let Some(admin) = &self.admin {
            text.push_str(&format!(" (as admin {admin})"));
        }
        text
    }
}

fn read_token(config: &ImapConfig, account: &Account) -> Result<Secret> {
    let address = account.address.as_str();
    let refuse = |why: String| Error::Auth {
        target: format!("{address} on {}:{} ({why})", config.host, config.port()),
        source: None,
    };
    let text = if let Some(file) = &config.token_file {
        std::fs::read_to_string(file)
            .map_err(|e| Error::config(format!("cannot read token_file {}: {e}", file.display())))?
    } else if let Some(command) = &config.token_command {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .env(TOKEN_ACCOUNT_ENV, address)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| refuse(format!("token_command could not run: {e}")))?;
        if !output.status.success() {
            return Err(refuse(format!(
                "token_command failed with {}",
                output.status
            )));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| refuse("token_command printed something that is not UTF-8".into()))?
    } else {
        return Err(Error::config(format!(
            "imap on {}: auth = \"xoauth2\" needs token_file or token_command",
            config.host
        )));
    };
    let token = text.lines().next().unwrap_or_default().trim();
    if token.is_empty() {
        return Err(refuse("the token is empty".into()));
    }
    Ok(Secret::new(token))
}

/// The SASL PLAIN message (RFC 4616): `authzid NUL authcid NUL password`, before
/// base64. An empty `authzid` logs in as `authcid` itself.
pub fn plain_payload(authzid: &str, authcid: &str, secret: &Secret) -> Vec<u8> {
    let mut out = Vec::with_capacity(authzid.len() + authcid.len() + secret.expose().len() + 2);
    out.extend_from_slice(authzid.as_bytes());
    out.push(0);
    out.extend_from_slice(authcid.as_bytes());
    out.push(0);
    out.extend_from_slice(secret.expose().as_bytes());
    out
}

/// The SASL XOAUTH2 message: `user=U ^A auth=Bearer T ^A ^A`, before base64.
pub fn xoauth2_payload(user: &str, token: &Secret) -> Vec<u8> {
    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmailAddress;

    fn config(text: &str) -> ImapConfig {
        toml::from_str(&format!("host = \"imap.example.org\"\n{text}")).unwrap()
    }

    fn account() -> Account {
        Account::new(EmailAddress::parse("ada@example.org").unwrap())
    }

    #[test]
    fn payloads_are_the_rfc_byte_layouts() {
        let s = Secret::new("pw");
        assert_eq!(plain_payload("ada", "admin", &s), b"ada\0admin\0pw");
        assert_eq!(plain_payload("", "ada", &s), b"\0ada\0pw");
        assert_eq!(
            xoauth2_payload("ada@example.org", &Secret::new("tok")),
            b"user=ada@example.org\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn impersonation_uses_the_account_as_authzid() {
        let mut a = account();
        a.source_user = Some("ada.l".into());
        let c = config("auth = \"impersonate\"\nadmin_user = \"admin@example.org\"");
        let creds = Credentials::for_account(&c, &a, Some(&Secret::new("adminpw"))).unwrap();
        assert_eq!(creds.user, "ada.l");
        assert_eq!(creds.admin.as_deref(), Some("admin@example.org"));
        assert_eq!(
            creds.describe("ada@example.org", "imap.example.org:993"),
            "ada@example.org (login ada.l) on imap.example.org:993 (as admin admin@example.org)"
        );
        let err = Credentials::for_account(&c, &a, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("needs the password of admin@example.org"),
            "{err}"
        );
        let err = Credentials::for_account(&config("auth = \"impersonate\""), &a, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs admin_user"), "{err}");
    }

    #[test]
    fn login_prefers_the_accounts_own_password() {
        let mut a = account();
        let c = config("");
        let shared = Secret::new("shared");
        let creds = Credentials::for_account(&c, &a, Some(&shared)).unwrap();
        assert_eq!(
            (creds.user.as_str(), creds.secret.expose()),
            ("ada@example.org", "shared")
        );
        a.source_password = Some(Secret::new("own"));
        let creds = Credentials::for_account(&c, &a, Some(&shared)).unwrap();
        assert_eq!(creds.secret.expose(), "own");
        let err = Credentials::for_account(&c, &account(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no password for ada@example.org"), "{err}");
    }

    #[test]
    fn xoauth2_token_from_a_command_sees_the_account() {
        let c = config(&format!(
            "auth = \"xoauth2\"\ntoken_command = \"echo tok-${TOKEN_ACCOUNT_ENV}\""
        ));
        let creds = Credentials::for_account(&c, &account(), None).unwrap();
        assert_eq!(creds.secret.expose(), "tok-ada@example.org");
        assert!(!format!("{creds:?}").contains("tok-"));
        let failing = config("auth = \"xoauth2\"\ntoken_command = \"echo secret-token; exit 3\"");
        let err = Credentials::for_account(&failing, &account(), None).unwrap_err();
        assert!(matches!(err, Error::Auth { .. }));
        let text = err.chain();
        assert!(text.contains("token_command failed"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
    }

    #[test]
    fn xoauth2_token_from_a_file_is_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "abc.def\nignored\n").unwrap();
        let c = config(&format!(
            "auth = \"xoauth2\"\ntoken_file = \"{}\"",
            file.display()
        ));
        let creds = Credentials::for_account(&c, &account(), None).unwrap();
        assert_eq!(creds.secret.expose(), "abc.def");
    }
}

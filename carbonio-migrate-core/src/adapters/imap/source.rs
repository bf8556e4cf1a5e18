//! The `imap` [`Source`]: any IMAP server's mail, read-only. Accounts come
//! from a provisioning source (see [`crate::wrap::CompositeSource`]).

use std::time::Duration;

use async_trait::async_trait;

use crate::capability::{Capabilities, Capability};
use crate::error::{Error, Result};
use crate::model::{Account, Secret};
use crate::source::{MailboxReader, Source};

use super::auth::Credentials;
use super::body_spool::SpoolSettings;
use super::config::ImapConfig;
use super::reader::ImapMailbox;
use super::transport::ImapConnector;

/// Reads mail from an IMAP server, one connection per [`Source::mailbox`] call.
pub struct ImapSource {
    config: ImapConfig,
    shared_secret: Option<Secret>,
    connector: ImapConnector,
    spool: SpoolSettings,
}

impl std::fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSource")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

impl ImapSource {
    /// A source reading the server of `config`. `shared_secret` is the admin's
    /// (impersonation) or the shared password (login), already read by the
    /// caller from `password_env` / `password_file`.
    ///
    /// # Errors
    /// [`Error::Config`] when the TLS settings cannot be built (an unreadable
    /// `ca_file`).
    pub fn new(config: ImapConfig, shared_secret: Option<Secret>) -> Result<ImapSource> {
        let connector = ImapConnector::new(&config)?;
        let defaults = SpoolSettings::default();
        let spool = SpoolSettings {
            dir: config.spool_dir.clone().unwrap_or(defaults.dir),
            over: config.spool_over_bytes.unwrap_or(defaults.over),
        };
        Ok(ImapSource {
            config,
            shared_secret,
            connector,
            spool,
        })
    }

    /// Where and from which size message bodies are spooled to disk instead
    /// of being held in memory (default: the configuration's `spool_dir` and
    /// `spool_over_bytes`, else the system temp dir, over 1 MiB).
    pub fn with_spool(mut self, spool: SpoolSettings) -> Self {
        self.spool = spool;
        self
    }
}

#[async_trait]
impl Source for ImapSource {
    fn kind(&self) -> &'static str {
        "imap"
    }

    fn location(&self) -> String {
        format!("imap {}:{}", self.config.host, self.config.port())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([Capability::Mail])
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        let config = self.config.clone();
        let shared = self.shared_secret.clone();
        let who = account.clone();
        // A token command may take a while: keep it off the async workers.
        let credentials = tokio::task::spawn_blocking(move || {
            Credentials::for_account(&config, &who, shared.as_ref())
        })
        .await
        .map_err(|e| {
            Error::config(format!(
                "reading the credentials of {}: {e}",
                account.address
            ))
        })??;
        let reader = ImapMailbox::open_with_spool(
            self.connector.clone(),
            credentials,
            account.address.to_string(),
            Duration::from_secs(self.config.timeout_secs.max(1)),
            self.spool.clone(),
        )
        .await?;
        Ok(Box::new(reader))
    }
}

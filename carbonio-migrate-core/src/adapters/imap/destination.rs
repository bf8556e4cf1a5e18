//! [`ImapDestination`]: mail written into an IMAP server (Carbonio's mail
//! part, or any IMAP server) through pipelined APPEND.
//!
//! Who logs in on the destination:
//! - `impersonate`: `AUTHENTICATE PLAIN` with authzid = the account's
//!   destination address and authcid = `admin_user`, with the shared (admin's)
//!   secret;
//! - `login`: `LOGIN` as `admin_user` when set, else the account's address,
//!   with the shared secret. The account list's `source_password` is the
//!   account's password on the *source* and is never sent to the destination;
//! - `xoauth2`: a token for the account's address from `token_file` or
//!   `token_command`.
//!
//! [`Destination::read_back`] reads the account with the `imap` source's
//! reader (EXAMINE, `BODY.PEEK`), its folder paths translated back to the
//! names the writer was given (`INBOX` as `Inbox`, a special-use folder as its
//! Carbonio name).

use std::time::Duration;

use async_trait::async_trait;

use super::append::{AppendLimits, AppendMode};
use super::auth::Credentials;
use super::codec_client::{ClientLimits, CodecClient};
use super::config::{AuthMode, ImapConfig};
use super::reader::ImapMailbox;
use super::transport::{ImapConnector, ImapStream};
use super::writer::{ImapMailboxWriter, ServerFolders};
use crate::capability::{Capabilities, Capability};
use crate::destination::{Destination, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{Account, Folder, FolderPath, Message, MessageMeta, Secret, Uid};
use crate::source::{FolderStatus, MailboxReader, ResultStream};

/// Writes mail into an IMAP server, one connection per account.
pub struct ImapDestination {
    config: ImapConfig,
    shared_secret: Option<Secret>,
    connector: ImapConnector,
    mode: Option<AppendMode>,
    limits: AppendLimits,
}

impl std::fmt::Debug for ImapDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapDestination")
            .field("host", &self.config.host)
            .field("port", &self.config.port())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ImapDestination {
    /// A destination for `config`; `shared_secret` is the password read from
    /// `password_env` / `password_file` (the admin's when impersonating).
    ///
    /// # Errors
    /// [`Error::Config`] when the TLS settings cannot be read (CA file), or a
    /// mode needs a key that is missing (`admin_user` or the secret for
    /// `impersonate`, the secret for `login`).
    pub fn new(config: ImapConfig, shared_secret: Option<Secret>) -> Result<Self> {
        let needs_secret = matches!(config.auth, AuthMode::Impersonate | AuthMode::Login);
        if config.auth == AuthMode::Impersonate && config.admin_user.is_none() {
            return Err(Error::config(format!(
                "imap destination {}: auth = \"impersonate\" needs admin_user",
                config.host
            )));
        }
        if needs_secret && shared_secret.is_none() {
            return Err(Error::config(format!(
                "imap destination {}: auth = \"{}\" needs a password (password_env or \
                 password_file); accounts' source passwords are not used on the destination",
                config.host,
                match config.auth {
                    AuthMode::Impersonate => "impersonate",
                    _ => "login",
                }
            )));
        }
        let connector = ImapConnector::new(&config)?;
        Ok(ImapDestination {
            config,
            shared_secret,
            connector,
            mode: None,
            limits: AppendLimits::default(),
        })
    }

    /// Forces an append mode instead of choosing from the server's
    /// capabilities (tests, benchmarks, a server that announces LITERAL+ but
    /// mishandles it).
    pub fn with_append_mode(mut self, mode: AppendMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Changes the append limits (pipeline depth, line length, largest message).
    pub fn with_append_limits(mut self, limits: AppendLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The credentials on the destination: the account's address, never its
    /// source login or source password.
    async fn credentials(&self, account: &Account) -> Result<Credentials> {
        let mut as_destination = account.clone();
        as_destination.source_user = None;
        as_destination.source_password = None;
        let config = self.config.clone();
        let secret = self.shared_secret.clone();
        // `token_command` runs a process: keep it off the async threads.
        tokio::task::spawn_blocking(move || {
            Credentials::for_account(&config, &as_destination, secret.as_ref())
        })
        .await
        .map_err(|e| Error::Network {
            context: format!("reading the credentials of {}", account.address),
            source: Some(Box::new(e)),
        })?
    }

    /// An authenticated connection for `account`.
    ///
    /// # Errors
    /// [`Error::Network`] when the server cannot be reached; [`Error::Auth`]
    /// naming the account, the server and the admin when the login is refused;
    /// [`Error::Config`] for a missing token source.
    pub async fn connect(&self, account: &Account) -> Result<CodecClient<ImapStream>> {
        let credentials = self.credentials(account).await?;
        let address = self.connector.address();
        let connected = self.connector.connect().await?;
        let limits = ClientLimits {
            max_response_bytes: 1 << 20,
            io_timeout: Duration::from_secs(self.config.timeout_secs.max(1)),
        };
        let mut client = CodecClient::after_greeting(
            connected.stream,
            address.clone(),
            connected.capabilities,
            limits,
        );
        let target = credentials.describe(account.address.as_str(), &address);
        let secret = credentials.secret.expose();
        match credentials.mode {
            AuthMode::Impersonate => {
                let admin = credentials.admin.as_deref().unwrap_or_default();
                client
                    .authenticate_plain(&target, Some(&credentials.user), admin, secret)
                    .await?
            }
            AuthMode::Login if client.has("LOGINDISABLED") => {
                client
                    .authenticate_plain(&target, None, &credentials.user, secret)
                    .await?
            }
            AuthMode::Login => client.login(&target, &credentials.user, secret).await?,
            AuthMode::Xoauth2 => {
                client
                    .authenticate_xoauth2(&target, &credentials.user, secret)
                    .await?
            }
        }
        client.refresh_capabilities().await?;
        Ok(client)
    }
}

#[async_trait]
impl Destination for ImapDestination {
    fn kind(&self) -> &'static str {
        "imap"
    }

    fn location(&self) -> String {
        format!("imap {}:{}", self.config.host, self.config.port())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Mail,
            Capability::ReadBack,
            Capability::ResumeMail,
        ])
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        let client = self.connect(account).await?;
        let best = AppendMode::for_capabilities(client.has("LITERAL+"), client.has("MULTIAPPEND"));
        let mode = match self.mode.unwrap_or(best) {
            // Forced modes the server cannot do fall back to what it can.
            AppendMode::MultiAppend if best != AppendMode::MultiAppend => {
                AppendMode::for_capabilities(client.has("LITERAL+"), false)
            }
            AppendMode::LiteralPlus if !client.has("LITERAL+") => AppendMode::Synchronizing,
            other => other,
        };
        let writer =
            ImapMailboxWriter::new(client, account.address.to_string(), mode, self.limits).await?;
        Ok(Box::new(writer))
    }

    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        // The writer's naming (namespace, special-use folders), learned on a
        // short connection of its own.
        let mut client = self.connect(account).await?;
        let names = ServerFolders::discover(&mut client).await?;
        client.logout().await?;
        let inner = ImapMailbox::open(
            self.connector.clone(),
            self.credentials(account).await?,
            account.address.to_string(),
            Duration::from_secs(self.config.timeout_secs.max(1)),
        )
        .await?;
        Ok(Box::new(ReadBack { inner, names }))
    }
}

/// The `imap` reader with folder paths as the writer was given them.
struct ReadBack {
    inner: ImapMailbox,
    names: ServerFolders,
}

impl ReadBack {
    /// The reader's path of a writer's path.
    fn inner_path(&self, path: &FolderPath) -> Result<FolderPath> {
        self.names.namespace.to_path(&self.names.server_name(path))
    }
}

#[async_trait]
impl MailboxReader for ReadBack {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        let mut out = Vec::new();
        for mut folder in self.inner.folders().await? {
            let server = self.names.namespace.to_server(&folder.path);
            folder.path = self.names.folder_path(&server)?;
            out.push(folder);
        }
        Ok(out)
    }

    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        let path = self.inner_path(folder)?;
        self.inner.status(&path).await
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let path = self.inner_path(folder)?;
        self.inner.list(&path, after, limit).await
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let path = self.inner_path(folder)?;
        self.inner.fetch(&path, uids).await
    }

    // Forwarded so recognition and flag sync use the server's cheap paths
    // (headers only, CONDSTORE) instead of the trait's whole-body defaults.
    async fn fetch_headers(
        &mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<Vec<(Uid, Vec<u8>, u64)>> {
        let path = self.inner_path(folder)?;
        self.inner.fetch_headers(&path, uids).await
    }

    async fn highest_modseq(&mut self, folder: &FolderPath) -> Result<Option<u64>> {
        let path = self.inner_path(folder)?;
        self.inner.highest_modseq(&path).await
    }

    async fn list_changed(
        &mut self,
        folder: &FolderPath,
        modseq: u64,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let path = self.inner_path(folder)?;
        self.inner.list_changed(&path, modseq, after, limit).await
    }
}

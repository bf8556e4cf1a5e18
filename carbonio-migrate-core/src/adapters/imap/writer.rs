//! [`ImapMailboxWriter`]: one account's mail written over one IMAP connection.
//!
//! Folder names: a [`FolderPath`] becomes a server name through the personal
//! [`Namespace`] (prefix, delimiter, modified UTF-7); a leading `Inbox` is the
//! server's `INBOX`; a top-level folder named as Carbonio names a role (`Sent`,
//! `Drafts`, `Trash`, `Junk`, `Archive` — what the engine's folder rules
//! produce) goes to the server's folder with that special-use attribute when the
//! server has one (`Sent Messages`), subfolders following it.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::flag::{StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data};
use imap_codec::imap_types::sequence::SequenceSet;
use imap_codec::imap_types::status::{StatusDataItem, StatusDataItemName};

use super::append::{append_messages, imap_flags, AppendLimits, AppendMode};
use super::codec_client::{CodecClient, OnNo};
use super::keywords::plan_flags;
use super::namespace::{role_from_attribute, Namespace};
use super::transport::ImapStream;
use super::uid_set::uid_sets;
use crate::destination::{AppendOutcome, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{Flags, Folder, FolderPath, FolderRole, Message, Uid};
use crate::source::FolderStatus;

/// The roles whose Carbonio names map to special-use folders.
const ROLES: [FolderRole; 5] = [
    FolderRole::Sent,
    FolderRole::Drafts,
    FolderRole::Trash,
    FolderRole::Junk,
    FolderRole::Archive,
];

/// How a writer names folders on its server: the namespace and the
/// special-use folders found at login.
#[derive(Clone, Debug)]
pub struct ServerFolders {
    /// The personal namespace.
    pub namespace: Namespace,
    /// The server's folder of each special-use role, as on the wire.
    pub special_use: BTreeMap<FolderRole, String>,
    /// Every mailbox listed, as on the wire (`INBOX` uppercased).
    pub existing: BTreeSet<String>,
}

impl ServerFolders {
    /// Lists the account's mailboxes and learns the namespace (NAMESPACE when
    /// the server has it, else the delimiter of `LIST "" ""`).
    ///
    /// # Errors
    /// As [`CodecClient::execute`].
    pub async fn discover(client: &mut CodecClient<ImapStream>) -> Result<ServerFolders> {
        let mut namespace = None;
        if client.has("NAMESPACE") {
            let done = client
                .execute(CommandBody::Namespace, "asking the namespace", OnNo::Return)
                .await?;
            for data in &done.data {
                if let Data::Namespace { personal, .. } = data {
                    if let Some(first) = personal.first() {
                        let prefix = String::from_utf8_lossy(first.prefix.as_ref()).into_owned();
                        namespace = Some(Namespace::new(
                            prefix,
                            first.delimiter.as_ref().map(|d| d.inner()),
                        ));
                    }
                }
            }
        }
        let list = |reference: &str, pattern: &str| {
            CommandBody::list(reference.to_string(), pattern.to_string()).map_err(|e| {
                Error::Protocol {
                    context: "listing folders".into(),
                    message: format!("cannot encode LIST: {e:?}"),
                }
            })
        };
        if namespace.is_none() {
            let done = client
                .execute(list("", "")?, "asking the hierarchy delimiter", OnNo::Fail)
                .await?;
            let delimiter = done.data.iter().find_map(|d| match d {
                Data::List { delimiter, .. } => delimiter.as_ref().map(|q| q.inner()),
                _ => None,
            });
            namespace = Some(Namespace::new("", delimiter));
        }
        let namespace = namespace.unwrap_or_else(|| Namespace::new("", Some('/')));
        let done = client
            .execute(list("", "*")?, "listing folders", OnNo::Fail)
            .await?;
        let mut special_use = BTreeMap::new();
        let mut existing = BTreeSet::new();
        for data in done.data {
            if let Data::List { items, mailbox, .. } = data {
                let name = wire_name(&mailbox);
                for attribute in &items {
                    if let Some(role) = role_from_attribute(&attribute.to_string()) {
                        special_use.entry(role).or_insert_with(|| name.clone());
                    }
                }
                existing.insert(name);
            }
        }
        Ok(ServerFolders {
            namespace,
            special_use,
            existing,
        })
    }

    /// The server name of `path`.
    pub fn server_name(&self, path: &FolderPath) -> String {
        let first = &path.segments()[0];
        for role in ROLES {
            if first == role.carbonio_name() {
                if let Some(server) = self.special_use.get(&role) {
                    let rest = &path.segments()[1..];
                    if rest.is_empty() {
                        return server.clone();
                    }
                    let child = self.namespace.to_server(&path.with_first("x"));
                    // The child's name below the special-use folder: everything
                    // after the mapped first segment `x`.
                    let tail = child
                        .strip_prefix(self.namespace.prefix())
                        .unwrap_or(&child)
                        .get(1..)
                        .unwrap_or_default();
                    return format!("{server}{tail}");
                }
            }
        }
        self.namespace.to_server(path)
    }

    /// The folder path of a server name: the inverse of
    /// [`ServerFolders::server_name`] (`INBOX` reads back as `Inbox`, a
    /// special-use folder as its Carbonio name).
    ///
    /// # Errors
    /// As [`Namespace::to_path`].
    pub fn folder_path(&self, server: &str) -> Result<FolderPath> {
        for (role, name) in &self.special_use {
            if server == name {
                return FolderPath::new([role.carbonio_name()]);
            }
            if let Some(d) = self.namespace.delimiter() {
                if let Some(rest) = server.strip_prefix(&format!("{name}{d}")) {
                    let inner = self
                        .namespace
                        .to_path(&format!("{}x{d}{rest}", self.namespace.prefix()))?;
                    return Ok(inner.with_first(role.carbonio_name()));
                }
            }
        }
        let path = self.namespace.to_path(server)?;
        if path.segments()[0] == "INBOX" {
            return Ok(path.with_first(FolderRole::Inbox.carbonio_name()));
        }
        Ok(path)
    }
}

/// A mailbox name as on the wire (`INBOX` for the inbox).
pub fn wire_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".into(),
        Mailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    }
}

/// Bytes of flags one `UID STORE` sends at most, as on append.
const FLAGS_BUDGET: usize = 4 * 1024;
/// Bytes of UID set one `UID STORE` sends at most: with the flags, the line
/// stays under the 8 KiB Carbonio accepts.
const SET_BUDGET: usize = 3 * 1024;

/// Writes one account's mail over one authenticated connection.
pub struct ImapMailboxWriter {
    client: CodecClient<ImapStream>,
    account: String,
    folders: ServerFolders,
    subscribed: BTreeSet<String>,
    /// Folders this writer created (server names): empty but for its appends.
    created: BTreeSet<String>,
    mode: AppendMode,
    limits: AppendLimits,
}

impl std::fmt::Debug for ImapMailboxWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapMailboxWriter")
            .field("account", &self.account)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl ImapMailboxWriter {
    /// A writer over an authenticated `client` for `account`, appending with
    /// `mode` within `limits` (the server's `APPENDLIMIT` is added to them).
    ///
    /// # Errors
    /// As [`ServerFolders::discover`].
    pub async fn new(
        mut client: CodecClient<ImapStream>,
        account: String,
        mode: AppendMode,
        mut limits: AppendLimits,
    ) -> Result<Self> {
        let folders = ServerFolders::discover(&mut client).await?;
        if let Some(server_max) = client
            .capability_value("APPENDLIMIT")
            .and_then(|v| v.parse::<u64>().ok())
        {
            limits.max_message_bytes = Some(
                limits
                    .max_message_bytes
                    .map_or(server_max, |m| m.min(server_max)),
            );
        }
        Ok(ImapMailboxWriter {
            client,
            account,
            folders,
            subscribed: BTreeSet::new(),
            created: BTreeSet::new(),
            mode,
            limits,
        })
    }

    /// How folders are named on this server.
    pub fn folders(&self) -> &ServerFolders {
        &self.folders
    }

    /// The append mode in use.
    pub fn mode(&self) -> AppendMode {
        self.mode
    }

    fn usable(&self) -> Result<()> {
        if self.client.is_broken() {
            return Err(Error::Network {
                context: format!(
                    "the connection of {} to {} failed earlier",
                    self.account,
                    self.client.host()
                ),
                source: None,
            });
        }
        Ok(())
    }

    fn mailbox(name: &str, context: &str) -> Result<Mailbox<'static>> {
        Mailbox::try_from(name.to_string()).map_err(|e| Error::Protocol {
            context: context.to_string(),
            message: format!("{name:?} cannot be sent as a mailbox name: {e}"),
        })
    }

    /// Creates `name` unless it is known to exist; an `ALREADYEXISTS` (or an
    /// "already exists" text) answer counts as success.
    async fn create(&mut self, name: &str, path: &FolderPath) -> Result<()> {
        if self.folders.existing.contains(name) || name == "INBOX" {
            return Ok(());
        }
        let context = format!("creating folder {path} of {}", self.account);
        let body = CommandBody::Create {
            mailbox: Self::mailbox(name, &context)?,
        };
        let done = self.client.execute(body, &context, OnNo::Return).await?;
        let exists = done
            .code_text()
            .is_some_and(|c| c.eq_ignore_ascii_case("ALREADYEXISTS"))
            || done.text.to_ascii_lowercase().contains("already exists");
        if !done.is_ok() && !exists {
            return Err(Error::Rejected {
                item: format!("folder {path} of {}", self.account),
                reason: format!("the server answered NO {}", done.text),
            });
        }
        if done.is_ok() {
            self.created.insert(name.to_string());
        }
        self.folders.existing.insert(name.to_string());
        Ok(())
    }
}

#[async_trait]
impl MailboxWriter for ImapMailboxWriter {
    async fn ensure_folder(&mut self, folder: &Folder) -> Result<()> {
        self.usable()?;
        let mut ancestors = Vec::new();
        let mut parent = folder.path.parent();
        while let Some(p) = parent {
            parent = p.parent();
            ancestors.push(p);
        }
        for path in ancestors.iter().rev().chain(std::iter::once(&folder.path)) {
            let name = self.folders.server_name(path);
            self.create(&name, path).await?;
        }
        let name = self.folders.server_name(&folder.path);
        if folder.subscribed && !self.subscribed.contains(&name) {
            let context = format!("subscribing to folder {} of {}", folder.path, self.account);
            let body = CommandBody::Subscribe {
                mailbox: Self::mailbox(&name, &context)?,
            };
            // A refused subscription loses nothing of the mail: log it only.
            let done = self.client.execute(body, &context, OnNo::Return).await?;
            if !done.is_ok() {
                tracing::warn!(folder = %folder.path, account = %self.account, answer = %done.text, "subscription refused");
            }
            self.subscribed.insert(name);
        }
        Ok(())
    }

    fn created(&self, folder: &Folder) -> bool {
        self.created
            .contains(&self.folders.server_name(&folder.path))
    }

    async fn status(&mut self, folder: &Folder) -> Result<Option<FolderStatus>> {
        self.usable()?;
        let name = self.folders.server_name(&folder.path);
        let context = format!(
            "reading the status of folder {} of {}",
            folder.path, self.account
        );
        let body = CommandBody::Status {
            mailbox: Self::mailbox(&name, &context)?,
            item_names: vec![
                StatusDataItemName::Messages,
                StatusDataItemName::UidNext,
                StatusDataItemName::UidValidity,
            ]
            .into(),
        };
        let done = self.client.execute(body, &context, OnNo::Return).await?;
        if !done.is_ok() {
            return Ok(None);
        }
        let mut status = FolderStatus {
            uid_validity: 0,
            messages: 0,
            uid_next: None,
        };
        for data in &done.data {
            if let Data::Status { items, .. } = data {
                for item in items.iter() {
                    match item {
                        StatusDataItem::Messages(n) => status.messages = u64::from(*n),
                        StatusDataItem::UidNext(n) => status.uid_next = Some(n.get()),
                        StatusDataItem::UidValidity(n) => status.uid_validity = n.get(),
                        _ => {}
                    }
                }
            }
        }
        if let Some(Code::UidValidity(n)) = &done.code {
            status.uid_validity = n.get();
        }
        Ok((status.uid_validity != 0).then_some(status))
    }

    async fn append(
        &mut self,
        folder: &Folder,
        messages: Vec<Message>,
    ) -> Result<Vec<AppendOutcome>> {
        self.usable()?;
        let name = self.folders.server_name(&folder.path);
        let label = format!("{} of {}", folder.path, self.account);
        append_messages(
            &mut self.client,
            &name,
            &label,
            messages,
            self.mode,
            &self.limits,
        )
        .await
    }

    /// Selects the folder (read-write: `STORE` needs it) and replaces the
    /// flags of each message with `UID STORE <set> FLAGS.SILENT (...)`, the
    /// messages with the same flags in one command. Keywords go through the
    /// same mapping as on append, so a message gets the flags it would have
    /// got if copied now. The folder is left selected, never closed: `CLOSE`
    /// would expunge messages flagged `\Deleted`.
    async fn set_flags(&mut self, folder: &Folder, changes: Vec<(Uid, Flags)>) -> Result<()> {
        self.usable()?;
        if changes.is_empty() {
            return Ok(());
        }
        let name = self.folders.server_name(&folder.path);
        let context = format!(
            "changing message flags in folder {} of {}",
            folder.path, self.account
        );
        let select = CommandBody::Select {
            mailbox: Self::mailbox(&name, &context)?,
            parameters: Vec::new(),
        };
        self.client.execute(select, &context, OnNo::Fail).await?;
        let mut groups: BTreeMap<Vec<String>, Vec<u32>> = BTreeMap::new();
        for (uid, flags) in &changes {
            let plan = plan_flags(flags, FLAGS_BUDGET);
            groups.entry(plan.flags).or_default().push(uid.get());
        }
        for (flags, uids) in &groups {
            for set in uid_sets(uids, SET_BUDGET) {
                let sequence_set =
                    SequenceSet::try_from(set.as_str()).map_err(|e| Error::Protocol {
                        context: context.clone(),
                        message: format!("UID set {set}: {e}"),
                    })?;
                let store = CommandBody::Store {
                    sequence_set,
                    kind: StoreType::Replace,
                    response: StoreResponse::Silent,
                    flags: imap_flags(flags),
                    uid: true,
                    modifiers: Vec::new(),
                };
                self.client.execute(store, &context, OnNo::Fail).await?;
            }
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<()> {
        // Every APPEND was acknowledged before `append` returned: the mail is
        // durable; LOGOUT only closes politely.
        if !self.client.is_broken() {
            self.client.logout().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(special: &[(FolderRole, &str)], prefix: &str, delimiter: char) -> ServerFolders {
        ServerFolders {
            namespace: Namespace::new(prefix, Some(delimiter)),
            special_use: special.iter().map(|(r, n)| (*r, n.to_string())).collect(),
            existing: BTreeSet::new(),
        }
    }

    fn path(text: &str) -> FolderPath {
        FolderPath::parse(text).unwrap()
    }

    #[test]
    fn role_folders_go_to_special_use_names_and_back() {
        let f = folders(&[(FolderRole::Sent, "Sent Messages")], "", '/');
        assert_eq!(f.server_name(&path("Sent")), "Sent Messages");
        assert_eq!(f.server_name(&path("Sent/2020")), "Sent Messages/2020");
        assert_eq!(f.server_name(&path("Inbox/Lists")), "INBOX/Lists");
        assert_eq!(f.server_name(&path("Archiv")), "Archiv");
        assert_eq!(f.folder_path("Sent Messages").unwrap(), path("Sent"));
        assert_eq!(
            f.folder_path("Sent Messages/2020").unwrap(),
            path("Sent/2020")
        );
        assert_eq!(f.folder_path("INBOX/Lists").unwrap(), path("Inbox/Lists"));
    }

    #[test]
    fn prefix_delimiter_and_utf7_apply() {
        let f = folders(&[(FolderRole::Trash, "INBOX.Deleted Items")], "INBOX.", '.');
        assert_eq!(
            f.server_name(&path("Projekte/Überblick 2024")),
            "INBOX.Projekte.&ANw-berblick 2024"
        );
        assert_eq!(f.server_name(&path("Trash/Old")), "INBOX.Deleted Items.Old");
        assert_eq!(
            f.folder_path("INBOX.Deleted Items.Old").unwrap(),
            path("Trash/Old")
        );
        assert_eq!(
            f.folder_path("INBOX.Projekte.&ANw-berblick 2024").unwrap(),
            path("Projekte/Überblick 2024")
        );
    }
}

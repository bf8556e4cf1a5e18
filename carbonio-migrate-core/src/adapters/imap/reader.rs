//! The [`MailboxReader`] of one IMAP account.
//!
//! Read-only by construction: folders are opened with `EXAMINE`, bodies read
//! with `BODY.PEEK[]`, and no command that changes anything (SELECT, STORE,
//! EXPUNGE, CREATE, APPEND, COPY) is ever sent.
//!
//! Memory is bounded per connection: a body up to the spool threshold
//! ([`SpoolSettings::over`], 1 MiB by default) is read into memory; a larger
//! one is copied from the socket into a spool file while its FETCH response
//! is read, and handed over as a body streamed from that file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use futures::stream;
use imap_codec::imap_types::fetch::{MessageDataItem, Section};
use imap_codec::imap_types::flag::FlagFetch;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, Data, StatusKind};
use imap_codec::imap_types::status::StatusDataItem;

use crate::error::{Error, Result};
use crate::model::{Flags, Folder, FolderKind, FolderPath, Message, MessageBody, MessageMeta, Uid};
use crate::source::{FolderCheck, FolderStatus, MailboxReader, ResultStream};

use super::auth::Credentials;
use super::body_sink::BodySink;
use super::body_spool::{SpoolFile, SpoolSettings};
use super::namespace::folder_role;
use super::session::{refusal, Namespaces, ReadSession, Reply};
use super::transport::ImapConnector;
use super::uid_set::uid_sets;

/// The longest command line sent (Carbonio refuses lines over 8 KiB).
pub const MAX_COMMAND_LINE: usize = 8 * 1024;

/// The first UID window of a `list` call grows up to this many times `limit`
/// while the folder's UIDs are sparse.
const MAX_WINDOW: u64 = 1 << 20;
/// STATUS commands sent before their answers are read: enough for one round
/// trip to cover a usual account, few enough not to flood a server.
const STATUS_PIPELINE: usize = 64;

/// A folder as the server lists it.
#[derive(Clone, Debug)]
struct ListedFolder {
    folder: Folder,
    server_name: String,
    selectable: bool,
}

/// The folder opened with EXAMINE.
#[derive(Clone, Debug)]
struct Examined {
    path: FolderPath,
    status: FolderStatus,
    /// CONDSTORE's HIGHESTMODSEQ, when the server keeps one for the folder.
    highest_modseq: Option<u64>,
}

/// Reads one account over one connection, reconnecting after a failure.
pub struct ImapMailbox {
    connector: ImapConnector,
    credentials: Credentials,
    account: String,
    timeout: Duration,
    spool: SpoolSettings,
    session: Option<ReadSession>,
    namespaces: Option<Namespaces>,
    folders: Option<Vec<ListedFolder>>,
    examined: Option<Examined>,
}

impl ImapMailbox {
    /// Connects and logs in as `credentials` for `account` (its address, for
    /// messages), spooling large bodies as [`SpoolSettings::default`] says.
    ///
    /// # Errors
    /// As [`ReadSession::open`].
    pub async fn open(
        connector: ImapConnector,
        credentials: Credentials,
        account: String,
        timeout: Duration,
    ) -> Result<ImapMailbox> {
        Self::open_with_spool(
            connector,
            credentials,
            account,
            timeout,
            SpoolSettings::default(),
        )
        .await
    }

    /// As [`ImapMailbox::open`], with bodies longer than `spool.over` bytes
    /// spooled in `spool.dir`.
    ///
    /// # Errors
    /// As [`ReadSession::open`].
    pub async fn open_with_spool(
        connector: ImapConnector,
        credentials: Credentials,
        account: String,
        timeout: Duration,
        spool: SpoolSettings,
    ) -> Result<ImapMailbox> {
        let session =
            ReadSession::open(&connector, &credentials, &account, timeout, spool.clone()).await?;
        Ok(ImapMailbox {
            connector,
            credentials,
            account,
            timeout,
            spool,
            session: Some(session),
            namespaces: None,
            folders: None,
            examined: None,
        })
    }

    /// The live session, reconnecting when the last one failed (the failed call
    /// returned a retryable error; the engine's retry lands here).
    async fn session(&mut self) -> Result<&mut ReadSession> {
        let usable = self.session.as_ref().is_some_and(|s| !s.is_broken());
        if !usable {
            self.session = None;
            self.examined = None;
            let fresh = ReadSession::open(
                &self.connector,
                &self.credentials,
                &self.account,
                self.timeout,
                self.spool.clone(),
            )
            .await?;
            self.session = Some(fresh);
        }
        match self.session.as_mut() {
            Some(s) => Ok(s),
            None => Err(Error::Network {
                context: format!("no connection for {}", self.account),
                source: None,
            }),
        }
    }

    fn target(&self) -> String {
        format!("{} on {}", self.account, self.connector.address())
    }

    async fn namespaces(&mut self) -> Result<Namespaces> {
        if let Some(ns) = &self.namespaces {
            return Ok(ns.clone());
        }
        let found = self.session().await?.namespaces().await?;
        self.namespaces = Some(found.clone());
        Ok(found)
    }

    async fn listed(&mut self) -> Result<&[ListedFolder]> {
        if self.folders.is_none() {
            let found = self.list_folders().await?;
            self.folders = Some(found);
        }
        Ok(self.folders.as_deref().unwrap_or_default())
    }

    async fn list_folders(&mut self) -> Result<Vec<ListedFolder>> {
        let namespaces = self.namespaces().await?;
        let target = self.target();
        let pattern = format!("{}*", namespaces.personal.prefix());
        let session = self.session().await?;
        let mut raw: Vec<(String, Vec<String>)> = Vec::new();
        let mut subscribed = BTreeSet::new();
        // LIST and LSUB leave together: one round trip for both.
        let list_tag = session
            .send(&format!("LIST \"\" {}", quote(&pattern)))
            .await?;
        let lsub_tag = session
            .send(&format!("LSUB \"\" {}", quote(&pattern)))
            .await?;
        session.flush().await?;
        let mut pending = 2;
        let mut refused = None;
        while pending > 0 {
            match session.next().await? {
                Reply::Data {
                    data: Data::List { items, mailbox, .. },
                    ..
                } => {
                    let attributes = items.iter().map(|a| a.to_string()).collect();
                    raw.push((mailbox_name(&mailbox), attributes));
                }
                Reply::Data {
                    data: Data::Lsub { mailbox, .. },
                    ..
                } => {
                    subscribed.insert(mailbox_name(&mailbox));
                }
                Reply::Done { tag, completion } if tag == list_tag || tag == lsub_tag => {
                    pending -= 1;
                    let context = if tag == list_tag {
                        format!("listing the folders of {target}")
                    } else {
                        format!("listing the subscriptions of {target}")
                    };
                    if refused.is_none() {
                        refused = refusal(&context, &completion);
                    }
                }
                _ => {}
            }
        }
        if let Some(err) = refused {
            return Err(err);
        }
        // INBOX may sit outside a prefix (Courier's INBOX. namespace lists it).
        if !raw.iter().any(|(n, _)| n == "INBOX") {
            let mut keep_inbox = |reply: Reply| {
                if let Reply::Data {
                    data: Data::List { items, mailbox, .. },
                    ..
                } = reply
                {
                    let attributes = items.iter().map(|a| a.to_string()).collect();
                    raw.push((mailbox_name(&mailbox), attributes));
                }
                Ok(())
            };
            session
                .run(
                    "LIST \"\" INBOX",
                    &format!("listing the INBOX of {target}"),
                    &mut keep_inbox,
                )
                .await?;
        }
        build_folders(&namespaces, raw, &subscribed)
    }

    /// The listed folder at `path`, or [`Error::NotFound`].
    async fn find(&mut self, path: &FolderPath) -> Result<ListedFolder> {
        let target = self.target();
        self.listed()
            .await?
            .iter()
            .find(|f| &f.folder.path == path)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: format!("folder {path} of {target}"),
            })
    }

    /// EXAMINEs the folder unless it is open and unchanged; `None` for a
    /// folder that cannot be opened (`\Noselect`). With CONDSTORE the folder
    /// is opened with `(CONDSTORE)` so its HIGHESTMODSEQ is reported.
    async fn examine(&mut self, path: &FolderPath, fresh: bool) -> Result<Option<Examined>> {
        let listed = self.find(path).await?;
        if !listed.selectable {
            return Ok(None);
        }
        let target = self.target();
        let changed = self.session().await?.take_mailbox_changed();
        if let Some(open) = &self.examined {
            if &open.path == path && !fresh && !changed {
                return Ok(Some(open.clone()));
            }
        }
        self.examined = None;
        let session = self.session().await?;
        let condstore = if session.has("CONDSTORE") {
            " (CONDSTORE)"
        } else {
            ""
        };
        let mut exists = None;
        let mut uid_validity = None;
        let mut uid_next = None;
        let mut highest_modseq = None;
        let context = format!("opening folder {path} of {target}");
        session
            .run(
                &format!("EXAMINE {}{condstore}", quote(&listed.server_name)),
                &context,
                |reply| {
                    match reply {
                        Reply::Data {
                            data: Data::Exists(n),
                            ..
                        } => exists = Some(n),
                        Reply::Untagged(status) if status.kind == StatusKind::Ok => {
                            match status.code {
                                Some(Code::UidValidity(v)) => uid_validity = Some(v.get()),
                                Some(Code::UidNext(v)) => uid_next = Some(v.get()),
                                Some(Code::HighestModSeq(m)) => highest_modseq = Some(m.get()),
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                    Ok(())
                },
            )
            .await?;
        // EXAMINE's own EXISTS is not a change.
        session.take_mailbox_changed();
        let uid_validity = uid_validity.ok_or_else(|| Error::Protocol {
            context: context.clone(),
            message: "the server sent no UIDVALIDITY".into(),
        })?;
        let examined = Examined {
            path: path.clone(),
            status: FolderStatus {
                uid_validity,
                messages: u64::from(exists.unwrap_or(0)),
                uid_next,
            },
            highest_modseq,
        };
        self.examined = Some(examined.clone());
        Ok(Some(examined))
    }

    /// Metadata of the UIDs in `first..=last` (changed since `changed_since`
    /// when given), at most `keep` of the lowest.
    async fn metadata_window(
        &mut self,
        path: &FolderPath,
        (first, last): (u32, u32),
        changed_since: Option<u64>,
        keep: usize,
        into: &mut BTreeMap<u32, MessageMeta>,
    ) -> Result<()> {
        let target = self.target();
        let context = format!("listing messages of folder {path} of {target}");
        let session = self.session().await?;
        let mut partial: BTreeMap<u32, PartialMeta> = BTreeMap::new();
        let modifier = changed_since
            .map(|m| format!(" (CHANGEDSINCE {m})"))
            .unwrap_or_default();
        session
            .run(
                &format!("UID FETCH {first}:{last} (UID FLAGS INTERNALDATE RFC822.SIZE){modifier}"),
                &context,
                |reply| {
                    let Reply::Data {
                        data: Data::Fetch { items, .. },
                        mut spooled,
                    } = reply
                    else {
                        return Ok(());
                    };
                    let p = PartialMeta::read(items.as_ref(), &mut spooled);
                    let Some(uid) = p.uid else { return Ok(()) };
                    // `a:b` may answer outside the range on some servers.
                    if uid < first || uid > last {
                        return Ok(());
                    }
                    let entry = partial.entry(uid).or_default();
                    entry.merge(p);
                    if let Some(meta) = entry.complete() {
                        partial.remove(&uid);
                        into.insert(uid, meta);
                        // Only the lowest `keep` are kept: memory stays bounded
                        // by the caller's limit whatever the window.
                        while into.len() > keep {
                            into.pop_last();
                        }
                    }
                    Ok(())
                },
            )
            .await?;
        if let Some((uid, _)) = partial.iter().find(|(uid, _)| {
            into.len() < keep || into.last_key_value().is_some_and(|(max, _)| *uid < max)
        }) {
            return Err(Error::Protocol {
                context,
                message: format!(
                    "uid {uid}: the server sent no FLAGS, INTERNALDATE or RFC822.SIZE"
                ),
            });
        }
        Ok(())
    }

    /// A page of metadata after `after`, only messages changed since
    /// `changed_since` when given (CONDSTORE).
    async fn page(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
        changed_since: Option<u64>,
    ) -> Result<Vec<MessageMeta>> {
        let Some(examined) = self.examine(folder, false).await? else {
            return Ok(Vec::new());
        };
        let status = examined.status;
        if status.messages == 0 || limit == 0 {
            return Ok(Vec::new());
        }
        // UIDs below UIDNEXT are all there is; without UIDNEXT, all of them.
        let end = u64::from(status.uid_next.map_or(u32::MAX, |n| n.saturating_sub(1)));
        let mut start = u64::from(after.map_or(0, Uid::get)) + 1;
        let mut found: BTreeMap<u32, MessageMeta> = BTreeMap::new();
        let mut window = (limit as u64).clamp(1, MAX_WINDOW);
        // Explicit `a:b` windows instead of `a:*`: `*` answers with the last
        // message even when it is below `a`, and `a:*` would send the rest of a
        // large folder to take `limit` of it.
        while start <= end && found.len() < limit {
            let stop = (start + window - 1).min(end);
            let before = found.len();
            self.metadata_window(
                folder,
                (
                    u32::try_from(start).unwrap_or(u32::MAX),
                    u32::try_from(stop).unwrap_or(u32::MAX),
                ),
                changed_since,
                limit,
                &mut found,
            )
            .await?;
            let got = (found.len() - before) as u64;
            if got * 2 < window {
                window = (window * 2).min(MAX_WINDOW.max(limit as u64));
            }
            start = stop + 1;
            if found.len() as u64 >= status.messages {
                break;
            }
        }
        Ok(found.into_values().take(limit).collect())
    }

    /// `STATUS` of the named folders (server names), pipelined in groups of
    /// [`STATUS_PIPELINE`]: the answers by server name. A folder the server
    /// refuses (deleted meanwhile, say) is missing from the answer; a
    /// throttling refusal is an error.
    async fn status_many(&mut self, names: &[String]) -> Result<HashMap<String, FolderCheck>> {
        let context = format!("checking the folders of {}", self.target());
        let session = self.session().await?;
        let items = if session.has("CONDSTORE") {
            "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)"
        } else {
            "(MESSAGES UIDNEXT UIDVALIDITY)"
        };
        let mut found = HashMap::with_capacity(names.len());
        for group in names.chunks(STATUS_PIPELINE) {
            let mut pending = BTreeSet::new();
            for name in group {
                pending.insert(
                    session
                        .send(&format!("STATUS {} {items}", quote(name)))
                        .await?,
                );
            }
            session.flush().await?;
            while !pending.is_empty() {
                match session.next().await? {
                    Reply::Data {
                        data: Data::Status { mailbox, items },
                        ..
                    } => {
                        let mut check = FolderCheck {
                            status: FolderStatus {
                                uid_validity: 0,
                                messages: 0,
                                uid_next: None,
                            },
                            highest_modseq: None,
                        };
                        for item in items.iter() {
                            match item {
                                StatusDataItem::Messages(n) => {
                                    check.status.messages = u64::from(*n)
                                }
                                StatusDataItem::UidNext(n) => check.status.uid_next = Some(n.get()),
                                StatusDataItem::UidValidity(v) => {
                                    check.status.uid_validity = v.get()
                                }
                                StatusDataItem::HighestModSeq(m) => check.highest_modseq = Some(*m),
                                _ => {}
                            }
                        }
                        // Without UIDVALIDITY the answer cannot be matched to
                        // the journal: the folder is checked the long way.
                        if check.status.uid_validity != 0 {
                            found.insert(mailbox_name(&mailbox), check);
                        }
                    }
                    Reply::Done { tag, completion } if pending.remove(&tag) => {
                        if let Some(err) = refusal(&context, &completion) {
                            if err.is_retryable() {
                                return Err(err);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(found)
    }

    /// Sends one `UID FETCH <set> <items>` per set of `order` (split to keep
    /// lines short), all before any answer is read; returns their tags.
    async fn send_fetches(&mut self, order: &[u32], items: &str) -> Result<Vec<String>> {
        let sets = uid_sets(order, MAX_COMMAND_LINE - 100);
        let session = self.session().await?;
        let mut tags = Vec::with_capacity(sets.len());
        for set in &sets {
            tags.push(session.send(&format!("UID FETCH {set} {items}")).await?);
        }
        session.flush().await?;
        Ok(tags)
    }
}

/// Each UID once, in the order first given.
fn first_occurrences(uids: &[Uid]) -> (Vec<u32>, BTreeSet<u32>) {
    let mut order = Vec::with_capacity(uids.len());
    let mut unique = BTreeSet::new();
    for uid in uids {
        if unique.insert(uid.get()) {
            order.push(uid.get());
        }
    }
    (order, unique)
}

/// A mailbox name as on the wire (`INBOX` for the inbox in any case).
fn mailbox_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".into(),
        Mailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    }
}

/// Builds the folder list: names outside the personal namespace dropped,
/// paths translated, missing parents added as unselectable, parents first.
fn build_folders(
    namespaces: &Namespaces,
    raw: Vec<(String, Vec<String>)>,
    subscribed: &BTreeSet<String>,
) -> Result<Vec<ListedFolder>> {
    let personal = &namespaces.personal;
    let mut by_path: BTreeMap<FolderPath, ListedFolder> = BTreeMap::new();
    let mut seen_names = BTreeSet::new();
    for (name, attributes) in raw {
        if !seen_names.insert(name.clone()) || personal.is_root(&name) {
            continue;
        }
        let foreign = namespaces
            .foreign_prefixes
            .iter()
            .any(|p| name.starts_with(p.as_str()) && !personal.prefix().starts_with(p.as_str()));
        if foreign {
            continue;
        }
        let selectable = !attributes.iter().any(|a| {
            a.eq_ignore_ascii_case("\\Noselect") || a.eq_ignore_ascii_case("\\NonExistent")
        });
        let mut path = personal.to_path(&name)?;
        // Two server names can meet on one path ('a/b' and 'a_b'): the later
        // one gets a numbered name instead of being merged or lost.
        let mut n = 2;
        while by_path.contains_key(&path) {
            let renamed = format!("{} ({n})", personal.to_path(&name)?.name());
            let mut segments = path.segments().to_vec();
            if let Some(last) = segments.last_mut() {
                *last = renamed;
            }
            path = FolderPath::new(segments)?;
            n += 1;
        }
        let role = folder_role(&path, attributes.iter().map(String::as_str));
        by_path.insert(
            path.clone(),
            ListedFolder {
                folder: Folder {
                    path,
                    role,
                    kind: FolderKind::Mail,
                    subscribed: subscribed.contains(&name),
                },
                server_name: name,
                selectable,
            },
        );
    }
    let paths: Vec<FolderPath> = by_path.keys().cloned().collect();
    for path in paths {
        let mut parent = path.parent();
        while let Some(p) = parent {
            if !by_path.contains_key(&p) {
                by_path.insert(
                    p.clone(),
                    ListedFolder {
                        server_name: personal.to_server(&p),
                        folder: Folder {
                            path: p.clone(),
                            role: None,
                            kind: FolderKind::Mail,
                            subscribed: false,
                        },
                        selectable: false,
                    },
                );
            }
            parent = p.parent();
        }
    }
    // A BTreeMap of segment lists orders every parent before its children;
    // INBOX is put first as users expect.
    let (inbox, rest): (Vec<_>, Vec<_>) = by_path
        .into_values()
        .partition(|f| f.folder.path.segments() == ["INBOX"]);
    Ok(inbox.into_iter().chain(rest).collect())
}

/// A mailbox name or pattern as an IMAP quoted string.
pub fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A body as it arrived: in memory, or in a spool file when it was larger
/// than the spool threshold.
#[derive(Debug)]
enum Fetched {
    Memory(bytes::Bytes),
    Spooled(SpoolFile, u32),
}

impl Fetched {
    /// The body's bytes as they arrived, from `data` or from the spool.
    fn of(
        data: &imap_codec::imap_types::core::NString<'_>,
        spooled: &mut Option<(BodySink, u32)>,
    ) -> Option<Fetched> {
        let bytes = data.0.as_ref()?.as_ref();
        // The spilled literal is announced empty in the decoded response.
        if bytes.is_empty() {
            match spooled.take() {
                Some((BodySink::File(file), len)) => return Some(Fetched::Spooled(file, len)),
                Some((BodySink::Memory(body), _)) => {
                    return Some(Fetched::Memory(bytes::Bytes::from(body)))
                }
                None => {}
            }
        }
        Some(Fetched::Memory(bytes::Bytes::copy_from_slice(bytes)))
    }

    fn len(&self) -> u64 {
        match self {
            Fetched::Memory(b) => b.len() as u64,
            Fetched::Spooled(_, len) => u64::from(*len),
        }
    }

    async fn into_body(self) -> Result<MessageBody> {
        match self {
            Fetched::Memory(b) => Ok(MessageBody::from_bytes(b)),
            Fetched::Spooled(file, len) => file.into_body(u64::from(len)).await,
        }
    }
}

/// What one FETCH response said of a message.
#[derive(Default)]
struct PartialMeta {
    uid: Option<u32>,
    flags: Option<Flags>,
    date: Option<DateTime<FixedOffset>>,
    size: Option<u32>,
    /// `BODY[]`: `Some(None)` when the server sent NIL.
    body: Option<Option<Fetched>>,
    /// `BODY[HEADER]`.
    header: Option<Option<Fetched>>,
}

impl PartialMeta {
    fn read(items: &[MessageDataItem<'_>], spooled: &mut Option<(BodySink, u32)>) -> PartialMeta {
        let mut p = PartialMeta::default();
        for item in items {
            match item {
                MessageDataItem::Uid(u) => p.uid = Some(u.get()),
                MessageDataItem::Flags(f) => {
                    let names: Vec<String> = f
                        .iter()
                        .map(|flag| match flag {
                            FlagFetch::Flag(flag) => flag.to_string(),
                            FlagFetch::Recent => "\\Recent".to_string(),
                        })
                        .collect();
                    p.flags = Some(flags_of(names.iter().map(String::as_str)));
                }
                MessageDataItem::InternalDate(d) => p.date = Some(*d.as_ref()),
                MessageDataItem::Rfc822Size(s) => p.size = Some(*s),
                MessageDataItem::BodyExt {
                    section: None,
                    origin: None,
                    data,
                } => p.body = Some(Fetched::of(data, spooled)),
                MessageDataItem::BodyExt {
                    section: Some(Section::Header(None)),
                    origin: None,
                    data,
                } => p.header = Some(Fetched::of(data, spooled)),
                _ => {}
            }
        }
        p
    }

    fn merge(&mut self, other: PartialMeta) {
        self.uid = self.uid.or(other.uid);
        if other.flags.is_some() {
            self.flags = other.flags;
        }
        if other.date.is_some() {
            self.date = other.date;
        }
        if other.size.is_some() {
            self.size = other.size;
        }
        if other.body.is_some() {
            self.body = other.body;
        }
        if other.header.is_some() {
            self.header = other.header;
        }
    }

    /// The metadata once flags, date and size are known.
    fn complete(&self) -> Option<MessageMeta> {
        Some(MessageMeta {
            uid: Uid::new(self.uid?)?,
            flags: self.flags.clone()?,
            internal_date: self.date?,
            size: u64::from(self.size?),
        })
    }
}

/// Flags of a FETCH response: system flags by name, `\Recent` dropped (it is
/// session state), keywords kept as the source spells them.
pub fn flags_of<'a>(names: impl IntoIterator<Item = &'a str>) -> Flags {
    let mut flags = Flags::default();
    for name in names {
        match name.to_ascii_lowercase().as_str() {
            "\\seen" => flags.seen = true,
            "\\answered" => flags.answered = true,
            "\\flagged" => flags.flagged = true,
            "\\deleted" => flags.deleted = true,
            "\\draft" => flags.draft = true,
            "\\recent" => {}
            // Other backslash names are not flags a client can set.
            lower if lower.starts_with('\\') => {}
            _ => {
                flags.keywords.insert(name.to_string());
            }
        }
    }
    flags
}

/// Parses an INTERNALDATE (`17-Jul-1996 02:44:25 -0700`, day space-padded).
pub fn parse_internal_date(text: &str) -> std::result::Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_str(text.trim(), "%d-%b-%Y %H:%M:%S %z")
        .map_err(|e| format!("INTERNALDATE {text:?} is not a date: {e}"))
}

#[async_trait]
impl MailboxReader for ImapMailbox {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        // Listed afresh each call, so a re-run sees folders created since.
        self.folders = None;
        Ok(self
            .listed()
            .await?
            .iter()
            .map(|f| f.folder.clone())
            .collect())
    }

    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        Ok(self
            .examine(folder, true)
            .await?
            .map(|e| e.status)
            .unwrap_or(FolderStatus {
                uid_validity: 0,
                messages: 0,
                uid_next: None,
            }))
    }

    async fn statuses(&mut self, folders: &[FolderPath]) -> Result<Vec<Option<FolderCheck>>> {
        let mut names = Vec::with_capacity(folders.len());
        for path in folders {
            let listed = self.find(path).await?;
            names.push(listed.selectable.then_some(listed.server_name));
        }
        let asked: Vec<String> = names.iter().flatten().cloned().collect();
        let mut found = self.status_many(&asked).await?;
        Ok(names
            .into_iter()
            .map(|name| match name {
                Some(name) => found.remove(&name),
                // A folder that cannot be opened holds no messages.
                None => Some(FolderCheck {
                    status: FolderStatus {
                        uid_validity: 0,
                        messages: 0,
                        uid_next: None,
                    },
                    highest_modseq: None,
                }),
            })
            .collect())
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        self.page(folder, after, limit, None).await
    }

    async fn highest_modseq(&mut self, folder: &FolderPath) -> Result<Option<u64>> {
        Ok(self
            .examine(folder, true)
            .await?
            .and_then(|e| e.highest_modseq))
    }

    async fn list_changed(
        &mut self,
        folder: &FolderPath,
        modseq: u64,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let condstore = self.session().await?.has("CONDSTORE");
        // Without CONDSTORE every message counts as changed (the contract
        // allows more, never less).
        let since = condstore.then_some(modseq);
        self.page(folder, after, limit, since).await
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let (order, wanted) = first_occurrences(uids);
        if order.is_empty() || self.examine(folder, false).await?.is_none() {
            return Ok(Box::pin(stream::empty()));
        }
        let context = format!("fetching messages of folder {folder} of {}", self.target());
        // All commands go out before any answer is read: one round trip.
        let pending = self
            .send_fetches(&order, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
            .await?;
        let session = self.session().await?;
        let state = FetchState {
            session,
            context,
            wanted,
            order,
            next: 0,
            ready: HashMap::new(),
            partial: HashMap::new(),
            pending,
            refusal: None,
        };
        Ok(Box::pin(stream::unfold(state, |mut state| async move {
            state.step().await.map(|item| (item, state))
        })))
    }

    async fn fetch_headers(
        &mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<Vec<(Uid, Vec<u8>, u64)>> {
        let (order, wanted) = first_occurrences(uids);
        if order.is_empty() || self.examine(folder, false).await?.is_none() {
            return Ok(Vec::new());
        }
        let context = format!(
            "fetching message headers of folder {folder} of {}",
            self.target()
        );
        let mut pending = self
            .send_fetches(&order, "(UID RFC822.SIZE BODY.PEEK[HEADER])")
            .await?;
        let session = self.session().await?;
        let mut partial: HashMap<u32, PartialMeta> = HashMap::new();
        let mut failure = None;
        while !pending.is_empty() {
            match session.next().await {
                Err(e) => {
                    session.abandon();
                    return Err(e);
                }
                Ok(Reply::Data {
                    data: Data::Fetch { items, .. },
                    mut spooled,
                }) => {
                    let p = PartialMeta::read(items.as_ref(), &mut spooled);
                    if let Some(uid) = p.uid.filter(|u| wanted.contains(u)) {
                        partial.entry(uid).or_default().merge(p);
                    }
                }
                Ok(Reply::Done { tag, completion }) if pending.contains(&tag) => {
                    pending.retain(|t| *t != tag);
                    if let Some(e) = refusal(&context, &completion) {
                        failure.get_or_insert(e);
                    }
                }
                Ok(_) => {}
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        let mut out = Vec::with_capacity(order.len());
        for uid in order {
            let Some(p) = partial.remove(&uid) else {
                // No longer exists.
                continue;
            };
            let (Some(size), Some(Some(header))) = (p.size, p.header) else {
                return Err(Error::Protocol {
                    context,
                    message: format!("uid {uid}: the server sent no RFC822.SIZE or header"),
                });
            };
            let header = header.into_body().await?.read_all().await?;
            if let Some(uid) = Uid::new(uid) {
                out.push((uid, header, u64::from(size)));
            }
        }
        Ok(out)
    }
}

/// The progress of one fetch: messages are yielded in the order asked, as soon
/// as each one and those before it have arrived.
struct FetchState<'a> {
    session: &'a mut ReadSession,
    context: String,
    wanted: BTreeSet<u32>,
    order: Vec<u32>,
    next: usize,
    ready: HashMap<u32, Result<(MessageMeta, Fetched)>>,
    partial: HashMap<u32, PartialMeta>,
    pending: Vec<String>,
    refusal: Option<Error>,
}

impl Drop for FetchState<'_> {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            // Answers are still on their way: a later command would read
            // them as its own. A fresh connection is cheaper than draining.
            self.session.abandon();
        }
    }
}

impl FetchState<'_> {
    async fn step(&mut self) -> Option<Result<Message>> {
        loop {
            if let Some(uid) = self.order.get(self.next).copied() {
                if let Some(item) = self.ready.remove(&uid) {
                    self.next += 1;
                    return Some(match item {
                        Ok((meta, fetched)) => {
                            fetched.into_body().await.map(|body| Message { meta, body })
                        }
                        Err(e) => Err(e),
                    });
                }
            }
            if self.pending.is_empty() {
                // Everything has arrived: what is still missing no longer exists.
                while let Some(uid) = self.order.get(self.next) {
                    if self.ready.contains_key(uid) {
                        break;
                    }
                    self.next += 1;
                }
                if self.next < self.order.len() {
                    continue;
                }
                return self.refusal.take().map(Err);
            }
            match self.session.next().await {
                Err(e) => {
                    // The connection is gone, or out of step: nothing more
                    // will come.
                    self.session.abandon();
                    self.pending.clear();
                    self.order.clear();
                    self.ready.clear();
                    self.refusal = None;
                    return Some(Err(e));
                }
                Ok(Reply::Data {
                    data: Data::Fetch { items, .. },
                    mut spooled,
                }) => {
                    let p = PartialMeta::read(items.as_ref(), &mut spooled);
                    self.arrived(p);
                }
                Ok(Reply::Done { tag, completion }) if self.pending.contains(&tag) => {
                    self.pending.retain(|t| *t != tag);
                    if let Some(e) = refusal(&self.context, &completion) {
                        self.refusal.get_or_insert(e);
                    }
                }
                Ok(_) => {}
            }
        }
    }

    fn arrived(&mut self, p: PartialMeta) {
        let Some(uid) = p.uid else { return };
        if !self.wanted.contains(&uid) || self.ready.contains_key(&uid) {
            return;
        }
        let entry = self.partial.entry(uid).or_default();
        entry.merge(p);
        // Unsolicited FETCH (a flag change) has no body: wait for the real one.
        if entry.body.is_none() {
            return;
        }
        let Some(mut meta) = entry.complete() else {
            return;
        };
        let body = self.partial.remove(&uid).and_then(|p| p.body).flatten();
        let item = match body {
            Some(body) => {
                // The bytes are the truth; RFC822.SIZE only announces them.
                meta.size = body.len();
                Ok((meta, body))
            }
            None => Err(Error::Protocol {
                context: self.context.clone(),
                message: format!("uid {uid}: the server sent no body (NIL)"),
            }),
        };
        self.ready.insert(uid, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::imap::namespace::Namespace;

    fn ns(prefix: &str, d: char) -> Namespaces {
        Namespaces {
            personal: Namespace::new(prefix, Some(d)),
            foreign_prefixes: vec!["shared/".into()],
        }
    }

    fn raw(items: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        items
            .iter()
            .map(|(n, a)| (n.to_string(), a.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn folders_parents_first_with_roles_subscriptions_and_synthesised_parents() {
        let subscribed: BTreeSet<String> =
            ["INBOX", "Sent"].iter().map(|s| s.to_string()).collect();
        let folders = build_folders(
            &ns("", '/'),
            raw(&[
                ("Zeta/Deep/Leaf", &[]),
                ("Sent", &["\\Sent"]),
                ("INBOX", &[]),
                ("Papierkorb", &[]),
                ("Stuff", &["\\Junk", "\\HasNoChildren"]),
                ("shared/bob/INBOX", &[]),
                ("Parent", &["\\Noselect"]),
                ("Parent/Child", &[]),
                ("Entw&APw-rfe", &[]),
            ]),
            &subscribed,
        )
        .unwrap();
        let shown: Vec<String> = folders
            .iter()
            .map(|f| {
                format!(
                    "{} {:?} {} {}",
                    f.folder.path, f.folder.role, f.folder.subscribed, f.selectable
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "INBOX Some(Inbox) true true",
                "Entwürfe Some(Drafts) false true",
                "Papierkorb Some(Trash) false true",
                "Parent None false false",
                "Parent/Child None false true",
                "Sent Some(Sent) true true",
                "Stuff Some(Junk) false true",
                "Zeta None false false",
                "Zeta/Deep None false false",
                "Zeta/Deep/Leaf None false true",
            ]
        );
        assert_eq!(folders[1].server_name, "Entw&APw-rfe");
        assert_eq!(folders[7].server_name, "Zeta");
    }

    #[test]
    fn colliding_names_are_numbered_not_merged() {
        let folders = build_folders(
            &ns("", '.'),
            raw(&[("a_b", &[]), ("a/b", &[])]),
            &BTreeSet::new(),
        )
        .unwrap();
        let paths: Vec<String> = folders.iter().map(|f| f.folder.path.to_string()).collect();
        assert_eq!(paths, ["a_b", "a_b (2)"]);
        assert_eq!(folders[1].server_name, "a/b");
    }

    #[test]
    fn courier_namespace_root_is_not_a_folder() {
        let folders = build_folders(
            &ns("INBOX.", '.'),
            raw(&[
                ("INBOX", &[]),
                ("INBOX.", &["\\Noselect"]),
                ("INBOX.Sent", &[]),
            ]),
            &BTreeSet::new(),
        )
        .unwrap();
        let paths: Vec<String> = folders.iter().map(|f| f.folder.path.to_string()).collect();
        assert_eq!(paths, ["INBOX", "Sent"]);
    }

    #[test]
    fn flags_and_dates_parse() {
        let f = flags_of(["\\Seen", "\\Recent", "$Forwarded", "\\FLAGGED", "project_x"]);
        assert_eq!(f.to_imap(), "\\Seen \\Flagged $Forwarded project_x");
        let d = parse_internal_date(" 2-Jan-1970 00:00:00 +0000").unwrap();
        assert_eq!(d.to_rfc3339(), "1970-01-02T00:00:00+00:00");
        let d = parse_internal_date("17-Jul-2039 02:44:25 -0700").unwrap();
        assert_eq!(d.to_rfc3339(), "2039-07-17T02:44:25-07:00");
        assert!(parse_internal_date("yesterday").is_err());
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
    }
}

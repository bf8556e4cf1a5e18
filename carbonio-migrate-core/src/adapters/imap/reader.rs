//! The [`MailboxReader`] of one IMAP account.
//!
//! Read-only by construction: folders are opened with `EXAMINE`, bodies read
//! with `BODY.PEEK[]`, and no command that changes anything (SELECT, STORE,
//! EXPUNGE, CREATE, APPEND, COPY) is ever sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_imap::imap_proto::{
    AttributeValue, MailboxDatum, NameAttribute, Response, ResponseCode, Status,
};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use futures::stream;

use crate::error::{Error, Result};
use crate::model::{Flags, Folder, FolderKind, FolderPath, Message, MessageBody, MessageMeta, Uid};
use crate::source::{FolderStatus, MailboxReader, ResultStream};

use super::auth::Credentials;
use super::namespace::folder_role;
use super::session::{completion, Namespaces, ReadSession};
use super::transport::ImapConnector;
use super::uid_set::uid_sets;

/// The longest command line sent (Carbonio refuses lines over 8 KiB).
pub const MAX_COMMAND_LINE: usize = 8 * 1024;

/// The first UID window of a `list` call grows up to this many times `limit`
/// while the folder's UIDs are sparse.
const MAX_WINDOW: u64 = 1 << 20;

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
}

/// Reads one account over one connection, reconnecting after a failure.
pub struct ImapMailbox {
    connector: ImapConnector,
    credentials: Credentials,
    account: String,
    timeout: Duration,
    session: Option<ReadSession>,
    namespaces: Option<Namespaces>,
    folders: Option<Vec<ListedFolder>>,
    examined: Option<Examined>,
}

impl ImapMailbox {
    /// Connects and logs in as `credentials` for `account` (its address, for
    /// messages).
    ///
    /// # Errors
    /// As [`ReadSession::open`].
    pub async fn open(
        connector: ImapConnector,
        credentials: Credentials,
        account: String,
        timeout: Duration,
    ) -> Result<ImapMailbox> {
        let session = ReadSession::open(&connector, &credentials, &account, timeout).await?;
        Ok(ImapMailbox {
            connector,
            credentials,
            account,
            timeout,
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
        let session = self.session().await?;
        session.refresh_capabilities().await?;
        let found = session.namespaces().await?;
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
        session
            .run(
                &format!("LIST \"\" {}", quote(&pattern)),
                &format!("listing the folders of {target}"),
                |r| {
                    if let Response::MailboxData(MailboxDatum::List(list)) = r {
                        let attributes = list.name_attributes.iter().map(attribute_text).collect();
                        raw.push((list.name.to_string(), attributes));
                    }
                    Ok(())
                },
            )
            .await?;
        // INBOX may sit outside a prefix (Courier's INBOX. namespace lists it).
        if !raw.iter().any(|(n, _)| n == "INBOX") {
            session
                .run(
                    "LIST \"\" INBOX",
                    &format!("listing the INBOX of {target}"),
                    |r| {
                        if let Response::MailboxData(MailboxDatum::List(list)) = r {
                            let attributes =
                                list.name_attributes.iter().map(attribute_text).collect();
                            raw.push((list.name.to_string(), attributes));
                        }
                        Ok(())
                    },
                )
                .await?;
        }
        let mut subscribed = BTreeSet::new();
        session
            .run(
                &format!("LSUB \"\" {}", quote(&pattern)),
                &format!("listing the subscriptions of {target}"),
                |r| {
                    if let Response::MailboxData(MailboxDatum::List(list)) = r {
                        subscribed.insert(list.name.to_string());
                    }
                    Ok(())
                },
            )
            .await?;
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
    /// folder that cannot be opened (`\Noselect`).
    async fn examine(&mut self, path: &FolderPath, fresh: bool) -> Result<Option<FolderStatus>> {
        let listed = self.find(path).await?;
        if !listed.selectable {
            return Ok(None);
        }
        let target = self.target();
        let changed = self.session().await?.take_mailbox_changed();
        if let Some(open) = &self.examined {
            if &open.path == path && !fresh && !changed {
                return Ok(Some(open.status.clone()));
            }
        }
        self.examined = None;
        let session = self.session().await?;
        let mut exists = None;
        let mut uid_validity = None;
        let mut uid_next = None;
        let context = format!("opening folder {path} of {target}");
        session
            .run(
                &format!("EXAMINE {}", quote(&listed.server_name)),
                &context,
                |r| {
                    match r {
                        Response::MailboxData(MailboxDatum::Exists(n)) => exists = Some(*n),
                        Response::Data {
                            status: Status::Ok,
                            outcome,
                        } => match outcome.code {
                            Some(ResponseCode::UidValidity(v)) => uid_validity = Some(v),
                            Some(ResponseCode::UidNext(v)) => uid_next = Some(v),
                            _ => {}
                        },
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
        let status = FolderStatus {
            uid_validity,
            messages: u64::from(exists.unwrap_or(0)),
            uid_next,
        };
        self.examined = Some(Examined {
            path: path.clone(),
            status: status.clone(),
        });
        Ok(Some(status))
    }

    /// Metadata of the UIDs in `first..=last`, at most `keep` of the lowest.
    async fn metadata_window(
        &mut self,
        path: &FolderPath,
        first: u32,
        last: u32,
        keep: usize,
        into: &mut BTreeMap<u32, MessageMeta>,
    ) -> Result<()> {
        let target = self.target();
        let context = format!("listing messages of folder {path} of {target}");
        let session = self.session().await?;
        let mut partial: BTreeMap<u32, PartialMeta> = BTreeMap::new();
        let mut bad: Option<Error> = None;
        session
            .run(
                &format!("UID FETCH {first}:{last} (UID FLAGS INTERNALDATE RFC822.SIZE)"),
                &context,
                |r| {
                    if let Response::Fetch(_, attributes) = r {
                        let p = PartialMeta::read(attributes);
                        let Some(uid) = p.uid else { return Ok(()) };
                        // `a:b` may answer outside the range on some servers.
                        if uid < first || uid > last {
                            return Ok(());
                        }
                        let entry = partial.entry(uid).or_default();
                        entry.merge(p);
                        if let Some(meta) = entry.complete() {
                            match meta {
                                Ok(meta) => {
                                    partial.remove(&uid);
                                    into.insert(uid, meta);
                                    // Only the lowest `keep` are kept: memory stays bounded
                                    // by the caller's limit whatever the window.
                                    while into.len() > keep {
                                        into.pop_last();
                                    }
                                }
                                Err(reason) => {
                                    bad.get_or_insert(Error::Protocol {
                                        context: context.clone(),
                                        message: format!("uid {uid}: {reason}"),
                                    });
                                }
                            }
                        }
                    }
                    Ok(())
                },
            )
            .await?;
        if let Some(e) = bad {
            return Err(e);
        }
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

/// A LIST name attribute as the server spells it (`\Noselect`, `\Sent`).
fn attribute_text(attribute: &NameAttribute<'_>) -> String {
    match attribute {
        NameAttribute::NoInferiors => "\\Noinferiors".into(),
        NameAttribute::NoSelect => "\\Noselect".into(),
        NameAttribute::Marked => "\\Marked".into(),
        NameAttribute::Unmarked => "\\Unmarked".into(),
        NameAttribute::All => "\\All".into(),
        NameAttribute::Archive => "\\Archive".into(),
        NameAttribute::Drafts => "\\Drafts".into(),
        NameAttribute::Flagged => "\\Flagged".into(),
        NameAttribute::Junk => "\\Junk".into(),
        NameAttribute::Sent => "\\Sent".into(),
        NameAttribute::Trash => "\\Trash".into(),
        NameAttribute::Extension(text) => text.to_string(),
        other => format!("{other:?}"),
    }
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

/// What one FETCH response said of a message.
#[derive(Default)]
struct PartialMeta {
    uid: Option<u32>,
    flags: Option<Flags>,
    date: Option<std::result::Result<DateTime<FixedOffset>, String>>,
    size: Option<u32>,
    body: Option<Option<bytes::Bytes>>,
}

impl PartialMeta {
    fn read(attributes: &[AttributeValue<'_>]) -> PartialMeta {
        let mut p = PartialMeta::default();
        for a in attributes {
            match a {
                AttributeValue::Uid(u) => p.uid = Some(*u),
                AttributeValue::Flags(f) => p.flags = Some(flags_of(f.iter().map(|c| c.as_ref()))),
                AttributeValue::InternalDate(d) => p.date = Some(parse_internal_date(d)),
                AttributeValue::Rfc822Size(s) => p.size = Some(*s),
                AttributeValue::BodySection {
                    section: None,
                    data,
                    ..
                } => {
                    p.body = Some(
                        data.as_ref()
                            .map(|d| bytes::Bytes::copy_from_slice(d.as_ref())),
                    )
                }
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
    }

    /// The metadata once flags, date and size are known.
    fn complete(&self) -> Option<std::result::Result<MessageMeta, String>> {
        let (uid, flags, date, size) = (
            self.uid?,
            self.flags.clone()?,
            self.date.clone()?,
            self.size?,
        );
        let Some(uid) = Uid::new(uid) else {
            return Some(Err("the server sent UID 0".into()));
        };
        Some(date.map(|internal_date| MessageMeta {
            uid,
            flags,
            internal_date,
            size: u64::from(size),
        }))
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
        Ok(self.examine(folder, true).await?.unwrap_or(FolderStatus {
            uid_validity: 0,
            messages: 0,
            uid_next: None,
        }))
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let Some(status) = self.examine(folder, false).await? else {
            return Ok(Vec::new());
        };
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
                u32::try_from(start).unwrap_or(u32::MAX),
                u32::try_from(stop).unwrap_or(u32::MAX),
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

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let mut order: Vec<u32> = Vec::with_capacity(uids.len());
        let mut unique = BTreeSet::new();
        for uid in uids {
            if unique.insert(uid.get()) {
                order.push(uid.get());
            }
        }
        if order.is_empty() || self.examine(folder, false).await?.is_none() {
            return Ok(Box::pin(stream::empty()));
        }
        let context = format!("fetching messages of folder {folder} of {}", self.target());
        let sets = uid_sets(&order, MAX_COMMAND_LINE - 100);
        let session = self.session().await?;
        let mut pending = Vec::with_capacity(sets.len());
        // All commands go out before any answer is read: one round trip.
        for set in &sets {
            pending.push(
                session
                    .send(&format!(
                        "UID FETCH {set} (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"
                    ))
                    .await?,
            );
        }
        let state = FetchState {
            session,
            context,
            wanted: unique,
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
}

/// The progress of one fetch: messages are yielded in the order asked, as soon
/// as each one and those before it have arrived.
struct FetchState<'a> {
    session: &'a mut ReadSession,
    context: String,
    wanted: BTreeSet<u32>,
    order: Vec<u32>,
    next: usize,
    ready: HashMap<u32, Result<Message>>,
    partial: HashMap<u32, PartialMeta>,
    pending: Vec<async_imap::imap_proto::RequestId>,
    refusal: Option<Error>,
}

impl FetchState<'_> {
    async fn step(&mut self) -> Option<Result<Message>> {
        loop {
            if let Some(uid) = self.order.get(self.next).copied() {
                if let Some(item) = self.ready.remove(&uid) {
                    self.next += 1;
                    return Some(item);
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
            let pending = &self.pending;
            let read = self
                .session
                .next(|r| match r {
                    Response::Fetch(_, attributes) => Arrival::Fetch(PartialMeta::read(attributes)),
                    other => match pending
                        .iter()
                        .find_map(|tag| completion(other, tag).map(|done| (tag.clone(), done)))
                    {
                        Some((tag, done)) => Arrival::Done(tag, done),
                        None => Arrival::Other,
                    },
                })
                .await;
            match read {
                Err(e) => {
                    // The connection is gone: nothing more will come.
                    self.pending.clear();
                    self.order.clear();
                    self.refusal = None;
                    return Some(Err(e));
                }
                Ok(Arrival::Other) => {}
                Ok(Arrival::Done(tag, done)) => {
                    self.pending.retain(|t| *t != tag);
                    if !done.ok && self.refusal.is_none() {
                        self.refusal = Some(Error::Protocol {
                            context: self.context.clone(),
                            message: done.text,
                        });
                    }
                }
                Ok(Arrival::Fetch(p)) => self.arrived(p),
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
        let Some(body) = entry.body.clone() else {
            return;
        };
        let Some(meta) = entry.complete() else { return };
        self.partial.remove(&uid);
        let item = match (meta, body) {
            (Ok(mut meta), Some(body)) => {
                // The bytes are the truth; RFC822.SIZE only announces them.
                meta.size = body.len() as u64;
                Ok(Message {
                    meta,
                    body: MessageBody::from_bytes(body),
                })
            }
            (Ok(_), None) => Err(Error::Protocol {
                context: self.context.clone(),
                message: format!("uid {uid}: the server sent no body (NIL)"),
            }),
            (Err(reason), _) => Err(Error::Protocol {
                context: self.context.clone(),
                message: format!("uid {uid}: {reason}"),
            }),
        };
        self.ready.insert(uid, item);
    }
}

enum Arrival {
    Fetch(PartialMeta),
    Done(
        async_imap::imap_proto::RequestId,
        super::session::Completion,
    ),
    Other,
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

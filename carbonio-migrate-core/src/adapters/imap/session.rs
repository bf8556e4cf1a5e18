//! A reading session: an authenticated [`CodecClient`] connection (the same
//! imap-codec client as the write path) with tagged `NO`/`BAD`, `BYE` and
//! throttling answers turned into the crate's errors, the selected folder's
//! changes noted, and message bodies over a threshold spooled to disk while
//! their FETCH response is read.
//!
//! Commands are written as lines under the client's tags and answered by
//! reading responses one by one, so several commands can be on the wire
//! before the first answer is read (one round trip per batch).

use std::time::Duration;

use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::IString;
use imap_codec::imap_types::extensions::namespace::Namespaces as CodecNamespaces;
use imap_codec::imap_types::response::{Data, Response, Status, StatusKind};

use crate::error::{Error, Result};

use super::auth::Credentials;
use super::body_sink::{BodySink, DIRECT_OVER};
use super::body_spool::{SpoolFile, SpoolSettings};
use super::codec_client::{
    is_throttling, kind_name, throttled, ClientLimits, CodecClient, Completion, OnNo,
};
use super::config::AuthMode;
use super::namespace::Namespace;
use super::transport::{ImapConnector, ImapStream};

/// The namespaces of a server (RFC 2342), as far as reading needs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespaces {
    /// The user's own mailboxes.
    pub personal: Namespace,
    /// Prefixes of other users' and shared mailboxes, which are not migrated.
    pub foreign_prefixes: Vec<String>,
}

/// What one read brought.
#[derive(Debug)]
pub enum Reply {
    /// Untagged data. `spooled` holds the body literal of a FETCH response
    /// that was longer than [`DIRECT_OVER`] (the literal in `data` is then
    /// empty), with its length: in memory up to the spool threshold, else on
    /// disk.
    Data {
        /// The data.
        data: Data<'static>,
        /// The body copied out of the response, if any.
        spooled: Option<(BodySink, u32)>,
    },
    /// An untagged status (`* OK [HIGHESTMODSEQ 7]`).
    Untagged(Completion),
    /// The tagged completion of the command `tag`.
    Done {
        /// The command's tag.
        tag: String,
        /// Its status, code and text.
        completion: Completion,
    },
    /// Anything else (a stray continuation request).
    Other,
}

/// An authenticated connection used by one reader.
pub struct ReadSession {
    client: CodecClient<ImapStream>,
    /// `ada@example.org on imap.example.org:993`, for messages.
    target: String,
    /// Set when the connection failed: it must not be used again.
    broken: bool,
    /// Set when the server announced that the selected folder changed
    /// (`EXISTS`, `EXPUNGE`, `VANISHED`), so its UIDNEXT is stale.
    mailbox_changed: bool,
    spool: SpoolSettings,
}

impl ReadSession {
    /// Connects and logs in: `AUTHENTICATE PLAIN` with the account as
    /// authorization identity when impersonating, `AUTHENTICATE PLAIN` or
    /// `LOGIN` with the account's own login, or `AUTHENTICATE XOAUTH2`.
    /// Bodies longer than `spool.over` bytes are spooled in `spool.dir`.
    ///
    /// # Errors
    /// As [`ImapConnector::connect`]; [`Error::Auth`] naming the account, the
    /// server and the admin (never the secret) when the login is refused;
    /// [`Error::Network`] when the connection fails or `timeout` passes.
    pub async fn open(
        connector: &ImapConnector,
        credentials: &Credentials,
        account: &str,
        timeout: Duration,
        spool: SpoolSettings,
    ) -> Result<ReadSession> {
        let connected = connector.connect().await?;
        let address = connector.address();
        let who = credentials.describe(account, &address);
        let limits = ClientLimits {
            // Bodies up to the threshold are framed in memory; larger ones
            // are spooled, so the limit only needs room for one small body.
            max_response_bytes: spool.over.saturating_add(256 << 10).max(1 << 20),
            io_timeout: timeout,
        };
        let mut client = CodecClient::after_greeting(
            connected.stream,
            address.clone(),
            connected.capabilities,
            limits,
        );
        let secret = credentials.secret.expose();
        match credentials.mode {
            AuthMode::Impersonate => {
                let admin = credentials.admin.as_deref().unwrap_or_default();
                client
                    .authenticate_plain(&who, Some(&credentials.user), admin, secret)
                    .await?
            }
            AuthMode::Login if client.has("AUTH=PLAIN") || client.has("LOGINDISABLED") => {
                client
                    .authenticate_plain(&who, None, &credentials.user, secret)
                    .await?
            }
            AuthMode::Login => client.login(&who, &credentials.user, secret).await?,
            AuthMode::Xoauth2 => {
                client
                    .authenticate_xoauth2(&who, &credentials.user, secret)
                    .await?
            }
        }
        // Servers announce more (CONDSTORE, NAMESPACE) once logged in.
        client.refresh_capabilities().await?;
        Ok(ReadSession {
            client,
            target: format!("{account} on {address}"),
            broken: false,
            mailbox_changed: false,
            spool,
        })
    }

    /// `ada@example.org on host:port`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether the connection failed and must be replaced.
    pub fn is_broken(&self) -> bool {
        self.broken || self.client.is_broken()
    }

    /// Marks the connection as not to be used again (answers of an
    /// abandoned command are still in flight); the reader reconnects.
    pub fn abandon(&mut self) {
        self.broken = true;
    }

    /// Whether `EXISTS`, `EXPUNGE` or `VANISHED` arrived since the flag was
    /// last taken.
    pub fn take_mailbox_changed(&mut self) -> bool {
        std::mem::take(&mut self.mailbox_changed)
    }

    /// Whether the server announced `capability` (any case).
    pub fn has(&self, capability: &str) -> bool {
        self.client.has(capability)
    }

    /// Queues one command line (without tag and CRLF) and returns its tag.
    /// Nothing is sent until [`Self::flush`] or a read, so a batch of
    /// commands leaves in one write.
    ///
    /// # Errors
    /// [`Error::Network`] when the line cannot be written.
    pub async fn send(&mut self, command: &str) -> Result<String> {
        if self.is_broken() {
            return Err(self.lost("sending a command"));
        }
        let tag = self.client.next_tag();
        let written = self
            .client
            .write(format!("{tag} {command}\r\n").as_bytes())
            .await;
        self.note_failure(written)?;
        Ok(tag)
    }

    /// Sends the queued commands.
    ///
    /// # Errors
    /// [`Error::Network`] when they cannot be written.
    pub async fn flush(&mut self) -> Result<()> {
        let flushed = self.client.flush().await;
        self.note_failure(flushed)
    }

    /// Reads the next response. Body literals of FETCH responses longer than
    /// the spool threshold are copied to a spool file as they arrive. `BYE`,
    /// a closed connection, a read taking longer than the timeout and a
    /// failing spool leave the session broken.
    ///
    /// # Errors
    /// [`Error::Network`] for `BYE`, I/O failures and timeouts;
    /// [`Error::Protocol`] for a response that cannot be decoded (the
    /// connection stays in step); [`Error::Io`] when the spool fails.
    pub async fn next(&mut self) -> Result<Reply> {
        if self.is_broken() {
            return Err(self.lost("reading"));
        }
        if let Err(e) = self.client.flush().await {
            self.broken = true;
            return Err(e);
        }
        let dir = self.spool.dir.clone();
        let over = self.spool.over;
        let read = self
            .client
            .read_response_spooling(DIRECT_OVER.min(over), |len| {
                let dir = dir.clone();
                async move {
                    if len > over {
                        SpoolFile::create(&dir).await.map(BodySink::File)
                    } else {
                        Ok(BodySink::memory(len))
                    }
                }
            })
            .await;
        let (response, spilled) = match read {
            Ok(r) => r,
            Err(e) => {
                if e.is_retryable() || matches!(e, Error::Io { .. }) {
                    self.broken = true;
                }
                return Err(e);
            }
        };
        let spooled = spilled.map(|s| (s.sink, s.len));
        Ok(match response {
            Response::Status(Status::Bye(bye)) => {
                self.broken = true;
                let code = bye
                    .code
                    .as_ref()
                    .map(|c| format!("[{}] ", super::codec_client::code_text(c)))
                    .unwrap_or_default();
                return Err(Error::Network {
                    context: format!("{} ended the session: BYE {code}{}", self.target, bye.text),
                    source: None,
                });
            }
            Response::Status(Status::Tagged(tagged)) => Reply::Done {
                tag: tagged.tag.as_ref().to_string(),
                completion: Completion {
                    kind: tagged.body.kind,
                    code: tagged.body.code,
                    text: tagged.body.text.to_string(),
                    data: Vec::new(),
                },
            },
            Response::Status(Status::Untagged(body)) => Reply::Untagged(Completion {
                kind: body.kind,
                code: body.code,
                text: body.text.to_string(),
                data: Vec::new(),
            }),
            Response::Data(data) => {
                if matches!(
                    data,
                    Data::Exists(_) | Data::Expunge(_) | Data::Vanished { .. }
                ) {
                    self.mailbox_changed = true;
                }
                Reply::Data { data, spooled }
            }
            Response::CommandContinuationRequest(_) => Reply::Other,
        })
    }

    /// Runs one command to its end, handing every untagged reply to
    /// `untagged`. A tagged `NO`/`BAD` is an [`Error::Protocol`] whose
    /// context is `context` and whose message is the server's answer; a
    /// throttling `NO` ([`is_throttling`]) is an [`Error::Network`].
    ///
    /// # Errors
    /// As above, and as [`Self::next`].
    pub async fn run(
        &mut self,
        command: &str,
        context: &str,
        mut untagged: impl FnMut(Reply) -> Result<()>,
    ) -> Result<()> {
        let tag = self.send(command).await?;
        loop {
            match self.next().await? {
                Reply::Done {
                    tag: done,
                    completion,
                } if done == tag => return refusal(context, &completion).map_or(Ok(()), Err),
                other => untagged(other)?,
            }
        }
    }

    /// The server's namespaces: NAMESPACE when offered, else an empty
    /// personal prefix with the delimiter of `LIST "" ""`.
    ///
    /// # Errors
    /// As [`Self::run`].
    pub async fn namespaces(&mut self) -> Result<Namespaces> {
        if self.has("NAMESPACE") {
            let context = format!("asking the namespaces of {}", self.target);
            let done = self
                .client
                .execute(CommandBody::Namespace, &context, OnNo::Return)
                .await;
            let done = self.note_failure(done)?;
            for data in &done.data {
                if let Data::Namespace {
                    personal,
                    other,
                    shared,
                } = data
                {
                    return Ok(namespaces_of(personal, other, shared));
                }
            }
        }
        let mut delimiter = None;
        let context = format!("asking the hierarchy delimiter of {}", self.target);
        self.run("LIST \"\" \"\"", &context, |reply| {
            if let Reply::Data {
                data: Data::List { delimiter: d, .. },
                ..
            } = reply
            {
                delimiter = d.map(|q| q.inner());
            }
            Ok(())
        })
        .await?;
        Ok(Namespaces {
            personal: Namespace::new("", delimiter),
            foreign_prefixes: Vec::new(),
        })
    }

    /// Logs out, ignoring failures (the connection is dropped anyway).
    pub async fn logout(mut self) {
        if !self.is_broken() {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.client.logout()).await;
        }
    }

    fn note_failure<T>(&mut self, outcome: Result<T>) -> Result<T> {
        if let Err(e) = &outcome {
            if e.is_retryable() {
                self.broken = true;
            }
        }
        outcome
    }

    fn lost(&self, what: &str) -> Error {
        Error::Network {
            context: format!("{what} on {}: the connection was lost earlier", self.target),
            source: None,
        }
    }
}

/// The error of a tagged completion, `None` for `OK`: throttling is an
/// [`Error::Network`] (retried with backoff), any other `NO`/`BAD` an
/// [`Error::Protocol`] with `context`.
pub fn refusal(context: &str, done: &Completion) -> Option<Error> {
    match done.kind {
        StatusKind::Ok => None,
        StatusKind::No if is_throttling(done.code.as_ref(), &done.text) => {
            Some(throttled(context, done))
        }
        kind => Some(Error::Protocol {
            context: context.to_string(),
            message: answer_text(kind, done),
        }),
    }
}

/// `NO [CODE] text`, as the server said it.
pub fn answer_text(kind: StatusKind, done: &Completion) -> String {
    let code = done
        .code_text()
        .map(|c| format!("[{c}] "))
        .unwrap_or_default();
    format!("{} {code}{}", kind_name(kind), done.text)
        .trim()
        .to_string()
}

fn namespaces_of(
    personal: &CodecNamespaces<'_>,
    other: &CodecNamespaces<'_>,
    shared: &CodecNamespaces<'_>,
) -> Namespaces {
    let text = |s: &IString<'_>| String::from_utf8_lossy(s.as_ref()).into_owned();
    let personal = personal
        .first()
        .map(|ns| Namespace::new(text(&ns.prefix), ns.delimiter.as_ref().map(|d| d.inner())))
        .unwrap_or_else(|| Namespace::new("", None));
    let foreign_prefixes = other
        .iter()
        .chain(shared.iter())
        .map(|ns| text(&ns.prefix))
        .filter(|p| !p.is_empty())
        .collect();
    Namespaces {
        personal,
        foreign_prefixes,
    }
}

/// Parses `* NAMESPACE (("" "/")) NIL (("#shared/" "/"))` with imap-codec.
pub fn parse_namespace(response: &[u8]) -> std::result::Result<Namespaces, String> {
    use imap_codec::decode::Decoder;
    let (_, decoded) = imap_codec::ResponseCodec::default()
        .decode(response)
        .map_err(|e| {
            format!(
                "cannot parse {:?}: {e:?}",
                String::from_utf8_lossy(response)
            )
        })?;
    let Response::Data(Data::Namespace {
        personal,
        other,
        shared,
    }) = decoded
    else {
        return Err(format!(
            "not a NAMESPACE answer: {:?}",
            String::from_utf8_lossy(response)
        ));
    };
    Ok(namespaces_of(&personal, &other, &shared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_answers_of_real_servers_parse() {
        let dovecot = parse_namespace(
            b"* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"shared/\" \"/\"))\r\n",
        )
        .unwrap();
        assert_eq!(dovecot.personal, Namespace::new("", Some('/')));
        assert_eq!(dovecot.foreign_prefixes, ["~", "shared/"]);
        let courier =
            parse_namespace(b"* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\"))\r\n")
                .unwrap();
        assert_eq!(courier.personal, Namespace::new("INBOX.", Some('.')));
        assert_eq!(courier.foreign_prefixes, ["#shared."]);
        assert!(parse_namespace(b"* NAMESPACE oops\r\n").is_err());
    }

    fn done(kind: StatusKind, code: Option<&str>, text: &str) -> Completion {
        use imap_codec::decode::Decoder;
        let line = format!(
            "T1 {} {}{text}\r\n",
            kind_name(kind),
            code.map(|c| format!("[{c}] ")).unwrap_or_default()
        );
        let (_, response) = imap_codec::ResponseCodec::default()
            .decode(line.as_bytes())
            .unwrap();
        let Response::Status(Status::Tagged(t)) = response else {
            panic!("{line}")
        };
        use imap_codec::imap_types::ToStatic;
        let body = t.body.to_static();
        Completion {
            kind: body.kind,
            code: body.code,
            text: body.text.to_string(),
            data: Vec::new(),
        }
    }

    #[test]
    fn throttling_answers_are_retryable_and_other_refusals_are_not() {
        for (code, text) in [
            (Some("UNAVAILABLE"), "Try later"),
            (Some("LIMIT"), "Too many commands"),
            (Some("INUSE"), "Mailbox is locked"),
            (None, "Request throttled, slow down"),
        ] {
            let e = refusal("fetching x", &done(StatusKind::No, code, text)).unwrap();
            assert!(e.is_retryable(), "{code:?} {text}: {e}");
        }
        let e = refusal(
            "fetching x",
            &done(StatusKind::No, Some("UNAVAILABLE"), "Try later"),
        )
        .unwrap();
        assert_eq!(
            e.to_string(),
            "network error: fetching x: the server asks to slow down: NO [UNAVAILABLE] Try later"
        );
        let e = refusal(
            "opening folder A",
            &done(StatusKind::No, None, "Mailbox doesn't exist"),
        )
        .unwrap();
        assert!(!e.is_retryable());
        assert_eq!(
            e.to_string(),
            "protocol error: opening folder A: NO Mailbox doesn't exist"
        );
        assert!(refusal("x", &done(StatusKind::Ok, None, "done")).is_none());
    }
}

//! A reading session: an authenticated async-imap connection with a timeout
//! on every read, tagged `NO`/`BAD` and `BYE` turned into the crate's errors,
//! and the one exchange async-imap cannot parse (NAMESPACE) done on the raw
//! stream.
//!
//! Commands are sent with async-imap's `run_command` and answered by reading
//! responses one by one: async-imap's typed helpers drop the tagged status of
//! FETCH, so a `NO` would look like an empty answer.

use std::time::Duration;

use async_imap::imap_proto::{RequestId, Response, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Error, Result};

use super::auth::{authenticate, Credentials, ImapSession};
use super::namespace::Namespace;
use super::transport::ImapConnector;

/// The namespaces of a server (RFC 2342), as far as reading needs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespaces {
    /// The user's own mailboxes.
    pub personal: Namespace,
    /// Prefixes of other users' and shared mailboxes, which are not migrated.
    pub foreign_prefixes: Vec<String>,
}

/// An authenticated connection used by one reader.
pub struct ReadSession {
    session: ImapSession,
    timeout: Duration,
    /// `ada@example.org on imap.example.org:993`, for messages.
    target: String,
    capabilities: Vec<String>,
    /// Set when the connection failed: it must not be used again.
    broken: bool,
    /// Set when the server announced that the selected folder changed
    /// (`EXISTS`, `EXPUNGE`), so its UIDNEXT is stale.
    mailbox_changed: bool,
}

/// The end of a command: its tagged status and text.
#[derive(Debug)]
pub struct Completion {
    /// `OK`, `NO` or `BAD`.
    pub ok: bool,
    /// The server's text with its response code, for error messages.
    pub text: String,
}

impl ReadSession {
    /// Connects and logs in.
    ///
    /// # Errors
    /// As [`ImapConnector::connect`] and [`authenticate`].
    pub async fn open(
        connector: &ImapConnector,
        credentials: &Credentials,
        account: &str,
        timeout: Duration,
    ) -> Result<ReadSession> {
        let connected = connector.connect().await?;
        let capabilities = connected.capabilities.clone();
        let target = credentials.describe(account, &connector.address());
        let session = authenticate(connected, credentials, &target, timeout).await?;
        Ok(ReadSession {
            session,
            timeout,
            target: format!("{account} on {}", connector.address()),
            capabilities,
            broken: false,
            mailbox_changed: false,
        })
    }

    /// `ada@example.org on host:port`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether the connection failed and must be replaced.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Whether `EXISTS` or `EXPUNGE` arrived since the flag was last taken.
    pub fn take_mailbox_changed(&mut self) -> bool {
        std::mem::take(&mut self.mailbox_changed)
    }

    /// Sends one command line; its responses are read with [`Self::next`].
    ///
    /// # Errors
    /// [`Error::Network`] when the line cannot be written.
    pub async fn send(&mut self, command: &str) -> Result<RequestId> {
        if self.broken {
            return Err(self.lost("sending a command"));
        }
        let sent = tokio::time::timeout(self.timeout, self.session.run_command(command)).await;
        match sent {
            Ok(Ok(tag)) => Ok(tag),
            Ok(Err(e)) => {
                self.broken = true;
                Err(Error::Network {
                    context: format!("sending a command to {}", self.target),
                    source: Some(Box::new(e)),
                })
            }
            Err(_) => Err(self.timed_out("sending a command")),
        }
    }

    /// Reads the next response and hands it to `inspect`, which extracts what
    /// the caller keeps (the parsed response borrows async-imap's buffer).
    /// `BYE`, a closed connection, an unparsable response and a read taking
    /// longer than the timeout are [`Error::Network`]s and leave the session
    /// broken.
    ///
    /// # Errors
    /// As above.
    pub async fn next<T>(&mut self, inspect: impl FnOnce(&Response<'_>) -> T) -> Result<T> {
        if self.broken {
            return Err(self.lost("reading"));
        }
        let read = tokio::time::timeout(self.timeout, self.session.read_response()).await;
        let response = match read {
            Err(_) => return Err(self.timed_out("waiting for the server")),
            Ok(Err(e)) => {
                self.broken = true;
                return Err(Error::Network {
                    context: format!("reading from {}", self.target),
                    source: Some(Box::new(e)),
                });
            }
            Ok(Ok(None)) => {
                self.broken = true;
                return Err(Error::Network {
                    context: format!("{} closed the connection", self.target),
                    source: None,
                });
            }
            Ok(Ok(Some(r))) => r,
        };
        match response.parsed() {
            Response::Data {
                status: Status::Bye,
                outcome,
            } => {
                self.broken = true;
                return Err(Error::Network {
                    context: format!(
                        "{} ended the session: BYE {}",
                        self.target,
                        outcome.information.as_deref().unwrap_or_default()
                    ),
                    source: None,
                });
            }
            Response::MailboxData(async_imap::imap_proto::MailboxDatum::Exists(_))
            | Response::Expunge(_)
            | Response::Vanished { .. } => self.mailbox_changed = true,
            _ => {}
        }
        Ok(inspect(response.parsed()))
    }

    /// Runs one command to its end, handing every other response to
    /// `untagged`. A tagged `NO`/`BAD` is an [`Error::Protocol`] whose context is
    /// `context` and whose message is the server's text.
    ///
    /// # Errors
    /// As above, and as [`Self::next`].
    pub async fn run(
        &mut self,
        command: &str,
        context: &str,
        mut untagged: impl FnMut(&Response<'_>) -> Result<()>,
    ) -> Result<()> {
        let tag = self.send(command).await?;
        loop {
            let done = self
                .next(|response| match completion(response, &tag) {
                    Some(done) => Ok(Some(done)),
                    None => untagged(response).map(|()| None),
                })
                .await??;
            if let Some(done) = done {
                return if done.ok {
                    Ok(())
                } else {
                    Err(Error::Protocol {
                        context: context.to_string(),
                        message: done.text,
                    })
                };
            }
        }
    }

    /// Whether the server announced `capability`.
    pub fn has(&self, capability: &str) -> bool {
        super::transport::has_capability(&self.capabilities, capability)
    }

    /// Refreshes the capabilities after login (servers announce more then).
    ///
    /// # Errors
    /// As [`Self::run`].
    pub async fn refresh_capabilities(&mut self) -> Result<()> {
        let mut found = Vec::new();
        let context = format!("asking the capabilities of {}", self.target);
        self.run("CAPABILITY", &context, |r| {
            if let Response::Capabilities(caps) = r {
                for c in caps {
                    let text = match c {
                        async_imap::imap_proto::Capability::Imap4rev1 => "IMAP4REV1".to_string(),
                        async_imap::imap_proto::Capability::Auth(a) => {
                            format!("AUTH={}", a.to_ascii_uppercase())
                        }
                        async_imap::imap_proto::Capability::Atom(a) => a.to_ascii_uppercase(),
                    };
                    found.push(text);
                }
            }
            Ok(())
        })
        .await?;
        if !found.is_empty() {
            self.capabilities = found;
        }
        Ok(())
    }

    /// The server's namespaces: NAMESPACE when offered (run on the raw stream,
    /// since async-imap cannot parse its answer), else an empty personal prefix
    /// with the delimiter of `LIST "" ""`.
    ///
    /// # Errors
    /// As [`Self::run`]; an answer that cannot be parsed is an
    /// [`Error::Protocol`].
    pub async fn namespaces(&mut self) -> Result<Namespaces> {
        if self.has("NAMESPACE") {
            if let Some(found) = self.raw_namespace().await? {
                return Ok(found);
            }
        }
        let mut delimiter = None;
        let context = format!("asking the hierarchy delimiter of {}", self.target);
        self.run("LIST \"\" \"\"", &context, |r| {
            if let Response::MailboxData(async_imap::imap_proto::MailboxDatum::List(list)) = r {
                delimiter = list.delimiter.as_deref().and_then(|d| d.chars().next());
            }
            Ok(())
        })
        .await?;
        Ok(Namespaces {
            personal: Namespace::new("", delimiter),
            foreign_prefixes: Vec::new(),
        })
    }

    /// NAMESPACE on the raw stream. Safe because async-imap reads nothing ahead
    /// between commands: its buffer is empty once the previous tagged reply was
    /// parsed, so the bytes of this exchange all come here.
    async fn raw_namespace(&mut self) -> Result<Option<Namespaces>> {
        const TAG: &str = "CMNS";
        let timeout = self.timeout;
        let target = self.target.clone();
        let stream = self.session.get_mut();
        let exchange = async {
            stream
                .write_all(format!("{TAG} NAMESPACE\r\n").as_bytes())
                .await?;
            stream.flush().await?;
            let mut responses = Vec::new();
            loop {
                let response = read_raw_response(stream).await?;
                if response.starts_with(format!("{TAG} ").as_bytes()) {
                    return Ok::<_, std::io::Error>((response, responses));
                }
                responses.push(response);
            }
        };
        let (done, responses) = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                self.broken = true;
                return Err(Error::Network {
                    context: format!("asking the namespaces of {target}"),
                    source: Some(Box::new(e)),
                });
            }
            Err(_) => return Err(self.timed_out("asking the namespaces")),
        };
        let status = String::from_utf8_lossy(&done[TAG.len() + 1..]).to_string();
        if !status.to_ascii_uppercase().starts_with("OK") {
            return Ok(None);
        }
        for response in responses {
            if response.to_ascii_uppercase().starts_with(b"* NAMESPACE ") {
                return parse_namespace(&response)
                    .map(Some)
                    .map_err(|message| Error::Protocol {
                        context: format!("the NAMESPACE answer of {target}"),
                        message,
                    });
            }
        }
        Ok(None)
    }

    /// Logs out, ignoring failures (the connection is dropped anyway).
    pub async fn logout(mut self) {
        if !self.broken {
            let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
        }
    }

    fn lost(&self, what: &str) -> Error {
        Error::Network {
            context: format!("{what} on {}: the connection was lost earlier", self.target),
            source: None,
        }
    }

    fn timed_out(&mut self, what: &str) -> Error {
        self.broken = true;
        Error::Network {
            context: format!(
                "{what} on {} timed out after {} s",
                self.target,
                self.timeout.as_secs()
            ),
            source: None,
        }
    }
}

/// The completion of the command tagged `tag`, if `response` is it.
pub fn completion(response: &Response<'_>, tag: &RequestId) -> Option<Completion> {
    match response {
        Response::Done {
            tag: done,
            status,
            outcome,
        } if done == tag => {
            let mut text = String::new();
            if let Some(code) = &outcome.code {
                text.push_str(&format!("[{code:?}] "));
            }
            text.push_str(outcome.information.as_deref().unwrap_or_default());
            Some(Completion {
                ok: matches!(status, Status::Ok),
                text: format!("{status:?} {text}").trim().to_string(),
            })
        }
        _ => None,
    }
}

/// Reads one response (a line, with the literals it announces) from the raw
/// stream, byte by byte so nothing beyond it is consumed.
async fn read_raw_response<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Vec<u8>> {
    const MAX: usize = 1 << 20;
    let mut out = Vec::with_capacity(256);
    loop {
        let byte = stream.read_u8().await?;
        out.push(byte);
        if out.len() > MAX {
            return Err(std::io::Error::other("NAMESPACE answer longer than 1 MiB"));
        }
        if out.ends_with(b"\r\n") {
            match literal_length(&out[..out.len() - 2]) {
                Some(n) if n <= MAX => {
                    let start = out.len();
                    out.resize(start + n, 0);
                    stream.read_exact(&mut out[start..]).await?;
                }
                Some(_) => return Err(std::io::Error::other("literal longer than 1 MiB")),
                None => return Ok(out),
            }
        }
    }
}

/// The length of a `{n}` or `{n+}` literal announced at the end of `line`.
fn literal_length(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|b| *b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Parses `* NAMESPACE (("" "/")) NIL (("#shared/" "/"))` with imap-codec.
pub fn parse_namespace(response: &[u8]) -> std::result::Result<Namespaces, String> {
    use imap_codec::decode::Decoder;
    use imap_codec::imap_types::response::{Data, Response as CodecResponse};
    let (_, decoded) = imap_codec::ResponseCodec::default()
        .decode(response)
        .map_err(|e| {
            format!(
                "cannot parse {:?}: {e:?}",
                String::from_utf8_lossy(response)
            )
        })?;
    let CodecResponse::Data(Data::Namespace {
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
    let text = |s: &imap_codec::imap_types::core::IString<'_>| {
        String::from_utf8_lossy(s.as_ref()).into_owned()
    };
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
    Ok(Namespaces {
        personal,
        foreign_prefixes,
    })
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

    #[tokio::test]
    async fn raw_responses_include_their_literals() {
        let mut input: &[u8] = b"* NAMESPACE (({5}\r\nINBOX \".\")) NIL NIL\r\nCMNS OK\r\n";
        let first = read_raw_response(&mut input).await.unwrap();
        assert_eq!(first, b"* NAMESPACE (({5}\r\nINBOX \".\")) NIL NIL\r\n");
        assert_eq!(input, b"CMNS OK\r\n");
        assert_eq!(literal_length(b"x {12+}"), Some(12));
        assert_eq!(literal_length(b"x {}"), None);
    }
}

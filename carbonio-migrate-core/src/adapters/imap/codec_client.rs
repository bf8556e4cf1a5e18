//! A small IMAP client on imap-codec: commands encoded by [`CommandCodec`],
//! responses framed by imap-codec's [`Fragmentizer`] with a size limit and
//! decoded by [`ResponseCodec`]. It is the write path's connection: unlike a
//! general client it lets [`super::append`] put several commands on the wire
//! before reading their replies, and stream message bodies into literals.
//!
//! Every read has a timeout; a response longer than the limit is refused (its
//! bytes are consumed, never held), so a hostile or broken server cannot make
//! the client allocate without bound.

use std::collections::BTreeSet;
use std::time::Duration;

use imap_codec::decode::Decoder;
use imap_codec::encode::{Encoder, Fragment};
use imap_codec::fragmentizer::{DecodeMessageError, FragmentInfo, Fragmentizer};
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::LiteralMode;
use imap_codec::imap_types::response::{
    Code, Data, GreetingKind, Response, Status, StatusBody, StatusKind,
};
use imap_codec::imap_types::secret::Secret as ImapSecret;
use imap_codec::imap_types::ToStatic;
use imap_codec::{AuthenticateDataCodec, CommandCodec, GreetingCodec, ResponseCodec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};

use crate::error::{Error, Result};

/// Limits of one connection.
#[derive(Clone, Copy, Debug)]
pub struct ClientLimits {
    /// The longest response accepted, literals included, in bytes.
    pub max_response_bytes: u32,
    /// How long one read or write may wait before the connection is declared dead.
    pub io_timeout: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_response_bytes: 1 << 20,
            io_timeout: Duration::from_secs(120),
        }
    }
}

/// The tagged completion of a command and the untagged data it produced.
#[derive(Debug)]
pub struct Completion {
    /// `OK`, `NO` or `BAD`.
    pub kind: StatusKind,
    /// The response code, if any (`[APPENDUID ...]`, `[ALREADYEXISTS]`).
    pub code: Option<Code<'static>>,
    /// The human-readable text.
    pub text: String,
    /// Untagged data received before the completion.
    pub data: Vec<Data<'static>>,
}

impl Completion {
    /// True for `OK`.
    pub fn is_ok(&self) -> bool {
        self.kind == StatusKind::Ok
    }

    /// The response code as IMAP text (`ALREADYEXISTS`, `APPENDUID 7 1:3`), for
    /// codes imap-codec has no type for.
    pub fn code_text(&self) -> Option<String> {
        self.code.as_ref().map(code_text)
    }
}

/// A response code as IMAP text.
pub fn code_text(code: &Code<'_>) -> String {
    match code {
        Code::Other(other) => String::from_utf8_lossy(other.inner()).into_owned(),
        Code::AppendUid { uid_validity, uid } => format!("APPENDUID {uid_validity} {uid}"),
        Code::TryCreate => "TRYCREATE".into(),
        Code::OverQuota => "OVERQUOTA".into(),
        Code::TooBig => "TOOBIG".into(),
        other => format!("{other:?}"),
    }
}

/// A literal that [`CodecClient::read_response_spooling`] wrote to a sink
/// instead of keeping it in the response.
#[derive(Debug)]
pub struct SpilledLiteral<W> {
    /// The writer holding the literal's bytes.
    pub sink: W,
    /// The literal's length, as announced and copied.
    pub len: u32,
}

/// Whether the line before a literal announcement (`... BODY[] {123}`) puts
/// the literal in a message body section (`BODY[...]`, `BODY[]<0>`,
/// `RFC822`), the only literals worth keeping out of memory.
fn is_body_literal(line: &[u8]) -> bool {
    let Some(open) = line.iter().rposition(|b| *b == b'{') else {
        return false;
    };
    let before = line[..open].trim_ascii_end();
    before.ends_with(b"]")
        || before.ends_with(b">")
        || before.to_ascii_uppercase().ends_with(b"RFC822")
}

/// Whether a tagged `NO` (or a `BYE`) says the server is busy or limits this
/// client rather than refusing the command: the response codes `UNAVAILABLE`,
/// `LIMIT` and `INUSE` (RFC 5530), or a text speaking of throttling, rate
/// limits or trying again later. Such answers are [`Error::Network`]: retried
/// with backoff.
pub fn is_throttling(code: Option<&Code<'_>>, text: &str) -> bool {
    let by_code = code.is_some_and(|c| {
        let name = code_text(c).to_ascii_uppercase();
        let name = name.split_whitespace().next().unwrap_or_default();
        matches!(name, "UNAVAILABLE" | "LIMIT" | "INUSE")
    });
    let lower = text.to_ascii_lowercase();
    by_code
        || [
            "throttl",
            "rate limit",
            "too many connections",
            "maximum number of connections",
            "too many requests",
            "try again later",
            "temporarily unavailable",
        ]
        .iter()
        .any(|hint| lower.contains(hint))
}

/// The [`Error::Network`] of a throttling answer while `doing` something.
pub fn throttled(doing: &str, done: &Completion) -> Error {
    let code = done
        .code_text()
        .map(|c| format!("[{c}] "))
        .unwrap_or_default();
    Error::Network {
        context: format!(
            "{doing}: the server asks to slow down: {} {code}{}",
            kind_name(done.kind),
            done.text
        ),
        source: None,
    }
}

/// How [`CodecClient::execute`] treats a tagged `NO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnNo {
    /// Return it as [`Error::Protocol`].
    Fail,
    /// Return the [`Completion`] for the caller to judge (`CREATE` of an existing
    /// folder).
    Return,
}

/// One IMAP connection: tags, capabilities, bounded response reading.
pub struct CodecClient<S> {
    stream: BufWriter<S>,
    fragmentizer: Fragmentizer,
    read_buf: Box<[u8]>,
    next_tag: u64,
    capabilities: BTreeSet<String>,
    limits: ClientLimits,
    host: String,
    broken: bool,
}

impl<S> std::fmt::Debug for CodecClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodecClient")
            .field("host", &self.host)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

/// A [`Error::Network`] with context.
pub(crate) fn network(context: impl Into<String>, source: impl Into<crate::error::Cause>) -> Error {
    Error::Network {
        context: context.into(),
        source: Some(source.into()),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> CodecClient<S> {
    /// Reads the greeting from a freshly connected `stream` to `host` (named in
    /// errors) and learns the capabilities, from the greeting's code or a
    /// `CAPABILITY` command.
    ///
    /// # Errors
    /// [`Error::Network`] for a `BYE` greeting, an I/O failure or a timeout;
    /// [`Error::Protocol`] for a greeting that is not IMAP.
    pub async fn start(stream: S, host: impl Into<String>, limits: ClientLimits) -> Result<Self> {
        let mut client = CodecClient::after_greeting(stream, host, [], limits);
        client.read_message().await?;
        let greeting = client
            .fragmentizer
            .decode_message(&GreetingCodec::default())
            .map_err(|_| Error::Protocol {
                context: format!("greeting of {}", client.host),
                message: "the server's first line is not an IMAP greeting".into(),
            })?;
        if greeting.kind == GreetingKind::Bye {
            let text = greeting.text.to_string();
            return Err(Error::Network {
                context: format!("{} refused the connection: {text}", client.host),
                source: None,
            });
        }
        let caps = match &greeting.code {
            Some(Code::Capability(caps)) => Some(
                caps.as_ref()
                    .iter()
                    .map(|c| c.to_string().to_ascii_uppercase())
                    .collect(),
            ),
            _ => None,
        };
        match caps {
            Some(caps) => client.capabilities = caps,
            None => client.refresh_capabilities().await?,
        }
        Ok(client)
    }

    /// A client over a stream whose greeting was already read (by
    /// [`super::transport::connect`]), with the capabilities it announced.
    pub fn after_greeting(
        stream: S,
        host: impl Into<String>,
        capabilities: impl IntoIterator<Item = String>,
        limits: ClientLimits,
    ) -> Self {
        CodecClient {
            stream: BufWriter::with_capacity(64 << 10, stream),
            fragmentizer: Fragmentizer::new(limits.max_response_bytes),
            read_buf: vec![0u8; 64 << 10].into_boxed_slice(),
            next_tag: 1,
            capabilities: capabilities
                .into_iter()
                .map(|c| c.to_ascii_uppercase())
                .collect(),
            limits,
            host: host.into(),
            broken: false,
        }
    }

    /// The server host, for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The capabilities last announced, uppercased (`LITERAL+`, `AUTH=PLAIN`).
    pub fn capabilities(&self) -> &BTreeSet<String> {
        &self.capabilities
    }

    /// Whether `capability` (any case) was announced.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.contains(&capability.to_ascii_uppercase())
    }

    /// A value of a `NAME=value` capability (`APPENDLIMIT=35882577`).
    pub fn capability_value(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}=", name.to_ascii_uppercase());
        self.capabilities
            .iter()
            .find_map(|c| c.strip_prefix(&prefix))
    }

    /// Whether an earlier failure left the connection unusable (a body shorter
    /// than announced, a drop, a timeout).
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Asks `CAPABILITY` again (capabilities change after authentication).
    ///
    /// # Errors
    /// As [`CodecClient::execute`].
    pub async fn refresh_capabilities(&mut self) -> Result<()> {
        let done = self
            .execute(CommandBody::Capability, "asking capabilities", OnNo::Fail)
            .await?;
        let mut caps = BTreeSet::new();
        for data in &done.data {
            if let Data::Capability(list) = data {
                caps.extend(
                    list.as_ref()
                        .iter()
                        .map(|c| c.to_string().to_ascii_uppercase()),
                );
            }
        }
        if let Some(Code::Capability(list)) = &done.code {
            caps.extend(
                list.as_ref()
                    .iter()
                    .map(|c| c.to_string().to_ascii_uppercase()),
            );
        }
        self.capabilities = caps;
        Ok(())
    }

    /// A fresh tag (`C1`, `C2`, ...).
    pub fn next_tag(&mut self) -> String {
        let tag = format!("C{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Sends `body` under a fresh tag and reads until its completion, collecting
    /// untagged data. Synchronising literals wait for the server's `+`.
    ///
    /// # Errors
    /// [`Error::Network`] on I/O failure, timeout or `BYE`; [`Error::Protocol`]
    /// for `BAD`, for `NO` when `on_no` is [`OnNo::Fail`], and for responses
    /// that cannot be decoded or exceed the size limit. `context` says what was
    /// being done.
    pub async fn execute(
        &mut self,
        body: CommandBody<'_>,
        context: &str,
        on_no: OnNo,
    ) -> Result<Completion> {
        let tag = self.next_tag();
        let command = Command::new(tag.as_str(), body).map_err(|e| Error::Protocol {
            context: context.to_string(),
            message: format!("cannot encode the command: {e}"),
        })?;
        let mut data = Vec::new();
        for fragment in CommandCodec::default().encode(&command) {
            match fragment {
                Fragment::Line { data: line } => self.write(&line).await?,
                Fragment::Literal {
                    data: literal,
                    mode,
                } => {
                    if mode == LiteralMode::Sync {
                        self.flush().await?;
                        if let Some(done) = self.await_continuation(&tag, &mut data).await? {
                            return self.judge(done, context, on_no);
                        }
                    }
                    self.write(&literal).await?;
                }
            }
        }
        self.flush().await?;
        let done = self.read_until_tagged(&tag, &mut data).await?;
        self.judge(done, context, on_no)
    }

    fn judge(&self, done: Completion, context: &str, on_no: OnNo) -> Result<Completion> {
        match done.kind {
            StatusKind::Ok => Ok(done),
            // Throttling is a reason to come back later, whatever the caller
            // would make of another refusal.
            StatusKind::No if is_throttling(done.code.as_ref(), &done.text) => {
                Err(throttled(&format!("{context} on {}", self.host), &done))
            }
            StatusKind::No if on_no == OnNo::Return => Ok(done),
            kind => Err(Error::Protocol {
                context: format!("{context} on {}", self.host),
                message: format!("{} {}", kind_name(kind), done.text),
            }),
        }
    }

    /// Reads until `+` (returns `None`) or the completion of `tag` (returns it:
    /// the server refused before the literal).
    pub async fn await_continuation(
        &mut self,
        tag: &str,
        data: &mut Vec<Data<'static>>,
    ) -> Result<Option<Completion>> {
        loop {
            match self.read_response().await? {
                Response::CommandContinuationRequest(_) => return Ok(None),
                Response::Status(Status::Tagged(t)) if t.tag.as_ref() == tag => {
                    return Ok(Some(completion(t.body, std::mem::take(data))));
                }
                response => self.absorb(response, data)?,
            }
        }
    }

    /// Reads responses until the completion of `tag`.
    pub async fn read_until_tagged(
        &mut self,
        tag: &str,
        data: &mut Vec<Data<'static>>,
    ) -> Result<Completion> {
        loop {
            match self.read_response().await? {
                Response::Status(Status::Tagged(t)) if t.tag.as_ref() == tag => {
                    return Ok(completion(t.body, std::mem::take(data)));
                }
                response => self.absorb(response, data)?,
            }
        }
    }

    /// Keeps untagged data, turns `BYE` into an error and ignores the rest
    /// (untagged `OK`, stray continuations).
    pub fn absorb(
        &mut self,
        response: Response<'static>,
        data: &mut Vec<Data<'static>>,
    ) -> Result<()> {
        match response {
            Response::Data(d) => {
                if let Data::Capability(list) = &d {
                    self.capabilities = list
                        .as_ref()
                        .iter()
                        .map(|c| c.to_string().to_ascii_uppercase())
                        .collect();
                }
                data.push(d);
                Ok(())
            }
            Response::Status(Status::Bye(bye)) => {
                self.broken = true;
                Err(Error::Network {
                    context: format!("{} closed the connection: {}", self.host, bye.text),
                    source: None,
                })
            }
            _ => Ok(()),
        }
    }

    /// Reads and decodes one response, waiting at most the I/O timeout for each
    /// read.
    ///
    /// # Errors
    /// [`Error::Network`] on I/O failure, end of stream or timeout;
    /// [`Error::Protocol`] for an undecodable response or one longer than
    /// [`ClientLimits::max_response_bytes`] (skipped, so the connection stays
    /// usable).
    pub async fn read_response(&mut self) -> Result<Response<'static>> {
        self.read_message().await?;
        self.decode_current()
    }

    /// Reads one response like [`CodecClient::read_response`], except that the
    /// first body literal (`BODY[...] {n}`, `RFC822 {n}`) longer than `over`
    /// bytes is never held: its exactly `n` bytes are copied, as they arrive,
    /// into the writer `open(n)` returns, and the response is decoded with that
    /// literal empty. Memory stays within one read buffer plus
    /// [`ClientLimits::max_response_bytes`] whatever the literal's size.
    /// The limit must leave room for one read (64 KiB) past the line that
    /// announces the literal, since the bytes read with that line pass
    /// through the framing buffer; otherwise such a response is refused as
    /// too long.
    ///
    /// # Errors
    /// As [`CodecClient::read_response`]; [`Error::Io`] (and a broken
    /// connection, since the rest of the literal is not read) when `open` or a
    /// write to its writer fails.
    pub async fn read_response_spooling<W, F, Fut>(
        &mut self,
        over: u32,
        mut open: F,
    ) -> Result<(Response<'static>, Option<SpilledLiteral<W>>)>
    where
        W: AsyncWrite + Unpin,
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<W>>,
    {
        let mut spilled: Option<SpilledLiteral<W>> = None;
        // The response's bytes before the spilled literal, which is announced
        // there as `{0}`.
        let mut head: Option<Vec<u8>> = None;
        // Where the bytes after the spilled literal start in the
        // fragmentizer's current message.
        let mut tail_from = 0usize;
        loop {
            let Some(fragment) = self.fragmentizer.progress() else {
                let n = self.read_some().await?;
                self.fragmentizer.enqueue_bytes(&self.read_buf[..n]);
                continue;
            };
            if let FragmentInfo::Line {
                end,
                announcement: Some(announced),
                ..
            } = fragment
            {
                if spilled.is_none()
                    && announced.length > over
                    && !self.fragmentizer.is_max_message_size_exceeded()
                    && is_body_literal(self.fragmentizer.fragment_bytes(fragment))
                {
                    let message = self.fragmentizer.message_bytes();
                    let open_at = message[..end]
                        .iter()
                        .rposition(|b| *b == b'{')
                        .unwrap_or(end);
                    let mut before = message[tail_from..open_at].to_vec();
                    before.extend_from_slice(b"{0}\r\n");
                    let sink = match open(announced.length).await {
                        Ok(sink) => sink,
                        Err(e) => {
                            self.broken = true;
                            return Err(e);
                        }
                    };
                    let (sink, after) = self.spill(end, announced.length, sink).await?;
                    tail_from = after;
                    head = Some(before);
                    spilled = Some(SpilledLiteral {
                        sink,
                        len: announced.length,
                    });
                    continue;
                }
            }
            if !self.fragmentizer.is_message_complete() {
                continue;
            }
            let Some(head) = head else {
                return Ok((self.decode_current()?, spilled));
            };
            if self.fragmentizer.is_max_message_size_exceeded() {
                return Err(self.too_long());
            }
            let mut whole = head;
            whole.extend_from_slice(&self.fragmentizer.message_bytes()[tail_from..]);
            return match ResponseCodec::default().decode(&whole) {
                Ok(([], response)) => Ok((response.to_static(), spilled)),
                _ => Err(self.undecodable(&whole)),
            };
        }
    }

    /// Copies the `len` bytes of the literal that starts at `start` in the
    /// current message into `sink`; returns where the rest of the response
    /// starts in the fragmentizer's (possibly restarted) current message.
    async fn spill<W: AsyncWrite + Unpin>(
        &mut self,
        start: usize,
        len: u32,
        mut sink: W,
    ) -> Result<(W, usize)> {
        let host = self.host.clone();
        let failed =
            |e: std::io::Error| Error::io(format!("spooling a message body read from {host}"), e);
        // The literal's bytes already received move into the message buffer
        // (at most one read buffer: they were enqueued by one read).
        let progressed = self.fragmentizer.progress();
        if self.fragmentizer.is_max_message_size_exceeded() {
            self.broken = true;
            return Err(self.too_long());
        }
        let got_end = match progressed {
            Some(FragmentInfo::Literal { end, .. }) => end,
            None => self.fragmentizer.message_bytes().len(),
            Some(FragmentInfo::Line { .. }) => {
                self.broken = true;
                return Err(Error::Protocol {
                    context: format!("reading a response of {}", self.host),
                    message: "a literal was announced but a line was framed".into(),
                });
            }
        };
        let received = &self.fragmentizer.message_bytes()[start..got_end];
        if let Err(e) = sink.write_all(received).await {
            self.broken = true;
            return Err(failed(e));
        }
        let mut left = u64::from(len) - received.len() as u64;
        if progressed.is_some() {
            // The whole literal was buffered: the rest follows in this message.
            return Ok((sink, got_end));
        }
        // Everything enqueued was literal: restart framing after the literal
        // and read the rest of it straight from the socket.
        self.fragmentizer.skip_message();
        while left > 0 {
            let n = self.read_some().await?;
            let take = usize::try_from(left).unwrap_or(usize::MAX).min(n);
            if let Err(e) = sink.write_all(&self.read_buf[..take]).await {
                self.broken = true;
                return Err(failed(e));
            }
            left -= take as u64;
            if take < n {
                self.fragmentizer.enqueue_bytes(&self.read_buf[take..n]);
            }
        }
        Ok((sink, 0))
    }

    /// Decodes the fragmentizer's complete current message.
    fn decode_current(&self) -> Result<Response<'static>> {
        match self.fragmentizer.decode_message(&ResponseCodec::default()) {
            Ok(response) => Ok(response.to_static()),
            Err(DecodeMessageError::MessageTooLong { .. }) => Err(self.too_long()),
            Err(_) => Err(self.undecodable(self.fragmentizer.message_bytes())),
        }
    }

    fn too_long(&self) -> Error {
        Error::Protocol {
            context: format!("reading a response of {}", self.host),
            message: format!(
                "a response is longer than {} bytes; refused",
                self.limits.max_response_bytes
            ),
        }
    }

    fn undecodable(&self, bytes: &[u8]) -> Error {
        let shown: String = String::from_utf8_lossy(bytes).chars().take(200).collect();
        Error::Protocol {
            context: format!("reading a response of {}", self.host),
            message: format!("cannot decode {:?}", shown.trim_end()),
        }
    }

    /// Feeds the fragmentizer until one message (line plus literals) is complete.
    async fn read_message(&mut self) -> Result<()> {
        loop {
            match self.fragmentizer.progress() {
                Some(_) if self.fragmentizer.is_message_complete() => return Ok(()),
                Some(_) => continue,
                None => {
                    let n = self.read_some().await?;
                    let chunk = &self.read_buf[..n];
                    self.fragmentizer.enqueue_bytes(chunk);
                }
            }
        }
    }

    async fn read_some(&mut self) -> Result<usize> {
        let read = tokio::time::timeout(
            self.limits.io_timeout,
            self.stream.get_mut().read(&mut self.read_buf),
        )
        .await;
        let n = match read {
            Err(_) => {
                self.broken = true;
                return Err(Error::Network {
                    context: format!(
                        "no answer from {} within {:?}",
                        self.host, self.limits.io_timeout
                    ),
                    source: None,
                });
            }
            Ok(Err(e)) => {
                self.broken = true;
                return Err(network(format!("reading from {}", self.host), e));
            }
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            self.broken = true;
            return Err(Error::Network {
                context: format!("{} closed the connection", self.host),
                source: None,
            });
        }
        Ok(n)
    }

    /// Writes bytes (buffered; see [`CodecClient::flush`]).
    ///
    /// # Errors
    /// [`Error::Network`] on I/O failure or timeout.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let write =
            tokio::time::timeout(self.limits.io_timeout, self.stream.write_all(bytes)).await;
        self.io_outcome(write, "writing to")
    }

    /// Sends what is buffered.
    ///
    /// # Errors
    /// [`Error::Network`] on I/O failure or timeout.
    pub async fn flush(&mut self) -> Result<()> {
        let flush = tokio::time::timeout(self.limits.io_timeout, self.stream.flush()).await;
        self.io_outcome(flush, "writing to")
    }

    fn io_outcome(
        &mut self,
        outcome: std::result::Result<std::io::Result<()>, tokio::time::error::Elapsed>,
        doing: &str,
    ) -> Result<()> {
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.broken = true;
                Err(network(format!("{doing} {}", self.host), e))
            }
            Err(_) => {
                self.broken = true;
                Err(Error::Network {
                    context: format!(
                        "{} accepted no data within {:?}",
                        self.host, self.limits.io_timeout
                    ),
                    source: None,
                })
            }
        }
    }

    /// Streams exactly `len` bytes of `reader` into the connection, in chunks,
    /// never holding more than one chunk.
    ///
    /// # Errors
    /// [`Error::Io`] when the reader fails or yields another length than `len`;
    /// the literal is then unfinishable and the connection is marked broken.
    /// [`Error::Network`] when writing fails.
    pub async fn write_body(
        &mut self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        len: u64,
        what: &str,
    ) -> Result<()> {
        let mut chunk = vec![0u8; 64 << 10];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
            let n = match reader.read(&mut chunk[..want]).await {
                Ok(n) => n,
                Err(e) => {
                    self.broken = true;
                    return Err(Error::io(format!("reading the body of {what}"), e));
                }
            };
            if n == 0 {
                self.broken = true;
                return Err(Error::io(
                    format!("reading the body of {what}"),
                    std::io::Error::other(format!(
                        "announced {len} bytes, the body ended after {}",
                        len - left
                    )),
                ));
            }
            self.write(&chunk[..n]).await?;
            left -= n as u64;
        }
        // A body longer than announced would have been cut silently.
        match reader.read(&mut chunk[..1]).await {
            Ok(0) => Ok(()),
            Ok(_) => {
                self.broken = true;
                Err(Error::io(
                    format!("reading the body of {what}"),
                    std::io::Error::other(format!("announced {len} bytes, the body is longer")),
                ))
            }
            Err(e) => {
                self.broken = true;
                Err(Error::io(format!("reading the body of {what}"), e))
            }
        }
    }

    /// `LOGIN user password`. `account` is who logs in as errors name it
    /// (`ada@example.org on imap.example.org:993`).
    ///
    /// # Errors
    /// [`Error::Auth`] naming `account` (never the password) when refused; as
    /// [`CodecClient::execute`] otherwise.
    pub async fn login(&mut self, account: &str, user: &str, password: &str) -> Result<()> {
        let body = CommandBody::login(user, password).map_err(|_| Error::Auth {
            target: self.target(account),
            source: Some("the user name or password cannot be sent in a LOGIN command".into()),
        })?;
        self.authenticated(account, body).await
    }

    /// `AUTHENTICATE PLAIN` with `authzid` (impersonation: the account, while
    /// `authcid` is the admin), in the initial response when the server has
    /// SASL-IR, else after its `+`.
    ///
    /// # Errors
    /// As [`CodecClient::login`].
    pub async fn authenticate_plain(
        &mut self,
        account: &str,
        authzid: Option<&str>,
        authcid: &str,
        password: &str,
    ) -> Result<()> {
        let mut payload = Vec::new();
        payload.extend_from_slice(authzid.unwrap_or("").as_bytes());
        payload.push(0);
        payload.extend_from_slice(authcid.as_bytes());
        payload.push(0);
        payload.extend_from_slice(password.as_bytes());
        self.sasl(account, AuthMechanism::Plain, payload).await
    }

    /// `AUTHENTICATE XOAUTH2` with `token` for `user`.
    ///
    /// # Errors
    /// As [`CodecClient::login`].
    pub async fn authenticate_xoauth2(
        &mut self,
        account: &str,
        user: &str,
        token: &str,
    ) -> Result<()> {
        let payload = format!("user={user}\x01auth=Bearer {token}\x01\x01").into_bytes();
        self.sasl(account, AuthMechanism::XOAuth2, payload).await
    }

    fn target(&self, target: &str) -> String {
        target.to_string()
    }

    async fn sasl(
        &mut self,
        account: &str,
        mechanism: AuthMechanism<'static>,
        payload: Vec<u8>,
    ) -> Result<()> {
        if self.has("SASL-IR") {
            let body = CommandBody::authenticate_with_ir(mechanism, payload);
            return self.authenticated(account, body).await;
        }
        let tag = self.next_tag();
        let command =
            Command::new(tag.as_str(), CommandBody::authenticate(mechanism)).map_err(|e| {
                Error::Protocol {
                    context: format!("authenticating {}", self.target(account)),
                    message: e.to_string(),
                }
            })?;
        let line = CommandCodec::default().encode(&command).dump();
        self.write(&line).await?;
        self.flush().await?;
        let mut data = Vec::new();
        if let Some(done) = self.await_continuation(&tag, &mut data).await? {
            return self.auth_result(account, done);
        }
        let answer = AuthenticateData::Continue(ImapSecret::new(payload.into()));
        let line = AuthenticateDataCodec::default().encode(&answer).dump();
        self.write(&line).await?;
        self.flush().await?;
        loop {
            match self.read_response().await? {
                // A second challenge is the server's error report (XOAUTH2):
                // answer with an empty line to get the tagged NO.
                Response::CommandContinuationRequest(_) => {
                    self.write(b"\r\n").await?;
                    self.flush().await?;
                }
                Response::Status(Status::Tagged(t)) if t.tag.as_ref() == tag => {
                    let done = completion(t.body, data);
                    return self.auth_result(account, done);
                }
                response => self.absorb(response, &mut data)?,
            }
        }
    }

    async fn authenticated(&mut self, account: &str, body: CommandBody<'_>) -> Result<()> {
        let tag = self.next_tag();
        let command = Command::new(tag.as_str(), body).map_err(|e| Error::Protocol {
            context: format!("authenticating {}", self.target(account)),
            message: e.to_string(),
        })?;
        // Dumped whole: LOGIN/AUTHENTICATE arguments are short; a literal in them
        // (unusual characters in a password) is synchronising and handled below.
        let mut data = Vec::new();
        for fragment in CommandCodec::default().encode(&command) {
            match fragment {
                Fragment::Line { data: line } => self.write(&line).await?,
                Fragment::Literal {
                    data: literal,
                    mode,
                } => {
                    if mode == LiteralMode::Sync {
                        self.flush().await?;
                        if let Some(done) = self.await_continuation(&tag, &mut data).await? {
                            return self.auth_result(account, done);
                        }
                    }
                    self.write(&literal).await?;
                }
            }
        }
        self.flush().await?;
        loop {
            match self.read_response().await? {
                Response::CommandContinuationRequest(_) => {
                    // A challenge after SASL-IR: the server reports an error.
                    self.write(b"\r\n").await?;
                    self.flush().await?;
                }
                Response::Status(Status::Tagged(t)) if t.tag.as_ref() == tag => {
                    let done = completion(t.body, data);
                    return self.auth_result(account, done);
                }
                response => self.absorb(response, &mut data)?,
            }
        }
    }

    fn auth_result(&mut self, account: &str, done: Completion) -> Result<()> {
        // "Too many connections" at login is the server limiting us, not a
        // wrong credential: retried with backoff like any throttling.
        if done.kind == StatusKind::No && is_throttling(done.code.as_ref(), &done.text) {
            return Err(throttled(
                &format!("logging in {}", self.target(account)),
                &done,
            ));
        }
        if !done.is_ok() {
            return Err(Error::Auth {
                target: self.target(account),
                source: Some(format!("{} {}", kind_name(done.kind), done.text).into()),
            });
        }
        match &done.code {
            Some(Code::Capability(list)) => {
                self.capabilities = list
                    .as_ref()
                    .iter()
                    .map(|c| c.to_string().to_ascii_uppercase())
                    .collect();
            }
            _ => {
                for d in &done.data {
                    if let Data::Capability(list) = d {
                        self.capabilities = list
                            .as_ref()
                            .iter()
                            .map(|c| c.to_string().to_ascii_uppercase())
                            .collect();
                    }
                }
            }
        }
        Ok(())
    }

    /// `LOGOUT`, ignoring a connection closed right after the `BYE`.
    ///
    /// # Errors
    /// [`Error::Network`] when the command cannot be sent.
    pub async fn logout(&mut self) -> Result<()> {
        let tag = self.next_tag();
        let line = format!("{tag} LOGOUT\r\n");
        self.write(line.as_bytes()).await?;
        self.flush().await?;
        loop {
            match self.read_response().await {
                Ok(Response::Status(Status::Tagged(t))) if t.tag.as_ref() == tag => return Ok(()),
                Ok(_) => continue,
                // The BYE and a close are the normal end of LOGOUT.
                Err(_) => return Ok(()),
            }
        }
    }
}

/// The uppercase name of a status.
pub fn kind_name(kind: StatusKind) -> &'static str {
    match kind {
        StatusKind::Ok => "OK",
        StatusKind::No => "NO",
        StatusKind::Bad => "BAD",
    }
}

fn completion(body: StatusBody<'static>, data: Vec<Data<'static>>) -> Completion {
    Completion {
        kind: body.kind,
        code: body.code,
        text: body.text.to_string(),
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use tokio::io::{duplex, AsyncBufReadExt, AsyncReadExt, BufReader};

    /// A scripted server: reads lines from the client, answers from `script`
    /// (`(expected_prefix, reply)`).
    async fn serve(
        server: tokio::io::DuplexStream,
        greeting: &str,
        script: Vec<(&'static str, String)>,
    ) -> Vec<String> {
        let (r, mut w) = tokio::io::split(server);
        let mut r = BufReader::new(r);
        w.write_all(greeting.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        for (expect, reply) in script {
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            assert!(line.starts_with(expect), "got {line:?}, wanted {expect:?}");
            seen.push(line.trim_end().to_string());
            w.write_all(reply.as_bytes()).await.unwrap();
        }
        seen
    }

    fn limits() -> ClientLimits {
        ClientLimits {
            max_response_bytes: 4096,
            io_timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn greeting_capabilities_and_sasl_ir_impersonation() {
        let (client, server) = duplex(1 << 16);
        let server = tokio::spawn(serve(
            server,
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN APPENDLIMIT=1000] hi\r\n",
            vec![(
                "C1 AUTHENTICATE PLAIN ",
                "C1 OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND UIDPLUS] logged in\r\n".into(),
            )],
        ));
        let mut c = CodecClient::start(client, "mx.test", limits())
            .await
            .unwrap();
        assert!(c.has("literal+"));
        assert_eq!(c.capability_value("APPENDLIMIT"), Some("1000"));
        c.authenticate_plain("ada@x.org on mx.test", Some("ada@x.org"), "admin", "s3cret")
            .await
            .unwrap();
        assert!(c.has("MULTIAPPEND"));
        let seen = server.await.unwrap();
        let b64 = seen[0].rsplit(' ').next().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(raw, b"ada@x.org\0admin\0s3cret");
    }

    #[tokio::test]
    async fn refused_login_names_account_and_host_not_secret() {
        let (client, server) = duplex(1 << 16);
        tokio::spawn(serve(
            server,
            "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n",
            vec![
                ("C1 AUTHENTICATE PLAIN", "+ \r\n".into()),
                (
                    "",
                    "C1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n".into(),
                ),
            ],
        ));
        let mut c = CodecClient::start(client, "mx.test", limits())
            .await
            .unwrap();
        let err = c
            .authenticate_plain("ada@x.org on mx.test", None, "ada@x.org", "hunter2")
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "authentication failed for ada@x.org on mx.test"
        );
        assert_eq!(
            err.chain(),
            "authentication failed for ada@x.org on mx.test: NO Authentication failed."
        );
        assert!(!err.chain().contains("hunter2"));
    }

    #[tokio::test]
    async fn oversized_response_is_refused_and_skipped() {
        let (client, server) = duplex(1 << 16);
        let big = "x".repeat(5000);
        tokio::spawn(serve(
            server,
            "* OK [CAPABILITY IMAP4rev1] hi\r\n",
            vec![(
                "C1 NOOP",
                format!("* OK {{5000}}\r\n{big}\r\n* 3 EXISTS\r\nC1 OK done\r\n"),
            )],
        ));
        let mut c = CodecClient::start(client, "mx.test", limits())
            .await
            .unwrap();
        let err = c
            .execute(CommandBody::Noop, "noop", OnNo::Fail)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "protocol error: reading a response of mx.test: a response is longer than 4096 bytes; refused"
        );
        // The connection is still in step: the next response is the EXISTS.
        let next = c.read_response().await.unwrap();
        assert!(matches!(next, Response::Data(Data::Exists(3))), "{next:?}");
    }

    #[tokio::test]
    async fn bye_and_drop_are_network_errors() {
        let (client, server) = duplex(1 << 16);
        tokio::spawn(serve(
            server,
            "* OK [CAPABILITY IMAP4rev1] hi\r\n",
            vec![("C1 NOOP", "* BYE too many errors\r\n".into())],
        ));
        let mut c = CodecClient::start(client, "mx.test", limits())
            .await
            .unwrap();
        let err = c
            .execute(CommandBody::Noop, "noop", OnNo::Fail)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "network error: mx.test closed the connection: too many errors"
        );
        assert!(c.is_broken());
    }

    /// A FETCH answer with a body literal of `len` bytes, then a second
    /// response, written in pieces of `piece` bytes.
    async fn fetch_answer(len: usize, piece: usize) -> (Vec<u8>, tokio::io::DuplexStream) {
        let body: Vec<u8> = (0..len).map(|i| b"abcdefghij\r\n"[i % 12]).collect();
        let mut wire = format!("* 1 FETCH (UID 9 BODY[] {{{len}}}\r\n").into_bytes();
        wire.extend_from_slice(&body);
        wire.extend_from_slice(b" FLAGS (\\Seen))\r\n* 2 EXISTS\r\nC1 OK done\r\n");
        let (client, mut server) = duplex(1 << 16);
        tokio::spawn(async move {
            server
                .write_all(b"* OK [CAPABILITY IMAP4rev1] hi\r\n")
                .await
                .unwrap();
            for chunk in wire.chunks(piece) {
                server.write_all(chunk).await.unwrap();
            }
            // Keep the stream open until the client is done.
            let mut sink = Vec::new();
            let _ = server.read_to_end(&mut sink).await;
        });
        (body, client)
    }

    #[tokio::test]
    async fn large_body_literals_are_spilled_exactly_and_the_stream_stays_in_step() {
        // Across many reads, in one read, and just at the threshold.
        for (len, piece, over, spilled) in [
            (200_000, 7_001, 1_000, true),
            (3_000, 1 << 16, 1_000, true),
            (1_000, 100, 1_000, false),
        ] {
            let (body, stream) = fetch_answer(len, piece).await;
            let limits = ClientLimits {
                // Room for a small body and one read buffer past a line.
                max_response_bytes: 128 << 10,
                ..limits()
            };
            let mut c = CodecClient::start(stream, "mx.test", limits).await.unwrap();
            let mut opened = Vec::new();
            let (response, spill) = c
                .read_response_spooling(over, |n| {
                    opened.push(n);
                    async { Ok(Vec::<u8>::new()) }
                })
                .await
                .unwrap_or_else(|e| panic!("{len}: {e}"));
            let Response::Data(Data::Fetch { items, .. }) = response else {
                panic!("{response:?}")
            };
            let shown = format!("{:?}", items.as_ref());
            assert!(
                shown.contains("Uid(9)") && shown.contains("Seen"),
                "{shown}"
            );
            match spill {
                Some(spill) => {
                    assert!(spilled, "{len} spilled");
                    assert_eq!(opened, [len as u32]);
                    assert_eq!(spill.len as usize, len);
                    assert!(spill.sink == body, "{len}: spilled bytes differ");
                }
                None => {
                    assert!(!spilled, "{len} not spilled");
                    assert!(opened.is_empty());
                }
            }
            let next = c.read_response().await.unwrap();
            assert!(matches!(next, Response::Data(Data::Exists(2))), "{next:?}");
        }
    }

    #[tokio::test]
    async fn throttled_no_is_a_network_error_for_execute() {
        let (client, server) = duplex(1 << 16);
        tokio::spawn(serve(
            server,
            "* OK [CAPABILITY IMAP4rev1] hi\r\n",
            vec![
                ("C1 NOOP", "C1 NO [UNAVAILABLE] Server busy\r\n".into()),
                ("C2 NOOP", "C2 NO [ALREADYEXISTS] Mailbox exists\r\n".into()),
            ],
        ));
        let mut c = CodecClient::start(client, "mx.test", limits())
            .await
            .unwrap();
        let err = c
            .execute(CommandBody::Noop, "noop", OnNo::Return)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "network error: noop on mx.test: the server asks to slow down: NO [UNAVAILABLE] Server busy"
        );
        // Other refusals are returned to the caller as before.
        let done = c
            .execute(CommandBody::Noop, "noop", OnNo::Return)
            .await
            .unwrap();
        assert_eq!(done.code_text().as_deref(), Some("ALREADYEXISTS"));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let (client, _server) = duplex(1 << 16);
        let err = CodecClient::start(
            client,
            "mx.test",
            ClientLimits {
                io_timeout: Duration::from_millis(50),
                ..limits()
            },
        )
        .await
        .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "network error: no answer from mx.test within 50ms"
        );
    }
}

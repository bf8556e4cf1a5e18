//! Pipelined APPEND: the speed of the write path.
//!
//! Three ways to put messages on the wire, chosen from the server's
//! capabilities ([`AppendMode::for_capabilities`]):
//!
//! - [`AppendMode::LiteralPlus`]: one `APPEND` per message with a
//!   non-synchronising literal (`{n+}`, RFC 7888), many commands written before
//!   their replies are read. No round trip per message; a tagged `NO` rejects
//!   its one message.
//! - [`AppendMode::MultiAppend`]: groups of small messages per `APPEND`
//!   command (RFC 3502) with non-synchronising literals, also pipelined. The
//!   server stores a group in one transaction, but refuses it as a whole, so the
//!   bodies of a group in flight are held in memory (each at most
//!   [`GROUPED_MESSAGE_MAX_BYTES`], the whole at most the in-flight bound) and a
//!   refused group is sent again one message per APPEND: only the bad message
//!   fails. Larger messages are streamed in an APPEND of their own.
//! - [`AppendMode::Synchronizing`]: one `APPEND` at a time, each body sent after
//!   the server's `+`: one round trip per message, for servers without LITERAL+.
//!
//! Bodies are streamed from [`crate::model::MessageBody::into_reader`] into the socket in
//! 64 KiB chunks. What the server would refuse is never sent (Carbonio closes
//! the connection after five consecutive errors): empty messages, messages over
//! the server's `APPENDLIMIT` or the configured maximum, and keywords that are
//! not atoms (mapped by [`super::keywords`]). Each command line stays under
//! [`AppendLimits::max_line_bytes`].

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset, Timelike};
use imap_codec::encode::{Encoder, Fragment};
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::{Atom, Literal};
use imap_codec::imap_types::datetime::DateTime as ImapDateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::{Code, StatusKind};
use imap_codec::CommandCodec;
use tokio::io::{AsyncRead, AsyncWrite};

use super::codec_client::{
    code_text, is_throttling, kind_name, throttled, CodecClient, Completion,
};
use super::keywords::{plan_flags, KeywordChange};
use crate::destination::AppendOutcome;
use crate::error::{Error, Result};
use crate::model::{Message, Uid};

/// How messages are put on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendMode {
    /// Several messages per `APPEND` (MULTIAPPEND) with `{n+}` literals, pipelined.
    MultiAppend,
    /// One message per `APPEND` with `{n+}` literals, pipelined.
    LiteralPlus,
    /// One message per `APPEND`, waiting for `+` before each body.
    Synchronizing,
}

impl AppendMode {
    /// The fastest mode the server allows: MULTIAPPEND with LITERAL+ (the
    /// server commits a group at once: 3x faster than single appends on
    /// Dovecot, see `docs/design/0003-imap.md`), else pipelined `{n+}`
    /// appends, else synchronising literals.
    pub fn for_capabilities(literal_plus: bool, multiappend: bool) -> AppendMode {
        match (literal_plus, multiappend) {
            (true, true) => AppendMode::MultiAppend,
            (true, false) => AppendMode::LiteralPlus,
            _ => AppendMode::Synchronizing,
        }
    }
}

/// Bounds of one append call.
#[derive(Clone, Copy, Debug)]
pub struct AppendLimits {
    /// Messages written but not yet acknowledged, at most.
    pub max_in_flight_messages: usize,
    /// Bytes written but not yet acknowledged, at most (a single larger message
    /// is still sent, alone).
    pub max_in_flight_bytes: u64,
    /// The longest command line (the part before a literal) sent.
    pub max_line_bytes: usize,
    /// Messages larger than this are not sent (the server's `APPENDLIMIT`, a
    /// configured maximum).
    pub max_message_bytes: Option<u64>,
    /// Messages per MULTIAPPEND command, at most.
    pub group_messages: usize,
    /// Bytes per MULTIAPPEND command, at most.
    pub group_bytes: u64,
}

impl Default for AppendLimits {
    fn default() -> Self {
        AppendLimits {
            max_in_flight_messages: 64,
            max_in_flight_bytes: 16 << 20,
            max_line_bytes: 8000,
            max_message_bytes: None,
            group_messages: 16,
            group_bytes: 4 << 20,
        }
    }
}

/// One message ready to send: its line part encoded, its body still a stream.
struct Prepared {
    index: usize,
    /// ` (\Seen kw) "dd-Mon-yyyy hh:mm:ss +zzzz"` without the literal.
    part: Vec<u8>,
    len: u64,
    body: Body,
    /// Sent in an APPEND of its own (a retry after a refused MULTIAPPEND).
    alone: bool,
}

/// A body still to be read, or read into memory for a MULTIAPPEND group (so
/// it can be sent again alone if the group is refused).
enum Body {
    Stream(std::pin::Pin<Box<dyn AsyncRead + Send>>),
    Buffered(bytes::Bytes),
}

/// A command written and not yet acknowledged.
struct InFlight {
    tag: String,
    indices: Vec<usize>,
    bytes: u64,
    /// For a MULTIAPPEND group: its messages, to send one by one if refused.
    group: Vec<Prepared>,
}

/// What to call messages in outcomes and logs.
fn item(folder: &str, uid: Uid) -> String {
    format!("message uid {uid} to {folder}")
}

/// ` APPEND mailbox` as imap-codec encodes it: a command line is the tag, this,
/// and a message's part.
fn command_prefix(mailbox: &str) -> Result<Vec<u8>> {
    let line = encode_append_line("X", mailbox, Vec::new(), None)?;
    Ok(line[1..].to_vec())
}

/// Encodes `tag APPEND mailbox (flags) "date"` with imap-codec, by encoding the
/// command with an empty literal and cutting the literal off: the real literal
/// length is spliced in by the caller so the body can be streamed.
fn encode_append_line(
    tag: &str,
    mailbox: &str,
    flags: Vec<Flag<'_>>,
    date: Option<ImapDateTime>,
) -> Result<Vec<u8>> {
    let invalid = |reason: String| Error::InvalidValue {
        what: "IMAP mailbox name",
        value: mailbox.to_string(),
        reason,
    };
    let mailbox = Mailbox::try_from(mailbox).map_err(|e| invalid(e.to_string()))?;
    let literal = Literal::unvalidated_non_sync(&b""[..]);
    let body = CommandBody::Append {
        mailbox,
        flags,
        date,
        message: LiteralOrLiteral8::Literal(literal),
    };
    let command = Command::new(tag, body).map_err(|e| invalid(e.to_string()))?;
    let mut fragments = CommandCodec::default().encode(&command);
    match fragments.next() {
        Some(Fragment::Line { data }) => match data.strip_suffix(b" {0+}\r\n") {
            Some(head) => Ok(head.to_vec()),
            None => Err(invalid("it cannot be sent without a literal".into())),
        },
        _ => Err(invalid("it cannot be sent without a literal".into())),
    }
}

/// The message's date as IMAP accepts it: whole seconds, an offset in whole
/// minutes, a year from 0 to 9999 (`None` otherwise: the server dates it).
fn imap_date(date: DateTime<FixedOffset>) -> Option<ImapDateTime> {
    let whole = date.with_nanosecond(0)?;
    let offset_secs = whole.offset().local_minus_utc();
    let rounded = FixedOffset::east_opt(offset_secs - offset_secs % 60)?;
    ImapDateTime::try_from(whole.with_timezone(&rounded)).ok()
}

/// The planned flags (see [`plan_flags`]) as imap-codec flags.
pub(super) fn imap_flags(flags: &[String]) -> Vec<Flag<'_>> {
    flags
        .iter()
        .filter_map(|f| match f.as_str() {
            "\\Seen" => Some(Flag::Seen),
            "\\Answered" => Some(Flag::Answered),
            "\\Flagged" => Some(Flag::Flagged),
            "\\Deleted" => Some(Flag::Deleted),
            "\\Draft" => Some(Flag::Draft),
            keyword => Atom::try_from(keyword.as_bytes()).ok().map(Flag::Keyword),
        })
        .collect()
}

/// The UIDs of an `APPENDUID` code, in order: one for a single APPEND, a UID
/// set (`4:6,9`) for MULTIAPPEND.
pub fn append_uids(code: Option<&Code<'_>>) -> Vec<u32> {
    match code {
        Some(Code::AppendUid { uid, .. }) => vec![uid.get()],
        Some(other @ Code::Other(_)) => {
            let text = code_text(other);
            let mut words = text.split_ascii_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(name), Some(_validity), Some(set))
                    if name.eq_ignore_ascii_case("APPENDUID") =>
                {
                    parse_uid_set(set).unwrap_or_default()
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// `4:6,9` → `[4, 5, 6, 9]`; ranges may be written high to low. `None` when
/// malformed or implausibly large.
fn parse_uid_set(set: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in set.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                let (lo, hi) = (a.min(b), a.max(b));
                if hi - lo > 100_000 {
                    return None;
                }
                out.extend(lo..=hi);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// Appends `messages` to the server mailbox `mailbox` (as on the wire),
/// returning one outcome per message, in order: the UID from `APPENDUID` when
/// the server has UIDPLUS, or the error that rejected that message.
/// `folder` names the folder in outcomes.
///
/// # Errors
/// [`Error::Network`] when the connection fails midway (the engine retries the
/// batch and re-identifies what was written); [`Error::Io`] when a body yields
/// another length than announced (the connection is then unusable).
pub async fn append_messages<S: AsyncRead + AsyncWrite + Unpin + Send>(
    client: &mut CodecClient<S>,
    mailbox: &str,
    folder: &str,
    messages: Vec<Message>,
    mode: AppendMode,
    limits: &AppendLimits,
) -> Result<Vec<AppendOutcome>> {
    let mut outcomes: Vec<Option<AppendOutcome>> = messages.iter().map(|_| None).collect();
    let prefix = command_prefix(mailbox)?;
    // Tags are `C` and a counter: 12 bytes is far more than a run reaches.
    let prefix_len = prefix.len() + 12;
    // The line after a literal in MULTIAPPEND is only the message part, so the
    // first line (prefix + part) is the longest.
    let flags_budget = limits.max_line_bytes.saturating_sub(
        prefix_len + " () \"dd-Mon-yyyy hh:mm:ss +zzzz\" {18446744073709551615+}\r\n".len(),
    );
    let mut ready: Vec<Prepared> = Vec::with_capacity(messages.len());
    let mut uids: Vec<Uid> = Vec::with_capacity(messages.len());
    for (index, message) in messages.into_iter().enumerate() {
        let uid = message.meta.uid;
        uids.push(uid);
        let len = message.body.len();
        let refuse = |reason: String| {
            Err(Error::Rejected {
                item: item(folder, uid),
                reason,
            })
        };
        if len == 0 {
            outcomes[index] = Some(refuse(
                "an empty message (0 bytes) is refused by IMAP servers; not sent".into(),
            ));
            continue;
        }
        if let Some(max) = limits.max_message_bytes {
            if len > max {
                outcomes[index] = Some(refuse(format!(
                    "{len} bytes is over the destination's limit of {max} bytes; not sent"
                )));
                continue;
            }
        }
        if len > u64::from(u32::MAX) {
            outcomes[index] = Some(refuse(format!(
                "{len} bytes is over IMAP's literal limit of 4 GiB; not sent"
            )));
            continue;
        }
        let plan = plan_flags(&message.meta.flags, flags_budget);
        for change in &plan.changes {
            match change {
                KeywordChange::Mapped { from, to } => {
                    tracing::debug!(item = %item(folder, uid), from = %from, to = %to, "keyword mapped")
                }
                KeywordChange::Dropped { keyword, reason } => {
                    tracing::info!(item = %item(folder, uid), keyword = %keyword, reason, "keyword dropped")
                }
            }
        }
        let date = imap_date(message.meta.internal_date);
        let line = encode_append_line("X", mailbox, imap_flags(&plan.flags), date)?;
        let part = line.get(1 + prefix.len()..).unwrap_or_default().to_vec();
        ready.push(Prepared {
            index,
            part,
            len,
            body: Body::Stream(message.body.into_reader()),
            alone: false,
        });
    }
    match mode {
        AppendMode::Synchronizing => {
            synchronizing(client, &prefix, folder, &uids, ready, &mut outcomes).await?
        }
        AppendMode::LiteralPlus | AppendMode::MultiAppend => {
            let group_messages = if mode == AppendMode::MultiAppend {
                limits.group_messages.max(1)
            } else {
                1
            };
            pipelined(
                client,
                &prefix,
                folder,
                &uids,
                ready,
                &mut outcomes,
                group_messages,
                limits,
            )
            .await?
        }
    }
    Ok(outcomes
        .into_iter()
        .zip(&uids)
        .map(|(o, uid)| {
            o.unwrap_or_else(|| {
                Err(Error::Protocol {
                    context: format!("appending {}", item(folder, *uid)),
                    message: "no answer was matched to this message".into(),
                })
            })
        })
        .collect())
}

/// Outcomes of one acknowledged command.
fn settle(
    done: &Completion,
    indices: &[usize],
    folder: &str,
    uids: &[Uid],
    outcomes: &mut [Option<AppendOutcome>],
) {
    if done.is_ok() {
        let assigned = append_uids(done.code.as_ref());
        let matched = assigned.len() == indices.len();
        for (k, &i) in indices.iter().enumerate() {
            let uid = if matched { Uid::new(assigned[k]) } else { None };
            outcomes[i] = Some(Ok(uid));
        }
        return;
    }
    let code = done
        .code_text()
        .map(|c| format!("[{c}] "))
        .unwrap_or_default();
    for &i in indices {
        let reason = format!(
            "the server answered {} {code}{}",
            kind_name(done.kind),
            done.text
        );
        outcomes[i] = Some(match done.kind {
            // Busy, not refused: the engine retries it with backoff. `[LIMIT]`
            // on APPEND is a limit of this message (size, flags): refused.
            StatusKind::No
                if is_throttling(done.code.as_ref(), &done.text)
                    && !done.code_text().is_some_and(|c| {
                        c.split_whitespace()
                            .next()
                            .is_some_and(|name| name.eq_ignore_ascii_case("LIMIT"))
                    }) =>
            {
                Err(throttled(
                    &format!("appending {}", item(folder, uids[i])),
                    done,
                ))
            }
            StatusKind::Bad => Err(Error::Protocol {
                context: format!("appending {}", item(folder, uids[i])),
                message: reason,
            }),
            _ => Err(Error::Rejected {
                item: item(folder, uids[i]),
                reason,
            }),
        });
    }
}

/// Messages at most this large are grouped (and held in memory while their
/// group is in flight) in MULTIAPPEND mode; larger ones are streamed alone.
pub const GROUPED_MESSAGE_MAX_BYTES: u64 = 256 << 10;

/// Reads a small body into memory, checking its length.
async fn buffer_body(p: &mut Prepared, what: &str) -> Result<()> {
    use tokio::io::AsyncReadExt;
    if let Body::Stream(reader) = &mut p.body {
        let mut data = Vec::with_capacity(usize::try_from(p.len).unwrap_or(0));
        reader
            .take(p.len + 1)
            .read_to_end(&mut data)
            .await
            .map_err(|e| Error::io(format!("reading the body of {what}"), e))?;
        if data.len() as u64 != p.len {
            return Err(Error::io(
                format!("reading the body of {what}"),
                std::io::Error::other(format!(
                    "announced {} bytes, the body has {}{}",
                    p.len,
                    data.len(),
                    if data.len() as u64 > p.len {
                        " or more"
                    } else {
                        ""
                    }
                )),
            ));
        }
        p.body = Body::Buffered(data.into());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn pipelined<S: AsyncRead + AsyncWrite + Unpin + Send>(
    client: &mut CodecClient<S>,
    prefix: &[u8],
    folder: &str,
    uids: &[Uid],
    ready: Vec<Prepared>,
    outcomes: &mut [Option<AppendOutcome>],
    group_messages: usize,
    limits: &AppendLimits,
) -> Result<()> {
    let mut ready: VecDeque<Prepared> = ready.into();
    let mut queue: VecDeque<InFlight> = VecDeque::new();
    let (mut in_flight_messages, mut in_flight_bytes) = (0usize, 0u64);
    let mut acknowledged = 0usize;
    loop {
        // The next unit: a group of small messages (MULTIAPPEND), or one.
        let mut group: Vec<Prepared> = Vec::new();
        let mut group_bytes = 0u64;
        while let Some(next) = ready.front() {
            let groupable =
                group_messages > 1 && !next.alone && next.len <= GROUPED_MESSAGE_MAX_BYTES;
            let fits = group.is_empty()
                || (groupable
                    && group.len() < group_messages
                    && group_bytes + next.len <= limits.group_bytes);
            if !fits {
                break;
            }
            let Some(p) = ready.pop_front() else { break };
            group_bytes += p.len;
            group.push(p);
            if !groupable {
                break;
            }
        }
        if group.is_empty() && queue.is_empty() {
            return Ok(());
        }
        // Make room in the pipeline (or, with nothing left to send, drain it).
        while !queue.is_empty()
            && (group.is_empty()
                || in_flight_messages + group.len() > limits.max_in_flight_messages
                || in_flight_bytes + group_bytes > limits.max_in_flight_bytes)
        {
            let (front, done) = complete_front(client, &mut queue)
                .await
                .map_err(|e| dropped(e, acknowledged, folder))?;
            in_flight_messages -= front.indices.len();
            in_flight_bytes -= front.bytes;
            if !done.is_ok() && front.group.len() > 1 {
                // A MULTIAPPEND is refused whole: send its messages again one
                // by one, so only the bad one fails.
                tracing::info!(folder, messages = front.group.len(), answer = %done.text, "MULTIAPPEND refused; appending its messages one by one");
                for mut p in front.group.into_iter().rev() {
                    p.alone = true;
                    ready.push_front(p);
                }
            } else {
                acknowledged += front.indices.len();
                settle(&done, &front.indices, folder, uids, outcomes);
            }
            if group.is_empty() && !ready.is_empty() {
                break;
            }
        }
        if group.is_empty() {
            continue;
        }
        let grouped = group.len() > 1;
        if grouped {
            for p in &mut group {
                let what = item(folder, uids[p.index]);
                if let Err(e) = buffer_body(p, &what).await {
                    // Nothing of this group is on the wire yet.
                    outcomes[p.index] = Some(Err(e));
                    p.len = 0;
                }
            }
            group.retain(|p| p.len > 0);
            if group.is_empty() {
                continue;
            }
        }
        let tag = client.next_tag();
        client.write(tag.as_bytes()).await?;
        client.write(prefix).await?;
        for p in &mut group {
            client.write(&p.part).await?;
            client
                .write(format!(" {{{}+}}\r\n", p.len).as_bytes())
                .await?;
            match &mut p.body {
                Body::Buffered(data) => client.write(data).await?,
                Body::Stream(reader) => {
                    let what = item(folder, uids[p.index]);
                    client.write_body(reader, p.len, &what).await?
                }
            }
        }
        client.write(b"\r\n").await?;
        let indices: Vec<usize> = group.iter().map(|p| p.index).collect();
        let bytes: u64 = group.iter().map(|p| p.len).sum();
        in_flight_messages += indices.len();
        in_flight_bytes += bytes;
        queue.push_back(InFlight {
            tag,
            indices,
            bytes,
            group: if grouped { group } else { Vec::new() },
        });
    }
}

/// Logs what was acknowledged before a failure, and passes the error on.
fn dropped(e: Error, acknowledged: usize, folder: &str) -> Error {
    if acknowledged > 0 {
        tracing::warn!(folder, acknowledged, error = %e, "connection failed after some appends were acknowledged");
    }
    e
}

/// Flushes and reads until the oldest in-flight command completes.
async fn complete_front<S: AsyncRead + AsyncWrite + Unpin + Send>(
    client: &mut CodecClient<S>,
    queue: &mut VecDeque<InFlight>,
) -> Result<(InFlight, Completion)> {
    client.flush().await?;
    let Some(front) = queue.pop_front() else {
        return Err(Error::Protocol {
            context: "appending".into(),
            message: "no command in flight".into(),
        });
    };
    // Untagged data while appending (EXISTS of a selected folder) is not needed.
    let mut scratch = Vec::new();
    let done = client.read_until_tagged(&front.tag, &mut scratch).await?;
    Ok((front, done))
}

async fn synchronizing<S: AsyncRead + AsyncWrite + Unpin + Send>(
    client: &mut CodecClient<S>,
    prefix: &[u8],
    folder: &str,
    uids: &[Uid],
    ready: Vec<Prepared>,
    outcomes: &mut [Option<AppendOutcome>],
) -> Result<()> {
    for mut p in ready {
        let tag = client.next_tag();
        client.write(tag.as_bytes()).await?;
        client.write(prefix).await?;
        client.write(&p.part).await?;
        client
            .write(format!(" {{{}}}\r\n", p.len).as_bytes())
            .await?;
        client.flush().await?;
        let mut scratch = Vec::new();
        if let Some(done) = client.await_continuation(&tag, &mut scratch).await? {
            settle(&done, &[p.index], folder, uids, outcomes);
            continue;
        }
        let what = item(folder, uids[p.index]);
        match &mut p.body {
            Body::Buffered(data) => client.write(data).await?,
            Body::Stream(reader) => client.write_body(reader, p.len, &what).await?,
        }
        client.write(b"\r\n").await?;
        client.flush().await?;
        let done = client.read_until_tagged(&tag, &mut scratch).await?;
        settle(&done, &[p.index], folder, uids, outcomes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttling_no_is_retryable_and_a_plain_no_is_a_rejection() {
        let uids = [Uid::new(7).unwrap(), Uid::new(8).unwrap()];
        let answer = |text: &str| Completion {
            kind: StatusKind::No,
            code: None,
            text: text.into(),
            data: Vec::new(),
        };
        let mut outcomes = vec![None, None];
        settle(
            &answer("Try again later"),
            &[0],
            "Sent",
            &uids,
            &mut outcomes,
        );
        settle(
            &answer("Message too big"),
            &[1],
            "Sent",
            &uids,
            &mut outcomes,
        );
        let busy = outcomes[0].take().unwrap().unwrap_err();
        assert!(busy.is_retryable(), "{busy}");
        assert!(
            busy.to_string().contains(
                "appending message uid 7 to Sent: the server asks to slow down: NO Try again later"
            ),
            "{busy}"
        );
        let refused = outcomes[1].take().unwrap().unwrap_err();
        assert!(!refused.is_retryable(), "{refused}");
        assert!(
            refused
                .to_string()
                .contains("the server answered NO Message too big"),
            "{refused}"
        );
    }

    #[test]
    fn uid_sets_expand_in_order() {
        assert_eq!(parse_uid_set("4:6,9"), Some(vec![4, 5, 6, 9]));
        assert_eq!(parse_uid_set("7"), Some(vec![7]));
        assert_eq!(parse_uid_set("3:1"), Some(vec![1, 2, 3]));
        assert_eq!(parse_uid_set("x"), None);
        assert_eq!(parse_uid_set("1:4000000000"), None);
    }

    #[test]
    fn append_line_is_encoded_by_imap_codec() {
        let date = DateTime::parse_from_rfc3339("1998-03-14T09:26:53.25-05:00").unwrap();
        let flags = vec!["\\Seen".to_string(), "$Label1".to_string()];
        let line = encode_append_line(
            "A7",
            "Projekte/&ANw-berblick 2024",
            imap_flags(&flags),
            imap_date(date),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "A7 APPEND \"Projekte/&ANw-berblick 2024\" (\\Seen $Label1) \"14-Mar-1998 09:26:53 -0500\""
        );
        assert_eq!(command_prefix("INBOX").unwrap(), b" APPEND INBOX");
    }

    #[test]
    fn odd_offsets_and_years_are_made_valid() {
        let odd = DateTime::parse_from_rfc3339("2012-06-30T23:59:59+05:30").unwrap();
        let odd = odd.with_timezone(&FixedOffset::east_opt(5 * 3600 + 1800 + 17).unwrap());
        assert!(imap_date(odd).is_some());
    }
}

//! Messages: metadata, flags, streamed bodies and signatures.

use std::collections::BTreeSet;
use std::fmt;
use std::pin::Pin;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, Result};

/// An IMAP-style unique identifier of a message in a folder: never 0, strictly
/// increasing in the order messages were added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Uid(u32);

impl Uid {
    /// A UID; `None` for 0, which IMAP reserves.
    pub fn new(value: u32) -> Option<Uid> {
        (value != 0).then_some(Uid(value))
    }

    /// The numeric value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<u32> for Uid {
    type Error = Error;
    fn try_from(v: u32) -> Result<Uid> {
        Uid::new(v).ok_or_else(|| Error::InvalidValue {
            what: "UID",
            value: "0".into(),
            reason: "UIDs start at 1".into(),
        })
    }
}

impl From<Uid> for u32 {
    fn from(u: Uid) -> u32 {
        u.0
    }
}

/// A message's flags: the IMAP system flags and keywords.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags {
    /// `\Seen`.
    pub seen: bool,
    /// `\Answered`.
    pub answered: bool,
    /// `\Flagged`.
    pub flagged: bool,
    /// `\Deleted`.
    pub deleted: bool,
    /// `\Draft`.
    pub draft: bool,
    /// Keywords (`$Forwarded`, `$Label1`, user tags), as the source names them.
    pub keywords: BTreeSet<String>,
}

impl Flags {
    /// A stable 64-bit fingerprint of the flags (FNV-1a of [`Flags::to_imap`]),
    /// kept in the journal to tell which copied messages' flags changed.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.to_imap().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// The flags in IMAP syntax, system flags first, keywords sorted:
    /// `\Seen \Flagged $Forwarded`.
    pub fn to_imap(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for (set, name) in [
            (self.seen, "\\Seen"),
            (self.answered, "\\Answered"),
            (self.flagged, "\\Flagged"),
            (self.deleted, "\\Deleted"),
            (self.draft, "\\Draft"),
        ] {
            if set {
                parts.push(name);
            }
        }
        parts.extend(self.keywords.iter().map(String::as_str));
        parts.join(" ")
    }
}

/// What is known of a message before its body is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMeta {
    /// Its UID in the source folder.
    pub uid: Uid,
    /// Its flags and keywords.
    pub flags: Flags,
    /// When the server received it (IMAP INTERNALDATE), with its offset.
    pub internal_date: DateTime<FixedOffset>,
    /// Exact size of the body in bytes.
    pub size: u64,
}

/// A message body read as a stream, with its exact length known up front so
/// writers can announce it (IMAP literals, archive headers) without buffering.
pub struct MessageBody {
    len: u64,
    reader: Pin<Box<dyn AsyncRead + Send>>,
}

impl MessageBody {
    /// A body over a reader that yields exactly `len` bytes.
    pub fn from_reader(len: u64, reader: impl AsyncRead + Send + 'static) -> Self {
        MessageBody {
            len,
            reader: Box::pin(reader),
        }
    }

    /// A body held in memory (small messages, tests).
    pub fn from_bytes(bytes: impl Into<bytes::Bytes>) -> Self {
        let bytes: bytes::Bytes = bytes.into();
        MessageBody {
            len: bytes.len() as u64,
            reader: Box::pin(std::io::Cursor::new(bytes)),
        }
    }

    /// Exact length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The reader, for streaming writers.
    pub fn into_reader(self) -> Pin<Box<dyn AsyncRead + Send>> {
        self.reader
    }

    /// Reads the whole body. Only for bodies known to be small, and for tests.
    ///
    /// # Errors
    /// [`Error::Io`] when the reader fails or yields another length than announced.
    pub async fn read_all(self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0).min(64 << 20));
        let mut reader = self.reader;
        reader
            .read_to_end(&mut out)
            .await
            .map_err(|e| Error::io("reading a message body", e))?;
        if out.len() as u64 != self.len {
            return Err(Error::io(
                "reading a message body",
                std::io::Error::other(format!("announced {} bytes, read {}", self.len, out.len())),
            ));
        }
        Ok(out)
    }
}

impl fmt::Debug for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBody")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// A message: metadata and body.
#[derive(Debug)]
pub struct Message {
    /// UID, flags, date, size.
    pub meta: MessageMeta,
    /// The raw RFC 5322 bytes, streamed.
    pub body: MessageBody,
}

/// A short identity of a message independent of UIDs, used to recognise on the
/// destination a message copied before the journal knew about it: Message-ID,
/// Date header, size and a hash of the header block.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageSignature(String);

impl MessageSignature {
    /// Computes the signature from the message's header block (the bytes up to the
    /// first empty line) and its total size.
    pub fn compute(header_block: &[u8], size: u64) -> Self {
        let header = |name: &str| -> String {
            mail_parser::MessageParser::new()
                .parse_headers(header_block)
                .and_then(|m| m.header_raw(name).map(|v| v.trim().to_string()))
                .unwrap_or_default()
        };
        let digest = Sha256::digest(header_block);
        let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        MessageSignature(format!(
            "{}|{}|{size}|{short}",
            header("Message-ID"),
            header("Date")
        ))
    }

    /// A signature read back from storage (the journal).
    pub fn from_stored(text: String) -> Self {
        MessageSignature(text)
    }

    /// The signature as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The header block of a raw message: everything up to and including the first
/// empty line, or the whole input when there is none.
pub fn header_block(raw: &[u8]) -> &[u8] {
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return &raw[..i + 2];
        }
        if i + 4 <= raw.len() && &raw[i..i + 4] == b"\r\n\r\n" {
            return &raw[..i + 4];
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_zero_is_refused() {
        assert!(Uid::new(0).is_none());
        assert_eq!(Uid::new(7).map(Uid::get), Some(7));
        assert!(serde_json::from_str::<Uid>("0").is_err());
    }

    #[test]
    fn flags_render_in_imap_syntax() {
        let mut f = Flags {
            seen: true,
            flagged: true,
            ..Flags::default()
        };
        f.keywords.insert("$Forwarded".into());
        assert_eq!(f.to_imap(), "\\Seen \\Flagged $Forwarded");
    }

    #[tokio::test]
    async fn body_reads_back_and_checks_length() {
        let b = MessageBody::from_bytes(&b"Subject: x\r\n\r\nhi"[..]);
        assert_eq!(b.len(), 16);
        assert_eq!(b.read_all().await.unwrap(), b"Subject: x\r\n\r\nhi");
        let short = MessageBody::from_reader(10, std::io::Cursor::new(b"abc".to_vec()));
        assert!(short
            .read_all()
            .await
            .unwrap_err()
            .chain()
            .contains("announced 10 bytes, read 3"));
    }

    #[test]
    fn signature_uses_message_id_date_size() {
        let raw = b"Message-ID: <a@b>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody";
        let s = MessageSignature::compute(header_block(raw), raw.len() as u64);
        assert!(
            s.as_str()
                .starts_with("<a@b>|Mon, 1 Jan 2024 10:00:00 +0000|"),
            "{}",
            s.as_str()
        );
        assert_eq!(header_block(raw).len(), raw.len() - 4);
    }
}

//! mbox files: one folder each, read as mboxrd.
//!
//! A message starts after a `From ` line that opens the file, or that follows an
//! empty line and carries a readable date (`From sender Mon Jan  1 10:00:00 2024`),
//! and ends before the empty line the writer puts ahead of the next `From `
//! line (or the end of the file). Body lines `>From `, `>>From `, ... lose one `>`.
//! Line endings are left as they are.
//!
//! The file is scanned once per folder into an index of byte ranges; bodies are
//! then streamed from disk, never held whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{Error, Result};
use crate::model::MessageBody;

use super::header_fields::parse_from_line_date;

/// Where one message of an mbox file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct MboxEntry {
    /// Offset of the message's first byte (after the `From ` line).
    pub offset: u64,
    /// Length of the message as stored (escaped).
    pub stored_len: u64,
    /// Length once unescaped: the body's exact size.
    pub size: u64,
    /// The date of the `From ` line.
    pub from_date: Option<DateTime<FixedOffset>>,
}

/// How much of a line is kept to classify it and read a `From ` line's date.
const LINE_HEAD_CAP: usize = 1024;

/// Reads a file line by line without holding a whole line: only its first bytes
/// are kept; every byte passes through an unescaping counter so sizes agree with
/// what [`MboxrdUnescaper`] produces when the body is read.
struct LineScanner<R> {
    reader: R,
    offset: u64,
    head: Vec<u8>,
    counter: MboxrdUnescaper,
    removed: u64,
}

impl<R: BufRead> LineScanner<R> {
    /// The next line's start and length; its first bytes are in `self.head`.
    fn next_line(&mut self) -> io::Result<Option<(u64, u64)>> {
        self.head.clear();
        let start = self.offset;
        let mut len = 0u64;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let (take, ends_line) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let room = LINE_HEAD_CAP.saturating_sub(self.head.len()).min(take);
            self.head.extend_from_slice(&buf[..room]);
            self.removed += self.counter.feed(&buf[..take], |_| {});
            self.reader.consume(take);
            len += take as u64;
            if ends_line {
                break;
            }
        }
        if len == 0 {
            return Ok(None);
        }
        self.offset += len;
        Ok(Some((start, len)))
    }
}

fn is_empty_line(head: &[u8]) -> bool {
    head == b"\n" || head == b"\r\n"
}

/// Scans `path` into the index of its messages, in file order.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] at line 1 when the
/// file does not start with a `From ` line.
pub(super) fn index_mbox(path: &Path) -> Result<Vec<MboxEntry>> {
    let io_error = |e| Error::io(format!("reading {}", path.display()), e);
    let file = File::open(path).map_err(io_error)?;
    let mut scanner = LineScanner {
        reader: BufReader::with_capacity(64 * 1024, file),
        offset: 0,
        head: Vec::with_capacity(LINE_HEAD_CAP),
        counter: MboxrdUnescaper::new(),
        removed: 0,
    };
    struct Open {
        offset: u64,
        removed_before: u64,
        from_date: Option<DateTime<FixedOffset>>,
    }
    let close = |open: Open, end: u64, removed: u64| {
        let stored_len = end.saturating_sub(open.offset);
        MboxEntry {
            offset: open.offset,
            stored_len,
            size: stored_len.saturating_sub(removed - open.removed_before),
            from_date: open.from_date,
        }
    };
    let mut entries = Vec::new();
    let mut current: Option<Open> = None;
    // The length of the previous line when it was empty: a separator must follow
    // one, and it is not part of the message before.
    let mut previous_empty: Option<u64> = None;
    let mut first = true;
    while let Some((start, len)) = scanner.next_line().map_err(io_error)? {
        let head = &scanner.head;
        let from_date = if head.starts_with(b"From ") {
            parse_from_line_date(head)
        } else {
            None
        };
        // Past the first line, a separator also needs a readable date, so a body
        // line "From here on..." after an empty line (an mboxo writer that did not
        // escape it) stays in its message.
        let separator = head.starts_with(b"From ")
            && (first || (previous_empty.is_some() && from_date.is_some()));
        if first && !separator {
            return Err(Error::input(
                path,
                Some(1),
                "not an mbox file: the first line does not start with \"From \"",
            ));
        }
        if separator {
            if let Some(open) = current.take() {
                let end = start - previous_empty.unwrap_or(0);
                entries.push(close(open, end, scanner.removed));
            }
            current = Some(Open {
                offset: start + len,
                removed_before: scanner.removed,
                from_date,
            });
        }
        previous_empty = is_empty_line(head).then_some(len);
        first = false;
    }
    if let Some(open) = current {
        let end = scanner.offset - previous_empty.unwrap_or(0);
        entries.push(close(open, end, scanner.removed));
    }
    Ok(entries)
}

/// The body of `entry` in the mbox at `path`, streamed and unescaped.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or positioned.
pub(super) async fn open_body(path: &Path, entry: &MboxEntry) -> Result<MessageBody> {
    let io_error = |e| Error::io(format!("reading {}", path.display()), e);
    let mut file = tokio::fs::File::open(path).await.map_err(io_error)?;
    file.seek(io::SeekFrom::Start(entry.offset))
        .await
        .map_err(io_error)?;
    let stored = file.take(entry.stored_len);
    if entry.size == entry.stored_len {
        // Same length: no line was escaped, the stored bytes are the message.
        return Ok(MessageBody::from_reader(entry.size, stored));
    }
    let chunks = futures::stream::unfold(
        (stored, MboxrdUnescaper::new(), false),
        |(mut reader, mut unescaper, done)| async move {
            if done {
                return None;
            }
            let mut input = vec![0u8; 16 * 1024];
            match reader.read(&mut input).await {
                Ok(0) => {
                    let mut out = Vec::new();
                    unescaper.finish(|bytes| out.extend_from_slice(bytes));
                    Some((Ok(Bytes::from(out)), (reader, unescaper, true)))
                }
                Ok(n) => {
                    let mut out = Vec::with_capacity(n);
                    unescaper.feed(&input[..n], |bytes| out.extend_from_slice(bytes));
                    Some((Ok(Bytes::from(out)), (reader, unescaper, false)))
                }
                Err(e) => Some((Err(e), (reader, unescaper, true))),
            }
        },
    );
    Ok(MessageBody::from_reader(
        entry.size,
        tokio_util::io::StreamReader::new(Box::pin(chunks)),
    ))
}

/// The mboxrd un-escaping, fed in chunks of any size: at a line start, one `>` is
/// removed from `>+From `. It keeps only counters between chunks, so a line of a
/// million `>` costs no memory.
#[derive(Debug)]
pub(super) struct MboxrdUnescaper {
    at_line_start: bool,
    /// `>` seen at the start of the current line, not yet written.
    quotes: u64,
    /// Bytes of `From ` matched after them, not yet written.
    matched: usize,
}

const FROM: &[u8] = b"From ";
const QUOTES: &[u8] = &[b'>'; 64];

impl MboxrdUnescaper {
    /// An unescaper at the start of a message.
    pub fn new() -> Self {
        MboxrdUnescaper {
            at_line_start: true,
            quotes: 0,
            matched: 0,
        }
    }

    fn emit_quotes(mut count: u64, emit: &mut impl FnMut(&[u8])) {
        while count > 0 {
            let n = count.min(QUOTES.len() as u64);
            emit(&QUOTES[..n as usize]);
            count -= n;
        }
    }

    /// Feeds `input`; unescaped bytes go to `emit`. Returns how many `>` were removed.
    pub fn feed(&mut self, input: &[u8], mut emit: impl FnMut(&[u8])) -> u64 {
        let mut removed = 0;
        let mut i = 0;
        while i < input.len() {
            if self.at_line_start || self.quotes > 0 {
                let byte = input[i];
                i += 1;
                self.at_line_start = false;
                if self.matched == 0 && byte == b'>' {
                    self.quotes += 1;
                    continue;
                }
                if self.quotes > 0 && byte == FROM[self.matched] {
                    self.matched += 1;
                    if self.matched == FROM.len() {
                        Self::emit_quotes(self.quotes - 1, &mut emit);
                        emit(FROM);
                        removed += 1;
                        self.quotes = 0;
                        self.matched = 0;
                    }
                    continue;
                }
                Self::emit_quotes(self.quotes, &mut emit);
                emit(&FROM[..self.matched]);
                self.quotes = 0;
                self.matched = 0;
                emit(&[byte]);
                self.at_line_start = byte == b'\n';
                continue;
            }
            match input[i..].iter().position(|&b| b == b'\n') {
                Some(p) => {
                    emit(&input[i..=i + p]);
                    i += p + 1;
                    self.at_line_start = true;
                }
                None => {
                    emit(&input[i..]);
                    i = input.len();
                }
            }
        }
        removed
    }

    /// Writes what is still held back at the end of the input.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        Self::emit_quotes(self.quotes, &mut emit);
        emit(&FROM[..self.matched]);
        self.quotes = 0;
        self.matched = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn unescape(input: &[u8], chunk: usize) -> (Vec<u8>, u64) {
        let mut u = MboxrdUnescaper::new();
        let mut out = Vec::new();
        let mut removed = 0;
        for piece in input.chunks(chunk) {
            removed += u.feed(piece, |b| out.extend_from_slice(b));
        }
        u.finish(|b| out.extend_from_slice(b));
        (out, removed)
    }

    #[test]
    fn unescapes_in_any_chunking() {
        let input = b">From a\n>>From b\r\nx >From c\n>Fro\n>>\n>From";
        let expected = b"From a\n>From b\r\nx >From c\n>Fro\n>>\n>From";
        for chunk in 1..=input.len() {
            let (out, removed) = unescape(input, chunk);
            assert_eq!(out, expected, "chunk {chunk}");
            assert_eq!(removed, 2);
        }
    }

    #[test]
    fn indexes_messages_and_strips_the_separating_blank_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.mbox");
        let text = b"From a@x.org Mon Jan  1 10:00:00 2024\r\nSubject: 1\r\n\r\n>From here\r\n\r\nFrom b@x.org Tue Jan  2 10:00:00 2024\r\nSubject: 2\r\n\r\nFrom inside\r\n";
        std::fs::write(&path, text).unwrap();
        let entries = index_mbox(&path).unwrap();
        assert_eq!(entries.len(), 2);
        let first = &text[entries[0].offset as usize..][..entries[0].stored_len as usize];
        assert_eq!(first, b"Subject: 1\r\n\r\n>From here\r\n");
        assert_eq!(entries[0].size, entries[0].stored_len - 1);
        let second = &text[entries[1].offset as usize..][..entries[1].stored_len as usize];
        assert_eq!(second, b"Subject: 2\r\n\r\nFrom inside\r\n");
        assert_eq!(
            entries[1].from_date.unwrap().to_rfc3339(),
            "2024-01-02T10:00:00+00:00"
        );
    }

    #[test]
    fn refuses_a_file_that_is_not_mbox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.mbox");
        std::fs::write(&path, b"Subject: x\n\nhi\n").unwrap();
        let err = index_mbox(&path).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "a.mbox:1: not an mbox file: the first line does not start with \"From \""
            ),
            "{err}"
        );
        std::fs::write(&path, b"").unwrap();
        assert!(index_mbox(&path).unwrap().is_empty());
    }
}

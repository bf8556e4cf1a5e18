//! Physical lines of a text file with their numbers and byte ranges, and the
//! small pieces of RFC 5545 / RFC 6350 syntax the calendar and contact readers
//! share (unfolded property lines, text unescaping, CRLF line ends).

use std::io::{self, BufRead};

/// One physical line.
#[derive(Debug)]
pub(super) struct PhysicalLine {
    /// 1-based line number.
    pub number: u64,
    /// Offset of its first byte.
    pub start: u64,
    /// Offset just past its line ending.
    pub end: u64,
    /// Its bytes without the line ending.
    pub text: Vec<u8>,
}

/// The physical lines of a reader, `\n` or `\r\n` terminated.
pub(super) struct PhysicalLines<R> {
    reader: R,
    number: u64,
    offset: u64,
    finished: bool,
}

impl<R: BufRead> PhysicalLines<R> {
    /// Lines of `reader`, starting at line 1, offset 0.
    pub fn new(reader: R) -> Self {
        PhysicalLines {
            reader,
            number: 0,
            offset: 0,
            finished: false,
        }
    }
}

impl<R: BufRead> Iterator for PhysicalLines<R> {
    type Item = io::Result<PhysicalLine>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let mut text = Vec::new();
        match self.reader.read_until(b'\n', &mut text) {
            Ok(0) => {
                self.finished = true;
                None
            }
            Ok(n) => {
                self.number += 1;
                let start = self.offset;
                self.offset += n as u64;
                if text.ends_with(b"\n") {
                    text.pop();
                    if text.ends_with(b"\r") {
                        text.pop();
                    }
                }
                Some(Ok(PhysicalLine {
                    number: self.number,
                    start,
                    end: self.offset,
                    text,
                }))
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

/// A content line split into its name (uppercased), parameter text and value,
/// honouring quoted parameter values that may hold `:` and `;`.
pub(crate) fn split_property(line: &str) -> (String, &str, &str) {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let (head, value) = match colon {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    (name.trim().to_ascii_uppercase(), params, value)
}

/// The value of parameter `wanted` in a property's parameter text, unquoted.
pub(crate) fn parameter<'a>(params: &'a str, wanted: &str) -> Option<&'a str> {
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case(wanted)
            .then(|| value.trim().trim_matches('"'))
    })
}

/// Undoes TEXT escaping: `\n` `\,` `\;` `\\`.
pub(crate) fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// `text` with every line ending made CRLF, ending with one.
pub(super) fn with_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        out.push_str(line.strip_suffix('\r').unwrap_or(line));
        out.push_str("\r\n");
    }
    out
}

/// Joins folded lines (a line starting with a space or tab continues the one
/// before) into logical lines.
pub(crate) fn unfold<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut logical: Vec<String> = Vec::new();
    for line in lines {
        match (line.strip_prefix([' ', '\t']), logical.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => logical.push(line.to_string()),
        }
    }
    logical
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn lines_have_numbers_and_ranges() {
        let lines: Vec<PhysicalLine> = PhysicalLines::new(&b"a\r\nbb\nc"[..])
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[1].number, lines[1].start, lines[1].end), (2, 3, 6));
        assert_eq!(lines[1].text, b"bb");
        assert_eq!(lines[2].text, b"c");
    }

    #[test]
    fn properties_and_text() {
        let (name, params, value) =
            split_property("dtStart;TZID=\"Europe/Rome:x\";X=1:20240101T100000");
        assert_eq!(name, "DTSTART");
        assert_eq!(parameter(params, "tzid"), Some("Europe/Rome:x"));
        assert_eq!(value, "20240101T100000");
        assert_eq!(unescape_text("a\\, b\\;c\\nd\\\\"), "a, b;c\nd\\");
        assert_eq!(with_crlf("A\nB\r\nC"), "A\r\nB\r\nC\r\n");
        assert_eq!(unfold(["A:1", " 2", "\t3", "B:x"]), ["A:123", "B:x"]);
    }
}

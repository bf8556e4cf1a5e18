//! What a message's own header block says about its flags and dates: the
//! `Status:`/`X-Status:`/`X-Keywords:` headers mail clients write into exports,
//! and the `Received:` and `Date:` headers.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::model::Flags;

/// The flags and candidate dates read from one header block.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct HeaderFields {
    /// Flags and keywords.
    pub flags: Flags,
    /// The date after the last `;` of the first `Received:` header.
    pub received: Option<DateTime<FixedOffset>>,
    /// The `Date:` header.
    pub date: Option<DateTime<FixedOffset>>,
}

impl HeaderFields {
    /// Reads `block`, the bytes up to the first empty line. Headers are unfolded
    /// only to read them; non-UTF-8 bytes are read lossily.
    pub fn parse(block: &[u8]) -> Self {
        let mut fields = HeaderFields::default();
        let mut seen_received = false;
        for (name, value) in unfolded_headers(block) {
            match name.to_ascii_lowercase().as_str() {
                "status" => fields.flags.seen |= value.contains('R'),
                "x-status" => {
                    fields.flags.answered |= value.contains('A');
                    fields.flags.flagged |= value.contains('F');
                    fields.flags.draft |= value.contains('T');
                    fields.flags.deleted |= value.contains('D');
                }
                "x-keywords" | "keywords" => fields.flags.keywords.extend(
                    value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|k| !k.is_empty())
                        .map(str::to_string),
                ),
                "received" if !seen_received => {
                    seen_received = true;
                    fields.received = value.rsplit_once(';').and_then(|(_, d)| parse_mail_date(d));
                }
                "date" if fields.date.is_none() => fields.date = parse_mail_date(&value),
                _ => {}
            }
        }
        fields
    }
}

/// The header fields of `block` as (name, unfolded value) pairs.
fn unfolded_headers(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Parses an RFC 2822 date, tolerating what real mail carries: a trailing
/// `(CET)` comment, doubled spaces, a missing weekday, a named zone.
pub(super) fn parse_mail_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let without_comment = match text.find('(') {
        Some(i) => &text[..i],
        None => text,
    };
    let compact = without_comment
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Ok(date) = DateTime::parse_from_rfc2822(&compact) {
        return Some(date);
    }
    let parsed = mail_parser::DateTime::parse_rfc822(text)?;
    if !(1..=12).contains(&parsed.month) || !(1..=31).contains(&parsed.day) {
        return None;
    }
    let sign = if parsed.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(
        sign * (i32::from(parsed.tz_hour) * 3600 + i32::from(parsed.tz_minute) * 60),
    )?;
    let utc = DateTime::<Utc>::from_timestamp(parsed.to_timestamp(), 0)?;
    Some(utc.with_timezone(&offset))
}

/// Parses the date of an mbox `From_` line (`From sender Mon Jan  1 10:00:00
/// 2024`, taken as UTC; a numeric zone after the time or the year is honoured).
pub(super) fn parse_from_line_date(line: &[u8]) -> Option<DateTime<FixedOffset>> {
    let text = String::from_utf8_lossy(line);
    let rest = text.trim_end().strip_prefix("From ")?;
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    // The sender is usually one token, but some writers leave it out or quote a
    // name with spaces: try each start until the rest reads as a date.
    (0..tokens.len()).find_map(|start| {
        let candidate = tokens[start..].join(" ");
        for format in ["%a %b %d %H:%M:%S %Y %z", "%a %b %d %H:%M:%S %z %Y"] {
            if let Ok(date) = DateTime::parse_from_str(&candidate, format) {
                return Some(date);
            }
        }
        ["%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M %Y"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(&candidate, format).ok())
            .map(|naive| Utc.from_utc_datetime(&naive).fixed_offset())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn reads_flags_and_keywords() {
        let fields = HeaderFields::parse(
            b"Subject: x\r\nStatus: RO\r\nX-Status: AFT\r\nX-Keywords: $Label1, work\r\n todo\r\nKeywords: a b\r\n\r\n",
        );
        let f = &fields.flags;
        assert!(f.seen && f.answered && f.flagged && f.draft && !f.deleted);
        let keywords: Vec<&str> = f.keywords.iter().map(String::as_str).collect();
        assert_eq!(keywords, ["$Label1", "a", "b", "todo", "work"]);
    }

    #[test]
    fn no_status_means_unseen() {
        let f = HeaderFields::parse(b"Subject: Status: R\n\nStatus: R\n").flags;
        assert_eq!(f, Flags::default());
    }

    #[test]
    fn received_date_uses_the_first_received_header() {
        let fields = HeaderFields::parse(
            b"Received: from a by b; Tue, 2 Jan 2024 08:00:00 +0100 (CET)\nReceived: from c by d;\n Wed, 3 Jan 2024 08:00:00 +0000\nDate: Mon,  1 Jan 2024 10:00:00 -0500\n\n",
        );
        assert_eq!(
            fields.received.unwrap().to_rfc3339(),
            "2024-01-02T08:00:00+01:00"
        );
        assert_eq!(
            fields.date.unwrap().to_rfc3339(),
            "2024-01-01T10:00:00-05:00"
        );
    }

    #[test]
    fn tolerant_dates() {
        assert_eq!(
            parse_mail_date("1 Jan 2024 10:00:00 GMT")
                .unwrap()
                .to_rfc3339(),
            "2024-01-01T10:00:00+00:00"
        );
        assert!(parse_mail_date("yesterday").is_none());
    }

    #[test]
    fn from_line_dates() {
        let date = |l: &str| parse_from_line_date(l.as_bytes()).map(|d| d.to_rfc3339());
        assert_eq!(
            date("From ada@x.org Mon Jan  1 10:00:00 2024\r\n").as_deref(),
            Some("2024-01-01T10:00:00+00:00")
        );
        assert_eq!(
            date("From MAILER-DAEMON Fri Feb 23 09:05:01 2024 +0100\n").as_deref(),
            Some("2024-02-23T09:05:01+01:00")
        );
        assert_eq!(date("From ada@x.org\n"), None);
    }
}

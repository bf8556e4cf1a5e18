//! `calendar/<address>.ics`: the account's appointments, one per event UID.
//!
//! The file is scanned once into an index of byte ranges (each `VEVENT` and
//! `VTIMEZONE`), so events sharing a UID are grouped wherever they are in the file
//! without holding the calendar in memory; each appointment is then read back from
//! its ranges. Lines are unfolded only to read properties: the text carried is the
//! original lines, with CRLF line ends.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Appointment;

use super::text_lines::{parameter, split_property, unescape_text, with_crlf, PhysicalLines};

/// One `VEVENT` in the file.
#[derive(Debug)]
struct EventRange {
    line: u64,
    start: u64,
    end: u64,
    exception: bool,
    summary: Option<String>,
    tzids: Vec<String>,
}

/// A `VEVENT` or `VTIMEZONE` being read.
#[derive(Debug)]
struct OpenComponent {
    line: u64,
    start: u64,
    depth: usize,
    uid: Option<String>,
    exception: bool,
    summary: Option<String>,
    tzids: Vec<String>,
}

impl OpenComponent {
    fn new(line: u64, start: u64, depth: usize) -> Self {
        OpenComponent {
            line,
            start,
            depth,
            uid: None,
            exception: false,
            summary: None,
            tzids: Vec::new(),
        }
    }
}

/// An entry of the stream, in first-seen order.
#[derive(Debug)]
enum CalendarItem {
    Appointment(String),
    Failure(Error),
}

/// A logical (unfolded) line and where it is.
struct LogicalLine {
    text: String,
    line: u64,
    start: u64,
    end: u64,
}

#[derive(Default)]
struct CalendarIndex {
    items: Vec<CalendarItem>,
    events: HashMap<String, Vec<EventRange>>,
    timezones: HashMap<String, (u64, u64, u64)>,
    stack: Vec<String>,
    event: Option<OpenComponent>,
    timezone: Option<OpenComponent>,
}

impl CalendarIndex {
    fn take(&mut self, file: &Path, logical: LogicalLine) {
        let (name, params, value) = split_property(&logical.text);
        let component = value.trim().to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" => {
                self.stack.push(component.clone());
                if component == "VEVENT" {
                    if let Some(open) = self.event.take() {
                        self.items
                            .push(CalendarItem::Failure(unclosed(file, &open)));
                    }
                    self.event = Some(OpenComponent::new(
                        logical.line,
                        logical.start,
                        self.stack.len(),
                    ));
                } else if component == "VTIMEZONE" {
                    self.timezone = Some(OpenComponent::new(
                        logical.line,
                        logical.start,
                        self.stack.len(),
                    ));
                }
            }
            "END" => {
                let depth = self.stack.len();
                if component == "VEVENT" && self.event.as_ref().is_some_and(|e| e.depth == depth) {
                    if let Some(open) = self.event.take() {
                        self.close_event(file, open, logical.end);
                    }
                } else if component == "VTIMEZONE"
                    && self.timezone.as_ref().is_some_and(|t| t.depth == depth)
                {
                    if let Some(OpenComponent {
                        uid: Some(tzid),
                        start,
                        line,
                        ..
                    }) = self.timezone.take()
                    {
                        self.timezones
                            .entry(tzid)
                            .or_insert((start, logical.end, line));
                    }
                }
                self.stack.pop();
            }
            _ => {
                let depth = self.stack.len();
                if let Some(event) = &mut self.event {
                    if let Some(tzid) = parameter(params, "TZID") {
                        if !event.tzids.iter().any(|t| t == tzid) {
                            event.tzids.push(tzid.to_string());
                        }
                    }
                    if depth == event.depth {
                        match name.as_str() {
                            "UID" => event.uid = Some(value.trim().to_string()),
                            "RECURRENCE-ID" => event.exception = true,
                            "SUMMARY" => event.summary = Some(unescape_text(value)),
                            _ => {}
                        }
                    }
                }
                if let Some(timezone) = &mut self.timezone {
                    if depth == timezone.depth && name == "TZID" {
                        timezone.uid = Some(value.trim().to_string());
                    }
                }
            }
        }
    }

    fn close_event(&mut self, file: &Path, open: OpenComponent, end: u64) {
        let Some(uid) = open.uid.filter(|u| !u.is_empty()) else {
            self.items.push(CalendarItem::Failure(Error::input(
                file,
                Some(open.line),
                "event without UID",
            )));
            return;
        };
        let range = EventRange {
            line: open.line,
            start: open.start,
            end,
            exception: open.exception,
            summary: open.summary,
            tzids: open.tzids,
        };
        match self.events.get_mut(&uid) {
            Some(ranges) => ranges.push(range),
            None => {
                self.items.push(CalendarItem::Appointment(uid.clone()));
                self.events.insert(uid, vec![range]);
            }
        }
    }
}

fn unclosed(file: &Path, open: &OpenComponent) -> Error {
    Error::input(file, Some(open.line), "BEGIN:VEVENT has no END:VEVENT")
}

/// The appointments of the calendar `file`, one item per UID in first-seen order,
/// an `Err` item for each event that cannot be read.
pub(super) struct CalendarAppointments {
    file: PathBuf,
    handle: File,
    items: std::vec::IntoIter<CalendarItem>,
    events: HashMap<String, Vec<EventRange>>,
    timezones: HashMap<String, (u64, u64, u64)>,
}

impl CalendarAppointments {
    /// Scans `file` (synchronously: call it off the async threads).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read.
    pub fn open(file: &Path) -> Result<Self> {
        let io_error = |e| Error::io(format!("reading {}", file.display()), e);
        let handle = File::open(file).map_err(io_error)?;
        let mut index = CalendarIndex::default();
        let mut pending: Option<LogicalLine> = None;
        for line in PhysicalLines::new(BufReader::new(handle.try_clone().map_err(io_error)?)) {
            let line = line.map_err(io_error)?;
            let text = String::from_utf8_lossy(&line.text);
            if let (Some(rest), Some(open)) = (text.strip_prefix([' ', '\t']), &mut pending) {
                open.text.push_str(rest);
                open.end = line.end;
                continue;
            }
            if let Some(done) = pending.take() {
                index.take(file, done);
            }
            pending = Some(LogicalLine {
                text: text.into_owned(),
                line: line.number,
                start: line.start,
                end: line.end,
            });
        }
        if let Some(done) = pending.take() {
            index.take(file, done);
        }
        if let Some(open) = index.event.take() {
            index
                .items
                .push(CalendarItem::Failure(unclosed(file, &open)));
        }
        Ok(CalendarAppointments {
            file: file.to_path_buf(),
            handle,
            items: index.items.into_iter(),
            events: index.events,
            timezones: index.timezones,
        })
    }

    fn read_range(&mut self, start: u64, end: u64, line: u64) -> Result<String> {
        let io_error = |e| Error::io(format!("reading {}", self.file.display()), e);
        self.handle.seek(SeekFrom::Start(start)).map_err(io_error)?;
        let mut bytes = Vec::new();
        (&mut self.handle)
            .take(end - start)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::input(&self.file, Some(line), "the component is not valid utf-8")
        })?;
        Ok(with_crlf(&text))
    }

    fn appointment(&mut self, uid: String) -> Result<Appointment> {
        let mut ranges = self.events.remove(&uid).unwrap_or_default();
        // The master (no RECURRENCE-ID) first; exceptions keep their file order.
        ranges.sort_by_key(|r| r.exception);
        let mut components = String::new();
        let mut tzids: Vec<String> = Vec::new();
        for range in &ranges {
            components.push_str(&self.read_range(range.start, range.end, range.line)?);
            for tzid in &range.tzids {
                if !tzids.contains(tzid) {
                    tzids.push(tzid.clone());
                }
            }
        }
        let mut timezones = Vec::new();
        for tzid in tzids {
            if let Some(&(start, end, line)) = self.timezones.get(&tzid) {
                timezones.push(self.read_range(start, end, line)?);
            }
        }
        Ok(Appointment {
            summary: ranges.iter().find_map(|r| r.summary.clone()),
            uid,
            components,
            timezones,
        })
    }
}

impl Iterator for CalendarAppointments {
    type Item = Result<Appointment>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.items.next()? {
            CalendarItem::Failure(e) => Err(e),
            CalendarItem::Appointment(uid) => self.appointment(uid),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\n\
VERSION:2.0\n\
BEGIN:VTIMEZONE\n\
TZID:Europe/Rome\n\
BEGIN:STANDARD\n\
DTSTART:19701025T030000\n\
TZOFFSETFROM:+0200\n\
TZOFFSETTO:+0100\n\
END:STANDARD\n\
END:VTIMEZONE\n\
BEGIN:VTIMEZONE\n\
TZID:Unused/Zone\n\
END:VTIMEZONE\n\
BEGIN:VEVENT\n\
UID:weekly@x.org\n\
RECURRENCE-ID;TZID=Europe/Rome:20240108T100000\n\
DTSTART;TZID=Europe/Rome:20240108T110000\n\
SUMMARY:Moved\n\
END:VEVENT\n\
BEGIN:VEVENT\n\
UID:one@x.org\n\
DTSTART:20240102T090000Z\n\
SUMMARY:Lunch\\, with a long\n  folded title\n\
END:VEVENT\n\
BEGIN:VEVENT\n\
UID:weekly@x.org\n\
DTSTART;TZID=Europe/Rome:20240101T100000\n\
RRULE:FREQ=WEEKLY\n\
SUMMARY:Weekly\n\
BEGIN:VALARM\n\
UID:alarm-uid-is-not-the-event-uid\n\
ACTION:DISPLAY\n\
END:VALARM\n\
END:VEVENT\n\
BEGIN:VEVENT\n\
SUMMARY:No uid\n\
END:VEVENT\n\
END:VCALENDAR\n";

    #[test]
    fn groups_by_uid_master_first_with_timezones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ada@x.org.ics");
        std::fs::write(&path, ICS).unwrap();
        let items: Vec<Result<Appointment>> = CalendarAppointments::open(&path).unwrap().collect();
        assert_eq!(items.len(), 3);
        let weekly = items[0].as_ref().unwrap();
        assert_eq!(weekly.uid, "weekly@x.org");
        assert_eq!(weekly.summary.as_deref(), Some("Weekly"));
        assert!(weekly.components.starts_with(
            "BEGIN:VEVENT\r\nUID:weekly@x.org\r\nDTSTART;TZID=Europe/Rome:20240101T100000\r\nRRULE"
        ));
        assert!(weekly
            .components
            .contains("END:VEVENT\r\nBEGIN:VEVENT\r\nUID:weekly@x.org\r\nRECURRENCE-ID"));
        assert_eq!(weekly.components.matches("BEGIN:VEVENT").count(), 2);
        assert_eq!(weekly.timezones.len(), 1);
        assert!(weekly.timezones[0].starts_with("BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\n"));
        assert!(weekly.timezones[0].ends_with("END:STANDARD\r\nEND:VTIMEZONE\r\n"));
        let one = items[1].as_ref().unwrap();
        assert_eq!(
            one.summary.as_deref(),
            Some("Lunch, with a long folded title")
        );
        assert!(one
            .components
            .contains("SUMMARY:Lunch\\, with a long\r\n  folded title\r\n"));
        assert!(one.timezones.is_empty());
        let err = items[2].as_ref().unwrap_err().to_string();
        assert!(
            err.ends_with("ada@x.org.ics:36: event without UID"),
            "{err}"
        );
    }

    #[test]
    fn unclosed_event_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.ics");
        std::fs::write(&path, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n").unwrap();
        let items: Vec<Result<Appointment>> = CalendarAppointments::open(&path).unwrap().collect();
        assert_eq!(items.len(), 1);
        assert!(items[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .ends_with("c.ics:2: BEGIN:VEVENT has no END:VEVENT"));
    }
}

//! One `VCALENDAR` of an account's appointments.
//!
//! Layout: `VERSION:2.0`, `PRODID:-//carbonio-migrate//EN`, each distinct
//! `VTIMEZONE` once (in the order first seen), then every appointment's
//! components in write order; CRLF line ends. The components go to the sink
//! as they come; the time zones (small, few) are kept and become the prefix.

use std::collections::HashSet;

use async_trait::async_trait;

use super::{crlf_lines, TextSink};
use crate::destination::ItemWriter;
use crate::error::Result;
use crate::model::Appointment;

const HEADER: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//carbonio-migrate//EN\r\n";
const FOOTER: &str = "END:VCALENDAR\r\n";

/// Writes one account's appointments into a [`TextSink`]; an account without
/// appointments gets no output.
pub(crate) struct IcsWriter<S> {
    sink: Box<S>,
    timezones: Vec<String>,
    seen_timezones: HashSet<String>,
    count: u64,
}

impl<S: TextSink> IcsWriter<S> {
    /// A calendar written into `sink`.
    pub(crate) fn new(sink: S) -> Self {
        IcsWriter {
            sink: Box::new(sink),
            timezones: Vec::new(),
            seen_timezones: HashSet::new(),
            count: 0,
        }
    }
}

#[async_trait]
impl<S: TextSink> ItemWriter<Appointment> for IcsWriter<S> {
    async fn write(&mut self, items: Vec<Appointment>) -> Result<()> {
        for appointment in items {
            for timezone in &appointment.timezones {
                let timezone = crlf_lines(timezone);
                if self.seen_timezones.insert(timezone.clone()) {
                    self.timezones.push(timezone);
                }
            }
            self.sink
                .append(&crlf_lines(&appointment.components))
                .await?;
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        let IcsWriter {
            sink,
            timezones,
            count,
            ..
        } = *self;
        let mut prefix = String::from(HEADER);
        for timezone in &timezones {
            prefix.push_str(timezone);
        }
        sink.complete(&prefix, FOOTER, count > 0).await
    }
}

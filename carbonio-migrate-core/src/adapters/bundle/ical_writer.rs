//! `calendar/<account>.ics`: one `VCALENDAR` for
//! `postRestURL '/Calendar?fmt=ics'`.
//!
//! Layout: `VERSION:2.0`, `PRODID:-//carbonio-migrate//EN`, each distinct
//! `VTIMEZONE` once (in the order first seen), then every appointment's
//! components in write order; CRLF line ends. Since time zones come first but are
//! only known once every appointment is seen, components are spooled to a
//! `.events.partial` file and time zones (small, few) are kept in memory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::durable_file;
use super::partial_file::{crlf_lines, partial_path, PartialFile};
use crate::destination::ItemWriter;
use crate::error::{Error, Result};
use crate::model::Appointment;

const HEADER: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//carbonio-migrate//EN\r\n";
const FOOTER: &str = "END:VCALENDAR\r\n";

/// `<target>.events`: the spool's name before its `.partial` suffix.
fn events_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(".events");
    PathBuf::from(name)
}

/// Writes one account's appointments; nothing is under the final name before
/// `finish`. An account without appointments gets no file.
pub(crate) struct IcsWriter {
    target: PathBuf,
    events: PartialFile,
    timezones: Vec<String>,
    seen_timezones: HashSet<String>,
    count: u64,
}

impl IcsWriter {
    /// Starts the calendar of one account at `target`.
    pub(crate) async fn create(target: PathBuf) -> Result<Self> {
        let stale = partial_path(&target);
        durable_file::blocking(move || durable_file::remove_if_exists(&stale)).await?;
        let events = PartialFile::create(&events_path(&target)).await?;
        Ok(IcsWriter {
            target,
            events,
            timezones: Vec::new(),
            seen_timezones: HashSet::new(),
            count: 0,
        })
    }
}

#[async_trait]
impl ItemWriter<Appointment> for IcsWriter {
    async fn write(&mut self, items: Vec<Appointment>) -> Result<()> {
        for appointment in items {
            for timezone in &appointment.timezones {
                let timezone = crlf_lines(timezone);
                if self.seen_timezones.insert(timezone.clone()) {
                    self.timezones.push(timezone);
                }
            }
            self.events
                .write(crlf_lines(&appointment.components).as_bytes())
                .await?;
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        let IcsWriter {
            target,
            mut events,
            timezones,
            count,
            ..
        } = *self;
        let spool = partial_path(&events_path(&target));
        if count == 0 {
            drop(events);
            let stale = target.clone();
            return durable_file::blocking(move || {
                durable_file::remove_if_exists(&spool)?;
                durable_file::remove_if_exists(&stale)
            })
            .await;
        }
        use tokio::io::AsyncWriteExt;
        events
            .file()
            .flush()
            .await
            .map_err(|e| Error::io(format!("writing {}", spool.display()), e))?;
        drop(events);
        let mut out = PartialFile::create(&target).await?;
        out.write(HEADER.as_bytes()).await?;
        for timezone in &timezones {
            out.write(timezone.as_bytes()).await?;
        }
        let mut spooled = tokio::fs::File::open(&spool)
            .await
            .map_err(|e| Error::io(format!("reading {}", spool.display()), e))?;
        if let Err(e) = tokio::io::copy(&mut spooled, out.file()).await {
            return Err(out.error(e));
        }
        out.write(FOOTER.as_bytes()).await?;
        out.commit().await?;
        durable_file::blocking(move || durable_file::remove_if_exists(&spool)).await
    }
}

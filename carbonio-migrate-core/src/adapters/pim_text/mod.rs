//! Calendars and address books as the text files Carbonio imports
//! (`/Calendar?fmt=ics`, `/Contacts?fmt=vcf`, `/Contacts?fmt=csv`), written
//! by the same writers whatever receives them: the `bundle` destination's
//! files and the `carbonio` destination's REST uploads are both a [`TextSink`].

mod csv_writer;
mod ics_writer;
mod lines;
mod vcard_fields;
mod vcf_writer;

use async_trait::async_trait;

use crate::error::Result;

pub(crate) use csv_writer::CsvWriter;
pub(crate) use ics_writer::IcsWriter;
pub(crate) use lines::crlf_lines;
pub(crate) use vcf_writer::VcfWriter;

/// Where a writer's text goes: a body appended piece by piece, completed with
/// a prefix and a suffix known only at the end (a calendar's time zones come
/// first but are known once every appointment is seen).
#[async_trait]
pub(crate) trait TextSink: Send + 'static {
    /// Appends `text` to the body.
    async fn append(&mut self, text: &str) -> Result<()>;

    /// Completes the output as `prefix`, the body, `suffix`. With `written`
    /// false nothing was appended: there must be no output at all (no file,
    /// no upload), and a stale one from an earlier run is removed.
    async fn complete(self: Box<Self>, prefix: &str, suffix: &str, written: bool) -> Result<()>;
}

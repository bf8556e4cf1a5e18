//! `contacts/<account>.vcf`: the account's vCards concatenated (CRLF line ends),
//! for `postRestURL '/Contacts?fmt=vcf'`.

use std::path::PathBuf;

use async_trait::async_trait;

use super::durable_file;
use super::partial_file::{crlf_lines, PartialFile};
use crate::destination::ItemWriter;
use crate::error::Result;
use crate::model::Contact;

/// Writes one account's contacts; nothing is under the final name before
/// `finish`. An account without contacts gets no file.
pub(crate) struct VcfWriter {
    target: PathBuf,
    out: PartialFile,
    count: u64,
}

impl VcfWriter {
    /// Starts the contacts of one account at `target`.
    pub(crate) async fn create(target: PathBuf) -> Result<Self> {
        let out = PartialFile::create(&target).await?;
        Ok(VcfWriter {
            target,
            out,
            count: 0,
        })
    }
}

#[async_trait]
impl ItemWriter<Contact> for VcfWriter {
    async fn write(&mut self, items: Vec<Contact>) -> Result<()> {
        for contact in items {
            self.out
                .write(crlf_lines(&contact.vcard).as_bytes())
                .await?;
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        let VcfWriter { target, out, count } = *self;
        if count == 0 {
            drop(out);
            let partial = super::partial_file::partial_path(&target);
            return durable_file::blocking(move || {
                durable_file::remove_if_exists(&partial)?;
                durable_file::remove_if_exists(&target)
            })
            .await;
        }
        out.commit().await
    }
}

//! An account's vCards concatenated, CRLF line ends.

use async_trait::async_trait;

use super::{crlf_lines, TextSink};
use crate::destination::ItemWriter;
use crate::error::Result;
use crate::model::Contact;

/// Writes one account's contacts into a [`TextSink`]; an account without
/// contacts gets no output.
pub(crate) struct VcfWriter<S> {
    sink: Box<S>,
    count: u64,
}

impl<S: TextSink> VcfWriter<S> {
    /// An address book written into `sink`.
    pub(crate) fn new(sink: S) -> Self {
        VcfWriter {
            sink: Box::new(sink),
            count: 0,
        }
    }
}

#[async_trait]
impl<S: TextSink> ItemWriter<Contact> for VcfWriter<S> {
    async fn write(&mut self, items: Vec<Contact>) -> Result<()> {
        for contact in items {
            self.sink.append(&crlf_lines(&contact.vcard)).await?;
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        let VcfWriter { sink, count } = *self;
        sink.complete("", "", count > 0).await
    }
}

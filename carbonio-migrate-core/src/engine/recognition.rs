//! Recognising on the destination messages the journal does not account for,
//! so that nothing is copied twice.
//!
//! The journal records a batch after the destination has taken it; a run killed
//! between the two leaves messages on the destination that the journal does not
//! know. A lost journal, or a source folder whose UIDVALIDITY changed, leaves a
//! whole folder unknown. In each case the destination messages after the last
//! journaled destination UID (all of them when the folder has no journal rows
//! for the current UIDVALIDITY) are read by header signature — Message-ID, Date,
//! size and a hash of the header block — and a source message with the same
//! signature is recorded as copied instead of being copied again. Duplicates are
//! counted: two identical source messages match two identical destination
//! messages, not one.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::{FolderPath, MessageSignature, Uid};
use crate::source::MailboxReader;

/// Headers fetched per request while reading signatures.
const HEADER_BATCH: usize = 256;

/// Destination messages not in the journal, by signature.
#[derive(Debug, Default)]
pub(crate) struct Unaccounted {
    by_signature: HashMap<MessageSignature, Vec<Uid>>,
    count: usize,
}

impl Unaccounted {
    /// Reads the signatures of the messages of `folder` after `after` on the
    /// destination. A folder the destination cannot list yet is empty.
    pub(crate) async fn read(
        reader: &mut dyn MailboxReader,
        folder: &FolderPath,
        after: Option<Uid>,
    ) -> Result<Unaccounted> {
        let mut found = Unaccounted::default();
        let mut cursor = after;
        loop {
            let page = match reader.list(folder, cursor, HEADER_BATCH).await {
                Ok(page) => page,
                Err(Error::NotFound { .. }) => break,
                Err(e) => return Err(e),
            };
            let Some(last) = page.last() else { break };
            cursor = Some(last.uid);
            let uids: Vec<Uid> = page.iter().map(|m| m.uid).collect();
            for (uid, header, size) in reader.fetch_headers(folder, &uids).await? {
                let signature = MessageSignature::compute(&header, size);
                found.by_signature.entry(signature).or_default().push(uid);
                found.count += 1;
            }
        }
        Ok(found)
    }

    /// True when every destination message is accounted for (the usual case).
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Takes one destination message with this signature, if any is left.
    pub(crate) fn take(&mut self, signature: &MessageSignature) -> Option<Uid> {
        let uids = self.by_signature.get_mut(signature)?;
        let uid = uids.pop()?;
        self.count -= 1;
        Some(uid)
    }
}

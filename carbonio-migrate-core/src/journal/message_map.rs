//! Message map rows: source message to destination message.

use crate::model::{MessageSignature, Uid};

/// A source folder as the message map knows it: account, folder path and the
/// UIDVALIDITY its UIDs belong to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FolderKey {
    /// The account's address.
    pub account: String,
    /// The source folder path, `/`-joined.
    pub folder: String,
    /// The source folder's UIDVALIDITY.
    pub uid_validity: u32,
}

/// One copied message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedMessage {
    /// UID on the source.
    pub src_uid: Uid,
    /// UID on the destination, when the destination tells it.
    pub dst_uid: Option<Uid>,
    /// Size in bytes.
    pub size: u64,
    /// Header signature, when computed.
    pub signature: Option<MessageSignature>,
    /// [`crate::model::Flags::fingerprint`] of the flags written, when known.
    pub flags: Option<u64>,
}

//! `.eml` files: one message each, the file's bytes exactly.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use tokio::io::AsyncReadExt;

use crate::error::{Error, Result};
use crate::model::{header_block, Message, MessageBody, MessageMeta, Uid};

use super::header_fields::HeaderFields;
use super::mail_folders::is_eml;

/// How much of a message is read to find its header block.
pub(super) const HEADER_READ_LIMIT: u64 = 64 * 1024;

/// The `.eml` files directly in `dir`, sorted by file name bytewise: their
/// positions are the messages' UIDs.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be read.
pub(super) fn list_eml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let io_error = |e| Error::io(format!("reading directory {}", dir.display()), e);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        if is_eml(&entry.file_name()) && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort_by(|a, b| {
        let name = |p: &PathBuf| p.file_name().map(|n| n.as_encoded_bytes().to_vec());
        name(a).cmp(&name(b))
    });
    Ok(files)
}

/// Up to `limit` bytes from the reader's position.
pub(super) async fn read_prefix(
    reader: impl tokio::io::AsyncRead + Unpin,
    limit: u64,
) -> std::io::Result<Vec<u8>> {
    let mut prefix = Vec::new();
    reader.take(limit).read_to_end(&mut prefix).await?;
    Ok(prefix)
}

/// A file's modification time, the internal date of last resort.
pub(super) fn modified_time(metadata: &std::fs::Metadata) -> DateTime<FixedOffset> {
    metadata
        .modified()
        .map(DateTime::<Utc>::from)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .fixed_offset()
}

/// The metadata of the message in `path`: flags from its headers, its internal
/// date (first `Received:`, else `Date:`, else the file's modification time) and
/// its size.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub(super) async fn read_meta(path: &Path, uid: Uid) -> Result<MessageMeta> {
    let io_error = |e| Error::io(format!("reading {}", path.display()), e);
    let mut file = tokio::fs::File::open(path).await.map_err(io_error)?;
    let metadata = file.metadata().await.map_err(io_error)?;
    let prefix = read_prefix(&mut file, HEADER_READ_LIMIT)
        .await
        .map_err(io_error)?;
    let fields = HeaderFields::parse(header_block(&prefix));
    Ok(MessageMeta {
        uid,
        internal_date: fields
            .received
            .or(fields.date)
            .unwrap_or_else(|| modified_time(&metadata)),
        flags: fields.flags,
        size: metadata.len(),
    })
}

/// The message in `path`, its body streamed from the file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub(super) async fn open_message(path: &Path, uid: Uid) -> Result<Message> {
    let meta = read_meta(path, uid).await?;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(Message {
        body: MessageBody::from_reader(meta.size, file.take(meta.size)),
        meta,
    })
}

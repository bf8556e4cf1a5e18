//! `mail/<account>.tgz`: one account's mail as an archive Carbonio's
//! `ArchiveFormatter` imports (`postRestURL "//?fmt=tgz&resolve=skip"`).
//!
//! Layout: a directory entry per folder (parents first), and per message an entry
//! `<folder path>/<NNNNNN>.eml` (1-based position in the folder, in append
//! order), its mtime the message's internal date (Carbonio makes it the received
//! date), mode `0644` for a seen message and `0444` for an unseen one (Carbonio
//! imports an entry whose owner-write bit is clear as unread). Every other header
//! field is fixed (uid/gid 0, empty user and group names), long names use GNU
//! `././@LongLink` entries (Carbonio's tar reader knows those, not PAX), and the
//! gzip header has mtime 0 and no file name: the same input gives the same bytes.
//!
//! The body is streamed: the tar header is written with the announced length,
//! then the body reader is copied through the gzip encoder in 64 KiB chunks.
//! Compression runs inline on the async task, one chunk at a time, and the
//! compressed bytes go to a `tokio::fs::File`; this keeps the writer a plain
//! struct (no thread or channel to shut down when it is dropped) and each step
//! short, and no more than a chunk of any body is ever in memory.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::durable_file;
use crate::destination::{AppendOutcome, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{Folder, FolderPath, Message};

/// Tar block size.
const BLOCK: usize = 512;
/// Longest name that fits the header's name field.
const NAME_FIELD: usize = 100;
/// Compressed bytes are flushed to the file past this size, and bodies are
/// copied in chunks of this size.
const CHUNK: usize = 64 * 1024;
/// Fixed so that output does not depend on a library default.
const GZIP_LEVEL: u32 = 6;
/// Mode of a seen message entry.
pub(crate) const MODE_SEEN: u32 = 0o644;
/// Mode of an unseen message entry (owner-write clear = unread on import).
pub(crate) const MODE_UNSEEN: u32 = 0o444;
/// Mode of a folder entry.
const MODE_DIRECTORY: u32 = 0o755;

/// The archive entry name of a message: `<folder>/<NNNNNN>.eml`.
pub(crate) fn message_entry_name(folder: &FolderPath, position: u32) -> String {
    format!("{}/{position:06}.eml", folder.join("/"))
}

/// The archive entry name of a folder: `<folder>/`.
pub(crate) fn folder_entry_name(folder: &FolderPath) -> String {
    format!("{}/", folder.join("/"))
}

/// The entry mtime of an internal date: Unix seconds, dates before 1970 as 0
/// (the tar field is unsigned).
pub(crate) fn entry_mtime(message: &Message) -> u64 {
    u64::try_from(message.meta.internal_date.timestamp()).unwrap_or(0)
}

/// The header block(s) of one entry: a GNU long-name entry first when `name`
/// does not fit the name field.
fn entry_headers(name: &str, kind: tar::EntryType, size: u64, mtime: u64, mode: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 * BLOCK);
    let bytes = name.as_bytes();
    if bytes.len() > NAME_FIELD {
        // The long name's data is the name and a NUL, which Carbonio's reader drops.
        let data_len = bytes.len() + 1;
        out.extend_from_slice(&header_block(
            b"././@LongLink",
            tar::EntryType::GNULongName,
            data_len as u64,
            0,
            0o644,
        ));
        out.extend_from_slice(bytes);
        out.push(0);
        out.resize(out.len() + padding(data_len as u64), 0);
    }
    let short = &bytes[..bytes.len().min(NAME_FIELD)];
    out.extend_from_slice(&header_block(short, kind, size, mtime, mode));
    out
}

fn header_block(
    name: &[u8],
    kind: tar::EntryType,
    size: u64,
    mtime: u64,
    mode: u32,
) -> [u8; BLOCK] {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mtime(mtime);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    *header.as_bytes()
}

/// Zero bytes after `size` bytes of data up to the next block.
fn padding(size: u64) -> usize {
    let rest = (size % BLOCK as u64) as usize;
    if rest == 0 {
        0
    } else {
        BLOCK - rest
    }
}

/// The gzip stream over the `.partial` file.
struct GzipFile {
    file: File,
    encoder: GzEncoder<Vec<u8>>,
    path: PathBuf,
}

impl GzipFile {
    async fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .await
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        let encoder = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::with_capacity(2 * CHUNK), Compression::new(GZIP_LEVEL));
        Ok(GzipFile {
            file,
            encoder,
            path: path.to_path_buf(),
        })
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::io(format!("writing {}", self.path.display()), e)
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.encoder.write_all(bytes).map_err(|e| self.error(e))?;
        if self.encoder.get_ref().len() >= CHUNK {
            self.drain().await?;
        }
        Ok(())
    }

    async fn drain(&mut self) -> Result<()> {
        let compressed = std::mem::take(self.encoder.get_mut());
        self.file
            .write_all(&compressed)
            .await
            .map_err(|e| self.error(e))
    }

    async fn finish(mut self) -> Result<()> {
        self.encoder.try_finish().map_err(|e| self.error(e))?;
        self.drain().await?;
        self.file.flush().await.map_err(|e| self.error(e))?;
        self.file.sync_all().await.map_err(|e| self.error(e))
    }
}

/// Streams one account's mail into `mail/<account>.tgz.partial`, renamed to
/// `mail/<account>.tgz` by `finish`. Dropped without `finish`, it leaves only the
/// `.partial`, which the next writer of the account deletes.
pub(crate) struct ArchiveMailboxWriter {
    account: String,
    target: PathBuf,
    partial: PathBuf,
    gzip: GzipFile,
    folders: BTreeSet<FolderPath>,
    positions: HashMap<FolderPath, u32>,
}

impl ArchiveMailboxWriter {
    /// Starts the archive for `account` at `target`.
    pub(crate) async fn create(account: &str, target: PathBuf) -> Result<Self> {
        let mut partial = target.clone().into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let stale = partial.clone();
        durable_file::blocking(move || durable_file::remove_if_exists(&stale)).await?;
        let gzip = GzipFile::create(&partial).await?;
        Ok(ArchiveMailboxWriter {
            account: account.to_string(),
            target,
            partial,
            gzip,
            folders: BTreeSet::new(),
            positions: HashMap::new(),
        })
    }

    /// Writes the directory entries of `path` and its parents not yet written.
    async fn ensure_path(&mut self, path: &FolderPath) -> Result<()> {
        if self.folders.contains(path) {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            Box::pin(self.ensure_path(&parent)).await?;
        }
        let name = folder_entry_name(path);
        let headers = entry_headers(&name, tar::EntryType::Directory, 0, 0, MODE_DIRECTORY);
        self.gzip.write(&headers).await?;
        self.folders.insert(path.clone());
        Ok(())
    }

    async fn append_one(&mut self, folder: &FolderPath, message: Message) -> Result<()> {
        let position = self.positions.entry(folder.clone()).or_insert(0);
        *position += 1;
        let name = message_entry_name(folder, *position);
        let size = message.body.len();
        let mode = if message.meta.flags.seen {
            MODE_SEEN
        } else {
            MODE_UNSEEN
        };
        let headers = entry_headers(
            &name,
            tar::EntryType::Regular,
            size,
            entry_mtime(&message),
            mode,
        );
        self.gzip.write(&headers).await?;
        let mut reader = message.body.into_reader();
        let mut buffer = vec![0u8; CHUNK];
        let mut copied: u64 = 0;
        loop {
            let n = reader.read(&mut buffer).await.map_err(|e| {
                Error::io(
                    format!(
                        "reading message {} of {} for {}",
                        message.meta.uid, folder, self.account
                    ),
                    e,
                )
            })?;
            if n == 0 {
                break;
            }
            copied += n as u64;
            if copied > size {
                break;
            }
            self.gzip.write(&buffer[..n]).await?;
        }
        if copied != size {
            // The header already announced `size`: the archive cannot be repaired,
            // and the whole account is redone from its start.
            return Err(Error::io(
                format!(
                    "reading message {} of {} for {}",
                    message.meta.uid, folder, self.account
                ),
                std::io::Error::other(format!("announced {size} bytes, read {copied}")),
            ));
        }
        self.gzip.write(&vec![0u8; padding(size)]).await
    }
}

#[async_trait]
impl MailboxWriter for ArchiveMailboxWriter {
    async fn ensure_folder(&mut self, folder: &Folder) -> Result<()> {
        self.ensure_path(&folder.path).await
    }

    async fn append(
        &mut self,
        folder: &Folder,
        messages: Vec<Message>,
    ) -> Result<Vec<AppendOutcome>> {
        self.ensure_path(&folder.path).await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            // A failure mid-entry leaves the archive unusable: fail the call, and the
            // engine redoes the account (the bundle has no `ResumeMail`).
            self.append_one(&folder.path, message).await?;
            outcomes.push(Ok(None));
        }
        Ok(outcomes)
    }

    async fn finish(mut self: Box<Self>) -> Result<()> {
        self.gzip.write(&[0u8; 2 * BLOCK]).await?;
        let ArchiveMailboxWriter {
            gzip,
            partial,
            target,
            ..
        } = *self;
        gzip.finish().await?;
        durable_file::blocking(move || durable_file::commit(&partial, &target)).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn long_names_get_a_gnu_long_link_with_trailing_nul() {
        let name = format!("{}/000001.eml", "Ü".repeat(60));
        let bytes = entry_headers(&name, tar::EntryType::Regular, 3, 7, MODE_SEEN);
        assert_eq!(bytes.len(), 3 * BLOCK);
        assert_eq!(&bytes[..13], b"././@LongLink");
        assert_eq!(bytes[156], b'L');
        assert_eq!(&bytes[BLOCK..BLOCK + name.len()], name.as_bytes());
        assert_eq!(bytes[BLOCK + name.len()], 0);
    }

    #[test]
    fn short_names_are_one_block() {
        let bytes = entry_headers("Inbox/", tar::EntryType::Directory, 0, 0, MODE_DIRECTORY);
        assert_eq!(bytes.len(), BLOCK);
        assert_eq!(&bytes[..6], b"Inbox/");
        assert_eq!(bytes[156], b'5');
    }
}

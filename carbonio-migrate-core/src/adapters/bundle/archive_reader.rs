//! Reading a bundle's `mail/<account>.tgz` back, for `verify`.
//!
//! The archive is scanned once for an index of entry metadata (names, sizes,
//! dates: no bodies); bodies are then read by scanning the archive again. A
//! batch's small bodies come from one pass; a large body is streamed lazily by
//! its own pass when it is read, so memory stays bounded by the batch.
//!
//! The tar parser here is deliberately small: it reads what
//! [`super::mail_archive`] writes (GNU headers, `././@LongLink` names) and plain
//! ustar headers.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::DateTime;
use flate2::read::GzDecoder;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::StreamReader;

use super::durable_file;
use crate::error::{Error, Result};
use crate::model::{Flags, Folder, FolderPath, Message, MessageBody, MessageMeta, Uid};
use crate::source::{FolderStatus, MailboxReader, ResultStream};

const BLOCK: usize = 512;
/// Bodies up to this size are read into memory by the batch pass.
const SMALL_BODY: u64 = 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// One archive entry's header.
#[derive(Clone, Debug)]
struct EntryHeader {
    ordinal: usize,
    name: String,
    is_directory: bool,
    size: u64,
    mtime: u64,
    mode: u32,
}

/// A forward-only tar reader over the gzip stream of an archive file.
struct EntryScanner {
    reader: GzDecoder<BufReader<fs::File>>,
    path: PathBuf,
    /// Data bytes of the current entry not read yet.
    data_left: u64,
    /// Padding after the current entry's data.
    padding_left: u64,
    next_ordinal: usize,
}

fn octal(field: &[u8]) -> u64 {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256 for values that do not fit in octal.
        return field[1..]
            .iter()
            .fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b));
    }
    field
        .iter()
        .skip_while(|b| **b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .fold(0u64, |acc, b| acc * 8 + u64::from(b - b'0'))
}

fn c_string(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

impl EntryScanner {
    fn open(path: &Path) -> Result<Option<Self>> {
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
        };
        Ok(Some(EntryScanner {
            reader: GzDecoder::new(BufReader::new(file)),
            path: path.to_path_buf(),
            data_left: 0,
            padding_left: 0,
            next_ordinal: 0,
        }))
    }

    fn error(&self, e: io::Error) -> Error {
        Error::io(format!("reading {}", self.path.display()), e)
    }

    fn corrupt(&self, what: &str) -> Error {
        Error::input(&self.path, None, format!("corrupt archive: {what}"))
    }

    fn skip(&mut self, mut count: u64) -> Result<()> {
        let mut sink = [0u8; 4096];
        while count > 0 {
            let want = count.min(sink.len() as u64) as usize;
            self.reader
                .read_exact(&mut sink[..want])
                .map_err(|e| self.error(e))?;
            count -= want as u64;
        }
        Ok(())
    }

    fn read_block(&mut self) -> Result<Option<[u8; BLOCK]>> {
        let mut block = [0u8; BLOCK];
        match self.reader.read_exact(&mut block) {
            Ok(()) => Ok(Some(block)),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// The next entry, skipping what is left of the current one.
    fn next_entry(&mut self) -> Result<Option<EntryHeader>> {
        self.skip(self.data_left + self.padding_left)?;
        self.data_left = 0;
        self.padding_left = 0;
        let mut long_name: Option<Vec<u8>> = None;
        loop {
            let Some(block) = self.read_block()? else {
                return Ok(None);
            };
            if block.iter().all(|b| *b == 0) {
                return Ok(None);
            }
            let stored: u64 = octal(&block[148..156]);
            let computed: u64 = block
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(*b)
                    }
                })
                .sum();
            if stored != computed {
                return Err(self.corrupt("bad header checksum"));
            }
            let size = octal(&block[124..136]);
            let padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
            let kind = block[156];
            if kind == b'L' {
                let len = usize::try_from(size)
                    .ok()
                    .filter(|l| *l <= 64 * 1024)
                    .ok_or_else(|| self.corrupt("long name too long"))?;
                let mut name = vec![0u8; len];
                self.reader
                    .read_exact(&mut name)
                    .map_err(|e| self.error(e))?;
                self.skip(padding)?;
                long_name = Some(c_string(&name).to_vec());
                continue;
            }
            let mut name = c_string(&block[..100]).to_vec();
            if &block[257..263] == b"ustar\0" {
                let prefix = c_string(&block[345..500]);
                if !prefix.is_empty() {
                    let mut full = prefix.to_vec();
                    full.push(b'/');
                    full.extend_from_slice(&name);
                    name = full;
                }
            }
            let name = long_name.take().unwrap_or(name);
            let name =
                String::from_utf8(name).map_err(|_| self.corrupt("an entry name is not UTF-8"))?;
            let ordinal = self.next_ordinal;
            self.next_ordinal += 1;
            let is_directory = kind == b'5';
            let size = if is_directory { 0 } else { size };
            self.data_left = size;
            self.padding_left = if is_directory { 0 } else { padding };
            return Ok(Some(EntryHeader {
                ordinal,
                name,
                is_directory,
                size,
                mtime: octal(&block[136..148]),
                mode: u32::try_from(octal(&block[100..108])).unwrap_or(0),
            }));
        }
    }

    /// Reads data of the current entry; 0 at its end.
    fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        let want = (buf.len() as u64).min(self.data_left) as usize;
        if want == 0 {
            return Ok(0);
        }
        self.reader
            .read_exact(&mut buf[..want])
            .map_err(|e| self.error(e))?;
        self.data_left -= want as u64;
        Ok(want)
    }

    /// Advances to the entry numbered `ordinal`.
    fn seek_entry(&mut self, ordinal: usize) -> Result<Option<EntryHeader>> {
        while let Some(entry) = self.next_entry()? {
            if entry.ordinal == ordinal {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }
}

/// What a message entry tells.
#[derive(Clone, Debug)]
struct IndexedMessage {
    ordinal: usize,
    mtime: u64,
    size: u64,
    seen: bool,
}

/// Folders in archive order and the messages of each.
#[derive(Debug, Default)]
struct ArchiveIndex {
    folders: Vec<Folder>,
    messages: HashMap<FolderPath, Vec<IndexedMessage>>,
}

fn folder_path(archive: &Path, name: &str) -> Result<FolderPath> {
    FolderPath::parse(name).map_err(|e| {
        Error::input(
            archive,
            None,
            format!("entry {name:?} is not a valid folder path: {e}"),
        )
    })
}

fn build_index(archive: &Path) -> Result<ArchiveIndex> {
    let mut index = ArchiveIndex::default();
    let Some(mut scanner) = EntryScanner::open(archive)? else {
        return Ok(index);
    };
    let add_folder = |index: &mut ArchiveIndex, path: FolderPath| {
        if !index.messages.contains_key(&path) {
            index.messages.insert(path.clone(), Vec::new());
            index.folders.push(Folder::mail(path));
        }
    };
    while let Some(entry) = scanner.next_entry()? {
        if entry.is_directory {
            let path = folder_path(archive, entry.name.trim_end_matches('/'))?;
            add_folder(&mut index, path);
            continue;
        }
        let Some(stem) = entry.name.strip_suffix(".eml") else {
            continue;
        };
        let folder = match stem.rsplit_once('/') {
            Some((folder, _)) => folder_path(archive, folder)?,
            // Carbonio files a top-level `.eml` in Inbox.
            None => folder_path(archive, "Inbox")?,
        };
        add_folder(&mut index, folder.clone());
        if let Some(list) = index.messages.get_mut(&folder) {
            list.push(IndexedMessage {
                ordinal: entry.ordinal,
                mtime: entry.mtime,
                size: entry.size,
                seen: (entry.mode & 0o200) != 0,
            });
        }
    }
    Ok(index)
}

fn meta_of(position: usize, message: &IndexedMessage) -> Result<MessageMeta> {
    let uid = u32::try_from(position + 1)
        .ok()
        .and_then(Uid::new)
        .ok_or_else(|| Error::InvalidValue {
            what: "UID",
            value: (position + 1).to_string(),
            reason: "the folder has more messages than UIDs".into(),
        })?;
    let seconds = i64::try_from(message.mtime).unwrap_or(i64::MAX);
    let internal_date = DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .fixed_offset();
    Ok(MessageMeta {
        uid,
        flags: Flags {
            seen: message.seen,
            ..Flags::default()
        },
        internal_date,
        size: message.size,
    })
}

/// A [`MailboxReader`] over one account's archive: UIDs are positions in the
/// folder (from 1), UIDVALIDITY is 1, internal dates come from entry mtimes
/// (UTC), `\Seen` from the entry mode. A missing archive has no folders.
pub(crate) struct ArchiveMailboxReader {
    archive: PathBuf,
    index: Option<Arc<ArchiveIndex>>,
}

impl ArchiveMailboxReader {
    /// A reader of the archive at `archive` (which may not exist).
    pub(crate) fn new(archive: PathBuf) -> Self {
        ArchiveMailboxReader {
            archive,
            index: None,
        }
    }

    async fn index(&mut self) -> Result<Arc<ArchiveIndex>> {
        if let Some(index) = &self.index {
            return Ok(index.clone());
        }
        let archive = self.archive.clone();
        let index = Arc::new(durable_file::blocking(move || build_index(&archive)).await?);
        self.index = Some(index.clone());
        Ok(index)
    }

    fn folder_messages<'i>(
        &self,
        index: &'i ArchiveIndex,
        folder: &FolderPath,
    ) -> Result<&'i [IndexedMessage]> {
        index
            .messages
            .get(folder)
            .map(Vec::as_slice)
            .ok_or_else(|| Error::NotFound {
                what: format!("folder {folder} in {}", self.archive.display()),
            })
    }
}

#[async_trait]
impl MailboxReader for ArchiveMailboxReader {
    async fn folders(&mut self) -> Result<Vec<Folder>> {
        Ok(self.index().await?.folders.clone())
    }

    async fn status(&mut self, folder: &FolderPath) -> Result<FolderStatus> {
        let index = self.index().await?;
        let count = self.folder_messages(&index, folder)?.len();
        Ok(FolderStatus {
            uid_validity: 1,
            messages: count as u64,
            uid_next: u32::try_from(count + 1).ok(),
        })
    }

    async fn list(
        &mut self,
        folder: &FolderPath,
        after: Option<Uid>,
        limit: usize,
    ) -> Result<Vec<MessageMeta>> {
        let index = self.index().await?;
        let messages = self.folder_messages(&index, folder)?;
        let start = after.map_or(0, |uid| uid.get() as usize);
        messages
            .iter()
            .enumerate()
            .skip(start)
            .take(limit)
            .map(|(position, m)| meta_of(position, m))
            .collect()
    }

    async fn fetch<'a>(
        &'a mut self,
        folder: &FolderPath,
        uids: &[Uid],
    ) -> Result<ResultStream<'a, Message>> {
        let index = self.index().await?;
        let messages = self.folder_messages(&index, folder)?;
        let mut wanted: Vec<(MessageMeta, IndexedMessage)> = Vec::new();
        for uid in uids {
            let position = uid.get() as usize - 1;
            if let Some(message) = messages.get(position) {
                wanted.push((meta_of(position, message)?, message.clone()));
            }
        }
        let small: Vec<usize> = wanted
            .iter()
            .filter(|(_, m)| m.size <= SMALL_BODY)
            .map(|(_, m)| m.ordinal)
            .collect();
        let archive = self.archive.clone();
        let mut bodies = durable_file::blocking(move || read_small_bodies(&archive, small)).await?;
        let archive = self.archive.clone();
        let items: Vec<Result<Message>> = wanted
            .into_iter()
            .map(|(meta, m)| {
                let body = if m.size <= SMALL_BODY {
                    let bytes = bodies.remove(&m.ordinal).ok_or_else(|| {
                        Error::input(
                            &archive,
                            None,
                            format!("message {} of {folder} vanished from the archive", meta.uid),
                        )
                    })?;
                    MessageBody::from_bytes(bytes)
                } else {
                    MessageBody::from_reader(
                        m.size,
                        LazyEntryReader::new(archive.clone(), m.ordinal),
                    )
                };
                Ok(Message { meta, body })
            })
            .collect();
        Ok(stream::iter(items).boxed())
    }
}

/// Reads the bodies of the entries `ordinals` in one pass.
fn read_small_bodies(archive: &Path, mut ordinals: Vec<usize>) -> Result<HashMap<usize, Vec<u8>>> {
    ordinals.sort_unstable();
    ordinals.dedup();
    let mut bodies = HashMap::new();
    if ordinals.is_empty() {
        return Ok(bodies);
    }
    let Some(mut scanner) = EntryScanner::open(archive)? else {
        return Ok(bodies);
    };
    for ordinal in ordinals {
        let Some(entry) = scanner.seek_entry(ordinal)? else {
            break;
        };
        let mut body = vec![0u8; entry.size as usize];
        let mut filled = 0;
        while filled < body.len() {
            let n = scanner.read_data(&mut body[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        bodies.insert(ordinal, body);
    }
    Ok(bodies)
}

type ChunkStream = BoxStream<'static, io::Result<Bytes>>;

/// A large body: on first read, a blocking task re-scans the archive to the
/// entry and sends its data in chunks through a small channel.
struct LazyEntryReader {
    archive: PathBuf,
    ordinal: usize,
    inner: Option<StreamReader<ChunkStream, Bytes>>,
}

impl LazyEntryReader {
    fn new(archive: PathBuf, ordinal: usize) -> Self {
        LazyEntryReader {
            archive,
            ordinal,
            inner: None,
        }
    }

    fn start(&self) -> StreamReader<ChunkStream, Bytes> {
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(4);
        let archive = self.archive.clone();
        let ordinal = self.ordinal;
        tokio::task::spawn_blocking(move || {
            let result = (|| -> Result<()> {
                let mut scanner = EntryScanner::open(&archive)?.ok_or_else(|| {
                    Error::io(
                        format!("opening {}", archive.display()),
                        io::Error::from(ErrorKind::NotFound),
                    )
                })?;
                if scanner.seek_entry(ordinal)?.is_none() {
                    return Err(Error::input(&archive, None, "a message entry vanished"));
                }
                let mut buffer = vec![0u8; CHUNK];
                loop {
                    let n = scanner.read_data(&mut buffer)?;
                    if n == 0 {
                        return Ok(());
                    }
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buffer[..n])))
                        .is_err()
                    {
                        return Ok(()); // the reader was dropped
                    }
                }
            })();
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(io::Error::other(e.chain())));
            }
        });
        let chunks = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
        StreamReader::new(chunks.boxed())
    }
}

impl AsyncRead for LazyEntryReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.inner.is_none() {
            this.inner = Some(this.start());
        }
        match this.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

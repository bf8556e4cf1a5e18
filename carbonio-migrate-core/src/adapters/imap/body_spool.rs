//! Spool files: where a message body too large to hold in memory goes while a
//! FETCH response is read, and where it is read back from by whoever consumes
//! the [`MessageBody`].
//!
//! A spool file lives in the spool directory (the system temp dir unless
//! configured) only as long as its body: on Unix it is unlinked as soon as it
//! is created, so nothing is left behind even when the process is killed; the
//! disk space is freed when the open file is dropped. Elsewhere it is removed
//! when the [`SpoolFile`] or the body reading it is dropped.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeekExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::error::{Error, Result};
use crate::model::MessageBody;
use crate::temp_file::create_unlinked;

/// Bodies larger than this many bytes are spooled to disk by default; smaller
/// ones are kept in memory.
pub const DEFAULT_SPOOL_OVER: u32 = 1 << 20;

/// Where and from which size bodies are spooled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolSettings {
    /// The directory of spool files.
    pub dir: PathBuf,
    /// Bodies longer than this are spooled; the others are read into memory.
    pub over: u32,
}

impl Default for SpoolSettings {
    fn default() -> Self {
        SpoolSettings {
            dir: std::env::temp_dir(),
            over: DEFAULT_SPOOL_OVER,
        }
    }
}

/// The prefix of spool file names, so an operator can tell what they are.
pub const SPOOL_FILE_PREFIX: &str = "carbonio-migrate-body-";

/// A spool file being written, then read back as a [`MessageBody`].
#[derive(Debug)]
pub struct SpoolFile {
    file: tokio::fs::File,
    /// The file's name while it still has one (non-Unix systems).
    path: Option<PathBuf>,
}

impl SpoolFile {
    /// Creates a fresh, empty spool file in `dir`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the directory when the file cannot be created.
    pub async fn create(dir: &Path) -> Result<SpoolFile> {
        let created = create_unlinked(dir, SPOOL_FILE_PREFIX).await?;
        Ok(SpoolFile {
            file: created.file,
            path: (!created.unlinked).then_some(created.path),
        })
    }

    /// Turns the written file into a body of `len` bytes read from its start.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be flushed or rewound, or holds
    /// another number of bytes than `len`.
    pub async fn into_body(mut self, len: u64) -> Result<MessageBody> {
        let fail = |e: std::io::Error| Error::io("rewinding a spool file", e);
        self.file.flush().await.map_err(fail)?;
        let written = self.file.stream_position().await.map_err(fail)?;
        if written != len {
            return Err(fail(std::io::Error::other(format!(
                "announced {len} bytes, spooled {written}"
            ))));
        }
        self.file.seek(SeekFrom::Start(0)).await.map_err(fail)?;
        Ok(MessageBody::from_reader(len, self))
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: on systems that cannot remove an open file this
            // fails and the temp dir's own cleaning applies.
            let _ = std::fs::remove_file(path);
        }
    }
}

impl AsyncWrite for SpoolFile {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.file).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_shutdown(cx)
    }
}

impl AsyncRead for SpoolFile {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.file).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool_entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    /// Open descriptors of this process pointing into `dir` (deleted or not).
    fn open_in(dir: &Path) -> usize {
        let shown = dir.display().to_string();
        std::fs::read_dir("/proc/self/fd")
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .filter(|target| target.display().to_string().starts_with(&shown))
                    .count()
            })
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn spooled_bytes_come_back_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = SpoolFile::create(dir.path()).await.unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        spool.write_all(&data).await.unwrap();
        if cfg!(unix) {
            assert_eq!(spool_entries(dir.path()), 0, "unlinked at once");
        }
        let body = spool.into_body(data.len() as u64).await.unwrap();
        assert_eq!(body.len(), 300_000);
        if cfg!(target_os = "linux") {
            assert_eq!(open_in(dir.path()), 1);
        }
        assert!(body.read_all().await.unwrap() == data);
        assert_eq!(spool_entries(dir.path()), 0);
        if cfg!(target_os = "linux") {
            assert_eq!(open_in(dir.path()), 0, "the file is closed with its body");
        }
    }

    #[tokio::test]
    async fn a_short_spool_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = SpoolFile::create(dir.path()).await.unwrap();
        spool.write_all(b"abc").await.unwrap();
        let err = spool.into_body(4).await.unwrap_err();
        assert_eq!(
            err.chain(),
            "i/o error: rewinding a spool file: announced 4 bytes, spooled 3"
        );
    }

    #[tokio::test]
    async fn a_missing_directory_is_named() {
        let err = SpoolFile::create(Path::new("/nonexistent/spool"))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("i/o error: creating a spool file in /nonexistent/spool"),
            "{err}"
        );
    }
}

//! Temporary files that leave nothing behind: created under a fresh random
//! name, never over an existing file, and unlinked at once where the system
//! allows, so even a killed process leaves no file (the open handle keeps the
//! data until it is closed).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A new, empty temporary file open for reading and writing.
#[derive(Debug)]
pub(crate) struct TempFile {
    /// The open file.
    pub(crate) file: tokio::fs::File,
    /// The name it was created under, for messages.
    pub(crate) path: PathBuf,
    /// False when the name could not be removed yet (non-Unix systems): the
    /// owner removes `path` when done.
    pub(crate) unlinked: bool,
}

/// Creates `<dir>/<prefix><16 hex digits>` with `create_new`, trying a few
/// names in case of a clash with another process, and unlinks it on Unix.
///
/// # Errors
/// [`Error::Io`] naming the directory when no file can be created.
pub(crate) async fn create_unlinked(dir: &Path, prefix: &str) -> Result<TempFile> {
    let mut last = None;
    for _ in 0..8 {
        let path = dir.join(format!("{prefix}{:016x}", rand::random::<u64>()));
        match tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(file) => {
                let unlinked = cfg!(unix) && std::fs::remove_file(&path).is_ok();
                return Ok(TempFile {
                    file,
                    path,
                    unlinked,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(Error::io(
                    format!("creating a spool file in {}", dir.display()),
                    e,
                ))
            }
        }
    }
    Err(Error::io(
        format!("creating a spool file in {}", dir.display()),
        last.unwrap_or_else(|| std::io::Error::other("no free name")),
    ))
}

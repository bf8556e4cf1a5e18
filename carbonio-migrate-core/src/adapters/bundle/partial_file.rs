//! An output file written as `<target>.partial` and renamed over `<target>` once
//! complete, so a run killed midway never leaves a truncated file under the final
//! name.

use std::path::{Path, PathBuf};

use tokio::fs::File;
use tokio::io::AsyncWriteExt;

use super::durable_file;
use crate::error::{Error, Result};

/// `<target>.partial`.
pub(crate) fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

/// A file being written under a temporary name.
pub(crate) struct PartialFile {
    file: File,
    partial: PathBuf,
    target: PathBuf,
}

impl PartialFile {
    /// Starts `target`, deleting a stale `.partial` of an interrupted run.
    pub(crate) async fn create(target: &Path) -> Result<Self> {
        let partial = partial_path(target);
        let file = File::create(&partial)
            .await
            .map_err(|e| Error::io(format!("creating {}", partial.display()), e))?;
        Ok(PartialFile {
            file,
            partial,
            target: target.to_path_buf(),
        })
    }

    /// The open file, for copying into it.
    pub(crate) fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// An I/O error naming the file.
    pub(crate) fn error(&self, e: std::io::Error) -> Error {
        Error::io(format!("writing {}", self.partial.display()), e)
    }

    /// Appends bytes.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match self.file.write_all(bytes).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Flushes, fsyncs and renames the file to its final name.
    pub(crate) async fn commit(mut self) -> Result<()> {
        if let Err(e) = self.file.flush().await {
            return Err(self.error(e));
        }
        if let Err(e) = self.file.sync_all().await {
            return Err(self.error(e));
        }
        drop(self.file);
        let (partial, target) = (self.partial, self.target);
        durable_file::blocking(move || durable_file::commit(&partial, &target)).await
    }
}

//! A bundle file whose body is spooled and completed at the end: the
//! [`TextSink`] of the calendar and contacts files.
//!
//! The body goes to `<target>.body.partial`; `complete` writes
//! `<target>.partial` as prefix, body, suffix and renames it over `<target>`,
//! so a killed run never leaves a truncated file under the final name.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::durable_file;
use super::partial_file::{partial_path, PartialFile};
use crate::adapters::pim_text::TextSink;
use crate::error::{Error, Result};

/// `<target>.body`: the spool's name before its `.partial` suffix.
fn body_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(".body");
    PathBuf::from(name)
}

/// One data file of the bundle being written.
pub(crate) struct SpooledFile {
    target: PathBuf,
    body: PartialFile,
}

impl SpooledFile {
    /// Starts `target`, removing a stale `.partial` of an interrupted run.
    pub(crate) async fn create(target: PathBuf) -> Result<Self> {
        let stale = partial_path(&target);
        durable_file::blocking(move || durable_file::remove_if_exists(&stale)).await?;
        let body = PartialFile::create(&body_path(&target)).await?;
        Ok(SpooledFile { target, body })
    }
}

#[async_trait]
impl TextSink for SpooledFile {
    async fn append(&mut self, text: &str) -> Result<()> {
        self.body.write(text.as_bytes()).await
    }

    async fn complete(self: Box<Self>, prefix: &str, suffix: &str, written: bool) -> Result<()> {
        let SpooledFile {
            target, mut body, ..
        } = *self;
        let spool = partial_path(&body_path(&target));
        if !written {
            drop(body);
            return durable_file::blocking(move || {
                durable_file::remove_if_exists(&spool)?;
                durable_file::remove_if_exists(&target)
            })
            .await;
        }
        body.file()
            .flush()
            .await
            .map_err(|e| Error::io(format!("writing {}", spool.display()), e))?;
        drop(body);
        let mut out = PartialFile::create(&target).await?;
        out.write(prefix.as_bytes()).await?;
        let mut spooled = tokio::fs::File::open(&spool)
            .await
            .map_err(|e| Error::io(format!("reading {}", spool.display()), e))?;
        if let Err(e) = tokio::io::copy(&mut spooled, out.file()).await {
            return Err(out.error(e));
        }
        out.write(suffix.as_bytes()).await?;
        out.commit().await?;
        durable_file::blocking(move || durable_file::remove_if_exists(&spool)).await
    }
}

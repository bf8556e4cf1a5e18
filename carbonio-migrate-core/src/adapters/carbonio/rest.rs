//! REST imports of calendars and contacts (reference §3.2):
//! `POST {rest_url}/service/home/<user>/Calendar?fmt=ics` and
//! `/Contacts?fmt=vcf` (or `?fmt=csv&csvfmt=<format>&csvlocale=en`), with the admin token as the `ZM_ADMIN_AUTH_TOKEN`
//! cookie (on the admin port the request runs with admin privileges, so the
//! admin writes into any mailbox).
//!
//! The text is made by the writers the bundle uses too
//! (`adapters::pim_text`); `RestUpload` is their sink here: the body is
//! spooled to an unlinked temporary file while it is written and streamed to
//! the server at `finish`, so a calendar of any size never sits whole in
//! memory. An account without items gets no request.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::client::{http_error, send_error, AdminClient};
use crate::adapters::pim_text::TextSink;
use crate::error::{Error, Result};
use crate::temp_file::create_unlinked;
/// Prefix of spool file names, so an operator can tell what they are.
const SPOOL_PREFIX: &str = "carbonio-migrate-rest-";

/// Where one REST import goes and how it is authorised.
#[derive(Clone)]
pub struct RestTarget {
    client: Arc<AdminClient>,
    http: reqwest::Client,
    url: reqwest::Url,
    /// `calendar of ada@example.org`, for errors.
    what: String,
}

impl RestTarget {
    /// The import of `folder` (`Calendar`, `Contacts`) of `user` in format `fmt`
    /// under `base` (`https://host:6071/`), sent with `http` (its timeout sized
    /// for big uploads) and `client`'s token.
    ///
    /// # Errors
    /// [`Error::Config`] when `base` cannot hold a path.
    pub fn new(
        client: Arc<AdminClient>,
        http: reqwest::Client,
        base: &reqwest::Url,
        user: &str,
        folder: &str,
        fmt: &str,
    ) -> Result<Self> {
        let mut url = base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                Error::config(format!("[destination] rest_url {base} cannot hold a path"))
            })?
            .pop_if_empty()
            .extend(["service", "home", user, folder]);
        url.query_pairs_mut().append_pair("fmt", fmt);
        Ok(RestTarget {
            client,
            http,
            url,
            what: format!("{} of {user}", folder.to_lowercase()),
        })
    }

    /// The target with `key=value` added to the query (`csvfmt=csv`).
    pub fn with_param(mut self, key: &str, value: &str) -> Self {
        self.url.query_pairs_mut().append_pair(key, value);
        self
    }

    /// The URL posted to.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// POSTs `prefix`, the spool's bytes and `suffix`. A refused token (401,
    /// 403) is renewed and the upload sent again, once.
    async fn post(&self, prefix: &str, spool: &Spool, suffix: &str) -> Result<()> {
        let mut refused_once = false;
        loop {
            let token = self.client.token().await?;
            let body = spool.body(prefix, suffix).await?;
            let length = (prefix.len() + suffix.len()) as u64 + spool.len;
            let context = format!(
                "importing the {} (POST {})",
                self.what,
                self.url_without_query()
            );
            let response = self
                .http
                .post(self.url.clone())
                .header(
                    reqwest::header::COOKIE,
                    format!("ZM_ADMIN_AUTH_TOKEN={}", token.expose()),
                )
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, length)
                .body(body)
                .send()
                .await
                .map_err(|e| send_error(context.clone(), e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            if matches!(status.as_u16(), 401 | 403) && !refused_once {
                refused_once = true;
                self.client.forget_token(&token).await;
                continue;
            }
            let text = response.bytes().await.unwrap_or_default();
            return Err(http_error(context, status, &text));
        }
    }

    fn url_without_query(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.to_string()
    }
}

/// An unlinked temporary file the items are written to.
struct Spool {
    file: BufWriter<tokio::fs::File>,
    path: PathBuf,
    /// False when the name is still there: removed on drop.
    unlinked: bool,
    len: u64,
}

impl Spool {
    async fn create() -> Result<Spool> {
        let created = create_unlinked(&std::env::temp_dir(), SPOOL_PREFIX).await?;
        Ok(Spool {
            file: BufWriter::new(created.file),
            path: created.path,
            unlinked: created.unlinked,
            len: 0,
        })
    }

    async fn write(&mut self, text: &str) -> Result<()> {
        self.file
            .write_all(text.as_bytes())
            .await
            .map_err(|e| Error::io(format!("writing spool file {}", self.path.display()), e))?;
        self.len += text.len() as u64;
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .await
            .map_err(|e| Error::io(format!("writing spool file {}", self.path.display()), e))
    }

    /// The upload body: `prefix`, the spooled bytes from the start, `suffix`.
    async fn body(&self, prefix: &str, suffix: &str) -> Result<reqwest::Body> {
        let io = |e| Error::io(format!("reading spool file {}", self.path.display()), e);
        let mut file = self.file.get_ref().try_clone().await.map_err(io)?;
        file.seek(std::io::SeekFrom::Start(0)).await.map_err(io)?;
        let head = futures::stream::once(futures::future::ready(Ok::<Bytes, std::io::Error>(
            Bytes::from(prefix.to_string()),
        )));
        let tail =
            futures::stream::once(futures::future::ready(Ok(Bytes::from(suffix.to_string()))));
        let middle =
            tokio_util::io::ReaderStream::new(tokio::io::AsyncReadExt::take(file, self.len));
        Ok(reqwest::Body::wrap_stream(head.chain(middle).chain(tail)))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.unlinked {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The [`TextSink`] of a REST import: the body spooled, then posted with its
/// prefix and suffix to the target at `complete`.
pub(crate) struct RestUpload {
    target: RestTarget,
    spool: Option<Spool>,
}

impl RestUpload {
    /// An upload to `target` (a `Calendar?fmt=ics` or `Contacts?fmt=vcf` target).
    pub(crate) fn new(target: RestTarget) -> Self {
        RestUpload {
            target,
            spool: None,
        }
    }
}

#[async_trait]
impl TextSink for RestUpload {
    async fn append(&mut self, text: &str) -> Result<()> {
        let spool = match &mut self.spool {
            Some(spool) => spool,
            empty => empty.insert(Spool::create().await?),
        };
        spool.write(text).await
    }

    async fn complete(self: Box<Self>, prefix: &str, suffix: &str, written: bool) -> Result<()> {
        let RestUpload { target, spool } = *self;
        let Some(mut spool) = spool.filter(|_| written) else {
            return Ok(());
        };
        spool.flush().await?;
        target.post(prefix, &spool, suffix).await
    }
}

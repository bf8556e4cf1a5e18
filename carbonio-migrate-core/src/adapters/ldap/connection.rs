//! One bound LDAP connection: TLS (implicit or StartTLS) with verified
//! certificates, simple bind, and paged searches streamed entry by entry.

use std::sync::{Arc, Once};
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};
use tokio_rustls::rustls;

use crate::error::{Error, Result};
use crate::model::Secret;

use super::config::LdapConfig;
use super::entries::LdapEntry;

/// `resultCode` values the source acts on (RFC 4511).
const INVALID_CREDENTIALS: u32 = 49;
const CONFIDENTIALITY_REQUIRED: u32 = 13;
const NO_SUCH_OBJECT: u32 = 32;
const UNAVAILABLE_CRITICAL_EXTENSION: u32 = 12;

/// A bound connection. Cloning shares it: operations are multiplexed.
#[derive(Clone, Debug)]
pub struct Connection {
    ldap: Ldap,
    url: String,
    timeout: Duration,
}

impl Connection {
    /// Connects to `config.url`, upgrades with StartTLS when asked, and binds.
    ///
    /// # Errors
    /// [`Error::Auth`] when the bind is refused (naming the bind DN, never the
    /// password); [`Error::Config`] for an untrusted certificate, a bad URL or
    /// a server that requires TLS; [`Error::Network`] when the server cannot
    /// be reached.
    pub async fn open(config: &LdapConfig, password: &Secret) -> Result<Connection> {
        let url = config.url.clone();
        let scheme = url
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match (scheme.as_str(), config.starttls) {
            ("ldap", _) => {}
            ("ldaps", false) => {}
            ("ldaps", true) => {
                return Err(Error::config(format!(
                    "[provisioning] url {url} is ldaps:// (TLS already): starttls = true needs an ldap:// url"
                )))
            }
            _ => {
                return Err(Error::config(format!(
                    "[provisioning] url {url:?} must start with ldap:// or ldaps://"
                )))
            }
        }
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(config.starttls)
            .set_config(tls_config(config)?);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &url)
            .await
            .map_err(|e| connect_error(&url, e))?;
        // The connection's driver: it ends when every `Ldap` handle is dropped.
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!("ldap connection closed: {e}");
            }
        });
        ldap.with_timeout(timeout);
        let bound = ldap
            .simple_bind(&config.bind_dn, password.expose())
            .await
            .map_err(|e| connect_error(&url, e))?;
        match bound.rc {
            0 => {}
            INVALID_CREDENTIALS => {
                return Err(Error::Auth {
                    target: format!("{} at {url}", config.bind_dn),
                    source: Some(
                        format!("the server answered invalidCredentials (49) {}", bound.text)
                            .trim_end()
                            .into(),
                    ),
                })
            }
            CONFIDENTIALITY_REQUIRED => {
                return Err(Error::config(format!(
                    "{url} requires TLS to bind: use an ldaps:// url or starttls = true"
                )))
            }
            rc => {
                return Err(Error::Protocol {
                    context: format!("binding as {} at {url}", config.bind_dn),
                    message: format!("result code {rc}: {}", bound.text),
                })
            }
        }
        Ok(Connection { ldap, url, timeout })
    }

    /// Every entry under `base` matching `filter`, with `attrs`, read in pages
    /// of `page_size` (RFC 2696) so the server's size limit does not cut the
    /// result. Entries stream as pages arrive; a failure is one `Err` item that
    /// ends the stream.
    pub async fn paged_search(
        &self,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
        page_size: u32,
    ) -> Result<BoxStream<'static, Result<LdapEntry>>> {
        let mut ldap = self.ldap.clone();
        ldap.with_timeout(self.timeout);
        let page = i32::try_from(page_size.max(1)).unwrap_or(i32::MAX);
        let adapters: Vec<Box<dyn Adapter<'static, String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(page)),
        ];
        let context = format!("searching {base} for {filter} at {}", self.url);
        let stream = ldap
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| search_error(&context, e))?;
        struct State {
            stream: ldap3::SearchStream<'static, String, Vec<String>>,
            context: String,
            done: bool,
        }
        let state = State {
            stream,
            context,
            done: false,
        };
        Ok(futures::stream::unfold(state, |mut state| async move {
            if state.done {
                return None;
            }
            match state.stream.next().await {
                Ok(Some(entry)) => {
                    let entry = SearchEntry::construct(entry);
                    Some((Ok(LdapEntry::new(entry.dn, entry.attrs)), state))
                }
                Ok(None) => {
                    state.done = true;
                    let result = state.stream.finish().await;
                    if result.rc == 0 {
                        None
                    } else {
                        Some((
                            Err(result_error(&state.context, result.rc, &result.text)),
                            state,
                        ))
                    }
                }
                Err(e) => {
                    state.done = true;
                    Some((Err(search_error(&state.context, e)), state))
                }
            }
        })
        .boxed())
    }

    /// The entry at `dn` with `attrs`, `None` when it does not exist.
    pub async fn read_entry(&self, dn: &str, attrs: Vec<String>) -> Result<Option<LdapEntry>> {
        let mut ldap = self.ldap.clone();
        ldap.with_timeout(self.timeout);
        let context = format!("reading {dn} at {}", self.url);
        let result = ldap
            .search(dn, Scope::Base, "(objectClass=*)", attrs)
            .await
            .map_err(|e| search_error(&context, e))?;
        match result.1.rc {
            0 => {}
            NO_SUCH_OBJECT => return Ok(None),
            rc => return Err(result_error(&context, rc, &result.1.text)),
        }
        Ok(result.0.into_iter().next().map(|entry| {
            let entry = SearchEntry::construct(entry);
            LdapEntry::new(entry.dn, entry.attrs)
        }))
    }
}

fn result_error(context: &str, rc: u32, text: &str) -> Error {
    let message = match rc {
        UNAVAILABLE_CRITICAL_EXTENSION => format!(
            "the server refused the paged results control (result code 12){}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ),
        NO_SUCH_OBJECT => format!("no such base DN (result code 32) {text}")
            .trim_end()
            .to_string(),
        rc => format!("result code {rc}: {text}").trim_end().to_string(),
    };
    Error::Protocol {
        context: context.to_string(),
        message,
    }
}

fn search_error(context: &str, e: LdapError) -> Error {
    match e {
        LdapError::LdapResult { result } => result_error(context, result.rc, &result.text),
        other => Error::Network {
            context: context.to_string(),
            source: Some(Box::new(other)),
        },
    }
}

/// Errors of connecting and binding: a refused certificate is a configuration
/// problem (retrying cannot help), a refused StartTLS a protocol one, anything
/// else of the transport a network one.
fn connect_error(url: &str, e: LdapError) -> Error {
    match e {
        LdapError::Io { source } => {
            let rustls_error = source
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            match rustls_error {
                Some(rustls::Error::InvalidCertificate(reason)) => Error::config(format!(
                    "certificate of {url} not trusted: {reason:?}; set ca_file to the CA \
                     that signed it (insecure_skip_verify = true turns checking off)"
                )),
                Some(other) => Error::Network {
                    context: format!("TLS handshake with {url} failed: {other}"),
                    source: None,
                },
                None => Error::Network {
                    context: format!("connecting to {url}"),
                    source: Some(Box::new(source)),
                },
            }
        }
        LdapError::LdapResult { result } => Error::Protocol {
            context: format!("starting TLS with {url}"),
            message: format!("result code {}: {}", result.rc, result.text)
                .trim_end()
                .to_string(),
        },
        LdapError::UrlParsing { .. } | LdapError::UnknownScheme(_) => Error::config(format!(
            "[provisioning] url {url:?} is not a valid LDAP url: {e}"
        )),
        other => Error::Network {
            context: format!("connecting to {url}"),
            source: Some(Box::new(other)),
        },
    }
}

fn tls_config(config: &LdapConfig) -> Result<Arc<rustls::ClientConfig>> {
    if config.insecure_skip_verify {
        warn_insecure_once(&config.url);
    }
    // Without system roots a plain ldap:// source still works.
    crate::tls::client_config(config.ca_file.as_deref(), config.insecure_skip_verify, None)
}

fn warn_insecure_once(url: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            url,
            "insecure_skip_verify is set: LDAP server certificates are not checked"
        );
    });
}

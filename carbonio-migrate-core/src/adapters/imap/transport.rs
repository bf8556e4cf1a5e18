//! Opening an IMAP connection: TCP with a timeout, then implicit TLS, STARTTLS
//! or none, with certificates verified by rustls against the system roots or a
//! CA file.
//!
//! The greeting is **consumed** here: [`connect`] returns a stream positioned
//! after the greeting line (and, with STARTTLS, after the TLS handshake), in
//! the not-authenticated state, with the capabilities the server announced
//! over the protected channel. Whoever uses the stream next sends its first
//! command (`AUTHENTICATE`, `LOGIN`) straight away.

use std::io::ErrorKind;
use std::sync::Once;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};

use super::config::{ImapConfig, TlsMode};

/// What an IMAP connection runs over: TCP or TLS over TCP.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> ImapIo for T {}

/// A connected, greeted, not yet authenticated IMAP stream.
pub type ImapStream = Box<dyn ImapIo>;

/// The longest server line read here (greeting, capabilities).
const MAX_LINE: usize = 64 * 1024;

/// A connection after the greeting.
#[derive(Debug)]
pub struct Connected {
    /// The stream, positioned after the greeting (and the STARTTLS exchange).
    pub stream: ImapStream,
    /// The greeting line without its CRLF (`* OK [CAPABILITY ...] Dovecot ready.`).
    pub greeting: String,
    /// Capabilities announced over the protected channel, uppercased
    /// (`IMAP4REV1`, `AUTH=PLAIN`, `LITERAL+`, ...).
    pub capabilities: Vec<String>,
}

impl Connected {
    /// Whether the server announced `capability` (case-insensitive).
    pub fn has(&self, capability: &str) -> bool {
        has_capability(&self.capabilities, capability)
    }
}

/// Whether `capability` is in `capabilities` (case-insensitive).
pub fn has_capability(capabilities: &[String], capability: &str) -> bool {
    capabilities
        .iter()
        .any(|c| c.eq_ignore_ascii_case(capability))
}

/// Opens connections to one configured server; the TLS settings (trust roots)
/// are built once and shared by every connection.
#[derive(Clone)]
pub struct ImapConnector {
    host: String,
    port: u16,
    tls_mode: TlsMode,
    timeout: Duration,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for ImapConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConnector")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls_mode", &self.tls_mode)
            .finish_non_exhaustive()
    }
}

impl ImapConnector {
    /// Reads the TLS settings of `config`: the CA file or the system roots.
    ///
    /// # Errors
    /// [`Error::Config`] when the CA file cannot be read or holds no
    /// certificate, or no system root can be loaded.
    pub fn new(config: &ImapConfig) -> Result<ImapConnector> {
        let tls = match config.tls {
            TlsMode::None => None,
            TlsMode::Implicit | TlsMode::Starttls => Some(tls_connector(config)?),
        };
        Ok(ImapConnector {
            host: config.host.clone(),
            port: config.port(),
            tls_mode: config.tls,
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
            tls,
        })
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Connects, protects the connection as configured and reads the greeting.
    ///
    /// # Errors
    /// [`Error::Network`] (retryable) when the server cannot be reached, drops
    /// the connection, times out or greets with `BYE`; [`Error::Config`] when
    /// its certificate is not trusted or STARTTLS is configured but not offered;
    /// [`Error::Protocol`] when the greeting is not an IMAP greeting.
    pub async fn connect(&self) -> Result<Connected> {
        let address = self.address();
        let tcp = self
            .timed(
                "connecting",
                TcpStream::connect((self.host.as_str(), self.port)),
            )
            .await?
            .map_err(|e| self.network("connecting", e))?;
        // Commands are small and answered one by one or pipelined: Nagle only
        // adds latency.
        let _ = tcp.set_nodelay(true);
        match self.tls_mode {
            TlsMode::None => {
                let mut stream: ImapStream = Box::new(tcp);
                let greeting = self.greeting(&mut stream).await?;
                let capabilities = self.capabilities_after(&mut stream, &greeting).await?;
                Ok(Connected {
                    stream,
                    greeting,
                    capabilities,
                })
            }
            TlsMode::Implicit => {
                let mut stream = self.handshake(tcp).await?;
                let greeting = self.greeting(&mut stream).await?;
                let capabilities = self.capabilities_after(&mut stream, &greeting).await?;
                Ok(Connected {
                    stream,
                    greeting,
                    capabilities,
                })
            }
            TlsMode::Starttls => {
                let mut tcp = tcp;
                let greeting = self.greeting(&mut tcp).await?;
                let before = self.capabilities_after(&mut tcp, &greeting).await?;
                if !has_capability(&before, "STARTTLS") {
                    return Err(Error::config(format!(
                        "{address} does not offer STARTTLS; use tls = \"implicit\" (port 993) \
                         or, on a trusted network only, tls = \"none\""
                    )));
                }
                self.command(&mut tcp, "S0", "STARTTLS").await?;
                let mut stream = self.handshake(tcp).await?;
                // Capabilities learned before TLS are discarded (RFC 3501 6.2.1).
                let capabilities = self.ask_capabilities(&mut stream).await?;
                Ok(Connected {
                    stream,
                    greeting,
                    capabilities,
                })
            }
        }
    }

    async fn handshake(&self, tcp: TcpStream) -> Result<ImapStream> {
        let address = self.address();
        let Some(tls) = &self.tls else {
            return Err(Error::config(format!(
                "internal: no TLS settings for {address}"
            )));
        };
        let name = rustls_pki_types::ServerName::try_from(self.host.clone()).map_err(|e| {
            Error::config(format!(
                "host {:?} is not a valid TLS server name: {e}",
                self.host
            ))
        })?;
        let stream = self
            .timed("the TLS handshake", tls.connect(name, tcp))
            .await?
            .map_err(|e| self.tls_error(e))?;
        Ok(Box::new(stream))
    }

    fn tls_error(&self, e: std::io::Error) -> Error {
        let address = self.address();
        let rustls_error = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(rustls::Error::InvalidCertificate(reason)) => Error::config(format!(
                "certificate of {address} not trusted: {reason:?}; set ca_file to the CA \
                 that signed it (insecure_skip_verify = true turns checking off)"
            )),
            Some(other) => Error::Network {
                context: format!("TLS handshake with {address} failed: {other}"),
                source: None,
            },
            None => self.network("the TLS handshake", e),
        }
    }

    /// Reads the greeting line; `* OK` and `* PREAUTH` are accepted.
    async fn greeting<S: AsyncRead + AsyncWrite + Unpin>(&self, stream: &mut S) -> Result<String> {
        let line = self
            .timed("waiting for the greeting", read_line(stream))
            .await?
            .map_err(|e| self.network("reading the greeting", e))?;
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("* OK") || upper.starts_with("* PREAUTH") {
            Ok(line)
        } else if upper.starts_with("* BYE") {
            Err(Error::Network {
                context: format!("{} refused the connection: {line}", self.address()),
                source: None,
            })
        } else {
            Err(Error::Protocol {
                context: format!("greeting of {}", self.address()),
                message: format!("not an IMAP greeting: {line:?}"),
            })
        }
    }

    /// The capabilities in the greeting's `[CAPABILITY ...]` code, else asked.
    async fn capabilities_after<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        greeting: &str,
    ) -> Result<Vec<String>> {
        match capabilities_in(greeting) {
            Some(caps) => Ok(caps),
            None => self.ask_capabilities(stream).await,
        }
    }

    async fn ask_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
    ) -> Result<Vec<String>> {
        let lines = self.command(stream, "C0", "CAPABILITY").await?;
        Ok(lines
            .iter()
            .filter_map(|l| {
                let upper = l.to_ascii_uppercase();
                upper.strip_prefix("* CAPABILITY ").map(|rest| {
                    rest.split_whitespace()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
            })
            .flatten()
            .collect())
    }

    /// Sends a simple command before authentication and returns its untagged
    /// lines; a tagged `NO`/`BAD` is an error.
    async fn command<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        tag: &str,
        command: &str,
    ) -> Result<Vec<String>> {
        let address = self.address();
        let exchange = async {
            stream
                .write_all(format!("{tag} {command}\r\n").as_bytes())
                .await?;
            stream.flush().await?;
            let mut untagged = Vec::new();
            loop {
                let line = read_line(stream).await?;
                if let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
                    return Ok::<_, std::io::Error>((rest.to_string(), untagged));
                }
                untagged.push(line);
            }
        };
        let (status, untagged) = self
            .timed(command, exchange)
            .await?
            .map_err(|e| self.network(command, e))?;
        if status.to_ascii_uppercase().starts_with("OK") {
            Ok(untagged)
        } else {
            Err(Error::Protocol {
                context: format!("{command} on {address}"),
                message: status,
            })
        }
    }

    async fn timed<F: std::future::Future>(&self, what: &str, future: F) -> Result<F::Output> {
        tokio::time::timeout(self.timeout, future)
            .await
            .map_err(|_| Error::Network {
                context: format!(
                    "{what} with {} timed out after {} s",
                    self.address(),
                    self.timeout.as_secs()
                ),
                source: None,
            })
    }

    fn network(&self, what: &str, e: std::io::Error) -> Error {
        Error::Network {
            context: format!("{what} with {}", self.address()),
            source: Some(Box::new(e)),
        }
    }
}

/// Connects to the server of `config` (see [`ImapConnector::connect`]); builds
/// the TLS settings on each call, so prefer one [`ImapConnector`] for many.
///
/// # Errors
/// As [`ImapConnector::new`] and [`ImapConnector::connect`].
pub async fn connect(config: &ImapConfig) -> Result<Connected> {
    ImapConnector::new(config)?.connect().await
}

/// The capability list of a `[CAPABILITY ...]` response code in `line`.
pub fn capabilities_in(line: &str) -> Option<Vec<String>> {
    let upper = line.to_ascii_uppercase();
    let start = upper.find("[CAPABILITY ")? + "[CAPABILITY ".len();
    let end = start + upper[start..].find(']')?;
    Some(
        upper[start..end]
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

/// Reads one CRLF-terminated line byte by byte, so nothing after it is taken
/// from the stream (the next reader starts exactly after the line).
async fn read_line<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<String> {
    let mut line = Vec::with_capacity(128);
    loop {
        let byte = match stream.read_u8().await {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ))
            }
            Err(e) => return Err(e),
        };
        if byte == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
        if line.len() >= MAX_LINE {
            return Err(std::io::Error::new(
                ErrorKind::InvalidData,
                "server line longer than 64 KiB",
            ));
        }
        line.push(byte);
    }
}

fn tls_connector(config: &ImapConfig) -> Result<TlsConnector> {
    if config.insecure_skip_verify {
        warn_insecure_once(&config.host);
    }
    let client = crate::tls::client_config(
        config.ca_file.as_deref(),
        config.insecure_skip_verify,
        Some(&config.host),
    )?;
    Ok(TlsConnector::from(client))
}

fn warn_insecure_once(host: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            host,
            "insecure_skip_verify is set: IMAP server certificates are not checked"
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_come_from_the_greeting_code() {
        let caps =
            capabilities_in("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.")
                .unwrap();
        assert_eq!(caps, ["IMAP4REV1", "STARTTLS", "AUTH=PLAIN"]);
        assert!(has_capability(&caps, "auth=plain"));
        assert!(capabilities_in("* OK ready").is_none());
    }

    #[tokio::test]
    async fn read_line_stops_at_the_line_end() {
        let mut input: &[u8] = b"* OK hi\r\nA1 NEXT";
        assert_eq!(read_line(&mut input).await.unwrap(), "* OK hi");
        assert_eq!(input, b"A1 NEXT");
        let err = read_line(&mut input).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn refused_connection_is_a_retryable_network_error_naming_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let config: ImapConfig = toml::from_str(&format!(
            "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = 5"
        ))
        .unwrap();
        let err = connect(&config).await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn missing_ca_file_is_a_config_error() {
        let config: ImapConfig =
            toml::from_str("host = \"localhost\"\nca_file = \"/nonexistent/ca.pem\"").unwrap();
        let err = ImapConnector::new(&config).unwrap_err().to_string();
        assert!(
            err.starts_with("configuration: cannot read ca_file /nonexistent/ca.pem"),
            "{err}"
        );
    }
}

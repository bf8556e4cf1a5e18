//! HTTPS for the emulator: a private CA and server certificate made by
//! `scripts/test-ca.sh` (the one the Dovecot and OpenLDAP test servers use),
//! and an axum listener that completes the TLS handshake before handing a
//! connection to the router.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::testkit::server_script::{run_script, script_path};
use crate::testkit::unique::unique_token;

/// Longest a client may take to finish its handshake; a stalled one must not
/// hold up the others, since handshakes run one at a time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The CA and server certificate of one emulator, in a directory of its own
/// that is deleted on drop.
#[derive(Debug)]
pub(crate) struct TestCertificates {
    dir: PathBuf,
}

impl TestCertificates {
    /// Makes a fresh CA and a certificate for `localhost` and `127.0.0.1`.
    pub(crate) fn make() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("cmtest-carbonio-{}", unique_token()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let script = script_path("test-ca.sh");
        let certificates = TestCertificates { dir };
        let output = run_script(
            &script,
            &[
                certificates.dir.as_os_str(),
                "carbonio-migrate test Carbonio CA".as_ref(),
            ],
        )?;
        if !output.status.success() {
            return Err(Error::config(format!(
                "{} failed: {}",
                script.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(certificates)
    }

    /// The CA certificate (PEM) clients should trust.
    pub(crate) fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A TLS acceptor serving the server certificate.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::config(format!("carbonio emulator {what}: {e}"))
        };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(self.dir.join("server.crt"))
                .map_err(|e| bad("certificate", &e))?
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| bad("certificate", &e))?;
        let key = PrivateKeyDer::from_pem_file(self.dir.join("server.key"))
            .map_err(|e| bad("key", &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("TLS versions", &e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| bad("certificate", &e))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl Drop for TestCertificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Accepts TCP connections and completes their TLS handshake. A connection
/// whose handshake fails (a client that does not trust the certificate) is
/// closed and the next one awaited, as a real server goes on serving.
pub(crate) struct TlsListener {
    pub(crate) tcp: TcpListener,
    pub(crate) acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp));
            if let Ok(Ok(tls)) = handshake.await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

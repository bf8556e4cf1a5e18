//! TLS pieces shared by the adapters that open their own TLS connections
//! (IMAP, LDAP).

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls;

use crate::error::{Error, Result};

/// A rustls client configuration (ring, safe protocol versions) checking the
/// server's certificate against the PEM certificates of `ca_file`, else the
/// system roots; with `insecure` nothing is checked (the caller logs that
/// opt-out, once per protocol).
///
/// An unreadable or empty `ca_file` is an [`Error::Config`] naming it. When no
/// system root loads, `system_roots_for` decides: `Some(host)` makes it an
/// [`Error::Config`] naming the host; `None` accepts the empty store (every
/// TLS handshake then fails as untrusted, which a server reached without TLS
/// never sees).
pub(crate) fn client_config(
    ca_file: Option<&Path>,
    insecure: bool,
    system_roots_for: Option<&str>,
) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS settings: {e}")))?;
    let client = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(trust_roots(ca_file, system_roots_for)?)
            .with_no_client_auth()
    };
    Ok(Arc::new(client))
}

/// The roots [`client_config`] trusts.
fn trust_roots(
    ca_file: Option<&Path>,
    system_roots_for: Option<&str>,
) -> Result<rustls::RootCertStore> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let shown = path.display();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::config(format!("cannot read ca_file {shown}: {e}")))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| Error::config(format!("ca_file {shown} is not PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::config(format!("ca_file {shown}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(Error::config(format!(
                    "ca_file {shown} holds no certificate"
                )));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A malformed system root is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            if let (true, Some(host)) = (roots.is_empty(), system_roots_for) {
                return Err(Error::config(format!(
                    "no system CA certificate could be loaded to check {host}; set ca_file"
                )));
            }
        }
    }
    Ok(roots)
}

/// Accepts any certificate, for the explicit `insecure_skip_verify` opt-out;
/// signatures are still checked so the handshake is well-formed.
#[derive(Debug)]
pub(crate) struct NoVerification(pub(crate) Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

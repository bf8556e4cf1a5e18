//! [`AdminClient`]: Admin SOAP over HTTPS with JSON envelopes, one admin token
//! shared by every call and renewed when it runs out.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use super::config::CarbonioConfig;
use super::faults::SoapFault;
use super::soap::{text_of, SoapRequest};
use crate::error::{Error, Result};
use crate::model::Secret;

/// How a call failed: a fault the caller may act on (`NO_SUCH_DOMAIN` means
/// "create it"), or anything else, already an [`Error`].
#[derive(Debug)]
pub enum CallError {
    /// The server answered a SOAP fault.
    Fault(SoapFault),
    /// Transport, HTTP or format failure.
    Failed(Error),
}

impl CallError {
    /// The crate's error, `context` naming what was being done.
    pub fn into_error(self, context: &str, admin: &str) -> Error {
        match self {
            CallError::Fault(fault) => fault.into_error(context, admin),
            CallError::Failed(error) => error,
        }
    }
}

/// The admin token and when to stop using it.
#[derive(Clone)]
struct AdminToken {
    value: Secret,
    /// When to log in again: some time before the lifetime the server gave.
    renew_at: Option<Instant>,
}

/// Longest the token is renewed before its lifetime ends.
const RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Most bytes of a non-SOAP error body quoted in an error.
const QUOTED_BODY_BYTES: usize = 300;

/// A client of the Admin SOAP endpoint.
///
/// # Contract
/// - Every request is a JSON envelope POSTed to `admin_url` with the token in
///   `Header.context.authToken` (reference §1.1–1.2). The token comes from an
///   `AuthRequest` (`account by="name"` + `password`, no `csrfTokenSecured`),
///   is shared by all concurrent calls, renewed shortly before its `lifetime`
///   ends, and renewed once when the server answers `service.AUTH_EXPIRED` or
///   `service.AUTH_REQUIRED` — then the call is sent again, once.
/// - A fault is read from any answer that holds one: a non-2xx status (422 on
///   Carbonio, 500 on Zimbra) or a 200 with `Body.Fault`.
/// - A connection failure, a timeout, or a 5xx without a fault body is
///   [`Error::Network`] (retryable).
/// - The password and the token never appear in errors, logs or `Debug`.
pub struct AdminClient {
    http: reqwest::Client,
    url: reqwest::Url,
    admin: String,
    password: Secret,
    token: Mutex<Option<AdminToken>>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminClient")
            .field("url", &self.url.as_str())
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// The HTTP client of a configuration: its timeout and its trust.
///
/// # Errors
/// [`Error::Config`] when `ca_file` cannot be read or holds no certificate.
pub fn http_client(config: &CarbonioConfig, timeout: Duration) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .user_agent(concat!("carbonio-migrate/", env!("CARGO_PKG_VERSION")));
    if let Some(file) = &config.ca_file {
        let pem = std::fs::read(file).map_err(|e| {
            Error::config(format!(
                "[destination] ca_file {:?}: cannot read it: {e}",
                file.display().to_string()
            ))
        })?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::config(format!(
                "[destination] ca_file {:?}: not PEM certificates: {e}",
                file.display().to_string()
            ))
        })?;
        if certificates.is_empty() {
            return Err(Error::config(format!(
                "[destination] ca_file {:?} holds no certificate",
                file.display().to_string()
            )));
        }
        // Only this CA: a private CA file means "trust this, not the world".
        builder = builder.tls_built_in_root_certs(false);
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if config.insecure_skip_verify {
        tracing::warn!(
            url = %config.admin_url,
            "insecure_skip_verify: the Carbonio server certificate is not checked"
        );
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("[destination] cannot set up HTTPS: {e}")))
}

impl AdminClient {
    /// A client for `config`'s `admin_url`, logging in as `admin_user` with
    /// `password` (at the first call, not here).
    ///
    /// # Errors
    /// [`Error::Config`] for a bad URL or CA file.
    pub fn new(config: &CarbonioConfig, password: Secret) -> Result<Self> {
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        Ok(AdminClient {
            http: http_client(config, timeout)?,
            url: config.admin_url()?,
            admin: config.admin_user.clone(),
            password,
            token: Mutex::new(None),
        })
    }

    /// The admin who logs in.
    pub fn admin(&self) -> &str {
        &self.admin
    }

    /// The endpoint.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// A valid admin token: the current one, or a fresh one from `AuthRequest`.
    ///
    /// # Errors
    /// [`Error::Auth`] when the credentials are refused; [`Error::Network`].
    pub async fn token(&self) -> Result<Secret> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref() {
            if token.renew_at.is_none_or(|at| Instant::now() < at) {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.authenticate().await?;
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }

    /// Forgets `used` when it is still the current token, so the next
    /// [`AdminClient::token`] logs in again (callers that saw it refused).
    pub async fn forget_token(&self, used: &Secret) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| &t.value == used) {
            *slot = None;
        }
    }

    async fn authenticate(&self) -> Result<AdminToken> {
        let request = SoapRequest::admin("AuthRequest")
            .selector("account", "name", &self.admin)
            .element("password", self.password.expose());
        let context = format!("logging in to {}", self.url);
        let started = Instant::now();
        let answer = self
            .post(&request, None, None)
            .await
            .map_err(|e| e.into_error(&context, &self.admin))?;
        let value = text_of(&answer, "authToken").ok_or_else(|| Error::Protocol {
            context: context.clone(),
            message: "AuthResponse has no authToken".into(),
        })?;
        let renew_at = text_of(&answer, "lifetime")
            .and_then(|ms| ms.parse::<u64>().ok())
            .map(|ms| {
                let lifetime = Duration::from_millis(ms);
                started + lifetime.saturating_sub(RENEW_MARGIN.min(lifetime / 10))
            });
        tracing::debug!(admin = %self.admin, url = %self.url, "carbonio admin logged in");
        Ok(AdminToken {
            value: Secret::new(value),
            renew_at,
        })
    }

    /// Sends `request` with the admin token and returns the response object
    /// (`Body.<Name>Response`).
    ///
    /// # Errors
    /// [`CallError::Fault`] for a SOAP fault (after one renewal of a refused
    /// token); [`CallError::Failed`] otherwise.
    pub async fn call(&self, request: &SoapRequest) -> std::result::Result<Value, CallError> {
        self.call_as(request, None).await
    }

    /// Like [`AdminClient::call`], acting on the mailbox of `account` (the
    /// header context's `account`), for `urn:zimbraMail` requests.
    ///
    /// # Errors
    /// As [`AdminClient::call`].
    pub async fn call_as(
        &self,
        request: &SoapRequest,
        account: Option<&str>,
    ) -> std::result::Result<Value, CallError> {
        let token = self.token().await.map_err(CallError::Failed)?;
        match self.post(request, Some(&token), account).await {
            Err(CallError::Fault(fault)) if fault.is_token_problem() => {
                tracing::debug!(code = %fault.code, "carbonio admin token refused, logging in again");
                self.forget_token(&token).await;
                let token = self.token().await.map_err(CallError::Failed)?;
                self.post(request, Some(&token), account).await
            }
            other => other,
        }
    }

    /// Like [`AdminClient::call`], with every failure as an [`Error`] whose
    /// message starts with `context`.
    ///
    /// # Errors
    /// See [`super::faults::SoapFault::into_error`].
    pub async fn call_for(&self, request: &SoapRequest, context: &str) -> Result<Value> {
        self.call(request)
            .await
            .map_err(|e| e.into_error(context, &self.admin))
    }

    async fn post(
        &self,
        request: &SoapRequest,
        token: Option<&Secret>,
        account: Option<&str>,
    ) -> std::result::Result<Value, CallError> {
        let name = request.name();
        let envelope = request.envelope(token.map(Secret::expose), account);
        let body = serde_json::to_vec(&envelope).map_err(|e| {
            CallError::Failed(Error::Protocol {
                context: format!("encoding {name}"),
                message: e.to_string(),
            })
        })?;
        tracing::trace!(request = name, url = %self.url, "carbonio admin soap");
        let network =
            |e: reqwest::Error| CallError::Failed(send_error(format!("{name} to {}", self.url), e));
        let response = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(network)?;
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if let Some(fault) = parsed
            .as_ref()
            .and_then(|v| SoapFault::from_json(v, status.as_u16()))
        {
            return Err(CallError::Fault(fault));
        }
        let context = format!("{name} to {}", self.url);
        if !status.is_success() {
            return Err(CallError::Failed(http_error(context, status, &bytes)));
        }
        let Some(answer) = parsed else {
            return Err(CallError::Failed(Error::Protocol {
                context,
                message: format!("the answer is not JSON: {}", quote_body(&bytes)),
            }));
        };
        let response_name = request.response_name();
        match answer.get("Body").and_then(|b| b.get(&response_name)) {
            Some(object) => Ok(object.clone()),
            None => Err(CallError::Failed(Error::Protocol {
                context,
                message: format!("the answer has no Body.{response_name}"),
            })),
        }
    }
}

/// The start of a body for an error message, as text.
pub(crate) fn quote_body(bytes: &[u8]) -> String {
    let end = bytes.len().min(QUOTED_BODY_BYTES);
    let mut text = String::from_utf8_lossy(&bytes[..end]).trim().to_string();
    if bytes.len() > end {
        text.push('…');
    }
    format!("{text:?}")
}

/// The error of a non-2xx answer without a SOAP fault.
/// The error for a request that got no answer: [`Error::Network`]
/// (retryable), except when the server's certificate is refused, which no
/// retry can change: then [`Error::Config`] saying so and what to set.
pub(crate) fn send_error(context: String, error: reqwest::Error) -> Error {
    let error = error.without_url();
    let mut chain = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = cause {
        chain.push(e.to_string());
        cause = e.source();
    }
    match chain.iter().find(|text| text.contains("certificate")) {
        Some(reason) => Error::config(format!(
            "{context}: the server's certificate is not trusted ({reason}); set [destination] ca_file to the CA that signed it, or insecure_skip_verify = true to skip the check"
        )),
        None => Error::Network {
            context,
            source: Some(Box::new(error)),
        },
    }
}

pub(crate) fn http_error(context: String, status: reqwest::StatusCode, body: &[u8]) -> Error {
    let message = format!("HTTP {status}: {}", quote_body(body));
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Error::Network {
            context: format!("{context}: {message}"),
            source: None,
        }
    } else if status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
    {
        Error::Auth {
            target: format!("{context}: {message}"),
            source: None,
        }
    } else {
        Error::Protocol { context, message }
    }
}

//! [`CarbonioEmulator`]: a loopback HTTP server answering Carbonio's Admin
//! SOAP requests (JSON and SOAP XML envelopes) and REST imports, with a state
//! tests inspect. What it emulates faithfully and what it simplifies is listed
//! in `docs/design/0004-carbonio-admin-soap.md`.

mod admin;
mod auto_prov;
mod contacts_csv;
mod envelope;
mod rest;
pub mod state;
mod tls;
pub mod xml;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use self::state::Inner;
pub use self::state::{
    AccountRecord, Attributes, CosRecord, DomainRecord, EmulatorState, GrantRecord, Holder,
    ListRecord, PasswordRecord, RestImportRecord,
};
use crate::error::{Error, Result};
use crate::testkit::unique::unique_token;

/// The emulator's shared state.
type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    // A handler that panicked leaves consistent data (every change is one
    // insert); keep serving.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The biggest request body accepted (REST imports of big calendars).
const MAX_BODY: usize = 512 << 20;

/// A Carbonio Admin SOAP / REST emulator on `127.0.0.1` (plain HTTP, or HTTPS
/// with a private CA from [`start_https`](CarbonioEmulator::start_https)).
///
/// Contract:
/// - `POST /service/admin/soap` (and `/service/admin/soap/<Name>`) answers the
///   provisioning requests of reference §1.3, `AuthRequest` and
///   `FolderActionRequest op=grant`, in JSON or SOAP 1.2/1.1 XML as asked.
/// - One global admin, [`admin_user`](Self::admin_user) with
///   [`admin_password`](Self::admin_password); every other request needs its
///   token in `Header.context.authToken` (string or `_content`) or the
///   `ZM_ADMIN_AUTH_TOKEN` cookie, else `service.AUTH_REQUIRED`; a token made
///   stale by [`expire_tokens`](Self::expire_tokens) gets `service.AUTH_EXPIRED`.
/// - Faults are answered with HTTP 422 in the reference's JSON shape (SOAP
///   Fault in XML), or 500 after [`answer_faults_with_500`](Self::answer_faults_with_500).
/// - `AutoProvAccountRequest` creates the account from the LDAP directory the
///   domain's `zimbraAutoProv*` attributes name, really searching it (see
///   `auto_prov.rs`); `service.FAILURE` when `MANUAL` is not among the
///   domain's `zimbraAutoProvMode`.
/// - `POST /service/home/<account>/<folder>?fmt=ics|vcf|csv|tgz` stores the
///   body for the account; 401 without a valid `ZM_ADMIN_AUTH_TOKEN` cookie,
///   404 for an unknown account. `fmt=csv` bodies are also parsed as the
///   server's `ContactCSV` does (`csvfmt=csv|thunderbird-csv`, an unknown one
///   falls back to `csv`; see `contacts_csv.rs`) and each contact stored field
///   by field in `EmulatorState::contacts`; a body that cannot be parsed gets
///   400 `Could not parse csv file - Reason : …`.
/// - Dropping the value stops the server.
pub struct CarbonioEmulator {
    shared: Shared,
    port: u16,
    /// Set when serving HTTPS; deleted when the emulator is dropped.
    certificates: Option<tls::TestCertificates>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for CarbonioEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarbonioEmulator")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl CarbonioEmulator {
    /// Starts an emulator on a free port of 127.0.0.1, in a thread of its own
    /// (so it outlives any test runtime), with an empty directory, serving
    /// plain HTTP.
    ///
    /// # Errors
    /// [`Error::Io`] when no port can be bound or the thread cannot start.
    pub fn start() -> Result<Self> {
        Self::start_with(None)
    }

    /// As [`start`](Self::start), serving HTTPS with a certificate for
    /// `127.0.0.1` and `localhost` signed by a private CA made for this
    /// emulator ([`ca_file`](Self::ca_file); `scripts/test-ca.sh`, so
    /// `openssl` must be installed). A client that does not trust the CA gets
    /// a failed handshake; the emulator goes on serving.
    ///
    /// # Errors
    /// As [`start`](Self::start), and [`Error::Config`] when the certificates
    /// cannot be made or loaded.
    pub fn start_https() -> Result<Self> {
        Self::start_with(Some(tls::TestCertificates::make()?))
    }

    fn start_with(certificates: Option<tls::TestCertificates>) -> Result<Self> {
        let acceptor = certificates.as_ref().map(|c| c.acceptor()).transpose()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| Error::io("binding 127.0.0.1:0 for the carbonio emulator", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("setting up the carbonio emulator socket", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("reading the carbonio emulator's port", e))?
            .port();
        let shared: Shared = Arc::new(Mutex::new(Inner::new(
            "zextras@carbonio.test".into(),
            format!("Emu-{}!", unique_token()),
        )));
        let router = Router::new()
            .route("/service/admin/soap", post(soap))
            .route("/service/admin/soap/{*name}", post(soap))
            .route("/service/home/{*path}", post(rest::import))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the carbonio emulator's runtime", e))?;
        let thread = std::thread::Builder::new()
            .name(format!("carbonio-emulator-{port}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let stopped = async {
                        let _ = stopped.await;
                    };
                    let _ = match acceptor {
                        None => {
                            axum::serve(listener, router)
                                .with_graceful_shutdown(stopped)
                                .await
                        }
                        Some(acceptor) => {
                            let listener = tls::TlsListener {
                                tcp: listener,
                                acceptor,
                            };
                            axum::serve(listener, router)
                                .with_graceful_shutdown(stopped)
                                .await
                        }
                    };
                });
            })
            .map_err(|e| Error::io("starting the carbonio emulator's thread", e))?;
        Ok(CarbonioEmulator {
            shared,
            port,
            certificates,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>/service/admin/soap` (`https://` from
    /// [`start_https`](Self::start_https)).
    pub fn admin_url(&self) -> String {
        format!("{}/service/admin/soap", self.rest_base())
    }

    /// `http://127.0.0.1:<port>` (or `https://`), the base of `/service/home/...`.
    pub fn rest_base(&self) -> String {
        let scheme = if self.certificates.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA certificate (PEM) that signed the emulator's certificate, when
    /// it serves HTTPS.
    pub fn ca_file(&self) -> Option<std::path::PathBuf> {
        self.certificates.as_ref().map(|c| c.ca_file())
    }

    /// The preconfigured global admin.
    pub fn admin_user(&self) -> String {
        lock(&self.shared).admin_user.clone()
    }

    /// The admin's password (fresh per emulator).
    pub fn admin_password(&self) -> String {
        lock(&self.shared).admin_password.clone()
    }

    /// A copy of everything the emulator holds.
    pub fn state(&self) -> EmulatorState {
        lock(&self.shared).state.clone()
    }

    /// Request names in the order received (`AuthRequest`, `GetAccountRequest`,
    /// `POST /service/home/<account>/Calendar?fmt=ics`).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.shared).state.requests.clone()
    }

    /// Mutating requests received with a valid token, faulted ones included.
    pub fn write_calls(&self) -> u64 {
        lock(&self.shared).state.write_calls
    }

    /// Forgets the request log and envelopes (the directory stays).
    pub fn clear_log(&self) {
        let mut inner = lock(&self.shared);
        inner.state.requests.clear();
        inner.state.envelopes.clear();
    }

    /// Makes every token handed out so far expired: the next request with one
    /// gets `service.AUTH_EXPIRED` (and a REST import 401).
    pub fn expire_tokens(&self) {
        for token in lock(&self.shared).tokens.values_mut() {
            token.expired = true;
        }
    }

    /// Answers faults with HTTP 500, as upstream Zimbra does (`true`), or 422,
    /// as Carbonio does (`false`, the default).
    pub fn answer_faults_with_500(&self, zimbra: bool) {
        lock(&self.shared).fault_status = if zimbra { 500 } else { 422 };
    }

    /// The `lifetime` `AuthRequest` answers, in milliseconds (default 12 h).
    pub fn set_token_lifetime_ms(&self, ms: u64) {
        lock(&self.shared).token_lifetime_ms = ms;
    }
}

impl Drop for CarbonioEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `ZM_ADMIN_AUTH_TOKEN` from the cookies.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "ZM_ADMIN_AUTH_TOKEN")
        .map(|(_, v)| v.to_string())
}

fn reply(status: StatusCode, (body, content_type): (String, &'static str)) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// What the synchronous part of a SOAP call leaves to do.
enum Prepared {
    /// The answer is ready.
    Done(Response),
    /// An `AutoProvAccountRequest` whose directory search is still to run,
    /// outside the state lock.
    AutoProv {
        lookup: auto_prov::AutoProvLookup,
        form: envelope::Form,
        fault_status: StatusCode,
    },
}

async fn soap(
    State(shared): State<Shared>,
    _uri: Uri,
    _query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match prepare(&shared, &headers, &body) {
        Prepared::Done(response) => response,
        Prepared::AutoProv {
            lookup,
            form,
            fault_status,
        } => {
            let answer = match auto_prov::search(&lookup).await {
                Err(fault) => Err(fault),
                Ok(entry) => lock(&shared).auto_prov_create(&lookup, &entry),
            };
            match answer {
                Ok(response) => reply(
                    StatusCode::OK,
                    envelope::answer(form, "AutoProvAccountResponse", &response),
                ),
                Err(fault) => reply(fault_status, envelope::fault(form, &fault)),
            }
        }
    }
}

/// Parses, authenticates and answers a call under the state lock; only an
/// `AutoProvAccountRequest` that passed its checks is left for later.
fn prepare(shared: &Shared, headers: &HeaderMap, body: &Bytes) -> Prepared {
    let mut inner = lock(shared);
    let fault_status =
        StatusCode::from_u16(inner.fault_status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let envelope = match envelope::parse(body) {
        Ok(e) => e,
        Err((form, fault)) => {
            inner.state.requests.push("(unparsable)".into());
            return Prepared::Done(reply(fault_status, envelope::fault(form, &fault)));
        }
    };
    inner.state.requests.push(envelope.name.clone());
    inner.state.envelopes.push(envelope.whole.clone());
    if envelope.name != "AuthRequest" {
        let token = envelope
            .context
            .get("authToken")
            .and_then(|t| match t {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(m) => {
                    m.get("_content").and_then(|c| c.as_str()).map(String::from)
                }
                serde_json::Value::Array(items) => items
                    .first()
                    .and_then(|i| i.get("_content"))
                    .and_then(|c| c.as_str())
                    .map(String::from),
                _ => None,
            })
            .or_else(|| cookie_token(headers));
        if let Err(fault) = inner.check_token(token.as_deref()) {
            return Prepared::Done(reply(fault_status, envelope::fault(envelope.form, &fault)));
        }
        if admin::is_write(&envelope.name) {
            inner.state.write_calls += 1;
        }
    }
    let in_admin_ns =
        envelope.request.get("_jsns").and_then(|v| v.as_str()) == Some("urn:zimbraAdmin");
    if envelope.name == "AutoProvAccountRequest" && in_admin_ns {
        return match inner.auto_prov_lookup(&envelope.request) {
            Ok(lookup) => Prepared::AutoProv {
                lookup,
                form: envelope.form,
                fault_status,
            },
            Err(fault) => {
                Prepared::Done(reply(fault_status, envelope::fault(envelope.form, &fault)))
            }
        };
    }
    let response_name = format!(
        "{}Response",
        envelope
            .name
            .strip_suffix("Request")
            .unwrap_or(&envelope.name)
    );
    Prepared::Done(
        match inner.handle(&envelope.name, &envelope.request, &envelope.context) {
            Ok(response) => reply(
                StatusCode::OK,
                envelope::answer(envelope.form, &response_name, &response),
            ),
            Err(fault) => reply(fault_status, envelope::fault(envelope.form, &fault)),
        },
    )
}

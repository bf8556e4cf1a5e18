//! Loopback servers and fault injectors for tests (feature `testkit`).
//!
//! - [`dovecot::Dovecot`]: a private Dovecot IMAP server (plaintext + STARTTLS
//!   and implicit TLS ports, a private CA, a master user for impersonation),
//!   started by `scripts/dovecot.sh` in a fresh temporary directory.
//! - [`fault_proxy::FaultProxy`]: a TCP proxy that cuts or stalls connections
//!   after a number of bytes, or adds latency, to test retries and resume.
//! - [`unique`]: names unique per call, so each test gets fresh users.
//!
//! Real servers need Debian packages: `scripts/install-test-deps.sh` installs
//! them (see `docs/testing.md`).

pub mod carbonio;
pub mod dovecot;
pub mod fault_proxy;
mod server_script;
pub mod slapd;
pub mod unique;

pub use dovecot::Dovecot;
pub use fault_proxy::{Direction, FaultPlan, FaultProxy};
pub use unique::{unique_address, unique_token};

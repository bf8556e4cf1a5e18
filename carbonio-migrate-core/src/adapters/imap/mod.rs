//! The `imap` adapter: a [`crate::Source`] reading any IMAP server (Dovecot,
//! Courier, Cyrus, Exchange, Zimbra) and a [`crate::Destination`] writing mail
//! into an IMAP server (Carbonio), with admin impersonation on either side.
//!
//! Reading is built on `async-imap`; the write path (pipelined APPEND with
//! LITERAL+ and MULTIAPPEND, APPENDUID) on `imap-codec` — see
//! `docs/design/0003-imap.md`.

pub mod config;

pub use config::{AuthMode, ImapConfig, TlsMode};
pub mod append;
pub mod auth;
pub mod codec_client;
pub mod destination;
pub mod keywords;
pub mod mutf7;
pub mod namespace;
pub mod reader;
pub mod session;
pub mod source;
pub mod transport;
pub mod uid_set;
pub mod writer;

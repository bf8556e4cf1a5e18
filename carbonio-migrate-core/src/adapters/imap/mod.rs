//! The `imap` adapter: a [`crate::Source`] reading any IMAP server (Dovecot,
//! Courier, Cyrus, Exchange, Zimbra) and a [`crate::Destination`] writing mail
//! into an IMAP server (Carbonio), with admin impersonation on either side.
//!
//! Both sides run on one `imap-codec` client (`codec_client`): the read path
//! with pipelined FETCH and bodies over a threshold spooled to disk
//! (`body_spool`), the write path with pipelined APPEND, LITERAL+,
//! MULTIAPPEND and APPENDUID — see `docs/design/0003-imap.md`.

pub mod config;

pub use config::{AuthMode, ImapConfig, TlsMode};
pub mod append;
pub mod auth;
pub mod body_sink;
pub mod body_spool;
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

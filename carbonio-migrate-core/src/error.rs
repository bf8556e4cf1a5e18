//! The one public error type of the library.
//!
//! Callers branch on the variant; the engine asks [`Error::is_retryable`] to decide
//! between retrying with backoff, recording the item as failed, and stopping.
//! Messages are lowercase and name the account, folder, file or line concerned;
//! the underlying cause, when there is one, is the error's `source`.

use std::path::PathBuf;

/// A boxed cause, kept as the `source` of an [`Error`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a migration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid or contradicts the journal. Never retryable.
    #[error("configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A row or record of an input file is invalid; the rest of the file goes on.
    #[error("{}: {message}", location(file, *line))]
    Input {
        /// The file holding the bad record.
        file: PathBuf,
        /// 1-based line of the record, when the format has lines.
        line: Option<u64>,
        /// What is wrong with the record.
        message: String,
    },
    /// A value that cannot be valid was refused where it entered (address, path, ...).
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidValue {
        /// The kind of value ("e-mail address", "folder path", ...).
        what: &'static str,
        /// The refused value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// Credentials were refused by a server.
    #[error("authentication failed for {target}")]
    Auth {
        /// Who or what could not log in (never the secret).
        target: String,
        /// The server's answer.
        #[source]
        source: Option<Cause>,
    },
    /// An object the operation needs does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// The missing object.
        what: String,
    },
    /// An object exists where the operation would create it (and it cannot be reused).
    #[error("already exists: {what}")]
    AlreadyExists {
        /// The clashing object.
        what: String,
    },
    /// The adapter cannot do the operation at all.
    #[error("adapter '{adapter}' does not support {operation}")]
    Unsupported {
        /// The operation asked for.
        operation: String,
        /// The adapter asked.
        adapter: String,
    },
    /// The peer answered something the protocol does not allow, or a permanent refusal.
    #[error("protocol error: {context}: {message}")]
    Protocol {
        /// What was being done.
        context: String,
        /// What the peer said.
        message: String,
    },
    /// A transient transport failure: connection refused or dropped, timeout, throttling.
    #[error("network error: {context}")]
    Network {
        /// What was being done.
        context: String,
        /// The transport error.
        #[source]
        source: Option<Cause>,
    },
    /// A local file could not be read or written.
    #[error("i/o error: {context}")]
    Io {
        /// The file and the operation.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The journal could not be read or written.
    #[error("journal: {context}")]
    Journal {
        /// What was being done.
        context: String,
        /// The database error.
        #[source]
        source: Option<Cause>,
    },
    /// The destination refused one item; the rest goes on.
    #[error("rejected {item}: {reason}")]
    Rejected {
        /// The item (account, folder, UID, ...).
        item: String,
        /// The destination's reason.
        reason: String,
    },
    /// The run was interrupted (Ctrl-C); the journal is committed.
    #[error("interrupted")]
    Cancelled,
}

fn location(file: &std::path::Path, line: Option<u64>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    }
}

impl Error {
    /// True when trying the same operation again later can succeed (network faults,
    /// throttling). Everything else is permanent for the item it concerns.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Network { .. })
    }

    /// An [`Error::Io`] naming the file and what was done with it.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// An [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// An [`Error::Input`] at a file and line.
    pub fn input(file: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        Error::Input {
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    /// An [`Error::Unsupported`].
    pub fn unsupported(operation: impl Into<String>, adapter: impl Into<String>) -> Self {
        Error::Unsupported {
            operation: operation.into(),
            adapter: adapter.into(),
        }
    }

    /// An [`Error::Journal`] wrapping a database error.
    pub fn journal(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Journal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The full message with its chain of causes, for reports and logs.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_error_names_file_and_line() {
        let e = Error::input("export/accounts.csv", Some(7), "bad e-mail address \"x\"");
        assert_eq!(
            e.to_string(),
            "export/accounts.csv:7: bad e-mail address \"x\""
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn only_network_errors_are_retryable() {
        let net = Error::Network {
            context: "connect".into(),
            source: None,
        };
        assert!(net.is_retryable());
        assert!(!Error::config("x").is_retryable());
        assert!(!Error::Rejected {
            item: "a".into(),
            reason: "b".into()
        }
        .is_retryable());
    }

    #[test]
    fn chain_includes_causes() {
        let e = Error::io("reading a.csv", std::io::Error::other("disk on fire"));
        assert_eq!(e.chain(), "i/o error: reading a.csv: disk on fire");
    }
}

//! SOAP faults: read from any answer that carries one (Carbonio answers 422,
//! Zimbra 500, and a 200 body may hold `Body.Fault`), kept typed so callers
//! branch on the code, and turned into the crate's [`Error`] with the code in
//! the message.

use std::fmt;

use serde_json::Value;

use super::soap::{first, text_of};
use crate::error::Error;

/// Fault codes the adapter acts on (reference §1.5).
pub mod codes {
    /// An account, or a name clashing with an alias or list, exists; also an alias.
    pub const ACCOUNT_EXISTS: &str = "account.ACCOUNT_EXISTS";
    /// The domain exists.
    pub const DOMAIN_EXISTS: &str = "account.DOMAIN_EXISTS";
    /// The class of service exists.
    pub const COS_EXISTS: &str = "account.COS_EXISTS";
    /// The distribution list exists.
    pub const DISTRIBUTION_LIST_EXISTS: &str = "account.DISTRIBUTION_LIST_EXISTS";
    /// No such account.
    pub const NO_SUCH_ACCOUNT: &str = "account.NO_SUCH_ACCOUNT";
    /// No such domain.
    pub const NO_SUCH_DOMAIN: &str = "account.NO_SUCH_DOMAIN";
    /// No such class of service.
    pub const NO_SUCH_COS: &str = "account.NO_SUCH_COS";
    /// No such distribution list.
    pub const NO_SUCH_DISTRIBUTION_LIST: &str = "account.NO_SUCH_DISTRIBUTION_LIST";
    /// `AutoProvAccountRequest`: the directory has no entry for the principal.
    pub const NO_SUCH_EXTERNAL_ENTRY: &str = "account.NO_SUCH_EXTERNAL_ENTRY";
    /// Wrong credentials.
    pub const AUTH_FAILED: &str = "account.AUTH_FAILED";
    /// No token, or one the server does not know.
    pub const AUTH_REQUIRED: &str = "service.AUTH_REQUIRED";
    /// The token's lifetime is over.
    pub const AUTH_EXPIRED: &str = "service.AUTH_EXPIRED";
    /// The admin lacks a right.
    pub const PERM_DENIED: &str = "service.PERM_DENIED";
    /// A malformed request.
    pub const INVALID_REQUEST: &str = "service.INVALID_REQUEST";
    /// A request body that does not parse.
    pub const PARSE_ERROR: &str = "service.PARSE_ERROR";
    /// A request name the server does not know.
    pub const UNKNOWN_DOCUMENT: &str = "service.UNKNOWN_DOCUMENT";
    /// A server-side failure.
    pub const FAILURE: &str = "service.FAILURE";
}

/// A fault the server answered: `Detail.Error.Code` and `Reason.Text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoapFault {
    /// The Zimbra code (`account.ACCOUNT_EXISTS`).
    pub code: String,
    /// The server's human text (`email address already exists: ...`).
    pub reason: String,
    /// The HTTP status it came with (422 on Carbonio, 500 on Zimbra, 200 inside
    /// a batch).
    pub http_status: u16,
}

impl fmt::Display for SoapFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code, self.reason)
    }
}

impl std::error::Error for SoapFault {}

impl SoapFault {
    /// The fault of a JSON answer (`Body.Fault`), if it holds one.
    pub fn from_json(answer: &Value, http_status: u16) -> Option<SoapFault> {
        let fault = answer.get("Body")?.get("Fault")?;
        let code = first(fault, "Detail")
            .and_then(|d| first(d, "Error"))
            .and_then(|e| text_of(e, "Code"))
            .unwrap_or_else(|| "(no code)".into());
        let reason = first(fault, "Reason")
            .and_then(|r| text_of(r, "Text"))
            .unwrap_or_default();
        Some(SoapFault {
            code,
            reason,
            http_status,
        })
    }

    /// Whether the code is `code`.
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// Whether a fresh token makes the same request pass.
    pub fn is_token_problem(&self) -> bool {
        self.is(codes::AUTH_EXPIRED) || self.is(codes::AUTH_REQUIRED)
    }

    /// The crate's error for this fault; `context` says what was being done and
    /// on which object (`creating account ada@example.org`), `admin` who was
    /// logged in. Secrets are never part of either.
    pub fn into_error(self, context: &str, admin: &str) -> Error {
        let code = self.code.as_str();
        let detail = format!("{context}: {self}");
        if code.ends_with("_EXISTS") {
            Error::AlreadyExists { what: detail }
        } else if code.starts_with("account.NO_SUCH_") {
            Error::NotFound { what: detail }
        } else if code == codes::AUTH_FAILED
            || code == codes::PERM_DENIED
            || self.is_token_problem()
        {
            // A refused right is permanent for this admin: report it as the
            // admin's, like a wrong password, so the operator fixes the account.
            Error::Auth {
                target: format!("carbonio admin {admin} ({context})"),
                source: Some(Box::new(self)),
            }
        } else if matches!(
            code,
            "account.INVALID_ATTR_NAME" | "account.INVALID_ATTR_VALUE" | "account.INVALID_PASSWORD"
        ) {
            Error::Rejected {
                item: context.to_string(),
                reason: self.to_string(),
            }
        } else if code == codes::FAILURE {
            // "system failure": mostly LDAP or database hiccups of the server;
            // a permanent one is retried a few times, then recorded as failed.
            Error::Network {
                context: detail,
                source: Some(Box::new(self)),
            }
        } else {
            Error::Protocol {
                context: context.to_string(),
                message: self.to_string(),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fault(code: &str) -> SoapFault {
        SoapFault::from_json(
            &json!({"Body":{"Fault":{"Code":{"Value":"soap:Sender"},
                "Reason":{"Text":"email address already exists: ada@example.org"},
                "Detail":{"Error":{"_jsns":"urn:zimbra","Code":code,"Trace":"qtp-1"}}}},
                "_jsns":"urn:zimbraSoap"}),
            422,
        )
        .unwrap()
    }

    #[test]
    fn reads_code_and_reason() {
        let f = fault("account.ACCOUNT_EXISTS");
        assert_eq!(f.code, "account.ACCOUNT_EXISTS");
        assert_eq!(f.reason, "email address already exists: ada@example.org");
        assert_eq!(f.http_status, 422);
        assert!(SoapFault::from_json(&json!({"Body":{"X":{}}}), 200).is_none());
    }

    #[test]
    fn codes_map_to_the_crate_errors() {
        let e = fault("account.ACCOUNT_EXISTS")
            .into_error("creating account ada@example.org", "admin@example.org");
        assert_eq!(
            e.to_string(),
            "already exists: creating account ada@example.org: account.ACCOUNT_EXISTS (email address already exists: ada@example.org)"
        );
        assert!(matches!(
            fault("account.NO_SUCH_COS").into_error("x", "a"),
            Error::NotFound { .. }
        ));
        let auth = fault("account.AUTH_FAILED").into_error("logging in", "admin@example.org");
        assert_eq!(
            auth.chain(),
            "authentication failed for carbonio admin admin@example.org (logging in): account.AUTH_FAILED (email address already exists: ada@example.org)"
        );
        assert!(matches!(
            fault("service.PERM_DENIED").into_error("x", "a"),
            Error::Auth { .. }
        ));
        assert!(matches!(
            fault("account.INVALID_ATTR_NAME").into_error("x", "a"),
            Error::Rejected { .. }
        ));
        let other = fault("service.INVALID_REQUEST").into_error("x", "a");
        assert!(matches!(other, Error::Protocol { .. }));
        assert!(!other.is_retryable());
    }
}

//! E-mail addresses and domain names, valid by construction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A DNS domain name as Carbonio stores it: lowercase ASCII labels (IDNs in their
/// `xn--` form), each 1 to 63 characters of letters, digits and inner hyphens, at
/// least two labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    /// Parses and normalises (lowercases) a domain name.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the text cannot be a domain name.
    pub fn parse(text: &str) -> Result<Self> {
        let lower = text.trim().to_ascii_lowercase();
        let refuse = |reason: &str| Error::InvalidValue {
            what: "domain name",
            value: text.to_string(),
            reason: reason.to_string(),
        };
        if lower.is_empty() {
            return Err(refuse("it is empty"));
        }
        if lower.len() > 253 {
            return Err(refuse("it is longer than 253 characters"));
        }
        let labels: Vec<&str> = lower.split('.').collect();
        if labels.len() < 2 {
            return Err(refuse("it needs at least two labels, like example.org"));
        }
        for label in labels {
            if label.is_empty() || label.len() > 63 {
                return Err(refuse("each label must be 1 to 63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(refuse(
                    "only letters, digits and '-' are allowed (write IDNs in xn-- form)",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(refuse("a label cannot start or end with '-'"));
            }
        }
        Ok(DomainName(lower))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DomainName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DomainName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> String {
        d.0
    }
}

/// An e-mail address `local@domain` that Carbonio accepts as an account, alias or
/// list name: a dot-atom local part of printable ASCII (no spaces, quotes or
/// brackets, no leading, trailing or doubled dot, at most 64 characters) and a
/// valid [`DomainName`]. The local part is lowercased as Carbonio does.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress {
    text: String,
    at: usize,
}

const LOCAL_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~.";

impl EmailAddress {
    /// Parses and normalises an address.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let refuse = |reason: String| Error::InvalidValue {
            what: "e-mail address",
            value: text.to_string(),
            reason,
        };
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(refuse("it has no '@'".into()));
        };
        if local.is_empty() {
            return Err(refuse("the part before '@' is empty".into()));
        }
        if local.len() > 64 {
            return Err(refuse(
                "the part before '@' is longer than 64 characters".into(),
            ));
        }
        if let Some(bad) = local.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || (c.is_ascii() && LOCAL_SPECIALS.contains(&(*c as u8))))
        }) {
            return Err(refuse(format!(
                "the character {bad:?} is not allowed before '@'"
            )));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(refuse(
                "dots before '@' cannot lead, trail or repeat".into(),
            ));
        }
        let domain = DomainName::parse(domain).map_err(|e| match e {
            Error::InvalidValue { reason, .. } => {
                refuse(format!("its domain is invalid: {reason}"))
            }
            other => other,
        })?;
        let local = local.to_ascii_lowercase();
        Ok(EmailAddress {
            at: local.len(),
            text: format!("{local}@{domain}"),
        })
    }

    /// The whole address.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The domain after `@`.
    pub fn domain(&self) -> DomainName {
        DomainName(self.text[self.at + 1..].to_string())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for EmailAddress {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case() {
        let a = EmailAddress::parse(" Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(a.as_str(), "ada.lovelace@example.org");
        assert_eq!(a.local_part(), "ada.lovelace");
        assert_eq!(a.domain().as_str(), "example.org");
    }

    #[test]
    fn refuses_invalid_addresses_with_reason() {
        for (bad, reason) in [
            ("ada", "no '@'"),
            ("@example.org", "empty"),
            ("a da@example.org", "' '"),
            ("ada@localhost", "two labels"),
            ("a..b@example.org", "dots"),
            ("ada@exa_mple.org", "only letters"),
            ("àda@example.org", "'à'"),
        ] {
            let err = EmailAddress::parse(bad).unwrap_err().to_string();
            assert!(err.contains(reason), "{bad}: {err}");
            assert!(err.starts_with("invalid e-mail address"), "{err}");
        }
    }

    #[test]
    fn serde_round_trip_validates() {
        let a: EmailAddress = serde_json::from_str("\"x@y.org\"").unwrap();
        assert_eq!(a.as_str(), "x@y.org");
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }
}

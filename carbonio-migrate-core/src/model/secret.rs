//! Secrets: passwords and password hashes that never reach logs or reports.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A secret string. `Debug` and `Display` print `***`; the value is only reachable
/// through [`Secret::expose`], so it cannot slip into a log line by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An already hashed password in LDAP `{SCHEME}value` form (`{SSHA}...`,
/// `{SSHA512}...`, `{CRYPT}...`), carried to Carbonio unchanged through
/// `userPassword`. The scheme is validated; the value is treated as a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Parses `{SCHEME}value`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the text has no `{SCHEME}` prefix or no value.
    /// The refused text is not echoed, since it may be a clear password typed in the
    /// wrong column.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let refuse = |reason: &str| Error::InvalidValue {
            what: "password hash",
            value: "***".into(),
            reason: reason.into(),
        };
        let Some(rest) = text.strip_prefix('{') else {
            return Err(refuse("it must start with a {SCHEME} such as {SSHA}"));
        };
        let Some((scheme, value)) = rest.split_once('}') else {
            return Err(refuse("the {SCHEME} prefix is not closed"));
        };
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(refuse(
                "the scheme must be letters and digits, like SSHA512",
            ));
        }
        if value.is_empty() || value.chars().any(char::is_whitespace) {
            return Err(refuse("the hash value is empty or contains spaces"));
        }
        Ok(PasswordHash(text.to_string()))
    }

    /// The scheme without braces, uppercased (`SSHA`).
    pub fn scheme(&self) -> String {
        let end = self.0.find('}').unwrap_or(1);
        self.0[1..end].to_ascii_uppercase()
    }

    /// The full `{SCHEME}value` text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PasswordHash({{{}}}***)", self.scheme())
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<PasswordHash> for String {
    fn from(h: PasswordHash) -> String {
        h.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        let h = PasswordHash::parse("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=").unwrap();
        assert_eq!(format!("{h:?}"), "PasswordHash({SSHA}***)");
        assert_eq!(h.scheme(), "SSHA");
    }

    #[test]
    fn hash_needs_a_scheme_and_hides_the_input() {
        let err = PasswordHash::parse("hunter2").unwrap_err().to_string();
        assert!(err.contains("{SCHEME}"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(PasswordHash::parse("{SSHA}").is_err());
    }
}

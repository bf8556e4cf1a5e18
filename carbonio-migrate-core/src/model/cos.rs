//! Classes of service.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The name of a class of service: 1 to 64 printable characters without
/// surrounding spaces, as Carbonio's LDAP `cn` accepts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CosName(String);

impl CosName {
    /// Validates a CoS name.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for empty, over-long or control-character names.
    pub fn parse(text: &str) -> Result<Self> {
        let name = text.trim();
        let refuse = |reason: &str| Error::InvalidValue {
            what: "class of service name",
            value: text.to_string(),
            reason: reason.into(),
        };
        if name.is_empty() {
            return Err(refuse("it is empty"));
        }
        if name.chars().count() > 64 {
            return Err(refuse("it is longer than 64 characters"));
        }
        if name
            .chars()
            .any(|c| c.is_control() || matches!(c, ',' | '=' | '+' | '"' | '\\' | '<' | '>' | ';'))
        {
            return Err(refuse(
                "it contains a control character or one of , = + \" \\ < > ;",
            ));
        }
        Ok(CosName(name.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CosName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<CosName> for String {
    fn from(c: CosName) -> String {
        c.0
    }
}

/// A class of service and the attributes it sets (`zimbraMailQuota`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cos {
    /// The CoS name.
    pub name: CosName,
    /// Carbonio attributes of the CoS.
    pub attributes: BTreeMap<String, String>,
}

impl Cos {
    /// A CoS with no attributes.
    pub fn new(name: CosName) -> Self {
        Cos {
            name,
            attributes: BTreeMap::new(),
        }
    }
}

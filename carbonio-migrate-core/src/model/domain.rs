//! Mail domains.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DomainName;

/// A mail domain to create on the destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The domain name.
    pub name: DomainName,
    /// Extra Carbonio attributes (`description`, `zimbraAuthMech`, ...), set as given.
    pub attributes: BTreeMap<String, String>,
}

impl Domain {
    /// A domain with no extra attributes.
    pub fn new(name: DomainName) -> Self {
        Domain {
            name,
            attributes: BTreeMap::new(),
        }
    }
}

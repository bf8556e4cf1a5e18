//! Mail domains.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{DomainName, Secret};

/// A mail domain to create on the destination.
///
/// Attributes come in three maps, so each value has the type its handling
/// needs; a name appears in at most one of them:
/// - [`attributes`](Self::attributes): single-valued (`description`, `zimbraAuthMech`).
/// - [`multi_attributes`](Self::multi_attributes): multi-valued attributes set to
///   exactly the values given, in that order (`zimbraAutoProvAttrMap`,
///   `zimbraAutoProvMode`); a destination removes values not listed.
/// - [`secret_attributes`](Self::secret_attributes): values that must never be
///   printed (`zimbraAutoProvLdapAdminBindPassword`,
///   `zimbraAuthLdapSearchBindPassword`). They are set, never compared: how a
///   destination decides when to set them is in its documentation.
///
/// The two extra maps are left out of the serialized form when empty and
/// default to empty, so journals and files written before they existed still read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The domain name.
    pub name: DomainName,
    /// Extra single-valued Carbonio attributes, set as given.
    pub attributes: BTreeMap<String, String>,
    /// Multi-valued attributes, each set to exactly these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub multi_attributes: BTreeMap<String, Vec<String>>,
    /// Attributes holding secrets (bind passwords); `Debug` prints `***`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_attributes: BTreeMap<String, Secret>,
}

impl Domain {
    /// A domain with no extra attributes.
    pub fn new(name: DomainName) -> Self {
        Domain {
            name,
            attributes: BTreeMap::new(),
            multi_attributes: BTreeMap::new(),
            secret_attributes: BTreeMap::new(),
        }
    }

    /// Every non-secret attribute as name → values, single-valued ones as a
    /// one-element list, sorted by name: the form destinations compare and
    /// render. A name in both maps takes the multi-valued entry.
    pub fn plain_attributes(&self) -> BTreeMap<String, Vec<String>> {
        let mut all: BTreeMap<String, Vec<String>> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), vec![v.clone()]))
            .collect();
        for (k, v) in &self.multi_attributes {
            all.insert(k.clone(), v.clone());
        }
        all
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print_and_old_forms_still_read() {
        let mut d = Domain::new(DomainName::parse("example.org").unwrap());
        d.secret_attributes.insert(
            "zimbraAutoProvLdapAdminBindPassword".into(),
            Secret::new("hunter2"),
        );
        assert!(!format!("{d:?}").contains("hunter2"));
        let old: Domain =
            serde_json::from_str(r#"{"name":"example.org","attributes":{"description":"x"}}"#)
                .unwrap();
        assert!(old.multi_attributes.is_empty() && old.secret_attributes.is_empty());
        let plain = Domain::new(DomainName::parse("example.org").unwrap());
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"name":"example.org","attributes":{}}"#
        );
    }

    #[test]
    fn plain_attributes_merge_single_and_multi_values() {
        let mut d = Domain::new(DomainName::parse("example.org").unwrap());
        d.attributes.insert("zimbraAuthMech".into(), "ldap".into());
        d.multi_attributes.insert(
            "zimbraAutoProvMode".into(),
            vec!["EAGER".into(), "MANUAL".into()],
        );
        let all = d.plain_attributes();
        assert_eq!(all["zimbraAuthMech"], ["ldap"]);
        assert_eq!(all["zimbraAutoProvMode"], ["EAGER", "MANUAL"]);
    }
}

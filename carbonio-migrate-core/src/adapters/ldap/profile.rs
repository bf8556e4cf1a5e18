//! The two directory shapes the `ldap` source knows, and the attribute map
//! each starts from.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Which directory shape the source reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Profile {
    /// Active Directory: `user` and mail-enabled `group` objects,
    /// `proxyAddresses`, `userAccountControl`, `sAMAccountName`.
    #[serde(rename = "ad")]
    Ad,
    /// OpenLDAP and alike: `inetOrgPerson`, `groupOfNames` /
    /// `groupOfUniqueNames` with a `mail` attribute, `userPassword` hashes.
    #[serde(rename = "openldap")]
    OpenLdap,
}

impl Profile {
    /// The configuration name (`ad`, `openldap`).
    pub fn name(self) -> &'static str {
        match self {
            Profile::Ad => "ad",
            Profile::OpenLdap => "openldap",
        }
    }

    /// The default account filter. It does not require `mail`, so an entry
    /// without an address is reported instead of silently left out; narrow it
    /// with `user_filter` to leave service accounts out on purpose.
    pub fn user_filter(self) -> &'static str {
        match self {
            // Computers are `user` objects too in Active Directory.
            Profile::Ad => "(&(objectClass=user)(!(objectClass=computer)))",
            Profile::OpenLdap => "(objectClass=inetOrgPerson)",
        }
    }

    /// The default list filter: mail-enabled groups.
    pub fn group_filter(self) -> &'static str {
        match self {
            Profile::Ad => "(&(objectClass=group)(mail=*))",
            Profile::OpenLdap => {
                "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(mail=*))"
            }
        }
    }

    /// Every group, mail-enabled or not: nested groups are expanded through
    /// these, so a security group inside a list still brings its members.
    pub fn nesting_filter(self) -> &'static str {
        match self {
            Profile::Ad => "(objectClass=group)",
            Profile::OpenLdap => "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
        }
    }

    /// The attributes holding a group's member DNs.
    pub fn member_attributes(self) -> &'static [&'static str] {
        match self {
            Profile::Ad => &["member"],
            Profile::OpenLdap => &["member", "uniqueMember"],
        }
    }

    fn default_map(self) -> Vec<(&'static str, &'static str)> {
        let mut map = vec![
            (GIVEN_NAME, "givenName"),
            (SURNAME, "sn"),
            (DISPLAY_NAME, "displayName"),
            (DESCRIPTION, "description"),
        ];
        match self {
            Profile::Ad => map.extend([
                (ADDRESS, "mail,userPrincipalName"),
                (ALIASES, "proxyAddresses"),
                (SOURCE_USER, "sAMAccountName"),
                (ACCOUNT_CONTROL, "userAccountControl"),
                (PASSWORD, ""),
            ]),
            Profile::OpenLdap => map.extend([
                (ADDRESS, "mail"),
                (ALIASES, "mailAlternateAddress"),
                (SOURCE_USER, ""),
                (ACCOUNT_CONTROL, ""),
                (PASSWORD, "userPassword"),
            ]),
        }
        map
    }
}

/// Key of the address: the account's or list's primary address.
pub const ADDRESS: &str = "mail";
/// Key of the aliases (`smtp:`-prefixed values are read as in `proxyAddresses`).
pub const ALIASES: &str = "zimbraMailAlias";
/// Key of the first name.
pub const GIVEN_NAME: &str = "givenName";
/// Key of the last name.
pub const SURNAME: &str = "sn";
/// Key of the full name.
pub const DISPLAY_NAME: &str = "displayName";
/// Key of a list's description.
pub const DESCRIPTION: &str = "description";
/// Key of the password hash.
pub const PASSWORD: &str = "userPassword";
/// Key of the login on the source mail system (not a Carbonio attribute).
pub const SOURCE_USER: &str = "source_user";
/// Key of the Active Directory account flags (bit 0x2: disabled).
pub const ACCOUNT_CONTROL: &str = "userAccountControl";

/// Carbonio attribute (or `source_user`) → the LDAP attributes read for it, in
/// order of preference: the profile's defaults with the configured overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeMap {
    map: BTreeMap<String, Vec<String>>,
}

impl AttributeMap {
    /// The profile's map with `overrides` applied (an empty value turns a
    /// mapping off; a comma-separated value is a list tried in order).
    ///
    /// # Errors
    /// [`Error::Config`] naming the key when the LDAP attribute name is not an
    /// attribute name (letters, digits, `-`, `;`, or a numeric OID), or when the
    /// address mapping is turned off.
    pub fn new(profile: Profile, overrides: &BTreeMap<String, String>) -> Result<Self> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let defaults = profile
            .default_map()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let configured = overrides.iter().map(|(k, v)| (k.clone(), v.clone()));
        for (key, value) in defaults.chain(configured) {
            let names: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(bad) = names.iter().find(|n| !is_attribute_name(n)) {
                return Err(Error::config(format!(
                    "[provisioning] attribute_map {key} = {value:?}: {bad:?} is not an LDAP attribute name"
                )));
            }
            map.insert(key, names);
        }
        if map.get(ADDRESS).is_none_or(Vec::is_empty) {
            return Err(Error::config(
                "[provisioning] attribute_map mail cannot be empty: it gives every address",
            ));
        }
        Ok(AttributeMap { map })
    }

    /// The LDAP attributes read for `key` (empty when turned off or unknown).
    pub fn sources(&self, key: &str) -> &[String] {
        self.map.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// Keys that are not read by the profile itself: copied as they are into
    /// the account's attributes.
    pub fn extra_keys(&self) -> impl Iterator<Item = &str> {
        self.map
            .keys()
            .map(String::as_str)
            .filter(|k| !KNOWN_KEYS.contains(k))
    }

    /// Every LDAP attribute any key reads, for the search's attribute list.
    pub fn all_sources(&self) -> Vec<String> {
        let mut all: Vec<String> = self.map.values().flatten().cloned().collect();
        all.sort_by_key(|a| a.to_ascii_lowercase());
        all.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        all
    }
}

const KNOWN_KEYS: [&str; 9] = [
    ADDRESS,
    ALIASES,
    GIVEN_NAME,
    SURNAME,
    DISPLAY_NAME,
    DESCRIPTION,
    PASSWORD,
    SOURCE_USER,
    ACCOUNT_CONTROL,
];

/// An attribute description: a name (letter first, then letters, digits,
/// hyphens), or a numeric OID, optionally with `;options`.
fn is_attribute_name(name: &str) -> bool {
    let base = name.split(';').next().unwrap_or_default();
    let descriptor = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !base.is_empty()
        && base
            .split('.')
            .all(|arc| !arc.is_empty() && arc.chars().all(|c| c.is_ascii_digit()));
    descriptor || oid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_the_profile_defaults() {
        let overrides = BTreeMap::from([
            ("source_user".to_string(), "uid".to_string()),
            ("zimbraMailAlias".to_string(), String::new()),
            (
                "zimbraPrefPasswordRecoveryAddress".to_string(),
                "otherMailbox".to_string(),
            ),
        ]);
        let map = AttributeMap::new(Profile::Ad, &overrides).unwrap();
        assert_eq!(map.sources(ADDRESS), ["mail", "userPrincipalName"]);
        assert_eq!(map.sources(SOURCE_USER), ["uid"]);
        assert!(map.sources(ALIASES).is_empty());
        assert_eq!(
            map.extra_keys().collect::<Vec<_>>(),
            ["zimbraPrefPasswordRecoveryAddress"]
        );
        assert!(map.all_sources().contains(&"otherMailbox".to_string()));
        let openldap = AttributeMap::new(Profile::OpenLdap, &BTreeMap::new()).unwrap();
        assert_eq!(openldap.sources(PASSWORD), ["userPassword"]);
        assert!(openldap.sources(ACCOUNT_CONTROL).is_empty());
    }

    #[test]
    fn bad_attribute_names_and_no_address_are_refused() {
        let bad = BTreeMap::from([("givenName".to_string(), "given name".to_string())]);
        assert_eq!(
            AttributeMap::new(Profile::OpenLdap, &bad)
                .unwrap_err()
                .to_string(),
            "configuration: [provisioning] attribute_map givenName = \"given name\": \"given name\" is not an LDAP attribute name"
        );
        let none = BTreeMap::from([("mail".to_string(), " ".to_string())]);
        assert!(AttributeMap::new(Profile::Ad, &none)
            .unwrap_err()
            .to_string()
            .contains("mail cannot be empty"));
        assert!(is_attribute_name("2.5.4.3"));
        assert!(is_attribute_name("cn;lang-en"));
        assert!(!is_attribute_name("1cn"));
    }
}

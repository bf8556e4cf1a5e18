//! Turning directory entries into accounts and lists: pure functions over an
//! entry's attributes, so every rule is tested without a server.

use std::collections::HashMap;

use crate::error::Error;
use crate::model::{Account, DistributionList, EmailAddress, Password, PasswordHash, Secret};

use super::config::DisabledAccounts;
use super::profile::{
    AttributeMap, ACCOUNT_CONTROL, ADDRESS, ALIASES, DESCRIPTION, DISPLAY_NAME, GIVEN_NAME,
    PASSWORD, SOURCE_USER, SURNAME,
};

/// `userAccountControl` bit: the account is disabled.
const ACCOUNTDISABLE: i64 = 0x2;

/// One directory entry: its DN and its text attributes by lowercased name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LdapEntry {
    /// The DN as the server wrote it.
    pub dn: String,
    attrs: HashMap<String, Vec<String>>,
}

impl LdapEntry {
    /// An entry from a DN and `(attribute, values)` pairs; names are matched
    /// case-insensitively, as LDAP does.
    pub fn new(
        dn: impl Into<String>,
        attrs: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, values) in attrs {
            map.entry(name.to_ascii_lowercase())
                .or_default()
                .extend(values);
        }
        LdapEntry {
            dn: dn.into(),
            attrs: map,
        }
    }

    /// The values of `name` (none when absent).
    pub fn values(&self, name: &str) -> &[String] {
        self.attrs
            .get(&name.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The first non-empty value of the first of `names` that has one, with the
    /// attribute it came from.
    fn first<'a>(&'a self, names: &'a [String]) -> Option<(&'a str, &'a str)> {
        names.iter().find_map(|name| {
            self.values(name)
                .iter()
                .map(|v| v.trim())
                .find(|v| !v.is_empty())
                .map(|v| (name.as_str(), v))
        })
    }

    fn first_of(&self, map: &AttributeMap, key: &str) -> Option<String> {
        self.first(map.sources(key)).map(|(_, v)| v.to_string())
    }
}

/// What an account entry became.
#[derive(Debug)]
pub enum AccountOutcome {
    /// An account to create, with notes for the log (never secrets).
    Account(Box<Account>, Vec<String>),
    /// Disabled in the directory and `disabled_accounts = "skip"`.
    SkippedDisabled,
}

/// The rules that turn an entry into an account.
#[derive(Clone, Debug)]
pub struct AccountRules<'a> {
    /// Where each Carbonio attribute is read from.
    pub map: &'a AttributeMap,
    /// Disabled accounts: skipped or locked.
    pub disabled: DisabledAccounts,
}

/// The account an entry describes, or why it cannot be one (a lowercase
/// message without the DN, which the caller adds; never a password).
pub fn account_from_entry(
    entry: &LdapEntry,
    rules: &AccountRules<'_>,
) -> Result<AccountOutcome, String> {
    let map = rules.map;
    let disabled = match entry.first(map.sources(ACCOUNT_CONTROL)) {
        None => false,
        Some((name, value)) => {
            let flags: i64 = value
                .parse()
                .map_err(|_| format!("{name} {value:?} is not a number"))?;
            flags & ACCOUNTDISABLE != 0
        }
    };
    if disabled && rules.disabled == DisabledAccounts::Skip {
        return Ok(AccountOutcome::SkippedDisabled);
    }
    let address = address_of(entry, map)?;
    let mut notes = Vec::new();
    let mut account = Account::new(address.clone());
    account.aliases = aliases_of(entry, map, &address, &mut notes)?;
    account.given_name = entry.first_of(map, GIVEN_NAME);
    account.surname = entry.first_of(map, SURNAME);
    account.display_name = entry.first_of(map, DISPLAY_NAME);
    account.source_user = entry.first_of(map, SOURCE_USER);
    account.password = password_of(entry, map, &mut notes)?;
    for key in map.extra_keys() {
        if let Some(value) = entry.first_of(map, key) {
            account.attributes.insert(key.to_string(), value);
        }
    }
    if disabled {
        account
            .attributes
            .insert("zimbraAccountStatus".into(), "locked".into());
    }
    Ok(AccountOutcome::Account(Box::new(account), notes))
}

/// A list's address, aliases, names and description; members are added by the
/// caller, who knows the directory.
pub fn list_from_entry(entry: &LdapEntry, map: &AttributeMap) -> Result<DistributionList, String> {
    let address = address_of(entry, map)?;
    let mut notes = Vec::new();
    let mut list = DistributionList::new(address.clone());
    list.aliases = aliases_of(entry, map, &address, &mut notes)?;
    for note in notes {
        tracing::warn!(dn = %entry.dn, "{note}");
    }
    list.display_name = entry
        .first_of(map, DISPLAY_NAME)
        .or_else(|| entry.values("cn").first().cloned());
    list.description = entry.first_of(map, DESCRIPTION);
    Ok(list)
}

/// The primary address: the first mapped attribute that has a value.
pub fn address_of(entry: &LdapEntry, map: &AttributeMap) -> Result<EmailAddress, String> {
    let sources = map.sources(ADDRESS);
    let Some((name, value)) = entry.first(sources) else {
        return Err(format!(
            "no {} attribute, so no address",
            sources.join(" or ")
        ));
    };
    EmailAddress::parse(value).map_err(|e| format!("{name}: {e}"))
}

/// The aliases: each value of the mapped attribute, either a plain address or
/// an Exchange `proxyAddresses` value. There `SMTP:` (uppercase) is the primary
/// address, `smtp:` an alias, and other types (`X500:`, `SIP:`) are not mail
/// addresses. A primary that differs from the address becomes an alias (mail
/// sent to it keeps arriving), with a note.
fn aliases_of(
    entry: &LdapEntry,
    map: &AttributeMap,
    address: &EmailAddress,
    notes: &mut Vec<String>,
) -> Result<Vec<EmailAddress>, String> {
    let mut aliases: Vec<EmailAddress> = Vec::new();
    for name in map.sources(ALIASES) {
        for value in entry.values(name) {
            let value = value.trim();
            let (text, primary) = match proxy_address(value) {
                ProxyAddress::Smtp { address, primary } => (address, primary),
                ProxyAddress::OtherType => continue,
                ProxyAddress::Plain => (value, false),
            };
            if text.is_empty() {
                continue;
            }
            let alias = EmailAddress::parse(text).map_err(|e| format!("{name}: {e}"))?;
            if primary && alias != *address {
                notes.push(format!(
                    "{name} names {alias} as the primary SMTP address, but the address is {address}; {alias} becomes an alias"
                ));
            }
            if alias != *address && !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
    }
    Ok(aliases)
}

/// One value of an alias attribute.
#[derive(Debug, PartialEq, Eq)]
enum ProxyAddress<'a> {
    /// `SMTP:` or `smtp:` and the address after it.
    Smtp { address: &'a str, primary: bool },
    /// Another address type (`X500:`, `SIP:`, `x400:`).
    OtherType,
    /// No type prefix: the value is an address.
    Plain,
}

fn proxy_address(value: &str) -> ProxyAddress<'_> {
    let Some((prefix, rest)) = value.split_once(':') else {
        return ProxyAddress::Plain;
    };
    if prefix.contains('@') || prefix.is_empty() {
        return ProxyAddress::Plain;
    }
    if prefix.eq_ignore_ascii_case("smtp") {
        ProxyAddress::Smtp {
            address: rest.trim(),
            primary: prefix == "SMTP",
        }
    } else {
        ProxyAddress::OtherType
    }
}

/// The password: a `{SCHEME}` hash is kept as is (preferring `{SSHA512}`, then
/// `{SSHA}`, which Carbonio verifies itself; other schemes are kept with a note,
/// since Carbonio verifies them only through its own LDAP); a value without a
/// scheme is a clear password, hashed by Carbonio.
fn password_of(
    entry: &LdapEntry,
    map: &AttributeMap,
    notes: &mut Vec<String>,
) -> Result<Password, String> {
    let mut hashes = Vec::new();
    let mut clear = None;
    for name in map.sources(PASSWORD) {
        for value in entry.values(name) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.starts_with('{') {
                let hash = PasswordHash::parse(value).map_err(|e| format!("{name}: {e}"))?;
                hashes.push(hash);
            } else if clear.is_none() {
                clear = Some(Secret::new(value));
            }
        }
    }
    let rank = |h: &PasswordHash| match h.scheme().as_str() {
        "SSHA512" => 0,
        "SSHA" => 1,
        _ => 2,
    };
    hashes.sort_by_key(rank);
    if let Some(hash) = hashes.into_iter().next() {
        if rank(&hash) == 2 {
            notes.push(format!(
                "password hash scheme {{{}}} is kept, but Carbonio verifies only {{SSHA512}} and {{SSHA}} itself; other schemes work only if its LDAP server supports them",
                hash.scheme()
            ));
        }
        return Ok(Password::Hash(hash));
    }
    Ok(match clear {
        Some(secret) => {
            notes.push("the directory holds a clear password; Carbonio hashes it".into());
            Password::Clear(secret)
        }
        None => Password::None,
    })
}

/// A DN in a form two spellings of the same DN share: RDNs trimmed around `,`
/// and `=`, lowercased. (Good enough for the case-insensitive naming attributes
/// directories use for people and groups.)
pub fn normalize_dn(dn: &str) -> String {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' || c == ';' {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
        .iter()
        .map(|rdn| {
            rdn.split('+')
                .map(|ava| match ava.split_once('=') {
                    Some((t, v)) => format!("{}={}", t.trim(), v.trim()),
                    None => ava.trim().to_string(),
                })
                .collect::<Vec<_>>()
                .join("+")
                .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A `uniqueMember` value without its optional `#'0101'B` unique identifier.
pub fn member_dn(value: &str) -> &str {
    match value.rfind('#') {
        Some(i) if value[i..].ends_with("'B") && !value[..i].ends_with('\\') => &value[..i],
        _ => value,
    }
}

/// The error of an entry that cannot become an object: `<url> <dn>: message`.
pub fn entry_error(url: &str, dn: &str, message: impl Into<String>) -> Error {
    Error::input(format!("{url} {dn}"), None, message)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::adapters::ldap::profile::Profile;

    fn entry(dn: &str, attrs: &[(&str, &[&str])]) -> LdapEntry {
        LdapEntry::new(
            dn,
            attrs.iter().map(|(k, vs)| {
                (
                    k.to_string(),
                    vs.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                )
            }),
        )
    }

    fn account(e: &LdapEntry, profile: Profile, disabled: DisabledAccounts) -> Account {
        let map = AttributeMap::new(profile, &BTreeMap::new()).unwrap();
        match account_from_entry(
            e,
            &AccountRules {
                map: &map,
                disabled,
            },
        )
        .unwrap()
        {
            AccountOutcome::Account(a, _) => *a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn proxy_addresses_give_aliases_and_a_primary_cross_check() {
        let e = entry(
            "CN=Pia,CN=Users,DC=corp,DC=example,DC=com",
            &[
                ("MAIL", &["pia@corp.example.com"]),
                (
                    "proxyAddresses",
                    &[
                        "SMTP:pia.primary@corp.example.com",
                        "smtp:Pia@corp.example.com",
                        "smtp:p@old.example.com",
                        "X500:/o=Corp/cn=pia",
                        "sip:pia@corp.example.com",
                    ],
                ),
                ("sAMAccountName", &["pia"]),
                ("userAccountControl", &["512"]),
            ],
        );
        let map = AttributeMap::new(Profile::Ad, &BTreeMap::new()).unwrap();
        let rules = AccountRules {
            map: &map,
            disabled: DisabledAccounts::Skip,
        };
        let AccountOutcome::Account(a, notes) = account_from_entry(&e, &rules).unwrap() else {
            panic!()
        };
        assert_eq!(a.address.as_str(), "pia@corp.example.com");
        let aliases: Vec<&str> = a.aliases.iter().map(EmailAddress::as_str).collect();
        assert_eq!(
            aliases,
            ["pia.primary@corp.example.com", "p@old.example.com"]
        );
        assert_eq!(a.source_user.as_deref(), Some("pia"));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("pia.primary@corp.example.com as the primary SMTP address"));
    }

    #[test]
    fn disabled_accounts_are_skipped_or_locked() {
        let e = entry(
            "cn=d",
            &[("mail", &["d@x.org"]), ("userAccountControl", &["514"])],
        );
        let map = AttributeMap::new(Profile::Ad, &BTreeMap::new()).unwrap();
        let skip = AccountRules {
            map: &map,
            disabled: DisabledAccounts::Skip,
        };
        assert!(matches!(
            account_from_entry(&e, &skip).unwrap(),
            AccountOutcome::SkippedDisabled
        ));
        let locked = account(&e, Profile::Ad, DisabledAccounts::Locked);
        assert_eq!(locked.attributes["zimbraAccountStatus"], "locked");
        let bad = entry("cn=d", &[("userAccountControl", &["many"])]);
        assert_eq!(
            account_from_entry(&bad, &skip).unwrap_err(),
            "userAccountControl \"many\" is not a number"
        );
    }

    #[test]
    fn ad_address_falls_back_to_the_upn_and_errors_name_the_attribute() {
        let e = entry(
            "cn=b",
            &[("userPrincipalName", &["Bruno@Corp.example.com"])],
        );
        assert_eq!(
            account(&e, Profile::Ad, DisabledAccounts::Skip)
                .address
                .as_str(),
            "bruno@corp.example.com"
        );
        let map = AttributeMap::new(Profile::Ad, &BTreeMap::new()).unwrap();
        assert_eq!(
            address_of(&entry("cn=n", &[]), &map).unwrap_err(),
            "no mail or userPrincipalName attribute, so no address"
        );
        assert_eq!(
            address_of(&entry("cn=n", &[("mail", &["nope"])]), &map).unwrap_err(),
            "mail: invalid e-mail address \"nope\": it has no '@'"
        );
    }

    #[test]
    fn password_hashes_are_kept_preferring_ssha512() {
        let e = entry(
            "uid=a",
            &[
                ("mail", &["a@x.org"]),
                (
                    "userPassword",
                    &["{CRYPT}$6$abc$def", "{SSHA}aaaa", "{SSHA512}bbbb"],
                ),
            ],
        );
        let a = account(&e, Profile::OpenLdap, DisabledAccounts::Skip);
        let Password::Hash(h) = &a.password else {
            panic!()
        };
        assert_eq!(h.expose(), "{SSHA512}bbbb");
        let map = AttributeMap::new(Profile::OpenLdap, &BTreeMap::new()).unwrap();
        let mut notes = Vec::new();
        let crypt = entry("uid=c", &[("userPassword", &["{CRYPT}$6$abc$def"])]);
        assert!(matches!(
            password_of(&crypt, &map, &mut notes).unwrap(),
            Password::Hash(_)
        ));
        assert!(notes[0].starts_with("password hash scheme {CRYPT} is kept"));
        let broken = entry("uid=c", &[("userPassword", &["{SSHA}"])]);
        let err = password_of(&broken, &map, &mut notes).unwrap_err();
        assert!(
            err.starts_with("userPassword: invalid password hash \"***\""),
            "{err}"
        );
        let clear = entry("uid=c", &[("userPassword", &["hunter2"])]);
        assert!(matches!(
            password_of(&clear, &map, &mut notes).unwrap(),
            Password::Clear(_)
        ));
    }

    #[test]
    fn extra_mappings_become_account_attributes() {
        let overrides = BTreeMap::from([(
            "zimbraPrefPasswordRecoveryAddress".to_string(),
            "otherMailbox".to_string(),
        )]);
        let map = AttributeMap::new(Profile::OpenLdap, &overrides).unwrap();
        let e = entry(
            "uid=a",
            &[("mail", &["a@x.org"]), ("othermailbox", &["a@home.net"])],
        );
        let rules = AccountRules {
            map: &map,
            disabled: DisabledAccounts::Skip,
        };
        let AccountOutcome::Account(a, _) = account_from_entry(&e, &rules).unwrap() else {
            panic!()
        };
        assert_eq!(
            a.attributes["zimbraPrefPasswordRecoveryAddress"],
            "a@home.net"
        );
    }

    #[test]
    fn dns_normalize_and_unique_ids_are_cut() {
        assert_eq!(
            normalize_dn("UID=Bob, OU=People, DC=Example, DC=Org"),
            "uid=bob,ou=people,dc=example,dc=org"
        );
        assert_eq!(normalize_dn("cn=a\\,b,dc=x"), "cn=a\\,b,dc=x");
        assert_eq!(member_dn("uid=a,dc=x#'0101'B"), "uid=a,dc=x");
        assert_eq!(member_dn("cn=a\\#b,dc=x"), "cn=a\\#b,dc=x");
        assert_eq!(
            entry_error("ldap://h", "uid=a,dc=x", "no mail").to_string(),
            "ldap://h uid=a,dc=x: no mail"
        );
    }
}

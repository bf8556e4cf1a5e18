//! The procedure-3 alternative: instead of creating accounts one by one, let
//! Carbonio create them from the directory itself (auto-provisioning) and check
//! passwords against it (external authentication). Both are domain attributes
//! (`zimbraAutoProv*`, `zimbraAuthMech`, `zimbraAuthLdap*`); this module derives
//! them from the same [`LdapConfig`] the `ldap` source reads with.
//!
//! Secrets are never produced: the two bind-password attributes are listed in
//! [`SECRET_ATTRIBUTES`] and rendered as a shell variable the admin sets.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use crate::model::DomainName;

use super::config::LdapConfig;
use super::profile::{
    AttributeMap, Profile, ACCOUNT_CONTROL, ADDRESS, ALIASES, DESCRIPTION, SOURCE_USER,
};

/// `zimbraAutoProvMode`: when Carbonio creates the accounts. In configuration
/// files written as the attribute's values (`"EAGER"`, ...) or in lowercase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AutoProvMode {
    /// A background poller searches the directory and creates every account
    /// the filter selects (needs the server-level polling settings too).
    #[serde(alias = "eager")]
    Eager,
    /// An account is created at its first successful external login.
    #[serde(alias = "lazy")]
    Lazy,
    /// The admin (here: the tool, one `AutoProvAccountRequest` per account)
    /// picks the accounts to create.
    #[serde(alias = "manual")]
    Manual,
}

impl AutoProvMode {
    /// The attribute value (`EAGER`, `LAZY`, `MANUAL`).
    pub fn value(self) -> &'static str {
        match self {
            AutoProvMode::Eager => "EAGER",
            AutoProvMode::Lazy => "LAZY",
            AutoProvMode::Manual => "MANUAL",
        }
    }
}

/// Attributes holding the bind password. Never in [`domain_attributes`]'s
/// result; [`prov_commands`] writes them with a shell variable instead.
pub const SECRET_ATTRIBUTES: [&str; 2] = [
    "zimbraAutoProvLdapAdminBindPassword",
    "zimbraAuthLdapSearchBindPassword",
];

/// The attributes of [`domain_attributes`] that are multi-valued in Carbonio's
/// schema; the others hold one value.
pub const MULTI_VALUED_ATTRIBUTES: [&str; 3] = [
    "zimbraAutoProvMode",
    "zimbraAutoProvAuthMech",
    "zimbraAutoProvAttrMap",
];

/// The variable [`prov_commands`] uses for the bind password when the
/// configuration has no `password_env`.
pub const DEFAULT_PASSWORD_VARIABLE: &str = "LDAP_BIND_PASSWORD";

/// The domain attributes (name → values, multi-valued ones with several) that
/// configure auto-provisioning in `modes` (in the order given) and external
/// authentication against the directory of `config`, without the bind password.
///
/// - The LDAP URL, StartTLS flag, bind DN and search base are the source's.
/// - The search filter is the source's user filter when `EAGER` is the only
///   mode; otherwise, and for authentication, it is narrowed to the login with
///   `%n` (the address typed at login, or given to `AutoProvAccountRequest`)
///   matched against the address attributes. The `EAGER` poller fills `%n`
///   with `*`, so the narrowed filter serves it too.
/// - `zimbraAutoProvAccountNameMap` is the attribute giving the account name:
///   the mapped `source_user` (`sAMAccountName` for AD), else `uid`.
/// - `zimbraAutoProvAttrMap` maps names, password hashes (OpenLDAP: users keep
///   their password) and extra attributes of the attribute map; aliases and
///   Active Directory flags are not mappable this way.
/// - `zimbraAuthMech` is `ad` for the AD profile, `ldap` otherwise.
pub fn domain_attributes(
    config: &LdapConfig,
    modes: &[AutoProvMode],
) -> BTreeMap<String, Vec<String>> {
    // A map the source would refuse still gives the profile's defaults here.
    let map = AttributeMap::new(config.profile, &config.attribute_map)
        .or_else(|_| AttributeMap::new(config.profile, &BTreeMap::new()));
    let mut attrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut set = |name: &str, values: Vec<String>| {
        attrs.insert(name.to_string(), values);
    };
    let user_filter = config.user_filter();
    let login_filter = match &map {
        Ok(map) => login_filter(user_filter, map.sources(ADDRESS)),
        Err(_) => login_filter(user_filter, &["mail".to_string()]),
    };
    let starttls = if config.starttls { "TRUE" } else { "FALSE" };

    set(
        "zimbraAutoProvMode",
        modes.iter().map(|m| m.value().to_string()).collect(),
    );
    if modes.contains(&AutoProvMode::Lazy) {
        set("zimbraAutoProvAuthMech", vec!["LDAP".into()]);
    }
    set("zimbraAutoProvLdapURL", vec![config.url.clone()]);
    set("zimbraAutoProvLdapStartTlsEnabled", vec![starttls.into()]);
    set(
        "zimbraAutoProvLdapAdminBindDn",
        vec![config.bind_dn.clone()],
    );
    set("zimbraAutoProvLdapSearchBase", vec![config.base_dn.clone()]);
    let search_filter = if modes == [AutoProvMode::Eager] {
        user_filter.to_string()
    } else {
        login_filter.clone()
    };
    set("zimbraAutoProvLdapSearchFilter", vec![search_filter]);
    let name_attribute = map
        .as_ref()
        .ok()
        .and_then(|m| m.sources(SOURCE_USER).first().cloned())
        .unwrap_or_else(|| "uid".into());
    set("zimbraAutoProvAccountNameMap", vec![name_attribute]);
    if let Ok(map) = &map {
        let pairs = attr_map_pairs(config.profile, map);
        if !pairs.is_empty() {
            set("zimbraAutoProvAttrMap", pairs);
        }
    }

    let mech = match config.profile {
        Profile::Ad => "ad",
        Profile::OpenLdap => "ldap",
    };
    set("zimbraAuthMech", vec![mech.into()]);
    set("zimbraAuthLdapURL", vec![config.url.clone()]);
    set("zimbraAuthLdapStartTlsEnabled", vec![starttls.into()]);
    set("zimbraAuthLdapSearchBase", vec![config.base_dn.clone()]);
    set("zimbraAuthLdapSearchFilter", vec![login_filter]);
    set("zimbraAuthLdapSearchBindDn", vec![config.bind_dn.clone()]);
    attrs
}

/// `(&<user filter>(mail=%n))`, or with several address attributes
/// `(&<user filter>(|(mail=%n)(userPrincipalName=%n)))`.
fn login_filter(user_filter: &str, address_attributes: &[String]) -> String {
    let matches: Vec<String> = address_attributes
        .iter()
        .map(|a| format!("({a}=%n)"))
        .collect();
    let login = match matches.as_slice() {
        [one] => one.clone(),
        many => format!("(|{})", many.concat()),
    };
    format!("(&{user_filter}{login})")
}

/// `external=carbonio` pairs for every mapped Carbonio attribute.
fn attr_map_pairs(profile: Profile, map: &AttributeMap) -> Vec<String> {
    let not_mappable = [ADDRESS, ALIASES, SOURCE_USER, ACCOUNT_CONTROL, DESCRIPTION];
    let mut keys: Vec<&str> = ["givenName", "sn", "displayName", "userPassword"]
        .into_iter()
        .chain(map.extra_keys())
        .filter(|k| !not_mappable.contains(k))
        .collect();
    if profile == Profile::Ad {
        // Active Directory never returns password hashes.
        keys.retain(|k| *k != "userPassword");
    }
    keys.into_iter()
        .filter_map(|key| {
            map.sources(key)
                .first()
                .map(|external| format!("{external}={key}"))
        })
        .collect()
}

/// The attributes as `carbonio prov md` commands for `domain`, one attribute a
/// line (a multi-valued one repeats its name on its line, which sets exactly
/// those values, so running the lines twice changes nothing), then the two
/// bind-password attributes as `"$VARIABLE"` (the configuration's
/// `password_env`, else [`DEFAULT_PASSWORD_VARIABLE`]) for the admin to set
/// before running them; for `EAGER` mode also the server-level polling line.
/// Run as the `zextras` user; values are single-quoted for the shell.
pub fn prov_commands(
    domain: &DomainName,
    attributes: &BTreeMap<String, Vec<String>>,
    config: &LdapConfig,
) -> String {
    let variable = config
        .password_env
        .as_deref()
        .unwrap_or(DEFAULT_PASSWORD_VARIABLE);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Auto-provisioning and external authentication for {domain} (run as zextras)."
    );
    let _ = writeln!(
        out,
        "# The bind password is not written here: set {variable} to it first."
    );
    for (name, values) in attributes {
        let _ = write!(out, "carbonio prov md {}", shell_quote(domain.as_str()));
        for value in values {
            let _ = write!(out, " {name} {}", shell_quote(value));
        }
        out.push('\n');
    }
    let auto_prov = attributes.contains_key("zimbraAutoProvLdapURL");
    let auth = attributes.contains_key("zimbraAuthLdapURL");
    for (secret, wanted) in SECRET_ATTRIBUTES.iter().zip([auto_prov, auth]) {
        if wanted {
            let _ = writeln!(
                out,
                "carbonio prov md {} {secret} \"${variable}\"",
                shell_quote(domain.as_str())
            );
        }
    }
    let eager = attributes
        .get("zimbraAutoProvMode")
        .is_some_and(|m| m.iter().any(|v| v == "EAGER"));
    if eager {
        let _ = writeln!(
            out,
            "carbonio prov ms \"$(zmhostname)\" zimbraAutoProvPollingInterval 15m +zimbraAutoProvScheduledDomains {}",
            shell_quote(domain.as_str())
        );
    }
    out
}

/// Single quotes for a POSIX shell; plain words stay bare.
fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ad() -> LdapConfig {
        let mut c = LdapConfig::new(
            "ldap://dc1.corp.example.org:3268",
            "CN=svc-prov,CN=Users,DC=corp,DC=example,DC=org",
            "DC=corp,DC=example,DC=org",
            Profile::Ad,
        );
        c.user_filter = Some("(&(objectClass=user)(mail=*))".into());
        c.password_env = Some("AD_BIND_PW".into());
        c
    }

    #[test]
    fn ad_eager_attributes() {
        let attrs = domain_attributes(&ad(), &[AutoProvMode::Eager]);
        let one = |k: &str| attrs[k].join("|");
        assert_eq!(one("zimbraAutoProvMode"), "EAGER");
        assert!(!attrs.contains_key("zimbraAutoProvAuthMech"));
        assert_eq!(
            one("zimbraAutoProvLdapURL"),
            "ldap://dc1.corp.example.org:3268"
        );
        assert_eq!(
            one("zimbraAutoProvLdapAdminBindDn"),
            "CN=svc-prov,CN=Users,DC=corp,DC=example,DC=org"
        );
        assert_eq!(
            one("zimbraAutoProvLdapSearchBase"),
            "DC=corp,DC=example,DC=org"
        );
        assert_eq!(
            one("zimbraAutoProvLdapSearchFilter"),
            "(&(objectClass=user)(mail=*))"
        );
        assert_eq!(one("zimbraAutoProvAccountNameMap"), "sAMAccountName");
        assert_eq!(
            one("zimbraAutoProvAttrMap"),
            "givenName=givenName|sn=sn|displayName=displayName"
        );
        assert_eq!(one("zimbraAuthMech"), "ad");
        assert_eq!(one("zimbraAuthLdapURL"), "ldap://dc1.corp.example.org:3268");
        assert_eq!(
            one("zimbraAuthLdapSearchFilter"),
            "(&(&(objectClass=user)(mail=*))(|(mail=%n)(userPrincipalName=%n)))"
        );
        assert_eq!(
            one("zimbraAuthLdapSearchBindDn"),
            "CN=svc-prov,CN=Users,DC=corp,DC=example,DC=org"
        );
        for secret in SECRET_ATTRIBUTES {
            assert!(!attrs.contains_key(secret));
        }
    }

    #[test]
    fn openldap_lazy_maps_password_hashes_and_extras() {
        let mut c = LdapConfig::new(
            "ldaps://ldap.example.org",
            "cn=reader,dc=example,dc=org",
            "ou=people,dc=example,dc=org",
            Profile::OpenLdap,
        );
        c.starttls = false;
        c.attribute_map.insert("source_user".into(), "uid".into());
        c.attribute_map.insert(
            "zimbraPrefPasswordRecoveryAddress".into(),
            "otherMailbox".into(),
        );
        let attrs = domain_attributes(&c, &[AutoProvMode::Lazy, AutoProvMode::Manual]);
        assert_eq!(attrs["zimbraAutoProvMode"], ["LAZY", "MANUAL"]);
        assert_eq!(attrs["zimbraAutoProvAuthMech"], ["LDAP"]);
        assert_eq!(
            attrs["zimbraAutoProvLdapSearchFilter"],
            ["(&(objectClass=inetOrgPerson)(mail=%n))"]
        );
        assert_eq!(attrs["zimbraAutoProvAccountNameMap"], ["uid"]);
        assert_eq!(
            attrs["zimbraAutoProvAttrMap"],
            [
                "givenName=givenName",
                "sn=sn",
                "displayName=displayName",
                "userPassword=userPassword",
                "otherMailbox=zimbraPrefPasswordRecoveryAddress"
            ]
        );
        assert_eq!(attrs["zimbraAuthMech"], ["ldap"]);
        assert_eq!(attrs["zimbraAutoProvLdapStartTlsEnabled"], ["FALSE"]);
    }

    #[test]
    fn commands_quote_values_and_never_hold_the_password() {
        let config = ad();
        let attrs = domain_attributes(&config, &[AutoProvMode::Eager]);
        let domain = DomainName::parse("corp.example.org").unwrap();
        let text = prov_commands(&domain, &attrs, &config);
        assert!(text.contains(
            "carbonio prov md corp.example.org zimbraAutoProvLdapAdminBindDn CN=svc-prov,CN=Users,DC=corp,DC=example,DC=org\n"
        ));
        assert!(text.contains(
            "carbonio prov md corp.example.org zimbraAutoProvAttrMap givenName=givenName zimbraAutoProvAttrMap sn=sn zimbraAutoProvAttrMap displayName=displayName\n"
        ));
        assert!(text.contains(
            "carbonio prov md corp.example.org zimbraAutoProvLdapSearchFilter '(&(objectClass=user)(mail=*))'\n"
        ));
        assert!(text.contains(
            "carbonio prov md corp.example.org zimbraAutoProvLdapAdminBindPassword \"$AD_BIND_PW\"\n"
        ));
        assert!(text.contains(
            "carbonio prov md corp.example.org zimbraAuthLdapSearchBindPassword \"$AD_BIND_PW\"\n"
        ));
        assert!(text.contains("set AD_BIND_PW to it first"));
        assert!(text.ends_with(
            "carbonio prov ms \"$(zmhostname)\" zimbraAutoProvPollingInterval 15m +zimbraAutoProvScheduledDomains corp.example.org\n"
        ));
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}

//! `[provisioning]` keys of the `ldap` adapter.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::auto_provisioning::AutoProvMode;
use super::profile::Profile;

/// How the accounts read from the directory come to exist in Carbonio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountsMode {
    /// The tool creates each account with its attributes and password hash.
    #[default]
    Create,
    /// Carbonio creates them from the directory (procedure 3's alternative):
    /// each domain carries the `zimbraAutoProv*` and `zimbraAuthLdap*`
    /// attributes (with the bind password, as secrets), and with `MANUAL`
    /// among `auto_provisioning_modes` the tool asks for each account with
    /// `AutoProvAccountRequest`. Without `MANUAL` no account is listed:
    /// Carbonio creates them itself (`EAGER` poller, `LAZY` first login).
    AutoProvisioning,
}

/// What to do with an account the directory marks disabled (Active Directory
/// `userAccountControl` bit 0x2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledAccounts {
    /// Leave it out: no account, and not a member of any list.
    #[default]
    Skip,
    /// Create it with `zimbraAccountStatus locked`, so its mail is migrated but
    /// nobody can log in until an admin unlocks it.
    Locked,
}

/// The configuration of an `ldap` provisioning source. Read from the
/// `[provisioning]` (or `[source]`) table, which also holds `type = "ldap"`.
///
/// The bind password is never here: `password_env` or `password_file` names it,
/// and [`crate::config::secret_from`] reads it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldap://host[:port]` (plain, or StartTLS with `starttls = true`) or
    /// `ldaps://host[:port]` (implicit TLS). The host is checked against the
    /// server certificate.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding; refused
    /// with `ldaps://`, which is TLS already.
    #[serde(default)]
    pub starttls: bool,
    /// The DN to bind with (simple bind). Active Directory also accepts a UPN
    /// (`svc@corp.example.org`) here.
    pub bind_dn: String,
    /// Environment variable holding the bind password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the bind password (its first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Where users and groups are searched (subtree).
    pub base_dn: String,
    /// Which directory shape: `ad` or `openldap`.
    pub profile: Profile,
    /// LDAP filter selecting the accounts; the profile's when absent.
    #[serde(default)]
    pub user_filter: Option<String>,
    /// LDAP filter selecting the groups that become distribution lists; the
    /// profile's when absent.
    #[serde(default)]
    pub group_filter: Option<String>,
    /// Overrides of the profile's attribute map: Carbonio attribute (or
    /// `source_user`) = LDAP attribute. A comma-separated list is tried in
    /// order (`mail = "mail,userPrincipalName"`); an empty string turns a
    /// mapping off. Keys the profile does not know are copied to the account's
    /// attributes (`zimbraPrefPasswordRecoveryAddress = "otherMailbox"`).
    #[serde(default)]
    pub attribute_map: BTreeMap<String, String>,
    /// Accounts disabled in the directory: `skip` (default) or `locked`.
    #[serde(default)]
    pub disabled_accounts: DisabledAccounts,
    /// Trust these CA certificates (PEM) instead of the system roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server certificate. An explicit, logged opt-out.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Entries per page of a paged search (RFC 2696); at most the server's
    /// page limit (1,000 on Active Directory).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// When set, only accounts and lists of these domains are read, and only
    /// these domains are created. Other entries are left out (logged).
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// Seconds to wait for the connection and for each answer of the server.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// `create` (default) or `auto-provisioning`.
    #[serde(default)]
    pub accounts: AccountsMode,
    /// The domain's `zimbraAutoProvMode` values with `accounts =
    /// "auto-provisioning"`: `MANUAL` (default) lets the tool create each
    /// account now; add `EAGER` or `LAZY` for accounts added to the directory later.
    #[serde(default = "default_auto_provisioning_modes")]
    pub auto_provisioning_modes: Vec<AutoProvMode>,
}

fn default_auto_provisioning_modes() -> Vec<AutoProvMode> {
    vec![AutoProvMode::Manual]
}

fn default_page_size() -> u32 {
    500
}

fn default_timeout_secs() -> u64 {
    60
}

impl LdapConfig {
    /// A configuration with the profile's defaults for everything optional.
    pub fn new(
        url: impl Into<String>,
        bind_dn: impl Into<String>,
        base_dn: impl Into<String>,
        profile: Profile,
    ) -> Self {
        LdapConfig {
            url: url.into(),
            starttls: false,
            bind_dn: bind_dn.into(),
            password_env: None,
            password_file: None,
            base_dn: base_dn.into(),
            profile,
            user_filter: None,
            group_filter: None,
            attribute_map: BTreeMap::new(),
            disabled_accounts: DisabledAccounts::default(),
            ca_file: None,
            insecure_skip_verify: false,
            page_size: default_page_size(),
            domains: None,
            timeout_secs: default_timeout_secs(),
            accounts: AccountsMode::default(),
            auto_provisioning_modes: default_auto_provisioning_modes(),
        }
    }

    /// The filter selecting accounts: configured, else the profile's.
    pub fn user_filter(&self) -> &str {
        self.user_filter
            .as_deref()
            .unwrap_or(self.profile.user_filter())
    }

    /// The filter selecting lists: configured, else the profile's.
    pub fn group_filter(&self) -> &str {
        self.group_filter
            .as_deref()
            .unwrap_or(self.profile.group_filter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_keys() {
        let config: LdapConfig = toml::from_str(
            r#"
            url = "ldaps://dc1.corp.example.org:636"
            bind_dn = "CN=svc,CN=Users,DC=corp,DC=example,DC=org"
            password_env = "LDAP_BIND_PASSWORD"
            base_dn = "DC=corp,DC=example,DC=org"
            profile = "ad"
            user_filter = "(&(objectClass=user)(mail=*))"
            attribute_map = { givenName = "givenName", source_user = "uid" }
            disabled_accounts = "locked"
            page_size = 1000
            domains = ["corp.example.org"]
            "#,
        )
        .unwrap();
        assert_eq!(config.profile, Profile::Ad);
        assert_eq!(config.disabled_accounts, DisabledAccounts::Locked);
        assert_eq!(config.user_filter(), "(&(objectClass=user)(mail=*))");
        assert_eq!(config.group_filter(), Profile::Ad.group_filter());
        assert_eq!(config.page_size, 1000);
        assert_eq!(config.attribute_map["source_user"], "uid");
        assert!(!config.starttls);
        assert_eq!(config.accounts, AccountsMode::Create);
    }

    #[test]
    fn reads_the_auto_provisioning_keys() {
        let config: LdapConfig = toml::from_str(
            "url = \"ldap://x\"\nbind_dn = \"a\"\nbase_dn = \"b\"\nprofile = \"openldap\"\n\
             accounts = \"auto-provisioning\"\nauto_provisioning_modes = [\"MANUAL\", \"lazy\"]\n",
        )
        .unwrap();
        assert_eq!(config.accounts, AccountsMode::AutoProvisioning);
        assert_eq!(
            config.auto_provisioning_modes,
            [AutoProvMode::Manual, AutoProvMode::Lazy]
        );
        let err = toml::from_str::<LdapConfig>(
            "url = \"ldap://x\"\nbind_dn = \"a\"\nbase_dn = \"b\"\nprofile = \"ad\"\naccounts = \"import\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("unknown variant `import`, expected `create` or `auto-provisioning`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_profiles_are_refused() {
        let err = toml::from_str::<LdapConfig>(
            "url = \"ldap://x\"\nbind_dn = \"a\"\nbase_dn = \"b\"\nprofile = \"novell\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown variant `novell`"), "{err}");
        let err = toml::from_str::<LdapConfig>(
            "url = \"ldap://x\"\nbind_dn = \"a\"\nbase_dn = \"b\"\nprofile = \"ad\"\npassword = \"x\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `password`"), "{err}");
    }
}

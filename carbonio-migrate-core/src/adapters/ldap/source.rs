//! [`LdapSource`]: the [`Source`] over an LDAP directory or Active Directory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;

use crate::capability::{Capabilities, Capability};
use crate::error::{Error, Result};
use crate::model::{Account, Creation, DistributionList, Domain, DomainName, EmailAddress, Secret};
use crate::source::{ResultStream, Source};

use super::auto_provisioning::{
    domain_attributes, AutoProvMode, MULTI_VALUED_ATTRIBUTES, SECRET_ATTRIBUTES,
};
use super::config::{AccountsMode, LdapConfig};
use super::connection::Connection;
use super::entries::{
    account_from_entry, address_of, entry_error, list_from_entry, member_dn, normalize_dn,
    AccountOutcome, AccountRules, LdapEntry,
};
use super::profile::AttributeMap;

/// The adapter's registered name.
const KIND: &str = "ldap";

/// Reads accounts, distribution lists and their domains from an LDAP directory
/// (OpenLDAP profile) or an Active Directory (AD profile). See the module
/// documentation for the rules.
///
/// Each stream opens its own connection, binds, and reads with paged searches,
/// so directories larger than the server's size limit are read entirely. The
/// directory is only searched, never modified.
#[derive(Debug)]
pub struct LdapSource {
    config: LdapConfig,
    password: Secret,
    map: AttributeMap,
    domains: Option<Vec<DomainName>>,
}

impl LdapSource {
    /// A source over `config`, binding with `bind_password` (read by the caller
    /// from `password_env` / `password_file`, see [`crate::config::secret_from`]).
    /// Nothing is contacted yet: [`LdapSource::check_connection`] does.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL that is not `ldap://` or `ldaps://`, StartTLS
    /// on `ldaps://`, a page size of 0, an invalid domain in `domains`, or a bad
    /// attribute map.
    pub fn new(config: LdapConfig, bind_password: Secret) -> Result<Self> {
        let scheme = config
            .url
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        match scheme.as_str() {
            "ldap" => {}
            "ldaps" if config.starttls => {
                return Err(Error::config(format!(
                    "[provisioning] url {} is ldaps:// (TLS already): starttls = true needs an ldap:// url",
                    config.url
                )))
            }
            "ldaps" => {}
            _ => {
                return Err(Error::config(format!(
                    "[provisioning] url {:?} must start with ldap:// or ldaps://",
                    config.url
                )))
            }
        }
        if config.accounts == AccountsMode::AutoProvisioning
            && config.auto_provisioning_modes.is_empty()
        {
            return Err(Error::config(
                "[provisioning] auto_provisioning_modes must name at least one of MANUAL, EAGER, LAZY",
            ));
        }
        if config.page_size == 0 {
            return Err(Error::config("[provisioning] page_size must be at least 1"));
        }
        let domains = match &config.domains {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        DomainName::parse(n)
                            .map_err(|e| Error::config(format!("[provisioning] domains: {e}")))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        let map = AttributeMap::new(config.profile, &config.attribute_map)?;
        Ok(LdapSource {
            config,
            password: bind_password,
            map,
            domains,
        })
    }

    /// The configuration this source reads with.
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// Connects and binds once, to report a wrong URL, certificate or password
    /// before anything runs.
    ///
    /// # Errors
    /// As the streams: [`Error::Auth`], [`Error::Config`], [`Error::Network`].
    pub async fn check_connection(&self) -> Result<()> {
        self.connect().await.map(drop)
    }

    async fn connect(&self) -> Result<Connection> {
        Connection::open(&self.config, &self.password).await
    }

    fn keeps(&self, domain: &DomainName) -> bool {
        self.domains
            .as_ref()
            .is_none_or(|kept| kept.contains(domain))
    }

    fn rules(&self) -> AccountRules<'_> {
        AccountRules {
            map: &self.map,
            disabled: self.config.disabled_accounts,
        }
    }

    fn auto_provisioning(&self) -> bool {
        self.config.accounts == AccountsMode::AutoProvisioning
    }

    /// The domain `name` as the destination should have it: with `accounts =
    /// "auto-provisioning"`, carrying the auto-provisioning and external
    /// authentication attributes and, as secrets, the bind password for both.
    fn domain(&self, name: DomainName) -> Domain {
        let mut domain = Domain::new(name);
        if !self.auto_provisioning() {
            return domain;
        }
        let modes = &self.config.auto_provisioning_modes;
        for (attribute, values) in domain_attributes(&self.config, modes) {
            if MULTI_VALUED_ATTRIBUTES.contains(&attribute.as_str()) {
                domain.multi_attributes.insert(attribute, values);
            } else if let Some(value) = values.into_iter().next() {
                domain.attributes.insert(attribute, value);
            }
        }
        for attribute in SECRET_ATTRIBUTES {
            domain
                .secret_attributes
                .insert(attribute.to_string(), self.password.clone());
        }
        domain
    }

    /// The entries the user filter selects, with the mapped attributes.
    async fn user_entries(
        &self,
        conn: &Connection,
    ) -> Result<futures::stream::BoxStream<'static, Result<LdapEntry>>> {
        conn.paged_search(
            &self.config.base_dn,
            self.config.user_filter(),
            self.map.all_sources(),
            self.config.page_size,
        )
        .await
    }

    /// Every account of the directory, whatever `accounts` says.
    async fn directory_accounts(&self) -> Result<ResultStream<'_, Account>> {
        let conn = self.connect().await?;
        let entries = self.user_entries(&conn).await?;
        let mut seen: HashMap<EmailAddress, String> = HashMap::new();
        Ok(entries
            .filter_map(move |item| {
                let out = match item {
                    Err(e) => Some(Err(e)),
                    Ok(entry) => self.account(&entry, &mut seen),
                };
                futures::future::ready(out)
            })
            .boxed())
    }

    /// The attributes read for accounts and lists, with the members' too.
    fn list_attributes(&self) -> Vec<String> {
        let mut attrs = self.map.all_sources();
        attrs.push("cn".into());
        attrs.extend(
            self.config
                .profile
                .member_attributes()
                .iter()
                .map(|a| a.to_string()),
        );
        attrs
    }

    /// The account an entry becomes, `None` when it is left out (disabled and
    /// skipped, or of a domain not kept), or the entry's error.
    fn account(
        &self,
        entry: &LdapEntry,
        seen: &mut HashMap<EmailAddress, String>,
    ) -> Option<Result<Account>> {
        let url = &self.config.url;
        match account_from_entry(entry, &self.rules()) {
            Err(message) => Some(Err(entry_error(url, &entry.dn, message))),
            Ok(AccountOutcome::SkippedDisabled) => {
                tracing::info!(dn = %entry.dn, "disabled in the directory: not migrated (disabled_accounts = \"skip\")");
                None
            }
            Ok(AccountOutcome::Account(account, notes)) => {
                let mut account = *account;
                if !self.keeps(&account.address.domain()) {
                    tracing::debug!(dn = %entry.dn, "{} is not in a kept domain: left out", account.address);
                    return None;
                }
                if let Some(first) = seen.get(&account.address) {
                    return Some(Err(entry_error(
                        url,
                        &entry.dn,
                        format!(
                            "duplicate address {}, first used by {first}",
                            account.address
                        ),
                    )));
                }
                seen.insert(account.address.clone(), entry.dn.clone());
                for note in notes {
                    tracing::warn!(dn = %entry.dn, "{note}");
                }
                account.aliases.retain(|alias| {
                    let kept = self.keeps(&alias.domain());
                    if !kept {
                        tracing::warn!(dn = %entry.dn, "alias {alias} is not in a kept domain: left out");
                    }
                    kept
                });
                Some(Ok(account))
            }
        }
    }

    /// Reads every account entry and every group once, to resolve and expand
    /// the members of lists.
    async fn directory_index(&self, conn: &Connection) -> Result<DirectoryIndex> {
        let mut people = HashMap::new();
        let mut entries = self.user_entries(conn).await?;
        let rules = self.rules();
        while let Some(entry) = entries.next().await {
            let entry = entry?;
            let address = match account_from_entry(&entry, &rules) {
                Ok(AccountOutcome::Account(account, _)) => Member::Address(account.address),
                Ok(AccountOutcome::SkippedDisabled) => Member::Skipped("it is disabled"),
                Err(_) => Member::Skipped("it is not a valid account"),
            };
            people.insert(normalize_dn(&entry.dn), address);
        }
        let mut groups = HashMap::new();
        let member_attributes = self.config.profile.member_attributes();
        let mut entries = conn
            .paged_search(
                &self.config.base_dn,
                self.config.profile.nesting_filter(),
                member_attributes.iter().map(|a| a.to_string()).collect(),
                self.config.page_size,
            )
            .await?;
        while let Some(entry) = entries.next().await {
            let entry = entry?;
            groups.insert(
                normalize_dn(&entry.dn),
                members_of(&entry, member_attributes),
            );
        }
        Ok(DirectoryIndex {
            people,
            groups,
            others: Mutex::new(HashMap::new()),
        })
    }

    /// The leaf addresses of a list: people resolved to their address, nested
    /// groups expanded (each once, so cycles end), other entries (contacts,
    /// external recipients) read for their address. Members that have none are
    /// left out with a warning naming them.
    async fn expand(
        &self,
        conn: &Connection,
        index: &DirectoryIndex,
        list: &DistributionList,
        entry: &LdapEntry,
    ) -> Result<Vec<EmailAddress>> {
        let member_attributes = self.config.profile.member_attributes();
        let mut visited: HashSet<String> = HashSet::from([normalize_dn(&entry.dn)]);
        // A stack of pending member DNs, reversed so members come in directory order.
        let mut pending: Vec<String> = members_of(entry, member_attributes);
        pending.reverse();
        let mut members: Vec<EmailAddress> = Vec::new();
        while let Some(dn) = pending.pop() {
            let key = normalize_dn(&dn);
            let member = if let Some(member) = index.people.get(&key) {
                member.clone()
            } else if let Some(nested) = index.groups.get(&key) {
                if visited.insert(key) {
                    pending.extend(nested.iter().rev().cloned());
                }
                continue;
            } else {
                self.other_member(conn, index, &dn, key).await?
            };
            match member {
                Member::Address(address) => {
                    if address != list.address && !members.contains(&address) {
                        members.push(address);
                    }
                }
                Member::Skipped(why) => {
                    tracing::warn!(list = %list.address, member = %dn, "member left out: {why}");
                }
            }
        }
        Ok(members)
    }

    async fn other_member(
        &self,
        conn: &Connection,
        index: &DirectoryIndex,
        dn: &str,
        key: String,
    ) -> Result<Member> {
        if let Some(known) = index.others.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(known);
        }
        let member = match conn.read_entry(dn, self.map.all_sources()).await? {
            None => Member::Skipped("no such entry"),
            Some(entry) => match address_of(&entry, &self.map) {
                Ok(address) => Member::Address(address),
                Err(_) => Member::Skipped("it has no valid address"),
            },
        };
        if let Ok(mut others) = index.others.lock() {
            others.insert(key, member.clone());
        }
        Ok(member)
    }
}

/// What a member DN resolves to.
#[derive(Clone, Debug)]
enum Member {
    Address(EmailAddress),
    Skipped(&'static str),
}

/// Every account entry and group by normalized DN, for member expansion. The
/// one place the source holds the whole directory: DNs and addresses only.
#[derive(Debug)]
struct DirectoryIndex {
    people: HashMap<String, Member>,
    groups: HashMap<String, Vec<String>>,
    /// Other entries read while expanding (contacts, external recipients).
    others: Mutex<HashMap<String, Member>>,
}

fn members_of(entry: &LdapEntry, attributes: &[&str]) -> Vec<String> {
    attributes
        .iter()
        .flat_map(|a| entry.values(a))
        .map(|v| member_dn(v.trim()).to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[async_trait]
impl Source for LdapSource {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn location(&self) -> String {
        format!("ldap {} {}", self.config.url, self.config.base_dn)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Domains,
            Capability::Accounts,
            Capability::DistributionLists,
        ])
    }

    /// The configured `domains`, else every domain of an account address, an
    /// alias or a list address (list aliases too), each once in first-seen order.
    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        if let Some(kept) = &self.domains {
            let domains: Vec<Result<Domain>> =
                kept.iter().cloned().map(|d| Ok(self.domain(d))).collect();
            return Ok(futures::stream::iter(domains).boxed());
        }
        let mut found: Vec<DomainName> = Vec::new();
        let mut note = |address: &EmailAddress| {
            let domain = address.domain();
            if !found.contains(&domain) {
                found.push(domain);
            }
        };
        let mut accounts = self.directory_accounts().await?;
        while let Some(account) = accounts.next().await {
            // A bad entry is reported by `accounts`; a failed search is not.
            let account = match account {
                Ok(account) => account,
                Err(Error::Input { .. }) => continue,
                Err(e) => return Err(e),
            };
            note(&account.address);
            account.aliases.iter().for_each(&mut note);
        }
        let conn = self.connect().await?;
        let mut groups = conn
            .paged_search(
                &self.config.base_dn,
                self.config.group_filter(),
                self.map.all_sources(),
                self.config.page_size,
            )
            .await?;
        while let Some(entry) = groups.next().await {
            if let Ok(list) = list_from_entry(&entry?, &self.map) {
                note(&list.address);
                list.aliases.iter().for_each(&mut note);
            }
        }
        let domains: Vec<Result<Domain>> = found.into_iter().map(|d| Ok(self.domain(d))).collect();
        Ok(futures::stream::iter(domains).boxed())
    }

    /// With `accounts = "auto-provisioning"`, every account is marked
    /// [`Creation::AutoProvisioning`] when `MANUAL` is among the modes, and
    /// none is listed otherwise (Carbonio creates them on its own schedule).
    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        if !self.auto_provisioning() {
            return self.directory_accounts().await;
        }
        if !self
            .config
            .auto_provisioning_modes
            .contains(&AutoProvMode::Manual)
        {
            tracing::info!(
                "auto_provisioning_modes without MANUAL: Carbonio creates the accounts itself, none is listed"
            );
            return Ok(futures::stream::empty().boxed());
        }
        let accounts = self.directory_accounts().await?;
        Ok(accounts
            .map(|account| {
                account.map(|mut account| {
                    account.creation = Creation::AutoProvisioning;
                    account
                })
            })
            .boxed())
    }

    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        let conn = self.connect().await?;
        let index = Arc::new(self.directory_index(&conn).await?);
        let entries = conn
            .paged_search(
                &self.config.base_dn,
                self.config.group_filter(),
                self.list_attributes(),
                self.config.page_size,
            )
            .await?;
        let url = self.config.url.clone();
        let mut seen: HashMap<EmailAddress, String> = HashMap::new();
        Ok(entries
            .then(move |item| {
                let conn = conn.clone();
                let index = Arc::clone(&index);
                let url = url.clone();
                async move {
                    let entry = match item {
                        Ok(entry) => entry,
                        Err(e) => return Some(Err(e)),
                    };
                    let mut list = match list_from_entry(&entry, &self.map) {
                        Ok(list) => list,
                        Err(message) => return Some(Err(entry_error(&url, &entry.dn, message))),
                    };
                    if !self.keeps(&list.address.domain()) {
                        tracing::debug!(dn = %entry.dn, "{} is not in a kept domain: left out", list.address);
                        return None;
                    }
                    match self.expand(&conn, &index, &list, &entry).await {
                        Ok(members) => list.members = members,
                        Err(e) => return Some(Err(e)),
                    }
                    Some(Ok((list, entry.dn)))
                }
            })
            .filter_map(move |item| {
                let out = item.map(|result| {
                    result.and_then(|(list, dn)| {
                        if let Some(first) = seen.get(&list.address) {
                            return Err(entry_error(
                                &self.config.url,
                                &dn,
                                format!("duplicate list address {}, first used by {first}", list.address),
                            ));
                        }
                        seen.insert(list.address.clone(), dn);
                        Ok(list)
                    })
                });
                futures::future::ready(out)
            })
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::ldap::profile::Profile;

    fn config() -> LdapConfig {
        LdapConfig::new(
            "ldap://127.0.0.1:1",
            "cn=reader,dc=example,dc=org",
            "dc=example,dc=org",
            Profile::OpenLdap,
        )
    }

    #[test]
    fn refuses_bad_urls_and_settings_without_contacting_anything() {
        let mut c = config();
        c.url = "http://x".into();
        assert!(LdapSource::new(c, Secret::new("pw"))
            .unwrap_err()
            .to_string()
            .contains("must start with ldap:// or ldaps://"));
        let mut c = config();
        c.url = "ldaps://x".into();
        c.starttls = true;
        assert!(LdapSource::new(c, Secret::new("pw"))
            .unwrap_err()
            .to_string()
            .contains("starttls = true needs an ldap:// url"));
        let mut c = config();
        c.domains = Some(vec!["not a domain".into()]);
        assert!(LdapSource::new(c, Secret::new("pw"))
            .unwrap_err()
            .to_string()
            .starts_with("configuration: [provisioning] domains: invalid domain name"));
    }

    #[test]
    fn kind_location_and_capabilities() {
        let source = LdapSource::new(config(), Secret::new("pw")).unwrap();
        assert_eq!(source.kind(), "ldap");
        assert_eq!(
            source.location(),
            "ldap ldap://127.0.0.1:1 dc=example,dc=org"
        );
        assert!(source.capabilities().has(Capability::DistributionLists));
        assert!(!source.capabilities().has(Capability::Mail));
        assert!(!format!("{source:?}").contains("pw\""));
    }
}

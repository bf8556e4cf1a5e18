//! `AutoProvAccountRequest` (MANUAL auto-provisioning) against a real
//! directory: the emulator searches the LDAP server named by the domain's
//! `zimbraAutoProvLdapURL` with the domain's bind DN, password, search base
//! and filter, names the account by `zimbraAutoProvAccountNameMap` and fills
//! its attributes by `zimbraAutoProvAttrMap`, as `AutoProvisionManual` and
//! `AutoProvision` do in `zextras/carbonio-mailbox`. So a test that passes
//! proves the attributes the tool set would work on a real server.
//!
//! The request is answered in three steps because the directory search is
//! asynchronous and the emulator's state lock must not be held across it:
//! [`Inner::auto_prov_lookup`] reads the domain, [`search`] asks the
//! directory, [`Inner::auto_prov_create`] creates the account.

use std::collections::BTreeMap;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde_json::{json, Value};

use super::admin::{fault, selector, Fault};
use super::state::Inner;

/// What the domain says about its external directory, read under the lock.
#[derive(Clone, Debug)]
pub(crate) struct AutoProvLookup {
    domain: String,
    by_dn: bool,
    principal: String,
    url: String,
    starttls: bool,
    bind_dn: Option<String>,
    bind_password: Option<String>,
    search_base: String,
    search_filter: Option<String>,
    bind_dn_template: Option<String>,
    name_map: Option<String>,
    /// External attribute → Carbonio attribute.
    attr_map: Vec<(String, String)>,
}

/// The attributes of an entry of the external directory.
#[derive(Clone, Debug)]
pub(crate) struct ExternalEntry {
    attrs: BTreeMap<String, Vec<String>>,
}

fn failure(message: impl std::fmt::Display) -> Fault {
    // ServiceException.FAILURE prefixes its message so.
    fault("service.FAILURE", format!("system failure: {message}"))
}

/// `LdapUtil.computeDn`: `%n` the name, `%u` its local part, `%d` its
/// domain, `%D` the domain as `dc=…,dc=…`.
fn fill_template(template: &str, name: &str) -> String {
    let (local, domain) = name.rsplit_once('@').unwrap_or((name, ""));
    let dcs: Vec<String> = domain
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("dc={p}"))
        .collect();
    template
        .replace("%n", name)
        .replace("%u", local)
        .replace("%d", domain)
        .replace("%D", &dcs.join(","))
}

impl Inner {
    /// Step 1: the domain, the MANUAL check and the directory settings.
    pub(crate) fn auto_prov_lookup(&self, request: &Value) -> Result<AutoProvLookup, Fault> {
        let (by, key) = selector(request, "domain")?;
        let domain = match by.as_str() {
            "id" => self.state.domains.values().find(|d| d.id == key),
            _ => self.state.domains.get(&key.to_ascii_lowercase()),
        }
        .ok_or_else(|| fault("account.NO_SUCH_DOMAIN", format!("no such domain: {key}")))?;
        let one = |name: &str| {
            domain
                .attrs
                .get(name)
                .and_then(|v| v.first())
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let modes = domain
            .attrs
            .get("zimbraAutoProvMode")
            .cloned()
            .unwrap_or_default();
        if !modes.iter().any(|m| m == "MANUAL") {
            return Err(failure(format!(
                "MANUAL auto provision is not enabled on domain {}",
                domain.name
            )));
        }
        let (principal_by, principal) = selector(request, "principal")?;
        let by_dn = match principal_by.as_str() {
            "dn" => true,
            "name" => false,
            other => {
                return Err(fault(
                    "service.INVALID_REQUEST",
                    format!("invalid request: unknown principal by: {other}"),
                ))
            }
        };
        let url = one("zimbraAutoProvLdapURL").ok_or_else(|| {
            failure(format!(
                "missing zimbraAutoProvLdapURL on domain {}",
                domain.name
            ))
        })?;
        let mut attr_map = Vec::new();
        for rule in domain
            .attrs
            .get("zimbraAutoProvAttrMap")
            .cloned()
            .unwrap_or_default()
        {
            let parts: Vec<&str> = rule.split('=').collect();
            let [external, zimbra] = parts.as_slice() else {
                return Err(failure(format!(
                    "invalid value in zimbraAutoProvAttrMap: {rule}"
                )));
            };
            attr_map.push((external.to_string(), zimbra.to_string()));
        }
        Ok(AutoProvLookup {
            domain: domain.name.clone(),
            by_dn,
            principal,
            url,
            starttls: one("zimbraAutoProvLdapStartTlsEnabled").as_deref() == Some("TRUE"),
            bind_dn: one("zimbraAutoProvLdapAdminBindDn"),
            bind_password: one("zimbraAutoProvLdapAdminBindPassword"),
            search_base: one("zimbraAutoProvLdapSearchBase").unwrap_or_default(),
            search_filter: one("zimbraAutoProvLdapSearchFilter"),
            bind_dn_template: one("zimbraAutoProvLdapBindDn"),
            name_map: one("zimbraAutoProvAccountNameMap"),
            attr_map,
        })
    }

    /// Step 3: names the account and creates it as `CreateAccountRequest`
    /// would, with the mapped attributes (`userPassword` kept as a hash).
    pub(crate) fn auto_prov_create(
        &mut self,
        lookup: &AutoProvLookup,
        entry: &ExternalEntry,
    ) -> Result<Value, Fault> {
        let name = account_name(lookup, entry)?;
        let mut pairs: Vec<Value> = Vec::new();
        for (external, values) in &entry.attrs {
            let mapped = lookup
                .attr_map
                .iter()
                .find(|(e, _)| e.eq_ignore_ascii_case(external));
            if let Some((_, zimbra)) = mapped {
                for value in values {
                    pairs.push(json!({"n": zimbra, "_content": value}));
                }
            }
        }
        let request = json!({"name": {"_content": name}, "a": pairs});
        self.create_account(&request)
    }
}

/// `AutoProvision.mapName`: the name-map attribute's value (its part before
/// `@` when it names this domain), else the principal's local part.
fn account_name(lookup: &AutoProvLookup, entry: &ExternalEntry) -> Result<String, Fault> {
    let Some(attribute) = &lookup.name_map else {
        if lookup.by_dn {
            return Err(failure(
                "AutoProvision: unable to map account name, must configure zimbraAutoProvAccountNameMap",
            ));
        }
        let local = lookup
            .principal
            .rsplit_once('@')
            .map_or(lookup.principal.as_str(), |(l, _)| l);
        return Ok(format!("{local}@{}", lookup.domain));
    };
    let value = entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
        .and_then(|(_, v)| v.first())
        .ok_or_else(|| {
            let login = if lookup.by_dn {
                "null"
            } else {
                &lookup.principal
            };
            failure(format!("AutoProvision: unable to get localPart: {login}"))
        })?;
    let local = match value.split_once('@') {
        None => value.as_str(),
        Some((local, domain)) if domain.trim() == lookup.domain => local,
        Some(_) => {
            return Err(failure(format!(
                "{value} can not be provisioned for domain {}",
                lookup.domain
            )))
        }
    };
    Ok(format!("{local}@{}", lookup.domain))
}

/// Step 2: binds to the directory with the domain's admin bind DN and finds
/// the principal's entry (by its DN, or with the search filter, else the bind
/// DN template, filled with the name). The emulator trusts any certificate of
/// an `ldaps://` or StartTLS directory: it checks the tool's settings, not TLS.
pub(crate) async fn search(lookup: &AutoProvLookup) -> Result<ExternalEntry, Fault> {
    let unreachable = |e: ldap3::LdapError| {
        failure(format!(
            "unable to search the auto provision directory {}: {e}",
            lookup.url
        ))
    };
    let settings = LdapConnSettings::new()
        .set_conn_timeout(Duration::from_secs(10))
        .set_starttls(lookup.starttls)
        .set_no_tls_verify(true);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &lookup.url)
        .await
        .map_err(unreachable)?;
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    if let Some(dn) = &lookup.bind_dn {
        let password = lookup.bind_password.clone().unwrap_or_default();
        let bound = ldap.simple_bind(dn, &password).await.map_err(unreachable)?;
        if bound.rc != 0 {
            return Err(failure(format!(
                "unable to bind to {} as {dn}: LDAP result {}",
                lookup.url, bound.rc
            )));
        }
    }
    let mut attrs: Vec<String> = lookup.attr_map.iter().map(|(e, _)| e.clone()).collect();
    attrs.extend(lookup.name_map.clone());
    let (base, scope, filter) = if lookup.by_dn {
        (
            lookup.principal.clone(),
            Scope::Base,
            "(objectClass=*)".to_string(),
        )
    } else if let Some(template) = &lookup.search_filter {
        (
            lookup.search_base.clone(),
            Scope::Subtree,
            fill_template(template, &lookup.principal),
        )
    } else if let Some(template) = &lookup.bind_dn_template {
        (
            fill_template(template, &lookup.principal),
            Scope::Base,
            "(objectClass=*)".to_string(),
        )
    } else {
        return Err(failure(
            "One of zimbraAutoProvLdapBindDn or zimbraAutoProvLdapSearchFilter must be set",
        ));
    };
    let found = ldap
        .search(&base, scope, &filter, attrs)
        .await
        .map_err(unreachable)?;
    let _ = ldap.unbind().await;
    // 32 (noSuchObject) for a DN that is not there: no entry, as for a search.
    let entries = match found.success() {
        Ok((entries, _)) => entries,
        Err(ldap3::LdapError::LdapResult { result }) if result.rc == 32 => Vec::new(),
        Err(e) => return Err(unreachable(e)),
    };
    let mut entries = entries.into_iter().map(SearchEntry::construct);
    match (entries.next(), entries.next()) {
        (None, _) => Err(fault(
            "account.NO_SUCH_EXTERNAL_ENTRY",
            format!("no such external entry: {}", lookup.principal),
        )),
        (Some(_), Some(_)) => Err(fault(
            "account.MULTIPLE_ENTRIES_MATCHED",
            format!("multiple entries matched: {filter}"),
        )),
        (Some(entry), None) => Ok(ExternalEntry {
            attrs: entry.attrs.into_iter().collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_like_compute_dn() {
        assert_eq!(
            fill_template(
                "(&(objectClass=inetOrgPerson)(mail=%n))",
                "ada@corp.example.org"
            ),
            "(&(objectClass=inetOrgPerson)(mail=ada@corp.example.org))"
        );
        assert_eq!(
            fill_template("uid=%u,ou=people,%D", "ada@corp.example.org"),
            "uid=ada,ou=people,dc=corp,dc=example,dc=org"
        );
    }
}

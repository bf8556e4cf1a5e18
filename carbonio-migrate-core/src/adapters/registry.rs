//! The adapters by registered name, and building them from the configuration.

use std::path::Path;
use std::sync::Arc;

use super::bundle::{BundleConfig, BundleDestination};
use super::carbonio::{CarbonioConfig, CarbonioDestination};
use super::csv::{CsvConfig, CsvSource};
use super::export_dir::{ExportDirConfig, ExportDirSource};
use super::imap::destination::ImapDestination;
use super::imap::source::ImapSource;
use super::imap::{AuthMode, ImapConfig};
use super::ldap::{LdapConfig, LdapSource};
use crate::capability::{Capabilities, Capability as C};
use crate::config::{adapter_config, adapter_type, secret_from, Config};
use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::model::Secret;
use crate::source::Source;
use crate::wrap::{CompositeSource, ProvisioningOnly};

/// A registered adapter, as `carbonio-migrate adapters` lists it.
#[derive(Clone, Debug)]
pub struct AdapterInfo {
    /// The `type` that selects it.
    pub name: &'static str,
    /// `source`, `destination` or `provisioning`.
    pub side: &'static str,
    /// One line saying what it is.
    pub summary: &'static str,
    /// What it can read or write.
    pub capabilities: Capabilities,
}

/// Every adapter this build knows.
pub fn adapters() -> Vec<AdapterInfo> {
    vec![
        AdapterInfo {
            name: "export-dir",
            side: "source",
            summary: "a directory exported from a generic system: accounts.csv, distribution_lists.csv, .eml or mbox mail, ICS, VCF",
            capabilities: Capabilities::of([
                C::Domains,
                C::ClassesOfService,
                C::Accounts,
                C::DistributionLists,
                C::Mail,
                C::Appointments,
                C::Contacts,
            ]),
        },
        AdapterInfo {
            name: "export-dir",
            side: "provisioning",
            summary: "accounts, classes of service and lists from an export directory (mail read from [source])",
            capabilities: Capabilities::of([C::Domains, C::ClassesOfService, C::Accounts, C::DistributionLists]),
        },
        AdapterInfo {
            name: "csv",
            side: "provisioning",
            summary: "accounts (the official procedure's three layouts), lists, classes of service and domains from CSV files; header names mappable",
            capabilities: Capabilities::of([C::Domains, C::ClassesOfService, C::Accounts, C::DistributionLists]),
        },
        AdapterInfo {
            name: "ldap",
            side: "provisioning",
            summary: "accounts and lists from OpenLDAP or Active Directory (paged; LDAPS/StartTLS; proxyAddresses aliases; nested groups; disabled accounts skipped or locked)",
            capabilities: Capabilities::of([C::Domains, C::Accounts, C::DistributionLists]),
        },
        AdapterInfo {
            name: "bundle",
            side: "destination",
            summary: "a directory a Carbonio admin applies with stock tools: provisioning.cmd, per-account .tgz, .ics, .vcf and apply.sh",
            capabilities: Capabilities::of([
                C::Domains,
                C::ClassesOfService,
                C::Accounts,
                C::DistributionLists,
                C::Mail,
                C::Appointments,
                C::Contacts,
                C::ReadBack,
            ]),
        },
        AdapterInfo {
            name: "imap",
            side: "source",
            summary: "any IMAP server (Dovecot, Courier, Cyrus, Exchange, Zimbra): TLS, STARTTLS, LOGIN, admin impersonation, XOAUTH2; never modifies the source",
            capabilities: Capabilities::of([C::Mail]),
        },
        AdapterInfo {
            name: "imap",
            side: "destination",
            summary: "mail into existing accounts of an IMAP server (Carbonio): pipelined APPEND with LITERAL+/MULTIAPPEND, flags, dates, folders",
            capabilities: Capabilities::of([C::Mail, C::ReadBack, C::ResumeMail]),
        },
        AdapterInfo {
            name: "prov-script",
            side: "destination",
            summary: "for air-gapped sites: the bundle's provisioning.cmd (carbonio prov -f) and apply.sh only, by the same code",
            capabilities: Capabilities::of([C::Domains, C::ClassesOfService, C::Accounts, C::DistributionLists]),
        },
        AdapterInfo {
            name: "carbonio",
            side: "destination",
            summary: "Carbonio's Admin SOAP (idempotent provisioning; hashes kept), REST imports of ICS/VCF, and mail through [destination.imap]",
            capabilities: Capabilities::of([
                C::Domains,
                C::ClassesOfService,
                C::Accounts,
                C::DistributionLists,
                C::Mail,
                C::Appointments,
                C::Contacts,
                C::ReadBack,
                C::ResumeMail,
            ]),
        },
        AdapterInfo {
            name: "memory",
            side: "source",
            summary: "in-memory reference source, for embedding and tests (not selectable from a config file)",
            capabilities: Capabilities::of(C::ALL.into_iter().filter(|c| !matches!(c, C::ReadBack | C::ResumeMail | C::Shares | C::Files))),
        },
        AdapterInfo {
            name: "memory",
            side: "destination",
            summary: "in-memory reference destination, for embedding and tests (not selectable from a config file)",
            capabilities: Capabilities::of(C::ALL.into_iter().filter(|c| !matches!(c, C::Shares | C::Files))),
        },
    ]
}

fn unknown(section: &str, name: &str, side: &str) -> Error {
    let known: Vec<&str> = adapters()
        .into_iter()
        .filter(|a| a.side == side && a.name != "memory")
        .map(|a| a.name)
        .collect();
    Error::config(format!(
        "[{section}] type = {name:?} is not an adapter of this build; {side} adapters are: {} (later releases add zimbra, zextras-backup)",
        known.join(", ")
    ))
}

/// An `imap` section and the secret it names: required for impersonation (the
/// admin's password), optional for per-account logins (a shared password used
/// when an account has no `source_password`), unused for XOAUTH2.
fn imap_config(
    config: &Config,
    section: &str,
    table: &toml::Table,
) -> Result<(ImapConfig, Option<Secret>)> {
    let mut c: ImapConfig = adapter_config(section, table)?;
    c.ca_file = c.ca_file.map(|p| config.resolve(&p));
    c.password_file = c.password_file.map(|p| config.resolve(&p));
    c.token_file = c.token_file.map(|p| config.resolve(&p));
    c.spool_dir = c.spool_dir.map(|p| config.resolve(&p));
    let named = c.password_env.is_some() || c.password_file.is_some();
    let secret = match c.auth {
        AuthMode::Impersonate => {
            if c.admin_user.is_none() {
                return Err(Error::config(format!(
                    "[{section}] auth = \"impersonate\" needs admin_user (the admin who logs in for each account)"
                )));
            }
            Some(secret_from(
                section,
                c.password_env.as_deref(),
                c.password_file.as_deref(),
            )?)
        }
        AuthMode::Login if named => Some(secret_from(
            section,
            c.password_env.as_deref(),
            c.password_file.as_deref(),
        )?),
        AuthMode::Login | AuthMode::Xoauth2 => None,
    };
    Ok((c, secret))
}

fn export_dir(config: &Config, section: &str, table: &toml::Table) -> Result<Arc<dyn Source>> {
    let mut c: ExportDirConfig = adapter_config(section, table)?;
    c.path = config.resolve(&c.path);
    Ok(Arc::new(ExportDirSource::open(&c)?))
}

/// Builds the source of `config`: `[source]`, joined with `[provisioning]` when
/// that section is present.
///
/// # Errors
/// [`Error::Config`] for an unknown `type` or a bad key; the adapter's own errors.
pub fn build_source(config: &Config) -> Result<Arc<dyn Source>> {
    let data = match adapter_type(&config.source) {
        "export-dir" => export_dir(config, "source", &config.source)?,
        "imap" => {
            if config.provisioning.is_none() {
                return Err(Error::config(
                    "[source] type = \"imap\" reads mail only: add a [provisioning] section saying where the \
                     list of accounts comes from (for example type = \"export-dir\" with an accounts.csv)",
                ));
            }
            let (c, secret) = imap_config(config, "source", &config.source)?;
            Arc::new(ImapSource::new(c, secret)?)
        }
        other => return Err(unknown("source", other, "source")),
    };
    let Some(table) = &config.provisioning else {
        return Ok(data);
    };
    let provisioning = match adapter_type(table) {
        "export-dir" => export_dir(config, "provisioning", table)?,
        "ldap" => {
            let mut c: LdapConfig = adapter_config("provisioning", table)?;
            c.ca_file = c.ca_file.map(|p| config.resolve(&p));
            c.password_file = c.password_file.map(|p| config.resolve(&p));
            let password = secret_from(
                "provisioning",
                c.password_env.as_deref(),
                c.password_file.as_deref(),
            )?;
            Arc::new(LdapSource::new(c, password)?)
        }
        "csv" => {
            let mut c: CsvConfig = adapter_config("provisioning", table)?;
            c.accounts = config.resolve(&c.accounts);
            for p in [
                &mut c.distribution_lists,
                &mut c.classes_of_service,
                &mut c.domains,
                &mut c.initial_password_file,
            ] {
                *p = p.as_ref().map(|p| config.resolve(p));
            }
            let initial = match (&c.initial_password_env, &c.initial_password_file) {
                (None, None) => None,
                (env, file) => Some(secret_from(
                    "provisioning",
                    env.as_deref(),
                    file.as_deref(),
                )?),
            };
            Arc::new(CsvSource::new(&c, initial)?)
        }
        other => return Err(unknown("provisioning", other, "provisioning")),
    };
    Ok(Arc::new(CompositeSource::new(provisioning, data)))
}

/// Builds the destination of `config`; `state_dir` holds its working files.
///
/// # Errors
/// [`Error::Config`] for an unknown `type` or a bad key; the adapter's own errors.
pub fn build_destination(config: &Config, state_dir: &Path) -> Result<Arc<dyn Destination>> {
    match adapter_type(&config.destination) {
        kind @ ("bundle" | "prov-script") => {
            let mut c: BundleConfig = adapter_config("destination", &config.destination)?;
            c.path = config.resolve(&c.path);
            c.staging_dir = c.staging_dir.map(|p| config.resolve(&p));
            let bundle = Arc::new(BundleDestination::open(
                &c,
                &state_dir.join("bundle-staging"),
            )?);
            Ok(if kind == "prov-script" {
                // The bundle's provisioning.cmd and apply.sh, by the same code,
                // without mail, calendars or contacts.
                Arc::new(ProvisioningOnly::new(bundle, "prov-script"))
            } else {
                bundle
            })
        }
        "imap" => {
            let (c, secret) = imap_config(config, "destination", &config.destination)?;
            Ok(Arc::new(ImapDestination::new(c, secret)?))
        }
        "carbonio" => {
            let mut table = config.destination.clone();
            // [destination.imap] is the imap adapter's own table: read it as one.
            let imap_table = match table.remove("imap") {
                Some(toml::Value::Table(t)) => Some(t),
                Some(_) => {
                    return Err(Error::config(
                        "[destination] imap must be a table ([destination.imap])",
                    ))
                }
                None => None,
            };
            let mut c: CarbonioConfig = adapter_config("destination", &table)?;
            c.ca_file = c.ca_file.map(|p| config.resolve(&p));
            c.password_file = c.password_file.map(|p| config.resolve(&p));
            let admin = secret_from(
                "destination",
                c.password_env.as_deref(),
                c.password_file.as_deref(),
            )?;
            let imap_secret = match imap_table {
                Some(t) => {
                    let named = t.contains_key("password_env") || t.contains_key("password_file");
                    let mut with_type = t.clone();
                    with_type.insert("type".into(), toml::Value::String("imap".into()));
                    if named {
                        let (imap, secret) = imap_config(config, "destination.imap", &with_type)?;
                        c.imap = Some(imap);
                        secret
                    } else {
                        // No secret of its own: the Carbonio admin impersonates.
                        let mut imap: ImapConfig = adapter_config("destination.imap", &with_type)?;
                        imap.ca_file = imap.ca_file.map(|p| config.resolve(&p));
                        c.imap = Some(imap);
                        None
                    }
                }
                None => None,
            };
            Ok(Arc::new(CarbonioDestination::new(c, admin, imap_secret)?))
        }
        other => Err(unknown("destination", other, "destination")),
    }
}

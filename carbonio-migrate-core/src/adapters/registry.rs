//! The adapters by registered name, and building them from the configuration.

use std::path::Path;
use std::sync::Arc;

use super::bundle::{BundleConfig, BundleDestination};
use super::export_dir::{ExportDirConfig, ExportDirSource};
use crate::capability::{Capabilities, Capability as C};
use crate::config::{adapter_config, adapter_type, Config};
use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::source::Source;
use crate::wrap::CompositeSource;

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
        "[{section}] type = {name:?} is not an adapter of this build; {side} adapters are: {} (later releases add imap, carbonio, ldap, csv, zimbra)",
        known.join(", ")
    ))
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
        other => return Err(unknown("source", other, "source")),
    };
    let Some(table) = &config.provisioning else {
        return Ok(data);
    };
    let provisioning = match adapter_type(table) {
        "export-dir" => export_dir(config, "provisioning", table)?,
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
        "bundle" => {
            let mut c: BundleConfig = adapter_config("destination", &config.destination)?;
            c.path = config.resolve(&c.path);
            c.staging_dir = c.staging_dir.map(|p| config.resolve(&p));
            Ok(Arc::new(BundleDestination::open(
                &c,
                &state_dir.join("bundle-staging"),
            )?))
        }
        other => Err(unknown("destination", other, "destination")),
    }
}

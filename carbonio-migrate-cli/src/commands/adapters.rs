//! `adapters`: the adapters and procedures of this build.

use std::io::{self, Write};

use carbonio_migrate_core::adapters::registry::{self, AdapterInfo};
use carbonio_migrate_core::engine::Procedure;
use carbonio_migrate_core::Result;
use clap::Args;
use serde::Serialize;

use super::{print_json, stdout_error};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;

/// Arguments of `adapters` (none besides the global ones).
#[derive(Debug, Args)]
pub struct AdaptersArgs {}

/// One adapter, for `--json`.
#[derive(Debug, Serialize)]
struct AdapterEntry<'a> {
    name: &'a str,
    side: &'a str,
    capabilities: &'a carbonio_migrate_core::Capabilities,
    summary: &'a str,
}

/// One procedure, for `--json`.
#[derive(Debug, Serialize)]
struct ProcedureEntry {
    name: &'static str,
    phases: Vec<&'static str>,
    summary: &'static str,
}

/// Everything `adapters --json` prints.
#[derive(Debug, Serialize)]
struct Listing<'a> {
    adapters: Vec<AdapterEntry<'a>>,
    procedures: Vec<ProcedureEntry>,
}

fn listing<'a>(adapters: &'a [AdapterInfo], procedures: &[Procedure]) -> Listing<'a> {
    Listing {
        adapters: adapters
            .iter()
            .map(|a| AdapterEntry {
                name: a.name,
                side: a.side,
                capabilities: &a.capabilities,
                summary: a.summary,
            })
            .collect(),
        procedures: procedures
            .iter()
            .map(|p| ProcedureEntry {
                name: p.name(),
                phases: p.phase_names(),
                summary: p.summary(),
            })
            .collect(),
    }
}

/// The listing for people.
fn render(listing: &Listing<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "adapters (the `type` of [source], [provisioning], [destination]):"
    )?;
    let width = listing
        .adapters
        .iter()
        .map(|a| a.name.len() + a.side.len() + 3)
        .max()
        .unwrap_or(0);
    for a in &listing.adapters {
        let verb = if a.side == "destination" {
            "writes"
        } else {
            "reads"
        };
        let caps: Vec<String> = a.capabilities.iter().map(|c| c.to_string()).collect();
        writeln!(
            out,
            "  {:<width$}  {}",
            format!("{} ({})", a.name, a.side),
            a.summary
        )?;
        writeln!(out, "  {:<width$}  {verb}: {}", "", caps.join(", "))?;
    }
    writeln!(out, "\nprocedures (`procedure = ...`):")?;
    let width = listing
        .procedures
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for p in &listing.procedures {
        writeln!(out, "  {:<width$}  {}", p.name, p.summary)?;
        writeln!(out, "  {:<width$}  phases: {}", "", p.phases.join(", "))?;
    }
    Ok(())
}

impl AdaptersArgs {
    /// Prints the listing.
    ///
    /// # Errors
    /// [`carbonio_migrate_core::Error::Io`] when stdout cannot be written.
    pub fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let adapters = registry::adapters();
        let listing = listing(&adapters, &Procedure::all());
        if global.json {
            print_json(&listing)?;
        } else {
            render(&listing, &mut io::stdout().lock()).map_err(stdout_error)?;
        }
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use carbonio_migrate_core::{Capabilities, Capability};

    use super::*;

    #[test]
    fn lists_adapters_with_capabilities_and_procedures_with_phases() {
        let adapters = [AdapterInfo {
            name: "bundle",
            side: "destination",
            summary: "an offline bundle",
            capabilities: Capabilities::of([Capability::Accounts, Capability::Mail]),
        }];
        let procedures: Vec<Procedure> = Procedure::all()
            .into_iter()
            .filter(|p| p.name() == "mail-only")
            .collect();
        let listing = listing(&adapters, &procedures);
        let mut out = Vec::new();
        render(&listing, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "adapters (the `type` of [source], [provisioning], [destination]):\n\
             \x20 bundle (destination)  an offline bundle\n\
             \x20                       writes: accounts, mail\n\
             \n\
             procedures (`procedure = ...`):\n\
             \x20 mail-only  mail between existing accounts, nothing provisioned\n\
             \x20            phases: data\n"
        );
        let json = serde_json::to_value(&listing).unwrap();
        assert_eq!(
            json["adapters"][0]["capabilities"],
            serde_json::json!(["accounts", "mail"])
        );
        assert_eq!(json["procedures"][0]["phases"], serde_json::json!(["data"]));
    }
}

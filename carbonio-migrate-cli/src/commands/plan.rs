//! `plan`: preflight. Lists and sizes what would move and says what cannot; writes
//! nothing to the destination.

use std::io::{self, Write};

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{PreflightOptions, PreflightReport};
use carbonio_migrate_core::Result;
use clap::Args;

use super::{print_json, stdout_error};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::human;
use crate::setup::{self, AccountSelection};
use crate::table::Table;

/// Arguments of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Which accounts.
    #[command(flatten)]
    pub selection: AccountSelection,
}

impl PlanArgs {
    /// Runs preflight and prints its report.
    ///
    /// # Errors
    /// Configuration errors; what stops the listing (the account list cannot be read).
    pub async fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let config = Config::load(&global.config)?;
        let engine = setup::engine(&config, self.selection.shard)?;
        let options = PreflightOptions {
            accounts: self.selection.account_filter(),
            shard: self.selection.shard,
        };
        let report = engine.preflight(&options).await?;
        if global.json {
            print_json(&report)?;
        } else {
            render(&report, &mut io::stdout().lock()).map_err(stdout_error)?;
        }
        Ok(Outcome::Done)
    }
}

fn list(out: &mut dyn Write, title: &str, lines: &[String]) -> io::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{title} ({}):", lines.len())?;
    for line in lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// The report for people.
pub fn render(report: &PreflightReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "procedure    {} ({})",
        report.procedure,
        report.phases.join(", ")
    )?;
    writeln!(out, "source       {}", report.source)?;
    writeln!(out, "destination  {}", report.destination)?;
    writeln!(out, "accounts     {}", report.accounts.len())?;
    writeln!(out, "folders      {}", report.folders)?;
    writeln!(out, "messages     {}", report.messages)?;
    writeln!(out, "size         {}", human::bytes(report.bytes))?;
    if !report.accounts.is_empty() {
        writeln!(out)?;
        let mut table = Table::new(["ACCOUNT", "FOLDERS", "MESSAGES", "SIZE"]);
        for a in &report.accounts {
            table.row(vec![
                a.address.clone(),
                a.folders.to_string(),
                a.messages.to_string(),
                human::bytes(a.bytes),
            ]);
        }
        table.write(out, "")?;
    }
    list(out, "invalid records", &report.invalid)?;
    list(out, "capability gaps", &report.gaps)?;
    list(out, "warnings", &report.warnings)
}

#[cfg(test)]
mod tests {
    use carbonio_migrate_core::engine::AccountPlan;

    use super::*;

    #[test]
    fn renders_totals_accounts_and_problems() {
        let report = PreflightReport {
            procedure: "generic".into(),
            phases: vec!["provisioning".into(), "data".into()],
            source: "export-dir /srv/export".into(),
            destination: "bundle /srv/bundle".into(),
            accounts: vec![
                AccountPlan {
                    address: "ada@acme.example".into(),
                    folders: 4,
                    messages: 13,
                    bytes: 10_200,
                },
                AccountPlan {
                    address: "bob@acme.example".into(),
                    folders: 1,
                    messages: 0,
                    bytes: 0,
                },
            ],
            invalid: vec![
                "export/accounts.csv:7: invalid e-mail address \"x\": it has no '@'".into(),
            ],
            gaps: vec![
                "appointments will not be migrated: destination 'imap' cannot write them".into(),
            ],
            warnings: vec![],
            folders: 5,
            messages: 13,
            bytes: 10_200,
        };
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "procedure    generic (provisioning, data)\n\
             source       export-dir /srv/export\n\
             destination  bundle /srv/bundle\n\
             accounts     2\n\
             folders      5\n\
             messages     13\n\
             size         10.2 KB\n\
             \n\
             ACCOUNT           FOLDERS  MESSAGES     SIZE\n\
             ada@acme.example        4        13  10.2 KB\n\
             bob@acme.example        1         0      0 B\n\
             \n\
             invalid records (1):\n  export/accounts.csv:7: invalid e-mail address \"x\": it has no '@'\n\
             \n\
             capability gaps (1):\n  appointments will not be migrated: destination 'imap' cannot write them\n"
        );
    }
}

//! `verify`: compares both sides, per account and folder, and names every difference.

use std::io::{self, Write};

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Difference, VerifyOptions, VerifyReport};
use carbonio_migrate_core::Result;
use clap::Args;

use super::{print_json, stdout_error};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::setup::{self, AccountSelection};
use crate::table::Table;

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 both sides hold the same messages, 3 differences were found \
(each is printed), 1 verify could not run, 2 usage or configuration error."
)]
pub struct VerifyArgs {
    /// Hash every message on both sides (slower: reads every body). Without it,
    /// counts and bytes are compared, and messages are hashed only in folders
    /// whose counts or bytes differ, to name them.
    #[arg(long)]
    pub deep: bool,
    /// Which accounts.
    #[command(flatten)]
    pub selection: AccountSelection,
}

impl VerifyArgs {
    /// Compares and prints; [`Outcome::Incomplete`] (exit 3) when anything differs.
    ///
    /// # Errors
    /// Configuration errors; a destination that cannot read back.
    pub async fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let config = Config::load(&global.config)?;
        let engine = setup::engine(&config, self.selection.shard)?;
        let options = VerifyOptions {
            deep: self.deep,
            accounts: self.selection.account_filter(),
            shard: self.selection.shard,
        };
        let report = engine.verify(&options).await?;
        if global.json {
            print_json(&report)?;
        } else {
            render(&report, &mut io::stdout().lock()).map_err(stdout_error)?;
        }
        Ok(if report.is_clean() {
            Outcome::Done
        } else {
            Outcome::Incomplete
        })
    }
}

/// One difference on one line: where, which message, what differs.
fn describe(d: &Difference) -> String {
    let mut line = d.account.clone();
    if !d.folder.is_empty() {
        line.push(' ');
        line.push_str(&d.folder);
    }
    line.push_str(": ");
    line.push_str(&d.kind);
    if let Some(uid) = d.uid {
        line.push_str(&format!(" UID {uid}"));
    }
    if let Some(id) = &d.message_id {
        line.push_str(&format!(" Message-ID {id}"));
    }
    if let Some(subject) = &d.subject {
        line.push_str(&format!(" subject {subject:?}"));
    }
    if !d.detail.is_empty() {
        line.push_str(": ");
        line.push_str(&d.detail);
    }
    line
}

/// The report for people.
pub fn render(report: &VerifyReport, out: &mut dyn Write) -> io::Result<()> {
    let (mut folders, mut messages) = (0u64, 0u64);
    for account in &report.accounts {
        writeln!(out, "{}", account.address)?;
        let mut table = Table::new([
            "FOLDER",
            "SOURCE MSGS",
            "SOURCE BYTES",
            "DEST MSGS",
            "DEST BYTES",
        ]);
        for f in &account.folders {
            folders += 1;
            messages += f.source_messages;
            let name = if f.source_folder == f.destination_folder {
                f.source_folder.clone()
            } else {
                format!("{} -> {}", f.source_folder, f.destination_folder)
            };
            table.row(vec![
                name,
                f.source_messages.to_string(),
                f.source_bytes.to_string(),
                f.destination_messages.to_string(),
                f.destination_bytes.to_string(),
            ]);
        }
        table.write(out, "  ")?;
    }
    if report.is_clean() {
        return writeln!(
            out,
            "verify: clean: {} account(s), {folders} folder(s), {messages} message(s) on both sides",
            report.accounts.len()
        );
    }
    writeln!(out, "\ndifferences ({}):", report.differences.len())?;
    for d in &report.differences {
        writeln!(out, "  {}", describe(d))?;
    }
    writeln!(out, "verify: {} difference(s)", report.differences.len())
}

#[cfg(test)]
mod tests {
    use carbonio_migrate_core::engine::{AccountVerify, FolderVerify};

    use super::*;

    fn folder(src: &str, dst: &str, counts: (u64, u64, u64, u64)) -> FolderVerify {
        FolderVerify {
            source_folder: src.into(),
            destination_folder: dst.into(),
            source_messages: counts.0,
            source_bytes: counts.1,
            destination_messages: counts.2,
            destination_bytes: counts.3,
        }
    }

    #[test]
    fn names_each_difference() {
        let report = VerifyReport {
            accounts: vec![AccountVerify {
                address: "ada@acme.example".into(),
                folders: vec![
                    folder("INBOX", "INBOX", (13, 20_480, 12, 19_000)),
                    folder("Sent Items", "Sent", (2, 900, 2, 900)),
                ],
            }],
            differences: vec![
                Difference {
                    account: "ada@acme.example".into(),
                    folder: "INBOX".into(),
                    kind: "missing".into(),
                    uid: Some(7),
                    message_id: Some("<7@acme.example>".into()),
                    subject: Some("Factura 7".into()),
                    detail: "not on the destination".into(),
                },
                Difference {
                    account: "bob@acme.example".into(),
                    folder: String::new(),
                    kind: "unreadable".into(),
                    uid: None,
                    message_id: None,
                    subject: None,
                    detail: "network error: connect".into(),
                },
            ],
        };
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ada@acme.example\n\
             \x20 FOLDER              SOURCE MSGS  SOURCE BYTES  DEST MSGS  DEST BYTES\n\
             \x20 INBOX                        13         20480         12       19000\n\
             \x20 Sent Items -> Sent            2           900          2         900\n\
             \n\
             differences (2):\n\
             \x20 ada@acme.example INBOX: missing UID 7 Message-ID <7@acme.example> subject \"Factura 7\": not on the destination\n\
             \x20 bob@acme.example: unreadable: network error: connect\n\
             verify: 2 difference(s)\n"
        );
    }

    #[test]
    fn a_clean_report_says_so() {
        let report = VerifyReport {
            accounts: vec![AccountVerify {
                address: "ada@acme.example".into(),
                folders: vec![folder("INBOX", "INBOX", (3, 10, 3, 10))],
            }],
            differences: vec![],
        };
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(
                "verify: clean: 1 account(s), 1 folder(s), 3 message(s) on both sides\n"
            ),
            "{text}"
        );
    }
}

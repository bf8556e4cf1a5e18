//! One file per subcommand: its clap arguments and its `execute`.

pub mod adapters;
pub mod init;
pub mod plan;
pub mod report;
pub mod run;
pub mod status;
pub mod verify;

use std::io::Write;

use carbonio_migrate_core::{Error, Result};
use clap::Subcommand;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::Outcome;

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented migration file for a procedure.
    Init(init::InitArgs),
    /// Preflight: list and size what would move, and what cannot; writes nothing.
    Plan(plan::PlanArgs),
    /// Run the migration (all phases, or some); run again to resume or copy what is new.
    Run(run::RunArgs),
    /// What the journal says: the last run and the items of each phase.
    Status(status::StatusArgs),
    /// Compare source and destination, naming every missing or different message.
    Verify(verify::VerifyArgs),
    /// Every item of the journal, as JSON or CSV.
    Report(report::ReportArgs),
    /// The adapters and procedures this build knows.
    Adapters(adapters::AdaptersArgs),
}

impl Command {
    /// Runs the command.
    ///
    /// # Errors
    /// What stops the command as a whole; its exit code comes from [`crate::exit::code_for`].
    pub async fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        match self {
            Command::Init(args) => args.execute(global),
            Command::Plan(args) => args.execute(global).await,
            Command::Run(args) => args.execute(global).await,
            Command::Status(args) => args.execute(global),
            Command::Verify(args) => args.execute(global).await,
            Command::Report(args) => args.execute(global),
            Command::Adapters(args) => args.execute(global),
        }
    }
}

/// The error for a failed write to stdout.
pub fn stdout_error(e: std::io::Error) -> Error {
    Error::io("writing to stdout", e)
}

/// Prints `value` as pretty JSON on stdout.
///
/// # Errors
/// [`Error::Io`] when stdout cannot be written.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| stdout_error(e.into()))?;
    writeln!(out).map_err(stdout_error)
}

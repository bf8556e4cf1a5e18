//! `carbonio-migrate`: the command line of the carbonio-migrate engine.
//!
//! Parsing lives in [`cli`], one file per subcommand in [`commands`]. Data goes
//! to stdout, logs and progress to stderr; the exit codes are in [`exit`].

mod cli;
mod commands;
mod exit;
mod human;
mod interrupt;
mod logging;
mod progress;
mod setup;
mod table;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    logging::init(cli.global.verbose);
    exit::finish(cli.command.execute(&cli.global).await)
}

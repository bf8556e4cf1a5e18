//! The command line: global options and the subcommand.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser};

use crate::commands::Command;

/// Exit codes, for scripts (the same as in `exit.rs`).
const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed, 2 usage or configuration error, \
3 finished with failed items (run) or differences found (verify), 130 interrupted.";

/// Migrates a mail system into Carbonio: provisioning, mail, calendars, contacts.
#[derive(Debug, Parser)]
#[command(name = "carbonio-migrate", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The migration file.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "CARBONIO_MIGRATE_CONFIG",
        default_value = "migration.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG works too.
    #[arg(long, short = 'v', global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Machine-readable output on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::report::ReportFormat;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carbonio-migrate").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let cli = parse(&["--config", "a.toml", "status", "-vv", "--json"]).unwrap();
        assert_eq!(cli.global.config, PathBuf::from("a.toml"));
        assert_eq!(cli.global.verbose, 2);
        assert!(cli.global.json);
        assert!(matches!(cli.command, Command::Status(_)));
    }

    #[test]
    fn init_takes_a_procedure_output_and_force() {
        let cli = parse(&[
            "init",
            "--procedure",
            "ldap",
            "--output",
            "x.toml",
            "--force",
        ])
        .unwrap();
        let Command::Init(init) = cli.command else {
            panic!("not init")
        };
        assert_eq!(init.procedure, "ldap");
        assert_eq!(init.output, PathBuf::from("x.toml"));
        assert!(init.force);
        let init = parse(&["init", "--procedure", "generic"]).unwrap();
        let Command::Init(init) = init.command else {
            panic!("not init")
        };
        assert_eq!(init.output, PathBuf::from("migration.toml"));
        assert!(!init.force);
        assert_eq!(parse(&["init"]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn plan_takes_accounts_and_a_shard() {
        let cli = parse(&[
            "plan",
            "--account",
            "Ada@Example.org",
            "--account",
            "bob@example.org",
            "--shard",
            "2/4",
        ])
        .unwrap();
        let Command::Plan(plan) = cli.command else {
            panic!("not plan")
        };
        let accounts: Vec<String> = plan
            .selection
            .accounts
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(accounts, ["ada@example.org", "bob@example.org"]);
        assert_eq!(
            plan.selection.shard.map(|s| s.to_string()).as_deref(),
            Some("2/4")
        );
    }

    #[test]
    fn run_takes_phases_accounts_dry_run_and_shard() {
        let cli = parse(&[
            "run",
            "--phase",
            "provisioning",
            "--phase",
            "data",
            "--dry-run",
            "--shard",
            "1/2",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.phases, ["provisioning", "data"]);
        assert!(run.dry_run);
        assert!(run.selection.accounts.is_empty());
        assert_eq!(
            run.selection.shard.map(|s| (s.index(), s.count())),
            Some((1, 2))
        );
    }

    #[test]
    fn a_bad_shard_or_account_is_a_usage_error() {
        for bad in ["0/3", "4/3", "2", "a/b"] {
            let err = parse(&["run", "--shard", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(err.to_string().contains("write K/N"), "{err}");
        }
        let err = parse(&["verify", "--account", "not-an-address"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("it has no '@'"), "{err}");
    }

    #[test]
    fn status_verify_report_and_adapters_parse() {
        assert!(matches!(
            parse(&["status", "--shard", "1/3"]).unwrap().command,
            Command::Status(_)
        ));
        let Command::Verify(verify) = parse(&["verify", "--deep", "--account", "a@b.org"])
            .unwrap()
            .command
        else {
            panic!("not verify")
        };
        assert!(verify.deep);
        let Command::Report(report) = parse(&[
            "report",
            "--format",
            "csv",
            "--output",
            "r.csv",
            "--failed-only",
        ])
        .unwrap()
        .command
        else {
            panic!("not report")
        };
        assert_eq!(report.format, ReportFormat::Csv);
        assert_eq!(report.output, Some(PathBuf::from("r.csv")));
        assert!(report.failed_only);
        assert_eq!(
            parse(&["report", "--format", "xml"])
                .unwrap_err()
                .exit_code(),
            2
        );
        assert!(matches!(
            parse(&["adapters", "--json"]).unwrap().command,
            Command::Adapters(_)
        ));
        assert_eq!(parse(&["frobnicate"]).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn the_config_path_comes_from_the_environment_variable_too() {
        // Only checks the declared name: setting the variable would race other tests.
        use clap::CommandFactory;
        let command = Cli::command();
        let config = command
            .get_arguments()
            .find(|a| a.get_id() == "config")
            .unwrap();
        assert_eq!(
            config.get_env(),
            Some(std::ffi::OsStr::new("CARBONIO_MIGRATE_CONFIG"))
        );
    }
}

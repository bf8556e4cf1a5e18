//! `run`: runs the procedure's phases, showing progress, and prints what it did.

use std::io::{self, Write};

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{RunOptions, RunSummary};
use carbonio_migrate_core::Result;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::stdout_error;
use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::interrupt;
use crate::progress::ProgressDisplay;
use crate::setup::{self, AccountSelection};

/// Arguments of `run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 done, 1 the run stopped on an error, 2 usage or configuration error, \
3 finished with failed items (list them with `carbonio-migrate report --failed-only`), 130 interrupted."
)]
pub struct RunArgs {
    /// Only this phase (repeat for more): provisioning, data, shares, files.
    #[arg(long = "phase", value_name = "PHASE")]
    pub phases: Vec<String>,
    /// Which accounts.
    #[command(flatten)]
    pub selection: AccountSelection,
    /// List what would run; write nothing, not even the journal.
    #[arg(long)]
    pub dry_run: bool,
}

impl RunArgs {
    /// Runs the migration.
    ///
    /// # Errors
    /// Configuration errors (exit 2) and what stops the run as a whole (exit 1).
    pub async fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let config = Config::load(&global.config)?;
        let engine = setup::engine(&config, self.selection.shard)?;
        let cancel = CancellationToken::new();
        interrupt::cancel_on_ctrl_c(cancel.clone());
        let display = ProgressDisplay::for_stderr(global.json);
        let options = RunOptions {
            phases: (!self.phases.is_empty()).then(|| self.phases.clone()),
            accounts: self.selection.account_filter(),
            shard: self.selection.shard,
            dry_run: self.dry_run,
            progress: display.sink(),
            cancel,
            command: std::env::args().collect::<Vec<_>>().join(" "),
        };
        let result = engine.run(options).await;
        display.finish();
        let summary = result?;
        if global.json {
            let mut line = serde_json::to_value(&summary).map_err(|e| stdout_error(e.into()))?;
            if let Some(object) = line.as_object_mut() {
                object.insert("event".into(), "summary".into());
            }
            let mut out = io::stdout().lock();
            writeln!(out, "{line}").map_err(stdout_error)?;
        } else {
            render(&summary, &mut io::stdout().lock()).map_err(stdout_error)?;
        }
        if summary.cancelled {
            eprintln!("interrupted: the journal keeps everything finished; run again to resume");
            return Ok(Outcome::Interrupted);
        }
        if summary.failed > 0 {
            eprintln!(
                "{} item(s) failed; list them with `carbonio-migrate report --failed-only`, fix the cause and run again",
                summary.failed
            );
            return Ok(Outcome::Incomplete);
        }
        Ok(Outcome::Done)
    }
}

fn counts(summary: &RunSummary) -> String {
    format!(
        "created {}, updated {}, unchanged {}, failed {}, already done {}",
        summary.created, summary.updated, summary.unchanged, summary.failed, summary.already_done
    )
}

/// The summary for people.
pub fn render(summary: &RunSummary, out: &mut dyn Write) -> io::Result<()> {
    if summary.dry_run {
        let mut current: Option<&str> = None;
        for (i, (phase, key)) in summary.planned.iter().enumerate() {
            if current != Some(phase.as_str()) {
                let n = summary.planned[i..]
                    .iter()
                    .take_while(|(p, _)| p == phase)
                    .count();
                writeln!(out, "phase {phase}: {n} item(s) would run")?;
                current = Some(phase);
            }
            writeln!(out, "  {key}")?;
        }
        if summary.already_done > 0 {
            writeln!(out, "{} item(s) were already done", summary.already_done)?;
        }
        return writeln!(out, "dry run: nothing was written");
    }
    if summary.cancelled {
        return writeln!(out, "interrupted: {}", counts(summary));
    }
    if summary.wrote_nothing() {
        return if summary.done == 0 && summary.already_done == 0 {
            writeln!(out, "nothing to do: no items to run")
        } else if summary.done == 0 {
            writeln!(
                out,
                "nothing to do: all {} items were already done",
                summary.already_done
            )
        } else {
            writeln!(
                out,
                "nothing to do: {} items were already done, {} were already in place",
                summary.already_done, summary.unchanged
            )
        };
    }
    writeln!(out, "{}", counts(summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(summary: &RunSummary) -> String {
        let mut out = Vec::new();
        render(summary, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_run_that_wrote_prints_the_counts() {
        let summary = RunSummary {
            done: 5,
            created: 3,
            updated: 1,
            unchanged: 1,
            failed: 2,
            already_done: 4,
            ..Default::default()
        };
        assert_eq!(
            rendered(&summary),
            "created 3, updated 1, unchanged 1, failed 2, already done 4\n"
        );
    }

    #[test]
    fn a_rerun_says_there_was_nothing_to_do() {
        let summary = RunSummary {
            already_done: 27,
            ..Default::default()
        };
        assert_eq!(
            rendered(&summary),
            "nothing to do: all 27 items were already done\n"
        );
        let summary = RunSummary {
            done: 2,
            unchanged: 2,
            already_done: 25,
            ..Default::default()
        };
        assert_eq!(
            rendered(&summary),
            "nothing to do: 25 items were already done, 2 were already in place\n"
        );
        assert_eq!(
            rendered(&RunSummary::default()),
            "nothing to do: no items to run\n"
        );
    }

    #[test]
    fn a_dry_run_lists_items_by_phase() {
        let summary = RunSummary {
            dry_run: true,
            already_done: 1,
            planned: vec![
                ("provisioning".into(), "domain:acme.example".into()),
                ("provisioning".into(), "account:ada@acme.example".into()),
                ("data".into(), "mail:ada@acme.example".into()),
            ],
            ..Default::default()
        };
        assert_eq!(
            rendered(&summary),
            "phase provisioning: 2 item(s) would run\n  domain:acme.example\n  account:ada@acme.example\n\
             phase data: 1 item(s) would run\n  mail:ada@acme.example\n\
             1 item(s) were already done\n\
             dry run: nothing was written\n"
        );
    }

    #[test]
    fn an_interrupted_run_says_so() {
        let summary = RunSummary {
            done: 1,
            created: 1,
            cancelled: true,
            ..Default::default()
        };
        assert_eq!(
            rendered(&summary),
            "interrupted: created 1, updated 0, unchanged 0, failed 0, already done 0\n"
        );
    }
}

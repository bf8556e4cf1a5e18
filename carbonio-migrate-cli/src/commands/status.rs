//! `status`: what the journal says. Reads the journal only; no adapter is contacted.

use std::io::{self, Write};
use std::path::PathBuf;

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Procedure, Shard};
use carbonio_migrate_core::journal::{ItemState, Journal, RunRecord};
use carbonio_migrate_core::Result;
use clap::Args;
use serde::Serialize;

use super::{print_json, stdout_error};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::setup::{self, parse_shard, JOURNAL_FILE};
use crate::table::Table;

/// Arguments of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The journal of shard K of N.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

/// Item counts of one phase.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct PhaseStatus {
    /// The phase.
    pub phase: String,
    /// Items finished successfully.
    pub done: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items started and not finished (running now, or the run died).
    pub running: u64,
}

/// Everything `status` shows.
#[derive(Debug, PartialEq, Serialize)]
pub struct Status {
    /// The journal file.
    pub journal: PathBuf,
    /// The last run, when there was one.
    pub last_run: Option<RunRecord>,
    /// Per phase, in the procedure's order.
    pub phases: Vec<PhaseStatus>,
}

impl StatusArgs {
    /// Prints the status.
    ///
    /// # Errors
    /// Configuration errors; [`carbonio_migrate_core::Error::Journal`] when the journal cannot be read.
    pub fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let config = Config::load(&global.config)?;
        let state_dir = setup::state_dir(&config, self.shard);
        let path = state_dir.join(JOURNAL_FILE);
        // Opening would create the journal; a migration that never ran has none.
        let status = if path.exists() {
            let order = Procedure::named(&config.procedure)
                .map(|p| p.phase_names())
                .unwrap_or_default();
            collect(&Journal::open(&state_dir)?, &order, path)?
        } else {
            Status {
                journal: path,
                last_run: None,
                phases: Vec::new(),
            }
        };
        if global.json {
            print_json(&status)?;
        } else {
            render(&status, &mut io::stdout().lock()).map_err(stdout_error)?;
        }
        Ok(Outcome::Done)
    }
}

/// Reads the status from `journal`, phases in `order` first, then the others by name.
///
/// # Errors
/// [`carbonio_migrate_core::Error::Journal`].
pub fn collect(journal: &Journal, order: &[&str], path: PathBuf) -> Result<Status> {
    let last_run = journal.last_run()?;
    let mut phases: Vec<PhaseStatus> = Vec::new();
    for (phase, state, n) in journal.counts()? {
        let index = match phases.iter().position(|p| p.phase == phase) {
            Some(i) => i,
            None => {
                phases.push(PhaseStatus {
                    phase,
                    ..PhaseStatus::default()
                });
                phases.len() - 1
            }
        };
        let entry = &mut phases[index];
        match state {
            ItemState::Done => entry.done += n,
            ItemState::Failed => entry.failed += n,
            ItemState::Running => entry.running += n,
        }
    }
    phases.sort_by_key(|p| {
        (
            order
                .iter()
                .position(|o| *o == p.phase)
                .unwrap_or(usize::MAX),
            p.phase.clone(),
        )
    });
    Ok(Status {
        journal: path,
        last_run,
        phases,
    })
}

/// The status for people.
pub fn render(status: &Status, out: &mut dyn Write) -> io::Result<()> {
    let Some(run) = &status.last_run else {
        return writeln!(
            out,
            "no run yet (no journal at {})",
            status.journal.display()
        );
    };
    match (&run.finished_at, &run.outcome) {
        (Some(end), Some(outcome)) => {
            writeln!(out, "last run #{}: {outcome}; started {}, finished {end}", run.id, run.started_at)?
        }
        _ => writeln!(
            out,
            "last run #{}: not finished (still running, or stopped abruptly: run again to resume); started {}",
            run.id, run.started_at
        )?,
    }
    writeln!(out, "  command: {}", run.command)?;
    if status.phases.is_empty() {
        return Ok(());
    }
    let mut table = Table::new(["PHASE", "DONE", "FAILED", "RUNNING"]);
    for p in &status.phases {
        table.row(vec![
            p.phase.clone(),
            p.done.to_string(),
            p.failed.to_string(),
            p.running.to_string(),
        ]);
    }
    table.write(out, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_phase_in_the_procedures_order() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let run = journal.begin_run("carbonio-migrate run").unwrap();
        journal
            .finish_item(run, "provisioning", "domain:acme.example", "created")
            .unwrap();
        journal
            .finish_item(run, "provisioning", "account:ada@acme.example", "created")
            .unwrap();
        journal
            .fail_item(
                run,
                "data",
                "mail:ada@acme.example",
                "network error: connect",
            )
            .unwrap();
        journal
            .start_item(run, "data", "mail:bob@acme.example")
            .unwrap();
        journal
            .finish_run(run, "finished with failed items")
            .unwrap();

        let status = collect(
            &journal,
            &["provisioning", "data"],
            dir.path().join(JOURNAL_FILE),
        )
        .unwrap();
        let phases: Vec<(&str, u64, u64, u64)> = status
            .phases
            .iter()
            .map(|p| (p.phase.as_str(), p.done, p.failed, p.running))
            .collect();
        assert_eq!(phases, [("provisioning", 2, 0, 0), ("data", 0, 1, 1)]);
        let last = status.last_run.as_ref().unwrap();
        assert_eq!(
            (last.id, last.outcome.as_deref()),
            (run, Some("finished with failed items"))
        );

        let mut out = Vec::new();
        render(&status, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with(&format!(
                "last run #{run}: finished with failed items; started "
            )),
            "{text}"
        );
        assert_eq!(
            &lines[1..],
            [
                "  command: carbonio-migrate run",
                "PHASE         DONE  FAILED  RUNNING",
                "provisioning     2       0        0",
                "data             0       1        1"
            ]
        );
    }

    #[test]
    fn no_journal_means_no_run_yet() {
        let status = Status {
            journal: PathBuf::from("state/journal.sqlite"),
            last_run: None,
            phases: vec![],
        };
        let mut out = Vec::new();
        render(&status, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "no run yet (no journal at state/journal.sqlite)\n"
        );
    }
}

//! `report`: every item of the journal as JSON or CSV, streamed row by row.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::Shard;
use carbonio_migrate_core::journal::{ItemRecord, ItemState, Journal};
use carbonio_migrate_core::{Error, Result};
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::exit::Outcome;
use crate::setup::{self, parse_shard, JOURNAL_FILE};

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A JSON array of objects.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The format.
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only the failed items.
    #[arg(long)]
    pub failed_only: bool,
    /// The journal of shard K of N.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 8] = [
    "phase",
    "key",
    "state",
    "change",
    "error",
    "attempts",
    "started_at",
    "finished_at",
];

fn state_name(state: ItemState) -> &'static str {
    match state {
        ItemState::Running => "running",
        ItemState::Done => "done",
        ItemState::Failed => "failed",
    }
}

/// Writes items one at a time, in one format.
pub enum ReportWriter<W: Write> {
    /// CSV rows.
    Csv(Box<csv::Writer<W>>),
    /// A JSON array, written element by element.
    Json {
        /// Where it goes.
        out: W,
        /// Items written so far.
        written: u64,
    },
}

fn io_error(target: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |e| Error::io(format!("writing the report to {target}"), e)
}

impl<W: Write> ReportWriter<W> {
    /// Starts a report (the CSV header row).
    ///
    /// # Errors
    /// [`Error::Io`] naming `target`.
    pub fn start(format: ReportFormat, out: W, target: &str) -> Result<Self> {
        match format {
            ReportFormat::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(CSV_HEADER)
                    .map_err(|e| io_error(target)(e.into()))?;
                Ok(ReportWriter::Csv(Box::new(csv)))
            }
            ReportFormat::Json => Ok(ReportWriter::Json { out, written: 0 }),
        }
    }

    /// Writes one item.
    ///
    /// # Errors
    /// [`Error::Io`] naming `target`.
    pub fn item(&mut self, item: &ItemRecord, target: &str) -> Result<()> {
        match self {
            ReportWriter::Csv(csv) => csv
                .write_record([
                    item.phase.as_str(),
                    item.key.as_str(),
                    state_name(item.state),
                    item.change.as_deref().unwrap_or(""),
                    item.error.as_deref().unwrap_or(""),
                    &item.attempts.to_string(),
                    item.started_at.as_deref().unwrap_or(""),
                    item.finished_at.as_deref().unwrap_or(""),
                ])
                .map_err(|e| io_error(target)(e.into())),
            ReportWriter::Json { out, written } => {
                out.write_all(if *written == 0 { b"[\n  " } else { b",\n  " })
                    .map_err(io_error(target))?;
                serde_json::to_writer(&mut *out, item).map_err(|e| io_error(target)(e.into()))?;
                *written += 1;
                Ok(())
            }
        }
    }

    /// Ends the report and flushes it; returns the writer.
    ///
    /// # Errors
    /// [`Error::Io`] naming `target`.
    pub fn finish(self, target: &str) -> Result<W> {
        match self {
            ReportWriter::Csv(csv) => csv
                .into_inner()
                .map_err(|e| io_error(target)(e.into_error())),
            ReportWriter::Json { mut out, written } => {
                out.write_all(if written == 0 { b"[]\n" } else { b"\n]\n" })
                    .map_err(io_error(target))?;
                out.flush().map_err(io_error(target))?;
                Ok(out)
            }
        }
    }
}

/// Streams the items of `journal` (or only the failed ones) into `out`.
///
/// # Errors
/// [`Error::Journal`] or [`Error::Io`] naming `target`.
pub fn write_report<W: Write>(
    journal: Option<&Journal>,
    format: ReportFormat,
    failed_only: bool,
    out: W,
    target: &str,
) -> Result<W> {
    let mut writer = ReportWriter::start(format, out, target)?;
    if let Some(journal) = journal {
        journal.for_each_item(|item| {
            if failed_only && item.state != ItemState::Failed {
                return Ok(());
            }
            writer.item(&item, target)
        })?;
    }
    writer.finish(target)
}

impl ReportArgs {
    /// Writes the report.
    ///
    /// # Errors
    /// Configuration errors; journal and output errors.
    pub fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let config = Config::load(&global.config)?;
        let state_dir = setup::state_dir(&config, self.shard);
        // A migration that never ran has no journal: an empty report, not a new journal.
        let journal = if state_dir.join(JOURNAL_FILE).exists() {
            Some(Journal::open(&state_dir)?)
        } else {
            None
        };
        match &self.output {
            Some(path) => {
                let target = path.display().to_string();
                let file =
                    File::create(path).map_err(|e| Error::io(format!("creating {target}"), e))?;
                let file = write_report(
                    journal.as_ref(),
                    self.format,
                    self.failed_only,
                    BufWriter::new(file),
                    &target,
                )?;
                file.into_inner()
                    .map_err(|e| Error::io(format!("writing {target}"), e.into_error()))?
                    .sync_all()
                    .map_err(|e| Error::io(format!("writing {target}"), e))?;
            }
            None => {
                let out = BufWriter::new(io::stdout().lock());
                write_report(
                    journal.as_ref(),
                    self.format,
                    self.failed_only,
                    out,
                    "stdout",
                )?;
            }
        }
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let run = journal.begin_run("carbonio-migrate run").unwrap();
        journal
            .start_item(run, "provisioning", "account:ada@acme.example")
            .unwrap();
        journal
            .finish_item(run, "provisioning", "account:ada@acme.example", "created")
            .unwrap();
        journal
            .start_item(run, "data", "mail:ada@acme.example")
            .unwrap();
        journal
            .fail_item(
                run,
                "data",
                "mail:ada@acme.example",
                "rejected INBOX/7: too big, \"50MB\"",
            )
            .unwrap();
        (dir, journal)
    }

    fn csv_rows(text: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_item() {
        let (_dir, journal) = journal();
        let out =
            write_report(Some(&journal), ReportFormat::Csv, false, Vec::new(), "test").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("phase,key,state,change,error,attempts,started_at,finished_at\n"),
            "{text}"
        );
        let rows = csv_rows(&text);
        assert_eq!(rows.len(), 2);
        // Ordered by phase, then key; quotes and commas in errors survive the round trip.
        assert_eq!(
            rows[0][..6],
            [
                "data",
                "mail:ada@acme.example",
                "failed",
                "",
                "rejected INBOX/7: too big, \"50MB\"",
                "1"
            ]
        );
        assert_eq!(
            rows[1][..6],
            [
                "provisioning",
                "account:ada@acme.example",
                "done",
                "created",
                "",
                "1"
            ]
        );
        assert!(
            !rows[1][6].is_empty() && !rows[1][7].is_empty(),
            "{:?}",
            rows[1]
        );
    }

    #[test]
    fn failed_only_keeps_the_failures() {
        let (_dir, journal) = journal();
        let out =
            write_report(Some(&journal), ReportFormat::Csv, true, Vec::new(), "test").unwrap();
        let rows = csv_rows(&String::from_utf8(out).unwrap());
        let keys: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(keys, ["mail:ada@acme.example"]);
    }

    #[test]
    fn json_is_an_array_of_items() {
        let (_dir, journal) = journal();
        let out = write_report(
            Some(&journal),
            ReportFormat::Json,
            false,
            Vec::new(),
            "test",
        )
        .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let items = value.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["state"], "failed");
        assert_eq!(items[0]["error"], "rejected INBOX/7: too big, \"50MB\"");
        assert_eq!(items[1]["change"], "created");
        assert_eq!(items[1]["attempts"], 1);
    }

    #[test]
    fn no_journal_gives_an_empty_report() {
        let out = write_report(None, ReportFormat::Json, false, Vec::new(), "test").unwrap();
        assert_eq!(out, b"[]\n");
        let out = write_report(None, ReportFormat::Csv, false, Vec::new(), "test").unwrap();
        assert_eq!(
            out,
            b"phase,key,state,change,error,attempts,started_at,finished_at\n"
        );
    }
}

//! The rows of one CSV file as UTF-8 text with their line numbers: the common
//! ground of every CSV file of an export.
//!
//! RFC 4180 through the `csv` crate, which also drops a leading UTF-8 BOM. Every
//! row is returned, header included, and rows may have any number of fields: the
//! callers check widths so they can say which row is wrong and how.

use std::fs::File;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};

use crate::error::{Error, Result};

/// One row: its fields as text and the 1-based physical line where it starts.
#[derive(Debug)]
pub(super) struct CsvRow {
    /// The line where the record starts.
    pub line: u64,
    /// The fields, untrimmed.
    pub fields: Vec<String>,
}

impl CsvRow {
    /// The trimmed field at `index`, `None` when absent or empty.
    pub fn get(&self, index: Option<usize>) -> Option<&str> {
        let value = self.fields.get(index?)?.trim();
        (!value.is_empty()).then_some(value)
    }

    /// True when any field spans several lines, the usual sign of a quote opened
    /// and never closed.
    pub fn has_multiline_field(&self) -> bool {
        self.fields.iter().any(|f| f.contains('\n'))
    }
}

/// The rows of a CSV file, each an item; a row that cannot be read (invalid UTF-8)
/// is an `Err` item and reading goes on. An I/O failure ends the rows.
pub(super) struct CsvRows {
    file: PathBuf,
    reader: csv::Reader<File>,
    record: ByteRecord,
    finished: bool,
    width: Option<usize>,
}

impl CsvRows {
    /// Opens `file`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(file: &Path) -> Result<Self> {
        let handle =
            File::open(file).map_err(|e| Error::io(format!("opening {}", file.display()), e))?;
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(handle);
        Ok(CsvRows {
            file: file.to_path_buf(),
            reader,
            record: ByteRecord::new(),
            finished: false,
            width: None,
        })
    }

    /// Declares how many fields a row has (the header's width). From then on a
    /// record that spans several lines *and* has another width is taken for a
    /// quote opened and never closed: it is returned (so the caller reports it at
    /// its line), and reading starts again at the record's second line, so the
    /// rows the stray quote swallowed are read as rows again.
    pub fn set_width(&mut self, width: usize) {
        self.width = Some(width);
    }

    /// Moves the reader to the line after the one starting at `start`.
    fn resync_after_first_line(&mut self, start: &csv::Position) -> std::io::Result<()> {
        use std::io::{BufRead, Seek, SeekFrom};
        let mut file = std::io::BufReader::new(File::open(&self.file)?);
        file.seek(SeekFrom::Start(start.byte()))?;
        let mut first_line = Vec::new();
        let n = file.read_until(b'\n', &mut first_line)?;
        let mut next = csv::Position::new();
        next.set_byte(start.byte() + n as u64)
            .set_line(start.line() + 1)
            .set_record(start.record() + 1);
        self.reader.seek(next).map_err(std::io::Error::other)
    }

    /// The file being read.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// An [`Error::Input`] about this file at `line`.
    pub fn error(&self, line: u64, message: impl Into<String>) -> Error {
        Error::input(&self.file, Some(line), message)
    }
}

impl Iterator for CsvRows {
    type Item = Result<CsvRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.finished = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, csv::Position::line);
                let fields: Option<Vec<String>> = self
                    .record
                    .iter()
                    .map(|f| std::str::from_utf8(f).ok().map(str::to_string))
                    .collect();
                let start = self.record.position().cloned();
                if let (Some(width), Some(fields), Some(start)) = (self.width, &fields, start) {
                    let unclosed_quote =
                        fields.len() != width && fields.iter().any(|f| f.contains('\n'));
                    if unclosed_quote {
                        if let Err(e) = self.resync_after_first_line(&start) {
                            self.finished = true;
                            return Some(Err(self.error(
                                line,
                                format!("cannot read the file again after a broken quote: {e}"),
                            )));
                        }
                    }
                }
                Some(match fields {
                    Some(fields) => Ok(CsvRow { line, fields }),
                    None => {
                        Err(self.error(line, "the row is not valid utf-8 (save the file as utf-8)"))
                    }
                })
            }
            Err(e) => {
                // Only I/O errors remain with a flexible byte reader; the reader
                // cannot go on after one.
                self.finished = true;
                let line = e.position().map(csv::Position::line);
                Some(Err(Error::input(
                    &self.file,
                    line,
                    format!("cannot read the file: {e}"),
                )))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Vec<Result<CsvRow>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        CsvRows::open(&path).unwrap().collect()
    }

    #[test]
    fn strips_bom_and_reports_start_lines_of_records() {
        let rows = rows("\u{feff}a,b\n\"multi\nline\",x\nlast,y\n".as_bytes());
        let rows: Vec<CsvRow> = rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(rows[0].fields, ["a", "b"]);
        assert_eq!(rows[1].line, 2);
        assert_eq!(rows[1].fields, ["multi\nline", "x"]);
        assert!(rows[1].has_multiline_field());
        assert_eq!(rows[2].line, 4);
    }

    #[test]
    fn an_unclosed_quote_swallows_no_later_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,b,c\nx,\"open,y\nnext,1,2\nlast,3,4\n").unwrap();
        let mut rows = CsvRows::open(&path).unwrap();
        let header = rows.next().unwrap().unwrap();
        rows.set_width(header.fields.len());
        let rest: Vec<CsvRow> = rows.map(Result::unwrap).collect();
        assert_eq!(rest[0].line, 2);
        assert!(rest[0].has_multiline_field());
        assert_eq!(
            (rest[1].line, rest[1].fields.clone()),
            (3, vec!["next".to_string(), "1".into(), "2".into()])
        );
        assert_eq!(
            (rest[2].line, rest[2].fields.clone()),
            (4, vec!["last".to_string(), "3".into(), "4".into()])
        );
        assert_eq!(rest.len(), 3);
    }

    #[test]
    fn invalid_utf8_row_is_one_error_and_reading_goes_on() {
        let rows = rows(b"a,b\nx\xff,y\nok,z\n");
        assert_eq!(rows.len(), 3);
        let err = rows[1].as_ref().unwrap_err().to_string();
        assert!(
            err.ends_with("t.csv:2: the row is not valid utf-8 (save the file as utf-8)"),
            "{err}"
        );
        assert_eq!(rows[2].as_ref().unwrap().fields, ["ok", "z"]);
    }
}

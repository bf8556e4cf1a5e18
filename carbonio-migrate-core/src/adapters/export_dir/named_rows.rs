//! CSV tables of named objects with attribute columns (`classes_of_service.csv`,
//! `domains.csv`): a `name` column, and every other column a Carbonio attribute
//! set as given. Empty cells are left out.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::Result;

use super::csv_rows::{CsvRow, CsvRows};

/// One object: its name as written, its attributes and its line.
#[derive(Debug)]
pub(super) struct NamedRow {
    /// The line where the row starts.
    pub line: u64,
    /// The trimmed name.
    pub name: String,
    /// Attribute name to value, empty cells left out.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug)]
struct NamedHeader {
    name: usize,
    attributes: Vec<(usize, String)>,
    width: usize,
}

impl NamedHeader {
    fn read(header: &CsvRow, file: &Path) -> (Option<Self>, Vec<String>) {
        let mut name = None;
        let mut attributes = Vec::new();
        let mut warnings = Vec::new();
        for (index, cell) in header.fields.iter().enumerate() {
            let cell = cell.trim();
            if cell.eq_ignore_ascii_case("name") && name.is_none() {
                name = Some(index);
            } else if cell.is_empty() {
                warnings.push(format!(
                    "{}: column {} has no name in the header; it is ignored",
                    file.display(),
                    index + 1
                ));
            } else {
                attributes.push((index, cell.to_string()));
            }
        }
        let header = name.map(|name| NamedHeader {
            name,
            attributes,
            width: header.fields.len(),
        });
        (header, warnings)
    }
}

/// The rows of a named table, each an item: `Err` for a bad row (wrong width,
/// empty or repeated name), the rest unaffected.
pub(super) struct NamedRows {
    rows: CsvRows,
    header: Option<NamedHeader>,
    what: &'static str,
    first_lines: HashMap<String, u64>,
    finished: bool,
}

impl NamedRows {
    /// Opens `file`; `what` names one object in messages ("domain").
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be opened.
    pub fn open(file: &Path, what: &'static str) -> Result<Self> {
        Ok(NamedRows {
            rows: CsvRows::open(file)?,
            header: None,
            what,
            first_lines: HashMap::new(),
            finished: false,
        })
    }

    /// The warnings about the header of `file` (columns without a name).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be opened.
    pub fn header_warnings(file: &Path) -> Result<Vec<String>> {
        let mut rows = CsvRows::open(file)?;
        Ok(match rows.next() {
            Some(Ok(header)) => NamedHeader::read(&header, file).1,
            _ => Vec::new(),
        })
    }

    fn parse(&mut self, row: CsvRow) -> Result<NamedRow> {
        let Some(header) = &self.header else {
            return Err(self.rows.error(row.line, "no header row"));
        };
        if row.fields.len() != header.width {
            return Err(self.rows.error(
                row.line,
                format!(
                    "the row has {} fields, the header has {}",
                    row.fields.len(),
                    header.width
                ),
            ));
        }
        let Some(name) = row.get(Some(header.name)) else {
            return Err(self.rows.error(row.line, "the name cell is empty"));
        };
        let attributes = header
            .attributes
            .iter()
            .filter_map(|(index, attribute)| {
                row.get(Some(*index))
                    .map(|value| (attribute.clone(), value.to_string()))
            })
            .collect();
        let name = name.to_string();
        if let Some(first) = self.first_lines.get(&name.to_lowercase()) {
            return Err(self.rows.error(
                row.line,
                format!(
                    "duplicate {} {name}, first defined at line {first}",
                    self.what
                ),
            ));
        }
        self.first_lines.insert(name.to_lowercase(), row.line);
        Ok(NamedRow {
            line: row.line,
            name,
            attributes,
        })
    }
}

impl Iterator for NamedRows {
    type Item = Result<NamedRow>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        if self.header.is_none() {
            match self.rows.next() {
                None => {
                    self.finished = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                Some(Ok(header)) => match NamedHeader::read(&header, self.rows.file()).0 {
                    Some(parsed) => {
                        self.rows.set_width(header.fields.len());
                        self.header = Some(parsed);
                    }
                    None => {
                        self.finished = true;
                        return Some(Err(self
                            .rows
                            .error(header.line, "missing required column \"name\"")));
                    }
                },
            }
        }
        match self.rows.next()? {
            Ok(row) => Some(self.parse(row)),
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<NamedRow>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        NamedRows::open(&path, "thing").unwrap().collect()
    }

    #[test]
    fn rows_with_attributes_and_errors() {
        let items = read(
            "Name,zimbraMailQuota,description\ngold,100,\"a, b\"\n,1,2\nGOLD,1,\nsilver,,x\nx,1\n",
        );
        let good = items[0].as_ref().unwrap();
        assert_eq!(good.name, "gold");
        assert_eq!(good.attributes.get("zimbraMailQuota").unwrap(), "100");
        assert_eq!(good.attributes.get("description").unwrap(), "a, b");
        let errors: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .map(|e| e.to_string().rsplit_once("t.csv:").unwrap().1.to_string())
            .collect();
        assert_eq!(
            errors,
            [
                "3: the name cell is empty",
                "4: duplicate thing GOLD, first defined at line 2",
                "6: the row has 2 fields, the header has 3",
            ]
        );
        let silver = items[3].as_ref().unwrap();
        assert!(!silver.attributes.contains_key("zimbraMailQuota"));
    }

    #[test]
    fn missing_name_column() {
        let items = read("cn,x\ngold,1\n");
        assert_eq!(items.len(), 1);
        assert!(items[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .ends_with("t.csv:1: missing required column \"name\""));
    }
}

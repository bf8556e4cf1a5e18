//! `distribution_lists.csv`: `listAddress, description, displayName, member,
//! member, ...`, one list a row, with or without a header row.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::model::{DistributionList, EmailAddress};

use super::accounts_csv::AccountIndex;
use super::csv_rows::{CsvRow, CsvRows};

/// The file name inside the export.
pub(super) const LISTS_FILE: &str = "distribution_lists.csv";

/// The first column's title that marks the first row as a header.
const HEADER_FIRST_CELL: &str = "listAddress";

fn is_header(row: &CsvRow) -> bool {
    row.fields
        .first()
        .is_some_and(|cell| cell.trim().eq_ignore_ascii_case(HEADER_FIRST_CELL))
}

/// The lists of the file, one item a row. A row with a bad list or member address
/// is an `Err` as a whole, so the admin fixes it rather than losing a member.
pub(super) struct ListRows<'a> {
    rows: CsvRows,
    accounts: &'a AccountIndex,
    first_lines: HashMap<EmailAddress, u64>,
    at_first_row: bool,
}

impl<'a> ListRows<'a> {
    /// Opens `file`; list addresses are checked against the accounts of `accounts`.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the file cannot be opened.
    pub fn open(file: &Path, accounts: &'a AccountIndex) -> Result<Self> {
        Ok(ListRows {
            rows: CsvRows::open(file)?,
            accounts,
            first_lines: HashMap::new(),
            at_first_row: true,
        })
    }

    fn parse(&mut self, row: &CsvRow) -> Result<DistributionList> {
        let fail = |message: String| self.rows.error(row.line, message);
        let Some(address) = row.get(Some(0)) else {
            return Err(fail("the list address is empty".into()));
        };
        let address = EmailAddress::parse(address).map_err(|e| fail(e.to_string()))?;
        if let Some(first) = self.first_lines.get(&address) {
            return Err(fail(format!(
                "duplicate list {address}, first defined at line {first}"
            )));
        }
        if let Some(line) = self.accounts.line_of(&address) {
            return Err(fail(format!(
                "list {address} is also the account at accounts.csv line {line}"
            )));
        }
        self.first_lines.insert(address.clone(), row.line);
        let mut list = DistributionList::new(address);
        list.description = row.get(Some(1)).map(str::to_string);
        list.display_name = row.get(Some(2)).map(str::to_string);
        for (index, member) in row.fields.iter().enumerate().skip(3) {
            let member = member.trim();
            if member.is_empty() {
                continue;
            }
            let member = EmailAddress::parse(member)
                .map_err(|e| fail(format!("member in column {}: {e}", index + 1)))?;
            // A member named twice is still one member.
            if !list.members.contains(&member) {
                list.members.push(member);
            }
        }
        Ok(list)
    }
}

impl Iterator for ListRows<'_> {
    type Item = Result<DistributionList>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let row = match self.rows.next()? {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            let first = std::mem::replace(&mut self.at_first_row, false);
            if first && is_header(&row) {
                continue;
            }
            return Some(self.parse(&row));
        }
    }
}

/// The list addresses of `file` that parse, for deriving domains (bad rows are
/// reported by [`ListRows`]).
///
/// # Errors
/// [`crate::Error::Io`] when the file cannot be opened.
pub(super) fn list_addresses(file: &Path) -> Result<impl Iterator<Item = EmailAddress> + Send> {
    let mut first = true;
    Ok(CsvRows::open(file)?.flatten().filter_map(move |row| {
        let header = std::mem::replace(&mut first, false) && is_header(&row);
        if header {
            return None;
        }
        row.get(Some(0)).and_then(|a| EmailAddress::parse(a).ok())
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<DistributionList>> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("accounts.csv"), "email\nada@x.org\n").unwrap();
        let (index, _) = AccountIndex::scan(
            &dir.path().join("accounts.csv"),
            &super::super::accounts_csv::ColumnNames::default(),
        )
        .unwrap();
        let path = dir.path().join(LISTS_FILE);
        std::fs::write(&path, text).unwrap();
        ListRows::open(&path, &index).unwrap().collect()
    }

    fn errors(items: &[Result<DistributionList>]) -> Vec<String> {
        items
            .iter()
            .filter_map(|i| i.as_ref().err())
            .map(|e| {
                e.to_string()
                    .rsplit_once("lists.csv:")
                    .unwrap()
                    .1
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn header_is_optional_and_members_vary() {
        for text in [
            "ListAddress,description,displayName,member,member\nall@x.org,Everyone,All,ada@x.org,ext@other.net,ada@x.org\nsmall@x.org,,,\n",
            "all@x.org,Everyone,All,ada@x.org,ext@other.net,ada@x.org\nsmall@x.org\n",
        ] {
            let items = read(text);
            assert_eq!(items.len(), 2);
            let all = items[0].as_ref().unwrap();
            assert_eq!(all.address.as_str(), "all@x.org");
            assert_eq!(all.description.as_deref(), Some("Everyone"));
            assert_eq!(all.display_name.as_deref(), Some("All"));
            let members: Vec<&str> = all.members.iter().map(EmailAddress::as_str).collect();
            assert_eq!(members, ["ada@x.org", "ext@other.net"]);
            assert!(items[1].as_ref().unwrap().members.is_empty());
        }
    }

    #[test]
    fn bad_rows_are_errors_and_the_rest_goes_on() {
        let items = read(
            "listAddress,description,displayName,member\n\
             bad,,,\n\
             l1@x.org,,,nobody\n\
             l2@x.org,,,ada@x.org\n\
             l2@x.org,,,\n\
             ada@x.org,,,\n\
             ,,,\n",
        );
        assert_eq!(
            errors(&items),
            [
                "2: invalid e-mail address \"bad\": it has no '@'",
                "3: member in column 4: invalid e-mail address \"nobody\": it has no '@'",
                "5: duplicate list l2@x.org, first defined at line 4",
                "6: list ada@x.org is also the account at accounts.csv line 2",
                "7: the list address is empty",
            ]
        );
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 1);
    }
}

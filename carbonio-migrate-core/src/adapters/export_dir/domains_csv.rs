//! Domains: the rows of `domains.csv`, then every other domain the accounts,
//! aliases and lists use, each once in first-seen order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::{Domain, DomainName, EmailAddress};

use super::accounts_csv::{AccountColumns, ColumnNames};
use super::csv_rows::CsvRows;
use super::lists_csv::list_addresses;
use super::named_rows::NamedRows;

/// The file name inside the export.
pub(super) const DOMAINS_FILE: &str = "domains.csv";

/// Every domain to create, each once. Addresses that do not parse are skipped
/// here: the accounts and lists streams report them.
pub(super) struct DomainRows {
    listed: Option<NamedRows>,
    listed_file: PathBuf,
    used: Box<dyn Iterator<Item = EmailAddress> + Send>,
    seen: HashSet<DomainName>,
}

impl DomainRows {
    /// Opens the files: `domains` and `lists` may be absent.
    ///
    /// # Errors
    /// [`Error::Io`] when a present file cannot be opened.
    pub fn open(
        domains: &Path,
        accounts: &Path,
        lists: &Path,
        names: &ColumnNames,
    ) -> Result<Self> {
        let listed = if domains.is_file() {
            Some(NamedRows::open(domains, "domain")?)
        } else {
            None
        };
        let mut account_rows = CsvRows::open(accounts)?;
        let columns = match account_rows.next() {
            Some(Ok(header)) => {
                account_rows.set_width(header.fields.len());
                Some(AccountColumns::from_header(&header, accounts, names).0)
            }
            _ => None,
        }
        .filter(AccountColumns::has_email);
        let from_accounts: Box<dyn Iterator<Item = EmailAddress> + Send> = match columns {
            // Rows are read one at a time as the stream is polled.
            Some(columns) => Box::new(
                account_rows
                    .flatten()
                    .flat_map(move |row| columns.addresses_of(&row)),
            ),
            None => Box::new(std::iter::empty()),
        };
        let from_lists: Box<dyn Iterator<Item = EmailAddress> + Send> = if lists.is_file() {
            Box::new(list_addresses(lists)?)
        } else {
            Box::new(std::iter::empty())
        };
        Ok(DomainRows {
            listed,
            listed_file: domains.to_path_buf(),
            used: Box::new(from_accounts.chain(from_lists)),
            seen: HashSet::new(),
        })
    }
}

impl Iterator for DomainRows {
    type Item = Result<Domain>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(listed) = &mut self.listed {
            match listed.next() {
                Some(Ok(row)) => {
                    return Some(match DomainName::parse(&row.name) {
                        Ok(name) => {
                            self.seen.insert(name.clone());
                            let mut domain = Domain::new(name);
                            domain.attributes = row.attributes;
                            Ok(domain)
                        }
                        Err(e) => Err(Error::input(
                            &self.listed_file,
                            Some(row.line),
                            e.to_string(),
                        )),
                    })
                }
                Some(Err(e)) => return Some(Err(e)),
                None => self.listed = None,
            }
        }
        for address in self.used.by_ref() {
            let name = address.domain();
            if self.seen.insert(name.clone()) {
                return Some(Ok(Domain::new(name)));
            }
        }
        None
    }
}

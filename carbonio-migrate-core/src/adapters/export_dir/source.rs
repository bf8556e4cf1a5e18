//! [`ExportDirSource`]: the [`Source`] over an export directory.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures::StreamExt;

use crate::capability::{Capabilities, Capability};
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, DistributionList, Domain, EmailAddress, Password, Secret,
};
use crate::source::{MailboxReader, ResultStream, Source};

use super::accounts_csv::{AccountIndex, AccountRows, ColumnNames, ACCOUNTS_FILE};
use super::blocking::run_blocking;
use super::calendar::CalendarAppointments;
use super::config::ExportDirConfig;
use super::contacts::VcardContacts;
use super::cos_csv::{cos_names, cos_rows, COS_FILE};
use super::domains_csv::{DomainRows, DOMAINS_FILE};
use super::lists_csv::{ListRows, LISTS_FILE};
use super::mailbox::ExportDirMailbox;
use super::named_rows::NamedRows;

/// The adapter's registered name.
const KIND: &str = "export-dir";

/// Reads a directory exported from a generic mail system: CSV files of accounts,
/// lists, classes of service and domains; mail as `.eml` files and mbox files;
/// calendars as ICS and contacts as vCard files. See the module documentation for
/// the layout and the rules.
///
/// Opening reads `accounts.csv` once to index account addresses (so duplicates
/// and clashing aliases are found wherever they are) and looks at the per-account
/// directories to report the ones no account claims.
#[derive(Debug)]
pub struct ExportDirSource {
    root: PathBuf,
    files: ExportFiles,
    options: AccountOptions,
    accounts: AccountIndex,
    known_cos: Option<HashSet<String>>,
    mail_dirs: HashMap<EmailAddress, PathBuf>,
    calendars: HashMap<EmailAddress, PathBuf>,
    address_books: HashMap<EmailAddress, PathBuf>,
    warnings: Vec<String>,
}

impl ExportDirSource {
    /// Opens the export at `config.path`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the path when the directory or its `accounts.csv`
    /// is missing; [`Error::Io`] when a file or directory cannot be read.
    pub fn open(config: &ExportDirConfig) -> Result<Self> {
        let root = config.path.clone();
        if !root.is_dir() {
            return Err(Error::config(format!(
                "export directory {} does not exist or is not a directory",
                root.display()
            )));
        }
        let accounts_file = root.join(ACCOUNTS_FILE);
        if !accounts_file.is_file() {
            return Err(Error::config(format!(
                "{} is missing: an export directory needs accounts.csv",
                accounts_file.display()
            )));
        }
        let files = ExportFiles {
            accounts: accounts_file,
            lists: root.join(LISTS_FILE),
            classes_of_service: root.join(COS_FILE),
            domains: root.join(DOMAINS_FILE),
        };
        Self::open_files(root, files, AccountOptions::default())
    }

    /// Reads the given CSV files (a file that does not exist counts as empty,
    /// except the accounts file), with per-account mail, calendars and contacts
    /// under `root` when present. Used by the `csv` provisioning source.
    ///
    /// # Errors
    /// As [`ExportDirSource::open`].
    pub fn open_files(root: PathBuf, files: ExportFiles, options: AccountOptions) -> Result<Self> {
        if !files.accounts.is_file() {
            return Err(Error::config(format!(
                "the accounts file {} does not exist",
                files.accounts.display()
            )));
        }
        let (accounts, mut warnings) = AccountIndex::scan(&files.accounts, &options.column_names)?;

        let cos_file = files.classes_of_service.clone();
        let known_cos = if cos_file.is_file() {
            let (names, cos_warnings) = cos_names(&cos_file)?;
            warnings.extend(cos_warnings);
            Some(names)
        } else {
            None
        };
        let domains_file = files.domains.clone();
        if domains_file.is_file() {
            warnings.extend(NamedRows::header_warnings(&domains_file)?);
        }

        let mail_dirs = per_account_entries(&root.join("mail"), None, &accounts, &mut warnings)?;
        let calendars = per_account_entries(
            &root.join("calendar"),
            Some(".ics"),
            &accounts,
            &mut warnings,
        )?;
        let address_books = per_account_entries(
            &root.join("contacts"),
            Some(".vcf"),
            &accounts,
            &mut warnings,
        )?;

        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        Ok(ExportDirSource {
            root,
            files,
            options,
            accounts,
            known_cos,
            mail_dirs,
            calendars,
            address_books,
            warnings,
        })
    }

    /// What an admin must see though nothing failed: unknown CSV columns, mail,
    /// calendar or contact files of addresses that are not accounts, stray files.
    /// Each was also logged with `tracing::warn!` when the source opened.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// The CSV files a source reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFiles {
    /// Accounts (required).
    pub accounts: PathBuf,
    /// Distribution lists (optional: absent means none).
    pub lists: PathBuf,
    /// Classes of service (optional).
    pub classes_of_service: PathBuf,
    /// Domains with attributes (optional; other domains come from addresses).
    pub domains: PathBuf,
}

/// How account rows become accounts beyond what the row says.
#[derive(Clone, Debug, Default)]
pub struct AccountOptions {
    /// The file's own names for the official columns.
    pub column_names: ColumnNames,
    /// Option 1 of the official procedure: every account without a password,
    /// a hash or a recovery address gets this shared initial password and must
    /// change it at first login.
    pub initial_password: Option<Secret>,
}

impl AccountOptions {
    /// Applies the options to one account read from a row.
    fn apply(&self, mut account: Account) -> Account {
        let recovery = account
            .attributes
            .contains_key("zimbraPrefPasswordRecoveryAddress");
        if let (Some(initial), Password::None, false) =
            (&self.initial_password, &account.password, recovery)
        {
            account.password = Password::Clear(initial.clone());
            account.must_change_password = true;
        }
        account
    }
}

/// The entries of `dir` (`mail/`, `calendar/`, `contacts/`) by the account they
/// belong to: directories when `extension` is `None`, else files ending in it.
/// Names are matched to accounts case-insensitively; every other entry is a warning.
fn per_account_entries(
    dir: &Path,
    extension: Option<&str>,
    accounts: &AccountIndex,
    warnings: &mut Vec<String>,
) -> Result<HashMap<EmailAddress, PathBuf>> {
    let mut found = HashMap::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let io_error = |e| Error::io(format!("reading directory {}", dir.display()), e);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io_error)?;
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stem = match extension {
            None if path.is_dir() => Some(name),
            None => {
                warnings.push(format!(
                    "{} is not a directory; mail is read from mail/<account address>/ directories",
                    path.display()
                ));
                continue;
            }
            Some(ext) => name
                .len()
                .checked_sub(ext.len())
                .filter(|&cut| path.is_file() && name[cut..].eq_ignore_ascii_case(ext))
                .map(|cut| &name[..cut]),
        };
        let Some(stem) = stem else {
            warnings.push(format!(
                "{} is not a {} file; it is ignored",
                path.display(),
                extension.unwrap_or_default()
            ));
            continue;
        };
        let account = EmailAddress::parse(stem)
            .ok()
            .filter(|a| accounts.line_of(a).is_some());
        let Some(account) = account else {
            warnings.push(format!(
                "{} belongs to no account of accounts.csv; it is not migrated",
                path.display()
            ));
            continue;
        };
        if let Some(first) = found.get(&account) {
            warnings.push(format!(
                "{} and {} belong to the same account {account}; only the first is read",
                first.display(),
                path.display()
            ));
            continue;
        }
        found.insert(account, path);
    }
    Ok(found)
}

#[async_trait]
impl Source for ExportDirSource {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn location(&self) -> String {
        format!("export-dir at {}", self.root.display())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Domains,
            Capability::ClassesOfService,
            Capability::Accounts,
            Capability::DistributionLists,
            Capability::Mail,
            Capability::Appointments,
            Capability::Contacts,
        ])
    }

    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        let rows = DomainRows::open(
            &self.files.domains,
            &self.files.accounts,
            &self.files.lists,
            &self.options.column_names,
        )?;
        Ok(futures::stream::iter(rows).boxed())
    }

    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        let file = self.files.classes_of_service.clone();
        if !file.is_file() {
            return Ok(futures::stream::empty().boxed());
        }
        Ok(futures::stream::iter(cos_rows(&file)?).boxed())
    }

    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        let rows = AccountRows::open(
            &self.files.accounts,
            &self.accounts,
            self.known_cos.as_ref(),
            &self.options.column_names,
        )?;
        let options = &self.options;
        Ok(futures::stream::iter(rows.map(move |row| row.map(|a| options.apply(a)))).boxed())
    }

    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        let file = self.files.lists.clone();
        if !file.is_file() {
            return Ok(futures::stream::empty().boxed());
        }
        Ok(futures::stream::iter(ListRows::open(&file, &self.accounts)?).boxed())
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        let dir = self
            .mail_dirs
            .get(&account.address)
            .cloned()
            .unwrap_or_else(|| self.root.join("mail").join(account.address.as_str()));
        Ok(Box::new(ExportDirMailbox::new(
            account.address.clone(),
            dir,
        )))
    }

    async fn appointments(&self, account: &Account) -> Result<ResultStream<'_, Appointment>> {
        let file = self
            .calendars
            .get(&account.address)
            .cloned()
            .unwrap_or_else(|| {
                self.root
                    .join("calendar")
                    .join(format!("{}.ics", account.address))
            });
        if !file.is_file() {
            return Ok(futures::stream::empty().boxed());
        }
        let what = format!("reading {}", file.display());
        let appointments = run_blocking(what, move || CalendarAppointments::open(&file)).await?;
        Ok(futures::stream::iter(appointments).boxed())
    }

    async fn contacts(&self, account: &Account) -> Result<ResultStream<'_, Contact>> {
        let file = self
            .address_books
            .get(&account.address)
            .cloned()
            .unwrap_or_else(|| {
                self.root
                    .join("contacts")
                    .join(format!("{}.vcf", account.address))
            });
        if !file.is_file() {
            return Ok(futures::stream::empty().boxed());
        }
        Ok(futures::stream::iter(VcardContacts::open(&file)?).boxed())
    }
}

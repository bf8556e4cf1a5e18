//! `accounts.csv`: one account a row, columns found by header name.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::error::Result;
use crate::model::{Account, CosName, EmailAddress, Password, PasswordHash, Secret};

use super::csv_rows::{CsvRow, CsvRows};

/// The file name inside the export.
pub(super) const ACCOUNTS_FILE: &str = "accounts.csv";

/// The header names understood, as an admin writes them (matched case-insensitively).
const KNOWN_COLUMNS: &str = "email, givenName, surname (or sn), displayName, password, \
password_hash, must_change, recoveryEmail, aliases, cos, source_user, source_password";

/// Where each understood column is, from the header row.
#[derive(Clone, Debug, Default)]
pub(super) struct AccountColumns {
    email: Option<usize>,
    given_name: Option<usize>,
    surname: Option<usize>,
    display_name: Option<usize>,
    password: Option<usize>,
    password_hash: Option<usize>,
    must_change: Option<usize>,
    recovery_email: Option<usize>,
    aliases: Option<usize>,
    cos: Option<usize>,
    source_user: Option<usize>,
    source_password: Option<usize>,
    width: usize,
}

impl AccountColumns {
    /// Reads the header row; returns the layout and a warning for each column that
    /// is not understood or repeated.
    pub fn from_header(header: &CsvRow, file: &Path, names: &ColumnNames) -> (Self, Vec<String>) {
        let mut columns = AccountColumns {
            width: header.fields.len(),
            ..AccountColumns::default()
        };
        let mut warnings = Vec::new();
        for (index, name) in header.fields.iter().enumerate() {
            let name = name.trim();
            let slot = match names.canonical(name).as_str() {
                "email" => &mut columns.email,
                "givenname" => &mut columns.given_name,
                "surname" | "sn" => &mut columns.surname,
                "displayname" => &mut columns.display_name,
                "password" => &mut columns.password,
                "password_hash" => &mut columns.password_hash,
                "must_change" => &mut columns.must_change,
                "recoveryemail" => &mut columns.recovery_email,
                "aliases" => &mut columns.aliases,
                "cos" => &mut columns.cos,
                "source_user" => &mut columns.source_user,
                "source_password" => &mut columns.source_password,
                _ => {
                    warnings.push(format!(
                        "{}: unknown column {name:?} is ignored (known columns: {KNOWN_COLUMNS})",
                        file.display()
                    ));
                    continue;
                }
            };
            if slot.is_some() {
                warnings.push(format!(
                    "{}: column {name:?} appears more than once; only the first is read",
                    file.display()
                ));
            } else {
                *slot = Some(index);
            }
        }
        (columns, warnings)
    }

    /// Whether the required `email` column is there.
    pub fn has_email(&self) -> bool {
        self.email.is_some()
    }

    /// The addresses a row names (its own, then its aliases), skipping what does
    /// not parse: for deriving domains, where bad rows are `accounts()`'s to report.
    pub fn addresses_of(&self, row: &CsvRow) -> Vec<EmailAddress> {
        if row.fields.len() != self.width {
            return Vec::new();
        }
        let own = row
            .get(self.email)
            .and_then(|a| EmailAddress::parse(a).ok());
        let aliases = row
            .get(self.aliases)
            .into_iter()
            .flat_map(split_aliases)
            .filter_map(|a| EmailAddress::parse(a).ok());
        own.into_iter().chain(aliases).collect()
    }
}

/// The account file's own header names for the known columns, when they differ
/// from the official ones (`columns = { email = "Mail Address" }`): header name,
/// lowercased → official name, lowercased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnNames(HashMap<String, String>);

impl ColumnNames {
    /// From a map of official name → the file's header name.
    pub fn new<'a>(official_to_header: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        ColumnNames(
            official_to_header
                .into_iter()
                .map(|(official, header)| {
                    (header.trim().to_lowercase(), official.trim().to_lowercase())
                })
                .collect(),
        )
    }

    /// The official (lowercase) name a header cell stands for.
    fn canonical(&self, header: &str) -> String {
        let lower = header.to_lowercase();
        self.0.get(&lower).cloned().unwrap_or(lower)
    }
}

fn split_aliases(list: &str) -> impl Iterator<Item = &str> {
    list.split(';').map(str::trim).filter(|a| !a.is_empty())
}

/// Reads the header of `file`: its layout, or the error when it is unusable.
fn read_header(rows: &mut CsvRows, names: &ColumnNames) -> Result<(AccountColumns, Vec<String>)> {
    match rows.next() {
        None => Err(rows.error(
            1,
            "the file is empty: a header row with an \"email\" column is required",
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(header)) => {
            let (columns, warnings) = AccountColumns::from_header(&header, rows.file(), names);
            rows.set_width(columns.width);
            if columns.has_email() {
                Ok((columns, warnings))
            } else {
                Err(rows.error(header.line, "missing required column \"email\""))
            }
        }
    }
}

/// The primary address of every account and the line first defining it, built
/// once when the source opens: duplicates and aliases that take another account's
/// address are recognised wherever in the file they are.
#[derive(Debug, Default)]
pub(super) struct AccountIndex {
    first_lines: HashMap<EmailAddress, u64>,
}

impl AccountIndex {
    /// Scans `file`; also returns the header warnings. A file whose header is
    /// unusable gives an empty index (the accounts stream reports why).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn scan(file: &Path, names: &ColumnNames) -> Result<(Self, Vec<String>)> {
        let mut rows = CsvRows::open(file)?;
        let mut index = AccountIndex::default();
        let Ok((columns, warnings)) = read_header(&mut rows, names) else {
            return Ok((index, Vec::new()));
        };
        for row in rows.flatten() {
            if row.fields.len() != columns.width {
                continue;
            }
            if let Some(address) = row
                .get(columns.email)
                .and_then(|a| EmailAddress::parse(a).ok())
            {
                index.first_lines.entry(address).or_insert(row.line);
            }
        }
        Ok((index, warnings))
    }

    /// The line first defining `address` as an account.
    pub fn line_of(&self, address: &EmailAddress) -> Option<u64> {
        self.first_lines.get(address).copied()
    }
}

/// The accounts of `accounts.csv`, one item a row: an `Err` for each bad row
/// (one per row, naming file and line), the good rows around it unaffected.
pub(super) struct AccountRows<'a> {
    rows: CsvRows,
    columns: Option<AccountColumns>,
    index: &'a AccountIndex,
    /// Lowercased names from `classes_of_service.csv`; `None` accepts any CoS.
    known_cos: Option<&'a HashSet<String>>,
    names: &'a ColumnNames,
    alias_lines: HashMap<EmailAddress, u64>,
    finished: bool,
}

impl<'a> AccountRows<'a> {
    /// Opens `file` for reading accounts.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(
        file: &Path,
        index: &'a AccountIndex,
        known_cos: Option<&'a HashSet<String>>,
        names: &'a ColumnNames,
    ) -> Result<Self> {
        Ok(AccountRows {
            rows: CsvRows::open(file)?,
            columns: None,
            index,
            known_cos,
            names,
            alias_lines: HashMap::new(),
            finished: false,
        })
    }

    fn parse(&mut self, columns: &AccountColumns, row: &CsvRow) -> Result<Account> {
        let fail = |message: String| self.rows.error(row.line, message);
        if row.fields.len() != columns.width {
            let hint = if row.has_multiline_field() {
                " (a quoted field runs over several lines: is a closing quote missing?)"
            } else {
                ""
            };
            return Err(fail(format!(
                "the row has {} fields, the header has {}{hint}",
                row.fields.len(),
                columns.width
            )));
        }
        let Some(email) = row.get(columns.email) else {
            return Err(fail("the email cell is empty".into()));
        };
        let address = EmailAddress::parse(email).map_err(|e| fail(e.to_string()))?;
        if let Some(first) = self.index.line_of(&address) {
            if first != row.line {
                return Err(fail(format!(
                    "duplicate account {address}, first defined at line {first}"
                )));
            }
        }
        let mut account = Account::new(address);

        for alias in row.get(columns.aliases).into_iter().flat_map(split_aliases) {
            let alias = EmailAddress::parse(alias).map_err(|e| fail(format!("alias: {e}")))?;
            if alias == account.address {
                return Err(fail(format!("alias {alias} is the account's own address")));
            }
            if let Some(line) = self.index.line_of(&alias) {
                return Err(fail(format!(
                    "alias {alias} is the address of the account defined at line {line}"
                )));
            }
            if let Some(first) = self.alias_lines.get(&alias) {
                return Err(fail(format!(
                    "duplicate alias {alias}, first defined at line {first}"
                )));
            }
            self.alias_lines.insert(alias.clone(), row.line);
            account.aliases.push(alias);
        }

        account.given_name = row.get(columns.given_name).map(str::to_string);
        account.surname = row.get(columns.surname).map(str::to_string);
        account.display_name = row.get(columns.display_name).map(str::to_string);

        account.password = match (row.get(columns.password), row.get(columns.password_hash)) {
            (Some(_), Some(_)) => {
                return Err(fail(
                    "both password and password_hash are set; keep one of them".into(),
                ))
            }
            (Some(clear), None) => Password::Clear(Secret::new(clear)),
            (None, Some(hash)) => {
                Password::Hash(PasswordHash::parse(hash).map_err(|e| fail(e.to_string()))?)
            }
            (None, None) => Password::None,
        };

        if let Some(value) = row.get(columns.must_change) {
            account.must_change_password = parse_bool(value).ok_or_else(|| {
                fail(format!(
                    "invalid must_change value {value:?}: use true, false, yes, no, 1 or 0"
                ))
            })?;
        }

        if let Some(recovery) = row.get(columns.recovery_email) {
            let recovery =
                EmailAddress::parse(recovery).map_err(|e| fail(format!("recoveryEmail: {e}")))?;
            account.attributes.insert(
                "zimbraPrefPasswordRecoveryAddress".into(),
                recovery.to_string(),
            );
            account.attributes.insert(
                "zimbraPrefPasswordRecoveryAddressStatus".into(),
                "verified".into(),
            );
            account
                .attributes
                .insert("zimbraFeatureResetPasswordStatus".into(), "enabled".into());
        }

        if let Some(cos) = row.get(columns.cos) {
            let cos = CosName::parse(cos).map_err(|e| fail(e.to_string()))?;
            if let Some(known) = self.known_cos {
                if !known.contains(&cos.as_str().to_lowercase()) {
                    return Err(fail(format!(
                        "unknown class of service {:?}: it is not in classes_of_service.csv",
                        cos.as_str()
                    )));
                }
            }
            account.cos = Some(cos);
        }

        account.source_user = row.get(columns.source_user).map(str::to_string);
        account.source_password = row.get(columns.source_password).map(Secret::new);
        Ok(account)
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

impl Iterator for AccountRows<'_> {
    type Item = Result<Account>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let columns = match self.columns.take() {
            Some(columns) => columns,
            None => match read_header(&mut self.rows, self.names) {
                Ok((columns, _warnings_reported_at_open)) => columns,
                Err(e) => {
                    // Without a usable header no row can be understood.
                    self.finished = true;
                    return Some(Err(e));
                }
            },
        };
        let item = match self.rows.next() {
            None => {
                self.finished = true;
                None
            }
            Some(Err(e)) => Some(Err(e)),
            Some(Ok(row)) => Some(self.parse(&columns, &row)),
        };
        self.columns = Some(columns);
        item
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;
    use crate::Error;

    static NAMES: std::sync::LazyLock<ColumnNames> = std::sync::LazyLock::new(ColumnNames::default);

    fn line_of(error: &Error) -> Option<u64> {
        match error {
            Error::Input { line, .. } => *line,
            _ => None,
        }
    }

    fn read(text: &str, cos: Option<&[&str]>) -> Vec<Result<Account>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        std::fs::write(&path, text).unwrap();
        let (index, _) = AccountIndex::scan(&path, &ColumnNames::default()).unwrap();
        let cos: Option<HashSet<String>> =
            cos.map(|names| names.iter().map(|n| n.to_lowercase()).collect());
        AccountRows::open(&path, &index, cos.as_ref(), &NAMES)
            .unwrap()
            .collect()
    }

    fn message(item: &Result<Account>) -> String {
        let err = item.as_ref().unwrap_err();
        let text = err.to_string();
        let (_, rest) = text.split_once("accounts.csv:").unwrap();
        assert_eq!(
            line_of(err).map(|l| l.to_string()),
            rest.split(':').next().map(str::to_string)
        );
        rest.to_string()
    }

    #[test]
    fn reads_every_column() {
        let items = read(
            "Email,GivenName,SN,displayName,password_hash,must_change,recoveryEmail,aliases,COS,source_user,source_password\n\
             Ada@X.org,Ada,Lovelace,Ada L.,{SSHA}abc=,yes,ada@home.net,a@x.org; al@y.org,Gold,ada,pw\n",
            Some(&["gold"]),
        );
        let a = items[0].as_ref().unwrap();
        assert_eq!(a.address.as_str(), "ada@x.org");
        assert_eq!(a.given_name.as_deref(), Some("Ada"));
        assert_eq!(a.surname.as_deref(), Some("Lovelace"));
        assert_eq!(a.display_name.as_deref(), Some("Ada L."));
        assert!(matches!(&a.password, Password::Hash(h) if h.expose() == "{SSHA}abc="));
        assert!(a.must_change_password);
        assert_eq!(a.aliases.len(), 2);
        assert_eq!(a.aliases[1].as_str(), "al@y.org");
        assert_eq!(a.cos.as_ref().unwrap().as_str(), "Gold");
        assert_eq!(a.source_login(), "ada");
        assert_eq!(a.source_password.as_ref().unwrap().expose(), "pw");
        assert_eq!(
            a.attributes
                .get("zimbraPrefPasswordRecoveryAddress")
                .map(String::as_str),
            Some("ada@home.net")
        );
        assert_eq!(
            a.attributes
                .get("zimbraPrefPasswordRecoveryAddressStatus")
                .map(String::as_str),
            Some("verified")
        );
        assert_eq!(
            a.attributes
                .get("zimbraFeatureResetPasswordStatus")
                .map(String::as_str),
            Some("enabled")
        );
    }

    #[test]
    fn each_bad_row_is_one_error_with_its_line() {
        let items = read(
            "email,password,password_hash,aliases,cos,must_change\n\
             ok1@x.org,,,,,\n\
             x,,,,,\n\
             ok1@x.org,,,,,\n\
             both@x.org,secret,{SSHA}abc,,,\n\
             hash@x.org,,hunter2,,,\n\
             al@x.org,,,ok1@x.org,,\n\
             al2@x.org,,,z@x.org;z@x.org,,\n\
             cos@x.org,,,,Platinum,\n\
             mc@x.org,,,,,maybe\n\
             short@x.org,\n\
             ok2@x.org,,,,gold,no\n",
            Some(&["Gold"]),
        );
        let messages: Vec<String> = items.iter().filter(|i| i.is_err()).map(message).collect();
        assert_eq!(
            messages,
            [
                "3: invalid e-mail address \"x\": it has no '@'",
                "4: duplicate account ok1@x.org, first defined at line 2",
                "5: both password and password_hash are set; keep one of them",
                "6: invalid password hash \"***\": it must start with a {SCHEME} such as {SSHA}",
                "7: alias ok1@x.org is the address of the account defined at line 2",
                "8: duplicate alias z@x.org, first defined at line 8",
                "9: unknown class of service \"Platinum\": it is not in classes_of_service.csv",
                "10: invalid must_change value \"maybe\": use true, false, yes, no, 1 or 0",
                "11: the row has 2 fields, the header has 6",
            ]
        );
        let good: Vec<&str> = items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|a| a.address.as_str())
            .collect();
        assert_eq!(good, ["ok1@x.org", "ok2@x.org"]);
        assert!(!messages
            .iter()
            .any(|m| m.contains("hunter2") || m.contains("secret")));
    }

    #[test]
    fn missing_email_column_is_one_error_at_line_1() {
        let items = read("mail,password\nada@x.org,pw\n", None);
        assert_eq!(items.len(), 1);
        assert_eq!(message(&items[0]), "1: missing required column \"email\"");
    }

    #[test]
    fn any_cos_is_accepted_without_a_cos_file() {
        let items = read("email,cos\nada@x.org,whatever\n", None);
        assert_eq!(
            items[0].as_ref().unwrap().cos.as_ref().unwrap().as_str(),
            "whatever"
        );
    }

    #[test]
    fn unknown_columns_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        std::fs::write(&path, "email,phone,email\nada@x.org,1,b@x.org\n").unwrap();
        let (_, warnings) = AccountIndex::scan(&path, &ColumnNames::default()).unwrap();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].ends_with(
            "accounts.csv: unknown column \"phone\" is ignored (known columns: email, givenName, surname (or sn), displayName, password, password_hash, must_change, recoveryEmail, aliases, cos, source_user, source_password)"
        ), "{}", warnings[0]);
        assert!(warnings[1].ends_with(
            "accounts.csv: column \"email\" appears more than once; only the first is read"
        ));
    }
}

//! `[provisioning] type = "csv"` keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Where the CSV files are and how to read them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// The accounts file (header row; columns of the official procedure).
    pub accounts: PathBuf,
    /// The distribution lists file (`listAddress, description, displayName,
    /// member, ...`, with or without a header row).
    #[serde(default)]
    pub distribution_lists: Option<PathBuf>,
    /// Classes of service (`name` + one column per attribute).
    #[serde(default)]
    pub classes_of_service: Option<PathBuf>,
    /// Domains with attributes (`name` + attribute columns).
    #[serde(default)]
    pub domains: Option<PathBuf>,
    /// The file's header names for the official columns, when they differ:
    /// `{ email = "Mail Address", givenName = "First name" }`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Option 1 of the official procedure: the environment variable holding one
    /// initial password for every account that has no password, hash or recovery
    /// address; those accounts must change it at first login.
    #[serde(default)]
    pub initial_password_env: Option<String>,
    /// The same, from a file (first line).
    #[serde(default)]
    pub initial_password_file: Option<PathBuf>,
}

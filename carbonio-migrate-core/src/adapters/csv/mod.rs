//! The `csv` provisioning source: accounts, lists, classes of service and
//! domains from CSV files named one by one, with the official procedure's
//! three account layouts and header names mapped in the configuration.
//!
//! ```toml
//! [provisioning]
//! type = "csv"
//! accounts = "user_provisioning.csv"
//! distribution_lists = "dl_provisioning.csv"
//! columns = { email = "Mail", givenName = "First name" }
//! initial_password_env = "INITIAL_PASSWORD"   # layout 1: shared password, must change
//! ```

mod config;
mod source;

pub use config::CsvConfig;
pub use source::CsvSource;

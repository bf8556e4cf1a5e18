//! [`CsvSource`]: accounts, lists and classes of service from CSV files.

use async_trait::async_trait;

use super::config::CsvConfig;
use crate::adapters::export_dir::{AccountOptions, ColumnNames, ExportDirSource, ExportFiles};
use crate::capability::{Capabilities, Capability};
use crate::error::Result;
use crate::model::{Account, Cos, DistributionList, Domain, Secret};
use crate::source::{ResultStream, Source};

/// The `csv` provisioning source: the account file of the official procedure
/// (in its three layouts: one shared initial password with must-change; empty
/// password with a recovery address; a password or hash per account), the list
/// file, classes of service and domains. It reads exactly as the `export-dir`
/// source reads its CSV files (same rules, same errors with file and line) —
/// it is that reader pointed at explicit files.
#[derive(Debug)]
pub struct CsvSource {
    inner: ExportDirSource,
    location: String,
}

impl CsvSource {
    /// Opens the files of `config`; `initial_password` is the secret named by
    /// `initial_password_env` / `initial_password_file`, already read.
    ///
    /// # Errors
    /// [`crate::Error::Config`] when the accounts file is missing.
    pub fn new(config: &CsvConfig, initial_password: Option<Secret>) -> Result<CsvSource> {
        let dir = config
            .accounts
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        // Absent optional files are read as empty: point them at a path that
        // cannot exist rather than at a default name next to the accounts file.
        let absent = |p: &Option<std::path::PathBuf>, what: &str| {
            p.clone()
                .unwrap_or_else(|| dir.join(format!(".carbonio-migrate-no-{what}-file")))
        };
        let files = ExportFiles {
            accounts: config.accounts.clone(),
            lists: absent(&config.distribution_lists, "lists"),
            classes_of_service: absent(&config.classes_of_service, "cos"),
            domains: absent(&config.domains, "domains"),
        };
        let options = AccountOptions {
            column_names: ColumnNames::new(&config.columns),
            initial_password,
        };
        let location = format!("csv {}", config.accounts.display());
        Ok(CsvSource {
            inner: ExportDirSource::open_files(dir, files, options)?,
            location,
        })
    }

    /// Warnings found while opening (unknown columns, ...), also logged.
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings()
    }
}

#[async_trait]
impl Source for CsvSource {
    fn kind(&self) -> &'static str {
        "csv"
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Domains,
            Capability::ClassesOfService,
            Capability::Accounts,
            Capability::DistributionLists,
        ])
    }

    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        self.inner.domains().await
    }

    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        self.inner.classes_of_service().await
    }

    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        self.inner.accounts().await
    }

    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        self.inner.distribution_lists().await
    }
}

//! Building an [`Engine`] from a configuration file.

use std::path::Path;
use std::sync::Arc;

use super::folder_rules::FolderRules;
use super::procedure::Procedure;
use super::runner::{retry_policy, Engine, EngineSettings};
use crate::adapters::registry::{build_destination, build_source};
use crate::config::Config;
use crate::error::Result;
use crate::journal::Journal;

impl Engine {
    /// The engine `config` describes, with its journal in `config.state_dir`.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for anything wrong in the configuration, a pair that
    /// cannot do the procedure, or a journal of another migration.
    pub fn from_config(config: &Config) -> Result<Engine> {
        Self::from_config_in(config, &config.state_dir())
    }

    /// As [`Engine::from_config`] with the journal in `state_dir` (one per shard).
    ///
    /// # Errors
    /// As [`Engine::from_config`].
    pub fn from_config_in(config: &Config, state_dir: &Path) -> Result<Engine> {
        let procedure = Procedure::named(&config.procedure)?;
        let settings = EngineSettings {
            concurrency: config.run.concurrency,
            connections_per_host: config.run.connections_per_host,
            retry: retry_policy(&config.run),
            rules: FolderRules::from_config(&config.mail)?,
            max_message_size: config.mail.max_message_size.map(|s| s.0),
            sync_flags: config.mail.sync_flags,
            connections_per_account: config.run.connections_per_account,
            max_messages_per_second: config.run.max_messages_per_second,
            max_bytes_per_second: config.run.max_bytes_per_second.map(|b| b.0),
            settle_after_interrupt: std::time::Duration::from_millis(
                config.run.settle_after_interrupt_ms,
            ),
        };
        let source = build_source(config)?;
        let destination = build_destination(config, state_dir)?;
        let journal = Arc::new(Journal::open(state_dir)?);
        Engine::new(source, destination, journal, procedure, settings)
    }
}

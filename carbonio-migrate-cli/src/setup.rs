//! What the commands that work on a migration share: loading its configuration,
//! choosing the accounts and the shard, and building the engine.

use std::path::PathBuf;

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Engine, Shard};
use carbonio_migrate_core::model::EmailAddress;
use carbonio_migrate_core::{Error, Result};
use clap::Args;

pub use carbonio_migrate_core::journal::JOURNAL_FILE;

/// `--account` and `--shard`: which accounts a command works on.
#[derive(Clone, Debug, Default, Args)]
pub struct AccountSelection {
    /// Only this account (repeat for more).
    #[arg(long = "account", value_name = "ADDRESS", value_parser = parse_account)]
    pub accounts: Vec<EmailAddress>,
    /// Only shard K of N (stable hash of the account address); the shard's journal
    /// is <state_dir>/shard-K-of-N. Shard 1 also provisions domains, CoS and lists.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

impl AccountSelection {
    /// The accounts, or `None` for all.
    pub fn account_filter(&self) -> Option<Vec<EmailAddress>> {
        (!self.accounts.is_empty()).then(|| self.accounts.clone())
    }
}

/// Parses `--account`, with the core's message (what is wrong with the address).
fn parse_account(text: &str) -> std::result::Result<EmailAddress, String> {
    EmailAddress::parse(text).map_err(|e| e.to_string())
}

/// Parses `--shard K/N`; the message drops the core's "configuration:" prefix,
/// which reads oddly in a usage error.
pub fn parse_shard(text: &str) -> std::result::Result<Shard, String> {
    text.parse::<Shard>().map_err(|e| match e {
        Error::Config { message } => message,
        other => other.to_string(),
    })
}

/// The state directory of the whole migration, or of one shard of it.
pub fn state_dir(config: &Config, shard: Option<Shard>) -> PathBuf {
    let base = config.state_dir();
    match shard {
        Some(s) => base.join(format!("shard-{}-of-{}", s.index(), s.count())),
        None => base,
    }
}

/// The engine of `config`, with the journal of `shard` when one is given.
///
/// # Errors
/// As [`Engine::from_config_in`].
pub fn engine(config: &Config, shard: Option<Shard>) -> Result<Engine> {
    Engine::from_config_in(config, &state_dir(config, shard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shard_has_its_own_state_directory() {
        let mut config = Config::parse(
            "procedure = \"generic\"\nstate_dir = \"st\"\n[source]\ntype = \"export-dir\"\npath = \"e\"\n[destination]\ntype = \"bundle\"\npath = \"b\"\n",
        )
        .unwrap();
        config.base_dir = PathBuf::from("/m");
        assert_eq!(state_dir(&config, None), PathBuf::from("/m/st"));
        let shard = parse_shard("2/8").unwrap();
        assert_eq!(
            state_dir(&config, Some(shard)),
            PathBuf::from("/m/st/shard-2-of-8")
        );
    }

    #[test]
    fn shard_errors_read_as_usage_errors() {
        assert_eq!(
            parse_shard("0/3").unwrap_err(),
            "--shard 0/3: write K/N with 1 <= K <= N"
        );
        assert_eq!(
            parse_shard("x").unwrap_err(),
            "--shard \"x\": write K/N, for example 2/8"
        );
    }
}

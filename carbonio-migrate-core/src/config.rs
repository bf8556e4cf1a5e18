//! The migration's TOML configuration.
//!
//! Key names are a contract with users and scripts: extend them, never rename.
//! Adapter sections (`[source]`, `[destination]`, `[provisioning]`) are kept as
//! tables and read by the adapter their `type` names, so each adapter owns its keys.
//! Relative paths are resolved against the directory of the configuration file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The procedure's registered name (`generic`, `mail-only`, ...).
    pub procedure: String,
    /// Where the journal and reports live.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Where the list of accounts comes from, when not from `[source]`.
    #[serde(default)]
    pub provisioning: Option<toml::Table>,
    /// Where data is read from.
    pub source: toml::Table,
    /// Where everything is written.
    pub destination: toml::Table,
    /// Rules for mail folders and messages.
    #[serde(default)]
    pub mail: MailConfig,
    /// Concurrency and retries.
    #[serde(default)]
    pub run: RunConfig,
    /// Directory the file was read from; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("state")
}

/// `[mail]`: which folders move and under which names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// Source folders left out (path or top-level name, case-insensitive; a folder's
    /// subfolders go with it).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// When not empty, only these source folders (and their subfolders) move.
    #[serde(default)]
    pub include: Vec<String>,
    /// Source folder path → destination folder path.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// On every re-run, also bring the flags of already copied messages up to date
    /// (only those that changed, by CONDSTORE `CHANGEDSINCE` where the source has it).
    #[serde(default)]
    pub sync_flags: bool,
    /// Messages larger than this are reported as failed, never skipped silently
    /// (`"50MB"`, `"20MiB"`, bytes as a number).
    #[serde(default)]
    pub max_message_size: Option<ByteSize>,
}

/// A size in bytes, written as a number or as `"50MB"` / `"20MiB"` / `"512KB"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(t) => ByteSize::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl ByteSize {
    /// Parses `"50MB"`, `"20 MiB"`, `"1024"`.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for anything else.
    pub fn parse(text: &str) -> Result<ByteSize> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let refuse = || Error::InvalidValue {
            what: "size",
            value: text.to_string(),
            reason: "write a number of bytes, or a number with KB, MB, GB, KiB, MiB or GiB".into(),
        };
        let n: u64 = num.parse().map_err(|_| refuse())?;
        let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            _ => return Err(refuse()),
        };
        n.checked_mul(factor).map(ByteSize).ok_or_else(refuse)
    }
}

/// `[run]`: how hard to push.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Accounts migrated in parallel.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Connections opened to one host at most (source and destination counted apart).
    #[serde(default = "default_connections_per_host")]
    pub connections_per_host: usize,
    /// Connections (reader and writer pairs) one account's mail uses at most (2 by default):
    /// folders are spread over them, so a big mailbox copies several folders at once.
    #[serde(default = "default_connections_per_account")]
    pub connections_per_account: usize,
    /// Throttle for the whole run: messages per second, unlimited when absent.
    #[serde(default)]
    pub max_messages_per_second: Option<f64>,
    /// Throttle for the whole run: bytes per second (`"20MB"`), unlimited when absent.
    #[serde(default)]
    pub max_bytes_per_second: Option<ByteSize>,
    /// After a killed run, milliseconds to let the destination finish what the
    /// dead process had sent before this run reads it.
    #[serde(default = "default_settle_after_interrupt_ms")]
    pub settle_after_interrupt_ms: u64,
    /// Attempts of an item before it is recorded as failed (transient errors only).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles each attempt, with jitter.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
}

fn default_concurrency() -> usize {
    8
}
fn default_connections_per_host() -> usize {
    16
}
fn default_connections_per_account() -> usize {
    // Two reader/writer pairs per account: the measured first pass is 1.4-1.5x
    // one pair on loopback and 2.2x with 20 ms latency (docs/benchmarks.md);
    // a delta pass opens the second pair only when a folder has something new.
    2
}
fn default_settle_after_interrupt_ms() -> u64 {
    2_000
}
fn default_max_attempts() -> u32 {
    5
}
fn default_retry_base_ms() -> u64 {
    500
}
fn default_retry_max_ms() -> u64 {
    60_000
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            concurrency: default_concurrency(),
            connections_per_host: default_connections_per_host(),
            connections_per_account: default_connections_per_account(),
            max_messages_per_second: None,
            max_bytes_per_second: None,
            settle_after_interrupt_ms: default_settle_after_interrupt_ms(),
            max_attempts: default_max_attempts(),
            retry_base_ms: default_retry_base_ms(),
            retry_max_ms: default_retry_max_ms(),
        }
    }
}

impl Config {
    /// Reads and validates a configuration file.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file and the problem (TOML syntax with line, an
    /// unknown key, a missing `type`).
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
        let mut config = Self::parse(&text).map_err(|e| match e {
            Error::Config { message } => Error::config(format!("{}: {message}", path.display())),
            other => other,
        })?;
        // Absolute, so that the run's identity (which names the source and
        // destination paths) is the same whichever directory the CLI runs from.
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        config.base_dir = std::path::absolute(parent).map_err(|e| {
            Error::config(format!(
                "cannot resolve the directory of {}: {e}",
                path.display()
            ))
        })?;
        Ok(config)
    }

    /// Parses configuration text (relative paths resolve against the current directory).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str) -> Result<Config> {
        let mut config: Config = toml::from_str(text)
            .map_err(|e| Error::config(e.to_string().trim_end().to_string()))?;
        config.base_dir = PathBuf::from(".");
        for (name, table) in [
            ("source", Some(&config.source)),
            ("destination", Some(&config.destination)),
            ("provisioning", config.provisioning.as_ref()),
        ] {
            if let Some(table) = table {
                if !matches!(table.get("type"), Some(toml::Value::String(_))) {
                    return Err(Error::config(format!("[{name}] needs a `type` key naming an adapter (see `carbonio-migrate adapters`)")));
                }
            }
        }
        if config.run.concurrency == 0
            || config.run.connections_per_host == 0
            || config.run.connections_per_account == 0
            || config.run.max_attempts == 0
        {
            return Err(Error::config(
                "[run] concurrency, connections_per_host, connections_per_account and max_attempts must be at least 1",
            ));
        }
        Ok(config)
    }

    /// A path from the configuration, resolved against its directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The state directory, resolved.
    pub fn state_dir(&self) -> PathBuf {
        self.resolve(&self.state_dir)
    }
}

/// The `type` of an adapter table.
pub fn adapter_type(table: &toml::Table) -> &str {
    table
        .get("type")
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
}

/// Deserialises an adapter's own config struct from its table, with errors naming the section.
///
/// # Errors
/// [`Error::Config`] naming `section` and the bad key.
pub fn adapter_config<T: serde::de::DeserializeOwned>(
    section: &str,
    table: &toml::Table,
) -> Result<T> {
    let mut table = table.clone();
    table.remove("type");
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| Error::config(format!("[{section}]: {}", e.message())))
}

/// Reads a secret named by `password_env` or `password_file` of `section`.
/// Secrets are never inline in the configuration file.
///
/// # Errors
/// [`Error::Config`] naming the section and the variable or file (never the
/// secret) when neither is set, the variable is unset, or the file is unreadable
/// or empty.
pub fn secret_from(
    section: &str,
    password_env: Option<&str>,
    password_file: Option<&Path>,
) -> Result<crate::model::Secret> {
    match (password_env, password_file) {
        (Some(var), None) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(crate::model::Secret::new(v)),
            _ => Err(Error::config(format!(
                "[{section}] password_env = {var:?}: that environment variable is not set"
            ))),
        },
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file).map_err(|e| {
                Error::config(format!(
                    "[{section}] password_file = {:?}: cannot read it: {e}",
                    file.display().to_string()
                ))
            })?;
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_end_matches('\r');
            if first.is_empty() {
                return Err(Error::config(format!(
                    "[{section}] password_file {:?} is empty",
                    file.display().to_string()
                )));
            }
            Ok(crate::model::Secret::new(first))
        }
        (Some(_), Some(_)) => Err(Error::config(format!(
            "[{section}] set password_env or password_file, not both"
        ))),
        (None, None) => Err(Error::config(format!(
            "[{section}] needs password_env or password_file (secrets are never inline)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_quickstart_shape() {
        let c = Config::parse(
            "procedure = \"generic\"\n[source]\ntype = \"export-dir\"\npath = \"export\"\n[destination]\ntype = \"bundle\"\npath = \"bundle\"\n[mail]\nexclude = [\"Junk\"]\nmax_message_size = \"50MB\"\n",
        )
        .unwrap();
        assert_eq!(c.procedure, "generic");
        assert_eq!(adapter_type(&c.source), "export-dir");
        assert_eq!(c.mail.max_message_size, Some(ByteSize(50_000_000)));
        assert_eq!(c.run.concurrency, 8);
        assert_eq!(c.state_dir, PathBuf::from("state"));
    }

    #[test]
    fn unknown_keys_and_missing_type_are_refused() {
        let err = Config::parse(
            "procedure = \"generic\"\nbogus = 1\n[source]\ntype=\"x\"\n[destination]\ntype=\"y\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `bogus`"), "{err}");
        let err = Config::parse(
            "procedure = \"generic\"\n[source]\npath=\"x\"\n[destination]\ntype=\"y\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("[source] needs a `type`"), "{err}");
    }

    #[test]
    fn secrets_come_from_env_or_file_never_echoed() {
        std::env::set_var("CM_TEST_SECRET_1", "s3cret");
        assert_eq!(
            secret_from("source", Some("CM_TEST_SECRET_1"), None)
                .unwrap()
                .expose(),
            "s3cret"
        );
        let err = secret_from("source", Some("CM_TEST_SECRET_UNSET"), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[source] password_env = \"CM_TEST_SECRET_UNSET\""),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "from-file\nignored\n").unwrap();
        assert_eq!(
            secret_from("destination", None, Some(&f)).unwrap().expose(),
            "from-file"
        );
        assert!(secret_from("x", None, None)
            .unwrap_err()
            .to_string()
            .contains("never inline"));
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(ByteSize::parse("20MiB").unwrap(), ByteSize(20 << 20));
        assert_eq!(ByteSize::parse("512 KB").unwrap(), ByteSize(512_000));
        assert!(ByteSize::parse("lots").is_err());
    }
}

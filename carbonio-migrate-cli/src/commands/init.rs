//! `init`: writes a commented migration file for a procedure.

use std::io::Write;
use std::path::{Path, PathBuf};

use carbonio_migrate_core::engine::Procedure;
use carbonio_migrate_core::{Error, Result};
use clap::Args;

use super::{print_json, stdout_error};
use crate::cli::GlobalArgs;
use crate::exit::Outcome;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The procedure: zextras-backup, zextras-provisioning, ldap, generic, zimbra or mail-only.
    #[arg(long, value_name = "NAME")]
    pub procedure: String,
    /// Where to write it ("-" for stdout).
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = "migration.toml"
    )]
    pub output: PathBuf,
    /// Overwrite the file when it exists.
    #[arg(long)]
    pub force: bool,
}

/// The commented template of `procedure`, or `None` when there is none.
pub fn template(procedure: &str) -> Option<&'static str> {
    Some(match procedure {
        "generic" => include_str!("../../templates/generic.toml"),
        "mail-only" => include_str!("../../templates/mail-only.toml"),
        "ldap" => include_str!("../../templates/ldap.toml"),
        "zextras-provisioning" => include_str!("../../templates/zextras-provisioning.toml"),
        "zextras-backup" => include_str!("../../templates/zextras-backup.toml"),
        "zimbra" => include_str!("../../templates/zimbra.toml"),
        _ => return None,
    })
}

/// Writes `text` to `path`, refusing to replace an existing file unless `force`.
fn write_new(path: &Path, text: &str, force: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: no window between checking and creating.
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::config(format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ))
        } else {
            Error::io(format!("creating {}", path.display()), e)
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

impl InitArgs {
    /// Writes the file.
    ///
    /// # Errors
    /// [`Error::Config`] for an unknown procedure (listing the names) or an existing
    /// file without `--force`; [`Error::Io`] when it cannot be written.
    pub fn execute(self, global: &GlobalArgs) -> Result<Outcome> {
        let procedure = Procedure::named(&self.procedure)?;
        let text = template(procedure.name()).ok_or_else(|| {
            Error::config(format!(
                "procedure {:?} has no template in this build",
                procedure.name()
            ))
        })?;
        if self.output.as_os_str() == "-" {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(stdout_error)?;
            return Ok(Outcome::Done);
        }
        write_new(&self.output, text, self.force)?;
        if global.json {
            print_json(
                &serde_json::json!({ "written": self.output, "procedure": procedure.name() }),
            )?;
        } else {
            eprintln!(
                "wrote {} for procedure {}; edit it, then check it with `carbonio-migrate --config {} plan`",
                self.output.display(),
                procedure.name(),
                self.output.display()
            );
        }
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use carbonio_migrate_core::config::{adapter_type, Config};

    use super::*;

    #[test]
    fn every_procedure_has_a_template_that_loads() {
        for procedure in Procedure::all() {
            let text = template(procedure.name())
                .unwrap_or_else(|| panic!("no template for {}", procedure.name()));
            let config =
                Config::parse(text).unwrap_or_else(|e| panic!("{}: {e}", procedure.name()));
            assert_eq!(config.procedure, procedure.name());
            assert_eq!(config.state_dir, PathBuf::from("state"));
        }
        assert!(template("nope").is_none());
    }

    #[test]
    fn secrets_are_never_inline() {
        for procedure in Procedure::all() {
            let text = template(procedure.name()).unwrap();
            for (n, line) in text.lines().enumerate() {
                let key = line
                    .trim_start_matches(['#', ' '])
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .trim();
                assert!(
                    !matches!(key, "password" | "password_hash" | "secret" | "token"),
                    "{} line {}: {line}",
                    procedure.name(),
                    n + 1
                );
            }
        }
    }

    #[test]
    fn the_generic_template_is_offline() {
        let config = Config::parse(template("generic").unwrap()).unwrap();
        assert_eq!(adapter_type(&config.source), "export-dir");
        assert_eq!(
            config.source.get("path").and_then(|v| v.as_str()),
            Some("export")
        );
        assert_eq!(adapter_type(&config.destination), "bundle");
        assert_eq!(
            config.destination.get("path").and_then(|v| v.as_str()),
            Some("bundle")
        );
        assert!(config.provisioning.is_none());
    }

    #[test]
    fn the_other_templates_use_the_documented_keys() {
        let ldap = Config::parse(template("ldap").unwrap()).unwrap();
        let provisioning = ldap.provisioning.unwrap();
        for key in [
            "url",
            "bind_dn",
            "password_env",
            "base_dn",
            "profile",
            "user_filter",
            "group_filter",
            "attribute_map",
        ] {
            assert!(
                provisioning.contains_key(key),
                "ldap [provisioning] lacks {key}"
            );
        }
        let zimbra = Config::parse(template("zimbra").unwrap()).unwrap();
        assert_eq!(adapter_type(&zimbra.destination), "carbonio");
        let imap = zimbra
            .destination
            .get("imap")
            .and_then(|v| v.as_table())
            .unwrap();
        for key in ["host", "port", "tls", "auth", "admin_user", "password_env"] {
            assert!(imap.contains_key(key), "[destination.imap] lacks {key}");
        }
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("migration.toml");
        write_new(&path, "first", false).unwrap();
        let err = write_new(&path, "second", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "configuration: {} already exists; pass --force to overwrite it",
                path.display()
            )
        );
        assert_eq!(crate::exit::code_for(&err), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        write_new(&path, "second", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
    }

    #[test]
    fn an_unknown_procedure_lists_the_names() {
        let args = InitArgs {
            procedure: "exchange".into(),
            output: PathBuf::from("-"),
            force: false,
        };
        let global = GlobalArgs {
            config: PathBuf::from("migration.toml"),
            verbose: 0,
            json: false,
        };
        let err = args.execute(&global).unwrap_err();
        assert_eq!(crate::exit::code_for(&err), 2);
        assert!(
            err.to_string()
                .contains("zextras-backup, zextras-provisioning, ldap, generic, zimbra, mail-only"),
            "{err}"
        );
    }

    /// The generic template works as written, offline: pointed at the quickstart's
    /// export, it plans and runs into a bundle next to it.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_generic_template_runs_as_is() {
        use carbonio_migrate_core::engine::{Engine, PreflightOptions, RunOptions};

        let dir = tempfile::tempdir().unwrap();
        let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart/export");
        std::os::unix::fs::symlink(&export, dir.path().join("export")).unwrap();
        let path = dir.path().join("migration.toml");
        write_new(&path, template("generic").unwrap(), false).unwrap();

        let config = Config::load(&path).unwrap();
        let engine = Engine::from_config(&config).unwrap();
        let plan = engine
            .preflight(&PreflightOptions::default())
            .await
            .unwrap();
        assert_eq!(plan.accounts.len(), 10, "{plan:?}");
        let summary = engine.run(RunOptions::default()).await.unwrap();
        assert_eq!(summary.failed, 0, "{summary:?}");
        assert!(summary.created > 0);
        assert!(dir.path().join("bundle").is_dir());
        assert!(dir
            .path()
            .join("state")
            .join(crate::setup::JOURNAL_FILE)
            .is_file());
    }
}

//! Configuration of the `export-dir` source.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the export lives. Read from the `[source]` table of the migration file,
/// which also holds `type = "export-dir"`; unknown keys are left to that parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ExportDirConfig {
    /// The export directory: the one holding `accounts.csv`.
    pub path: PathBuf,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn reads_path_and_tolerates_the_parent_type_key() {
        let config: ExportDirConfig =
            toml::from_str("type = \"export-dir\"\npath = \"./export\"\n").unwrap();
        assert_eq!(config.path, PathBuf::from("./export"));
    }
}

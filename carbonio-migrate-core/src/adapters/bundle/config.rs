//! Configuration of the `bundle` destination.

use std::path::PathBuf;

use serde::Deserialize;

/// Where the bundle goes. Part of the parent `[destination]` table, which also
/// holds `type = "bundle"` (so unknown fields are not refused here).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct BundleConfig {
    /// The output directory; created when missing.
    pub path: PathBuf,
    /// Where objects are staged until `finalize` assembles them; the engine uses
    /// `<state_dir>/bundle-staging` when unset.
    #[serde(default)]
    pub staging_dir: Option<PathBuf>,
}

//! Documents (Briefcase / Carbonio Files).

use serde::{Deserialize, Serialize};

use super::FolderPath;

/// A document to put in the user's Files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileItem {
    /// Folder it lives in.
    pub folder: FolderPath,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Optional description.
    pub description: Option<String>,
}

//! The folders of one account's mail directory `mail/<address>/`: every
//! directory and every `.mbox` file below it, parents before children, siblings
//! in bytewise name order.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::FolderPath;

/// How deep folders may nest; deeper is taken for a symlink loop.
const MAX_DEPTH: usize = 64;

/// Where a folder's messages are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum FolderStorage {
    /// A directory of `.eml` files.
    Directory(PathBuf),
    /// An mbox file.
    Mbox(PathBuf),
}

impl FolderStorage {
    fn path(&self) -> &Path {
        match self {
            FolderStorage::Directory(p) | FolderStorage::Mbox(p) => p,
        }
    }
}

/// One folder found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FolderEntry {
    /// The folder's path, relative to the account directory.
    pub path: FolderPath,
    /// Its messages' storage.
    pub storage: FolderStorage,
}

/// True for a file name ending in `.eml` (any case).
pub(super) fn is_eml(name: &std::ffi::OsStr) -> bool {
    has_extension(name, b".eml")
}

fn has_extension(name: &std::ffi::OsStr, extension: &[u8]) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.len() > extension.len()
        && bytes[bytes.len() - extension.len()..].eq_ignore_ascii_case(extension)
}

/// Finds the folders of the account directory `root`; a missing directory has none.
///
/// # Errors
/// [`Error::Input`] naming the file when a name is not UTF-8 or not a valid
/// folder name, or when a directory and an mbox file name the same folder;
/// [`Error::Io`] when a directory cannot be read.
pub(super) fn discover_folders(root: &Path) -> Result<Vec<FolderEntry>> {
    let mut folders = Vec::new();
    if root.is_dir() {
        walk(root, &[], &mut folders)?;
    }
    Ok(folders)
}

fn walk(dir: &Path, parent: &[String], out: &mut Vec<FolderEntry>) -> Result<()> {
    if parent.len() > MAX_DEPTH {
        return Err(Error::input(
            dir,
            None,
            format!("folders nest deeper than {MAX_DEPTH} levels (a symlink loop?)"),
        ));
    }
    let io_error = |e| Error::io(format!("reading directory {}", dir.display()), e);
    let mut children: Vec<(String, FolderStorage)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let entry = entry.map_err(io_error)?;
        let path = entry.path();
        // Follows symlinks: exports are sometimes assembled from links.
        let metadata = std::fs::metadata(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let file_name = entry.file_name();
        let storage = if metadata.is_dir() {
            FolderStorage::Directory(path.clone())
        } else if has_extension(&file_name, b".mbox") {
            FolderStorage::Mbox(path.clone())
        } else {
            if parent.is_empty() || !is_eml(&file_name) {
                tracing::warn!(
                    file = %path.display(),
                    "ignored: only folders, .eml files inside folders and .mbox files are read"
                );
            }
            continue;
        };
        let Some(name) = file_name.to_str() else {
            return Err(Error::input(
                &path,
                None,
                "the folder name is not valid utf-8; rename it",
            ));
        };
        let name = match storage {
            FolderStorage::Mbox(_) => &name[..name.len() - ".mbox".len()],
            FolderStorage::Directory(_) => name,
        };
        children.push((name.to_string(), storage));
    }
    children.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for pair in children.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (first, second) = (pair[0].1.path(), pair[1].1.path());
            let (mbox, other) = match pair[0].1 {
                FolderStorage::Mbox(_) => (first, second),
                FolderStorage::Directory(_) => (second, first),
            };
            let mut segments = parent.to_vec();
            segments.push(pair[0].0.clone());
            return Err(Error::input(
                mbox,
                None,
                format!(
                    "{} and {} are both folder {}; merge them or rename one",
                    mbox.display(),
                    other.display(),
                    segments.join("/")
                ),
            ));
        }
    }
    for (name, storage) in children {
        let mut segments = parent.to_vec();
        segments.push(name);
        let path = FolderPath::new(segments.clone())
            .map_err(|e| Error::input(storage.path(), None, e.to_string()))?;
        let subfolders = match &storage {
            FolderStorage::Directory(dir) => Some(dir.clone()),
            FolderStorage::Mbox(_) => None,
        };
        out.push(FolderEntry { path, storage });
        if let Some(dir) = subfolders {
            walk(&dir, &segments, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failing test should panic.
mod tests {
    use super::*;

    #[test]
    fn finds_directories_and_mbox_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in [
            "Inbox",
            "Archive",
            "Projekte/Überblick",
            "Projekte/Alpha",
            "Empty",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("Archive/2019.mbox"), b"").unwrap();
        std::fs::write(root.join("Old.mbox"), b"").unwrap();
        std::fs::write(root.join("Inbox/1.eml"), b"x").unwrap();
        let folders = discover_folders(root).unwrap();
        let paths: Vec<String> = folders.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "Archive",
                "Archive/2019",
                "Empty",
                "Inbox",
                "Old",
                "Projekte",
                "Projekte/Alpha",
                "Projekte/Überblick"
            ]
        );
        assert!(matches!(folders[1].storage, FolderStorage::Mbox(_)));
        assert!(discover_folders(&root.join("missing")).unwrap().is_empty());
    }

    #[test]
    fn a_directory_and_an_mbox_of_the_same_folder_clash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("Archive")).unwrap();
        std::fs::write(dir.path().join("Archive.mbox"), b"").unwrap();
        let err = discover_folders(dir.path()).unwrap_err().to_string();
        let mbox = dir.path().join("Archive.mbox");
        let other = dir.path().join("Archive");
        assert_eq!(
            err,
            format!(
                "{}: {} and {} are both folder Archive; merge them or rename one",
                mbox.display(),
                mbox.display(),
                other.display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_are_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        std::fs::create_dir_all(&bad).unwrap();
        let err = discover_folders(dir.path()).unwrap_err().to_string();
        assert!(
            err.ends_with(": the folder name is not valid utf-8; rename it"),
            "{err}"
        );
    }
}

//! Crash-safe file replacement: write a temporary sibling, fsync it, rename it
//! over the target, fsync the directory. A reader (or a re-run after SIGKILL)
//! sees the old bytes or the new bytes, never a mix.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The temporary sibling a write goes through: `.<name>.tmp`.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// The bytes of `path`, `None` when it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// Fsyncs a directory so a rename inside it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Sets unix permission bits (no-op elsewhere).
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("setting the mode of {}", path.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Atomically replaces `path` with `bytes`, file mode `mode`.
pub(crate) fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let temp = temp_sibling(path);
    let context = |what: &str| format!("{what} {}", temp.display());
    let mut file = fs::File::create(&temp).map_err(|e| Error::io(context("creating"), e))?;
    set_mode(&temp, mode)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(context("writing"), e))?;
    drop(file);
    commit(&temp, path)
}

/// Renames a finished temporary file over `path` and makes the rename durable.
pub(crate) fn commit(temp: &Path, path: &Path) -> Result<()> {
    fs::rename(temp, path).map_err(|e| {
        Error::io(
            format!("renaming {} to {}", temp.display(), path.display()),
            e,
        )
    })?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Replaces `path` only when its bytes (or mode) differ; true when it wrote.
pub(crate) fn replace_if_changed(path: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    if read_if_exists(path)?.as_deref() == Some(bytes) && mode_is(path, mode) {
        return Ok(false);
    }
    replace(path, bytes, mode)?;
    Ok(true)
}

fn mode_is(path: &Path, mode: u32) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777 == mode)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        true
    }
}

/// Removes `path` if it exists.
pub(crate) fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
    }
}

/// Creates a directory and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path)
        .map_err(|e| Error::io(format!("creating directory {}", path.display()), e))
}

/// Runs blocking file work off the async executor.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::io("running file work", std::io::Error::other(e.to_string())))?
}

//! Running synchronous file work (directory walks, mbox scans) off the async threads.

use crate::error::{Error, Result};

/// Runs `work` on tokio's blocking pool; `what` names the work if the task dies.
pub(super) async fn run_blocking<T, F>(what: String, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::io(what, std::io::Error::other(e)))?
}

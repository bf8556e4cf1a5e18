//! Ctrl-C: the first one asks the run to stop cleanly, the second one exits now.

use tokio_util::sync::CancellationToken;

/// The exit code of an interrupted process (128 + SIGINT), as shells report it.
const INTERRUPTED: i32 = 130;

/// Cancels `cancel` on the first Ctrl-C, so running items stop at their next batch
/// and the journal keeps everything finished. A second Ctrl-C exits with 130 at
/// once: the journal's transactions make that safe too, only the current batch
/// is lost and redone on the next run.
pub fn cancel_on_ctrl_c(cancel: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling on this platform: the run just cannot be stopped cleanly.
            tracing::warn!("cannot listen for Ctrl-C; interrupting will stop the run abruptly");
            return;
        }
        cancel.cancel();
        eprintln!("interrupted: finishing the current batches (Ctrl-C again to stop now)");
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: stopping now; run again to resume");
            std::process::exit(INTERRUPTED);
        }
    });
}

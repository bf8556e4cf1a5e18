//! `--json`: every event as one JSON object on its own line, for machines.

use std::io::Write;
use std::sync::Mutex;

use carbonio_migrate_core::engine::ProgressEvent;

use super::ProgressView;

/// Writes each event as a line of JSON (`{"event":"item_finished",...}`).
pub struct JsonLines {
    out: Mutex<Box<dyn Write + Send>>,
}

impl JsonLines {
    /// Lines go to `out` (stdout in the CLI).
    pub fn new(out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines {
            out: Mutex::new(out),
        }
    }
}

impl ProgressView for JsonLines {
    fn show(&self, event: &ProgressEvent) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        // A reader that went away (closed pipe) must not stop the migration:
        // the journal records everything anyway.
        if serde_json::to_writer(&mut *out, event).is_ok() {
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Captured;

    #[test]
    fn one_event_per_line() {
        let captured = Captured::default();
        let view = JsonLines::new(Box::new(captured.clone()));
        view.show(&ProgressEvent::PhaseStarted {
            phase: "data".into(),
            items: 10,
            already_done: 2,
        });
        view.show(&ProgressEvent::ItemFinished {
            phase: "data".into(),
            key: "mail:ada@example.org".into(),
            outcome: "failed".into(),
            error: Some("network error: connect".into()),
        });
        assert_eq!(
            captured.text(),
            "{\"event\":\"phase_started\",\"phase\":\"data\",\"items\":10,\"already_done\":2}\n\
             {\"event\":\"item_finished\",\"phase\":\"data\",\"key\":\"mail:ada@example.org\",\"outcome\":\"failed\",\"error\":\"network error: connect\"}\n"
        );
    }
}

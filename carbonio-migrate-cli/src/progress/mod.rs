//! Rendering the engine's progress events: bars when stderr is a terminal, plain
//! lines otherwise, and with `--json` one JSON object per event on stdout.

mod bars;
mod json_lines;
mod lines;

use std::io::IsTerminal;
use std::sync::Arc;

use carbonio_migrate_core::engine::{ProgressEvent, ProgressSink};

pub use bars::TerminalBars;
pub use json_lines::JsonLines;
pub use lines::PlainLines;

/// One way of showing events. Called from many tasks at once.
pub trait ProgressView: Send + Sync {
    /// Shows one event.
    fn show(&self, event: &ProgressEvent);
    /// The run ended: complete what is on screen.
    fn finish(&self) {}
}

/// The views a run shows its events on.
pub struct ProgressDisplay {
    views: Vec<Arc<dyn ProgressView>>,
}

impl ProgressDisplay {
    /// Bars or plain lines on stderr (bars only when it is a terminal), plus JSON
    /// lines on stdout when `json`.
    pub fn for_stderr(json: bool) -> ProgressDisplay {
        let mut views: Vec<Arc<dyn ProgressView>> = Vec::new();
        if std::io::stderr().is_terminal() {
            views.push(Arc::new(TerminalBars::new()));
        } else {
            views.push(Arc::new(PlainLines::new(Box::new(std::io::stderr()))));
        }
        if json {
            views.push(Arc::new(JsonLines::new(Box::new(std::io::stdout()))));
        }
        ProgressDisplay { views }
    }

    /// The sink to hand to the engine.
    pub fn sink(&self) -> ProgressSink {
        let views = self.views.clone();
        ProgressSink::new(move |event| {
            for view in &views {
                view.show(&event);
            }
        })
    }

    /// Completes every view; call before printing the summary.
    pub fn finish(&self) {
        for view in &self.views {
            view.finish();
        }
    }
}

/// A writer tests read back after a view wrote to it.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The line reporting a failed item. An unreadable input record's error already
/// names its file and line, which is all its key holds, so the key is left out.
pub(crate) fn failure_line(phase: &str, key: &str, error: Option<&str>) -> String {
    let error = error.unwrap_or("unknown error");
    if key.starts_with("invalid:") {
        format!("failed {phase}: {error}")
    } else {
        format!("failed {phase} {key}: {error}")
    }
}

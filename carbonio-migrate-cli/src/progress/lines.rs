//! Plain progress lines for logs and pipes (stderr is not a terminal).

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use carbonio_migrate_core::engine::ProgressEvent;

use super::ProgressView;
use crate::human;

/// Counting lines are printed at most this often, so a log of a large run stays readable.
const COUNT_INTERVAL: Duration = Duration::from_secs(5);

/// Lines such as `phase data: 3/10 items` and `failed data mail:ada@x: <error>`.
pub struct PlainLines {
    state: Mutex<LinesState>,
    interval: Duration,
}

struct LinesState {
    out: Box<dyn Write + Send>,
    phases: HashMap<String, PhaseCount>,
    messages: u64,
    bytes: u64,
}

struct PhaseCount {
    items: u64,
    finished: u64,
    last_line: Instant,
}

impl PlainLines {
    /// Lines go to `out` (stderr in the CLI).
    pub fn new(out: Box<dyn Write + Send>) -> PlainLines {
        Self::with_interval(out, COUNT_INTERVAL)
    }

    /// As [`PlainLines::new`], printing counting lines at most every `interval`.
    pub fn with_interval(out: Box<dyn Write + Send>, interval: Duration) -> PlainLines {
        PlainLines {
            state: Mutex::new(LinesState {
                out,
                phases: HashMap::new(),
                messages: 0,
                bytes: 0,
            }),
            interval,
        }
    }
}

impl ProgressView for PlainLines {
    fn show(&self, event: &ProgressEvent) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let line = match event {
            ProgressEvent::PhaseStarted {
                phase,
                items,
                already_done,
            } => {
                state.phases.insert(
                    phase.clone(),
                    PhaseCount {
                        items: *items,
                        finished: 0,
                        last_line: Instant::now(),
                    },
                );
                let mut line = if *items == 0 {
                    format!("phase {phase}: nothing to run")
                } else {
                    format!("phase {phase}: 0/{items} items")
                };
                if *already_done > 0 {
                    line.push_str(&format!(", {already_done} already done"));
                }
                Some(line)
            }
            ProgressEvent::ItemStarted { .. } => None,
            // Per-folder sizes are for views that draw one bar per account.
            ProgressEvent::MailFolderStarted { .. } => None,
            ProgressEvent::ItemRetrying {
                phase,
                key,
                error,
                delay_ms,
            } => Some(format!("retrying {phase} {key} in {delay_ms} ms: {error}")),
            ProgressEvent::ItemFinished {
                phase,
                key,
                outcome,
                error,
            } => {
                let failed = (outcome == "failed")
                    .then(|| super::failure_line(phase, key, error.as_deref()));
                let interval = self.interval;
                let count = state.phases.get_mut(phase).and_then(|count| {
                    count.finished += 1;
                    let due = count.last_line.elapsed() >= interval && count.finished < count.items;
                    due.then(|| {
                        count.last_line = Instant::now();
                        format!("phase {phase}: {}/{} items", count.finished, count.items)
                    })
                });
                match (failed, count) {
                    (Some(f), Some(c)) => Some(format!("{f}\n{c}")),
                    (f, c) => f.or(c),
                }
            }
            ProgressEvent::MailCopied {
                messages, bytes, ..
            } => {
                state.messages += messages;
                state.bytes += bytes;
                None
            }
            ProgressEvent::PhaseFinished {
                phase,
                done,
                failed,
            } => {
                let items = state
                    .phases
                    .remove(phase)
                    .map_or(done + failed, |c| c.items);
                // A phase with nothing to run said so when it started.
                let mut lines = Vec::new();
                if items > 0 {
                    let mut line = format!("phase {phase}: {}/{items} items", done + failed);
                    if *failed > 0 {
                        line.push_str(&format!(", {failed} failed"));
                    }
                    lines.push(line);
                }
                if state.messages > 0 {
                    lines.push(format!(
                        "phase {phase}: {} messages, {} copied",
                        state.messages,
                        human::bytes(state.bytes)
                    ));
                    (state.messages, state.bytes) = (0, 0);
                }
                (!lines.is_empty()).then(|| lines.join("\n"))
            }
            // Events added to the core later are shown by the other views only.
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(line) = line {
            // Progress is best effort: a closed stderr must not stop the run.
            let _ = writeln!(state.out, "{line}");
            let _ = state.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Captured;

    fn finished(key: &str, error: Option<&str>) -> ProgressEvent {
        ProgressEvent::ItemFinished {
            phase: "data".into(),
            key: key.into(),
            outcome: if error.is_some() { "failed" } else { "created" }.into(),
            error: error.map(str::to_string),
        }
    }

    fn render(interval: Duration, events: &[ProgressEvent]) -> String {
        let captured = Captured::default();
        let view = PlainLines::with_interval(Box::new(captured.clone()), interval);
        for e in events {
            view.show(e);
        }
        captured.text()
    }

    #[test]
    fn counts_failures_and_mail_totals() {
        let events = [
            ProgressEvent::PhaseStarted {
                phase: "data".into(),
                items: 3,
                already_done: 5,
            },
            ProgressEvent::ItemStarted {
                phase: "data".into(),
                key: "mail:ada@x.org".into(),
                attempt: 1,
            },
            ProgressEvent::MailCopied {
                account: "ada@x.org".into(),
                folder: "INBOX".into(),
                messages: 4,
                bytes: 2500,
            },
            finished("mail:ada@x.org", None),
            finished("mail:bob@x.org", Some("network error: connect")),
            ProgressEvent::ItemRetrying {
                phase: "data".into(),
                key: "mail:eve@x.org".into(),
                error: "network error: timeout".into(),
                delay_ms: 500,
            },
            finished("mail:eve@x.org", None),
            ProgressEvent::PhaseFinished {
                phase: "data".into(),
                done: 2,
                failed: 1,
            },
        ];
        assert_eq!(
            render(Duration::ZERO, &events),
            "phase data: 0/3 items, 5 already done\n\
             phase data: 1/3 items\n\
             failed data mail:bob@x.org: network error: connect\n\
             phase data: 2/3 items\n\
             retrying data mail:eve@x.org in 500 ms: network error: timeout\n\
             phase data: 3/3 items, 1 failed\n\
             phase data: 4 messages, 2.5 KB copied\n"
        );
    }

    #[test]
    fn a_phase_with_nothing_to_run_says_so_once() {
        let events = [
            ProgressEvent::PhaseStarted {
                phase: "data".into(),
                items: 0,
                already_done: 30,
            },
            ProgressEvent::PhaseFinished {
                phase: "data".into(),
                done: 0,
                failed: 0,
            },
        ];
        assert_eq!(
            render(Duration::ZERO, &events),
            "phase data: nothing to run, 30 already done\n"
        );
    }

    #[test]
    fn counting_lines_wait_for_the_interval() {
        let events = [
            ProgressEvent::PhaseStarted {
                phase: "provisioning".into(),
                items: 2,
                already_done: 0,
            },
            ProgressEvent::ItemFinished {
                phase: "provisioning".into(),
                key: "account:ada@x.org".into(),
                outcome: "created".into(),
                error: None,
            },
            ProgressEvent::PhaseFinished {
                phase: "provisioning".into(),
                done: 1,
                failed: 0,
            },
        ];
        assert_eq!(
            render(Duration::from_secs(3600), &events),
            "phase provisioning: 0/2 items\nphase provisioning: 1/2 items\n"
        );
    }
}

//! Progress bars on a terminal: one per phase (items done of total, rate, ETA)
//! and a mail counter (messages, bytes, MB/s).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use carbonio_migrate_core::engine::ProgressEvent;
use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};

use super::ProgressView;

const PHASE_TEMPLATE: &str =
    "{prefix:>12.bold} [{bar:30.cyan/blue}] {pos}/{len} items  {rate}  ETA {eta}  {msg}";
const MAIL_TEMPLATE: &str =
    "{prefix:>12.bold} {msg} messages, {decimal_bytes} ({decimal_bytes_per_sec})";

/// indicatif bars on stderr.
pub struct TerminalBars {
    multi: MultiProgress,
    phases: Mutex<HashMap<String, ProgressBar>>,
    mail: Mutex<Option<ProgressBar>>,
    messages: AtomicU64,
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants checked by a test; the fallback is never used.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
        // indicatif's own {per_sec} prints four decimals; one is plenty for items.
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}/s", state.per_sec());
            },
        )
}

impl TerminalBars {
    /// Bars drawn on stderr.
    pub fn new() -> TerminalBars {
        let multi = MultiProgress::new();
        crate::logging::route_around(&multi);
        TerminalBars {
            multi,
            phases: Mutex::new(HashMap::new()),
            mail: Mutex::new(None),
            messages: AtomicU64::new(0),
        }
    }

    fn phase_bar(&self, phase: &str) -> Option<ProgressBar> {
        self.phases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(phase)
            .cloned()
    }

    fn mail_bar(&self) -> ProgressBar {
        let mut mail = self.mail.lock().unwrap_or_else(|p| p.into_inner());
        mail.get_or_insert_with(|| {
            let bar = self.multi.add(ProgressBar::no_length());
            bar.set_style(style(MAIL_TEMPLATE));
            bar.set_prefix("mail");
            bar.set_message("0");
            bar
        })
        .clone()
    }

    /// Prints a line above the bars (they are redrawn below it).
    fn say(&self, line: String) {
        if self.multi.println(&line).is_err() {
            eprintln!("{line}");
        }
    }
}

impl ProgressView for TerminalBars {
    fn show(&self, event: &ProgressEvent) {
        match event {
            ProgressEvent::PhaseStarted {
                phase,
                items,
                already_done,
            } => {
                let bar = self.multi.add(ProgressBar::new(*items));
                bar.set_style(style(PHASE_TEMPLATE));
                bar.set_prefix(phase.clone());
                if *already_done > 0 {
                    bar.set_message(format!("({already_done} already done)"));
                }
                self.phases
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(phase.clone(), bar);
            }
            ProgressEvent::ItemFinished {
                phase,
                key,
                outcome,
                error,
            } => {
                if let Some(bar) = self.phase_bar(phase) {
                    bar.inc(1);
                }
                if outcome == "failed" {
                    self.say(super::failure_line(phase, key, error.as_deref()));
                }
            }
            ProgressEvent::ItemRetrying {
                phase,
                key,
                error,
                delay_ms,
            } => {
                self.say(format!("retrying {phase} {key} in {delay_ms} ms: {error}"));
            }
            ProgressEvent::MailCopied {
                messages, bytes, ..
            } => {
                let total = self.messages.fetch_add(*messages, Ordering::Relaxed) + messages;
                let bar = self.mail_bar();
                bar.set_message(total.to_string());
                bar.inc(*bytes);
            }
            ProgressEvent::PhaseFinished { phase, failed, .. } => {
                if let Some(bar) = self.phase_bar(phase) {
                    if *failed > 0 {
                        bar.set_message(format!("({failed} failed)"));
                    }
                    bar.finish();
                }
            }
            _ => {}
        }
    }

    fn finish(&self) {
        crate::logging::stop_routing();
        if let Some(bar) = self.mail.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            bar.finish();
        }
        // Bars of an interrupted phase stay where they stopped.
        for bar in self
            .phases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid() {
        ProgressStyle::with_template(PHASE_TEMPLATE).unwrap();
        ProgressStyle::with_template(MAIL_TEMPLATE).unwrap();
    }

    #[test]
    fn bars_follow_the_events() {
        let bars = TerminalBars::new();
        bars.multi
            .set_draw_target(indicatif::ProgressDrawTarget::hidden());
        bars.show(&ProgressEvent::PhaseStarted {
            phase: "data".into(),
            items: 2,
            already_done: 0,
        });
        bars.show(&ProgressEvent::ItemFinished {
            phase: "data".into(),
            key: "mail:a@x.org".into(),
            outcome: "created".into(),
            error: None,
        });
        bars.show(&ProgressEvent::MailCopied {
            account: "a@x.org".into(),
            folder: "INBOX".into(),
            messages: 3,
            bytes: 900,
        });
        bars.show(&ProgressEvent::MailCopied {
            account: "a@x.org".into(),
            folder: "Sent".into(),
            messages: 2,
            bytes: 100,
        });
        let data = bars.phase_bar("data").unwrap();
        assert_eq!((data.position(), data.length()), (1, Some(2)));
        let mail = bars.mail_bar();
        assert_eq!(mail.position(), 1000);
        assert_eq!(mail.message(), "5");
        bars.show(&ProgressEvent::PhaseFinished {
            phase: "data".into(),
            done: 1,
            failed: 1,
        });
        assert!(data.is_finished());
    }
}

//! Logs go to stderr through `tracing`, so stdout stays data only. While progress
//! bars are drawn, each log line is written with the bars suspended, so neither
//! garbles the other.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;

use indicatif::MultiProgress;
use tracing_subscriber::EnvFilter;

/// The bars on screen, when there are any.
static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Installs the subscriber: `-v` info, `-vv` debug, `-vvv` trace; without `-v`,
/// `RUST_LOG` when set, else warnings only.
pub fn init(verbose: u8) {
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        1 => EnvFilter::new("info"),
        2 => EnvFilter::new("debug"),
        _ => EnvFilter::new("trace"),
    };
    // A second subscriber (never installed here) would be refused; nothing to do then.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        // Colour codes only for people; logs captured to files stay plain text.
        .with_ansi(io::stderr().is_terminal())
        .with_target(verbose >= 2)
        .try_init();
}

/// Routes log lines around `bars` until [`stop_routing`].
pub fn route_around(bars: &MultiProgress) {
    *BARS.lock().unwrap_or_else(|p| p.into_inner()) = Some(bars.clone());
}

/// The bars are gone: log lines go straight to stderr again.
pub fn stop_routing() {
    *BARS.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Writes to stderr, with the bars suspended when there are some. The formatter
/// writes each event in one call, so a line is never split around a redraw.
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bars = BARS.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bars {
            Some(bars) => bars
                .suspend(|| io::stderr().write_all(buf))
                .map(|()| buf.len()),
            None => io::stderr().write_all(buf).map(|()| buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

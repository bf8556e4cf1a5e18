//! Exit codes, and turning a command's result into one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | failed: the run (or command) stopped on an error |
//! | 2 | usage or configuration error (clap's usage errors are 2 as well) |
//! | 3 | finished, but some items failed (`run`) or differences were found (`verify`) |
//! | 130 | interrupted with Ctrl-C |

use std::process::ExitCode;

use carbonio_migrate_core::Error;

/// How a command that did not fail as a whole ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked was done.
    Done,
    /// It finished, and some items failed or differences were found.
    Incomplete,
    /// Stopped by Ctrl-C; the journal keeps what was finished.
    Interrupted,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Incomplete => 3,
            Outcome::Interrupted => 130,
        }
    }
}

/// The exit code for an error that stopped a command: 2 when the user must fix the
/// configuration or the arguments, 130 for an interruption, 1 otherwise.
pub fn code_for(error: &Error) -> u8 {
    match error {
        Error::Config { .. } | Error::InvalidValue { .. } => 2,
        Error::Cancelled => 130,
        _ => 1,
    }
}

/// Whether the error is stdout closed by the reader (`carbonio-migrate report | head`),
/// which is not a failure worth a message.
fn is_broken_pipe(error: &Error) -> bool {
    matches!(error, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Prints the error chain, when there is one, as `error: ...` on stderr and returns
/// the exit code. Core errors never hold secrets, so the chain is safe to print.
pub fn finish(result: Result<Outcome, Error>) -> ExitCode {
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.chain());
            ExitCode::from(code_for(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_the_documented_codes() {
        assert_eq!(Outcome::Done.code(), 0);
        assert_eq!(Outcome::Incomplete.code(), 3);
        assert_eq!(Outcome::Interrupted.code(), 130);
    }

    #[test]
    fn configuration_errors_exit_2_and_others_1() {
        assert_eq!(code_for(&Error::config("unknown procedure \"x\"")), 2);
        let invalid = Error::InvalidValue {
            what: "size",
            value: "lots".into(),
            reason: "r".into(),
        };
        assert_eq!(code_for(&invalid), 2);
        assert_eq!(
            code_for(&Error::Network {
                context: "connect".into(),
                source: None
            }),
            1
        );
        assert_eq!(
            code_for(&Error::io("reading a", std::io::Error::other("x"))),
            1
        );
        assert_eq!(
            code_for(&Error::journal("reading items", std::io::Error::other("x"))),
            1
        );
        assert_eq!(code_for(&Error::unsupported("verify", "bundle")), 1);
        assert_eq!(code_for(&Error::Cancelled), 130);
    }

    #[test]
    fn a_closed_stdout_is_not_an_error() {
        let pipe = Error::io(
            "writing to stdout",
            std::io::Error::from(std::io::ErrorKind::BrokenPipe),
        );
        assert!(is_broken_pipe(&pipe));
        assert!(!is_broken_pipe(&Error::io("x", std::io::Error::other("x"))));
    }
}

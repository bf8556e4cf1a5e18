//! What a conformance run found: the checks passed and skipped, or the first
//! check that failed.

use std::fmt;

/// A check that passed, and on what (an adapter, an account, a folder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassedCheck {
    /// The check's name, one of the constants of [`super::check`].
    pub check: &'static str,
    /// What it was run on (`ada@example.org Inbox`), empty for the whole adapter.
    pub subject: String,
}

/// A check that was not run, and why (an undeclared capability, no data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedCheck {
    /// The check's name, one of the constants of [`super::check`].
    pub check: &'static str,
    /// Why it was not run.
    pub reason: String,
}

/// The result of a conformance run that found no defect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    /// The adapter's kind.
    pub adapter: String,
    /// Checks passed, in the order run (a per-folder check once per folder).
    pub passed: Vec<PassedCheck>,
    /// Checks not run, with why.
    pub skipped: Vec<SkippedCheck>,
}

impl ConformanceReport {
    pub(crate) fn new(adapter: &str) -> Self {
        ConformanceReport {
            adapter: adapter.to_string(),
            ..Self::default()
        }
    }

    pub(crate) fn pass(&mut self, check: &'static str, subject: impl Into<String>) {
        self.passed.push(PassedCheck {
            check,
            subject: subject.into(),
        });
    }

    pub(crate) fn skip(&mut self, check: &'static str, reason: impl Into<String>) {
        self.skipped.push(SkippedCheck {
            check,
            reason: reason.into(),
        });
    }

    /// Whether `check` passed at least once.
    pub fn has_passed(&self, check: &str) -> bool {
        self.passed.iter().any(|p| p.check == check)
    }

    /// Why `check` was skipped, if it was.
    pub fn skip_reason(&self, check: &str) -> Option<&str> {
        self.skipped
            .iter()
            .find(|s| s.check == check)
            .map(|s| s.reason.as_str())
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "adapter '{}': {} checks passed, {} skipped",
            self.adapter,
            self.passed.len(),
            self.skipped.len()
        )?;
        for s in &self.skipped {
            writeln!(f, "  skipped {}: {}", s.check, s.reason)?;
        }
        Ok(())
    }
}

/// The first check an adapter failed, with where and what was seen. The detail
/// never holds a password or hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceFailure {
    /// The check's name, one of the constants of [`super::check`].
    pub check: &'static str,
    /// The account concerned, when there is one.
    pub account: Option<String>,
    /// The folder concerned, when there is one.
    pub folder: Option<String>,
    /// What was expected and what was seen.
    pub detail: String,
}

impl ConformanceFailure {
    pub(crate) fn new(check: &'static str, detail: impl Into<String>) -> Self {
        ConformanceFailure {
            check,
            account: None,
            folder: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn account(mut self, account: impl fmt::Display) -> Self {
        self.account = Some(account.to_string());
        self
    }

    pub(crate) fn folder(mut self, folder: impl fmt::Display) -> Self {
        self.folder = Some(folder.to_string());
        self
    }
}

impl fmt::Display for ConformanceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conformance check {} failed", self.check)?;
        match (&self.account, &self.folder) {
            (Some(a), Some(p)) => write!(f, " (account {a}, folder {p})")?,
            (Some(a), None) => write!(f, " (account {a})")?,
            (None, Some(p)) => write!(f, " (folder {p})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for ConformanceFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_check_account_and_folder() {
        let f = ConformanceFailure::new("source.list-paging", "uid 1 is not after 3")
            .account("ada@example.org")
            .folder("Inbox/Ü");
        assert_eq!(
            f.to_string(),
            "conformance check source.list-paging failed (account ada@example.org, folder Inbox/Ü): uid 1 is not after 3"
        );
    }
}

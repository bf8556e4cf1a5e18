//! Work items: the resumable units a phase plans and runs.

use crate::model::{Account, Cos, DistributionList, Domain, EmailAddress};

/// What one work item does.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Work {
    /// Ensure a domain.
    Domain(Domain),
    /// Ensure a class of service.
    Cos(Cos),
    /// Ensure an account (without its aliases).
    Account(Account),
    /// Ensure one alias of an account.
    Alias {
        /// The account.
        account: EmailAddress,
        /// The alias.
        alias: EmailAddress,
    },
    /// Ensure a distribution list (without its members).
    List(DistributionList),
    /// Ensure the members of a list.
    Members {
        /// The list.
        list: EmailAddress,
        /// Its members.
        members: Vec<EmailAddress>,
    },
    /// Copy an account's mail.
    Mail(Account),
    /// Copy an account's appointments.
    Appointments(Account),
    /// Copy an account's contacts.
    Contacts(Account),
    /// A record of the source that could not be read: recorded as failed, not run.
    Invalid(String),
}

/// One unit of resumable work.
#[derive(Clone, Debug)]
pub struct WorkItem {
    /// Stable key, unique in its phase (`account:ada@example.org`); the journal's key.
    pub key: String,
    /// Items of a lower step all finish before any item of a higher step starts
    /// (domains before accounts before aliases ...). Items of one step run in parallel.
    pub step: u32,
    /// Run again even when done in an earlier run (a mail delta pass on a
    /// destination that resumes), instead of being skipped.
    pub rerun_when_done: bool,
    /// What to do.
    pub work: Work,
}

impl WorkItem {
    /// An item that is skipped once done.
    pub fn new(key: impl Into<String>, step: u32, work: Work) -> Self {
        WorkItem {
            key: key.into(),
            step,
            rerun_when_done: false,
            work,
        }
    }

    /// The account this item concerns, for `--account` and `--shard` selection.
    pub fn account(&self) -> Option<&EmailAddress> {
        match &self.work {
            Work::Account(a) | Work::Mail(a) | Work::Appointments(a) | Work::Contacts(a) => {
                Some(&a.address)
            }
            Work::Alias { account, .. } => Some(account),
            _ => None,
        }
    }
}

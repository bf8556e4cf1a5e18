//! What an adapter can do. The planner compares a procedure's needs with the
//! configured pair's capabilities before anything runs and refuses a phase the
//! pair cannot do, naming the phase, the capability and the adapter.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One kind of object an adapter can read (source) or write (destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Mail domains.
    Domains,
    /// Classes of service.
    ClassesOfService,
    /// Accounts with aliases and passwords.
    Accounts,
    /// Distribution lists and members.
    DistributionLists,
    /// Mail folders and messages.
    Mail,
    /// Calendar appointments.
    Appointments,
    /// Contacts.
    Contacts,
    /// Folder grants.
    Shares,
    /// Documents.
    Files,
    /// (destination) Reading back what was written, for `verify`.
    ReadBack,
    /// (destination) Resuming an account's mail midway: messages already written
    /// stay written when the run is killed. Without it, an unfinished account's mail
    /// is redone from its start, and the writer must make that give the same result.
    ResumeMail,
}

impl Capability {
    /// Every capability, in a stable order.
    pub const ALL: [Capability; 11] = [
        Capability::Domains,
        Capability::ClassesOfService,
        Capability::Accounts,
        Capability::DistributionLists,
        Capability::Mail,
        Capability::Appointments,
        Capability::Contacts,
        Capability::Shares,
        Capability::Files,
        Capability::ReadBack,
        Capability::ResumeMail,
    ];

    /// A lowercase name for messages ("distribution lists").
    pub fn describe(self) -> &'static str {
        match self {
            Capability::Domains => "domains",
            Capability::ClassesOfService => "classes of service",
            Capability::Accounts => "accounts",
            Capability::DistributionLists => "distribution lists",
            Capability::Mail => "mail",
            Capability::Appointments => "appointments",
            Capability::Contacts => "contacts",
            Capability::Shares => "shares",
            Capability::Files => "files",
            Capability::ReadBack => "reading back for verify",
            Capability::ResumeMail => "resuming mail midway",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The set of capabilities an adapter declares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities(BTreeSet<Capability>);

impl Capabilities {
    /// Builds a set.
    pub fn of(caps: impl IntoIterator<Item = Capability>) -> Self {
        Capabilities(caps.into_iter().collect())
    }

    /// Whether `cap` is in the set.
    pub fn has(&self, cap: Capability) -> bool {
        self.0.contains(&cap)
    }

    /// The capabilities, in order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}

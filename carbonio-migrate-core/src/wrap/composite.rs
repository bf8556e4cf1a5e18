//! A source made of two: accounts and other provisioning objects from one (a
//! CSV file, a directory), mail and PIM data from the other (an IMAP server).

use std::sync::Arc;

use async_trait::async_trait;

use crate::capability::{Capabilities, Capability};
use crate::error::Result;
use crate::model::{Account, Appointment, Contact, Cos, DistributionList, Domain};
use crate::source::{MailboxReader, ResultStream, Source};

const PIM: [Capability; 2] = [Capability::Appointments, Capability::Contacts];

const PROVISIONING: [Capability; 4] = [
    Capability::Domains,
    Capability::ClassesOfService,
    Capability::Accounts,
    Capability::DistributionLists,
];

/// Provisioning from `provisioning`, data from `data`. Appointments and
/// contacts come from `data` when it reads them, else from `provisioning` (an
/// export directory's `calendar/` and `contacts/` beside its `accounts.csv`,
/// with mail over IMAP: procedure 4 of the guide).
pub struct CompositeSource {
    provisioning: Arc<dyn Source>,
    data: Arc<dyn Source>,
}

impl CompositeSource {
    /// Joins the two sources.
    pub fn new(provisioning: Arc<dyn Source>, data: Arc<dyn Source>) -> Self {
        CompositeSource { provisioning, data }
    }
}

#[async_trait]
impl Source for CompositeSource {
    fn kind(&self) -> &'static str {
        self.data.kind()
    }

    fn location(&self) -> String {
        format!(
            "accounts from {}; data from {}",
            self.provisioning.location(),
            self.data.location()
        )
    }

    fn capabilities(&self) -> Capabilities {
        let (p, d) = (self.provisioning.capabilities(), self.data.capabilities());
        Capabilities::of(Capability::ALL.into_iter().filter(|c| {
            if PROVISIONING.contains(c) {
                p.has(*c)
            } else if PIM.contains(c) {
                d.has(*c) || p.has(*c)
            } else {
                d.has(*c)
            }
        }))
    }

    async fn domains(&self) -> Result<ResultStream<'_, Domain>> {
        self.provisioning.domains().await
    }

    async fn classes_of_service(&self) -> Result<ResultStream<'_, Cos>> {
        self.provisioning.classes_of_service().await
    }

    async fn accounts(&self) -> Result<ResultStream<'_, Account>> {
        self.provisioning.accounts().await
    }

    async fn distribution_lists(&self) -> Result<ResultStream<'_, DistributionList>> {
        self.provisioning.distribution_lists().await
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        self.data.mailbox(account).await
    }

    async fn appointments(&self, account: &Account) -> Result<ResultStream<'_, Appointment>> {
        if self.data.capabilities().has(Capability::Appointments) {
            self.data.appointments(account).await
        } else {
            self.provisioning.appointments(account).await
        }
    }

    async fn contacts(&self, account: &Account) -> Result<ResultStream<'_, Contact>> {
        if self.data.capabilities().has(Capability::Contacts) {
            self.data.contacts(account).await
        } else {
            self.provisioning.contacts(account).await
        }
    }
}

//! Phase 0, preflight: connect, list, size, and report what cannot be done,
//! before anything is written.

use futures::StreamExt;
use serde::Serialize;

use super::runner::Engine;
use super::shard::Shard;
use crate::capability::Capability;
use crate::error::Result;
use crate::model::EmailAddress;

/// Which accounts preflight looks at.
#[derive(Clone, Debug, Default)]
pub struct PreflightOptions {
    /// Only these accounts.
    pub accounts: Option<Vec<EmailAddress>>,
    /// Only this shard's accounts.
    pub shard: Option<Shard>,
}

/// The size of one account's mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountPlan {
    /// The account.
    pub address: String,
    /// Mail folders that will move (after the folder rules).
    pub folders: u64,
    /// Messages in them.
    pub messages: u64,
    /// Bytes in them.
    pub bytes: u64,
}

/// What a run would do, and what it cannot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PreflightReport {
    /// The procedure.
    pub procedure: String,
    /// Its phases.
    pub phases: Vec<String>,
    /// The source's location.
    pub source: String,
    /// The destination's location.
    pub destination: String,
    /// Accounts, with their mail sizes.
    pub accounts: Vec<AccountPlan>,
    /// Source records that cannot be migrated, each naming file and line.
    pub invalid: Vec<String>,
    /// What the pair cannot move although the source has it.
    pub gaps: Vec<String>,
    /// Problems that do not stop the run (an account whose mailbox cannot be read).
    pub warnings: Vec<String>,
    /// Total folders.
    pub folders: u64,
    /// Total messages.
    pub messages: u64,
    /// Total bytes.
    pub bytes: u64,
}

impl Engine {
    /// Lists and sizes everything the procedure would move. Reads metadata only
    /// (no message bodies), page by page.
    ///
    /// # Errors
    /// Errors that stop the listing as a whole (the account list cannot be read).
    pub async fn preflight(&self, options: &PreflightOptions) -> Result<PreflightReport> {
        let source = self.source();
        let destination = self.destination();
        let (sc, dc) = (source.capabilities(), destination.capabilities());
        let mut report = PreflightReport {
            procedure: self.procedure().name().to_string(),
            phases: self
                .procedure()
                .phase_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            source: source.location(),
            destination: destination.location(),
            ..PreflightReport::default()
        };
        for cap in [
            Capability::ClassesOfService,
            Capability::DistributionLists,
            Capability::Appointments,
            Capability::Contacts,
        ] {
            if sc.has(cap) && !dc.has(cap) {
                report.gaps.push(format!(
                    "{cap} will not be migrated: destination '{}' cannot write them",
                    destination.kind()
                ));
            }
        }
        let names = self.procedure().phase_names();
        let mut accounts = source.accounts().await?;
        while let Some(account) = accounts.next().await {
            let account = match account {
                Ok(a) => a,
                Err(e) => {
                    report.invalid.push(e.to_string());
                    continue;
                }
            };
            if options
                .accounts
                .as_ref()
                .is_some_and(|l| !l.contains(&account.address))
                || options
                    .shard
                    .is_some_and(|s| !s.contains(account.address.as_str()))
            {
                continue;
            }
            let mut plan = AccountPlan {
                address: account.address.to_string(),
                ..AccountPlan::default()
            };
            if sc.has(Capability::Mail) && names.contains(&"data") {
                if let Err(e) = self.size_mailbox(&account, &mut plan).await {
                    report.warnings.push(format!(
                        "cannot read the mail of {}: {}",
                        account.address,
                        e.chain()
                    ));
                }
            }
            report.folders += plan.folders;
            report.messages += plan.messages;
            report.bytes += plan.bytes;
            report.accounts.push(plan);
        }
        Ok(report)
    }

    async fn size_mailbox(
        &self,
        account: &crate::model::Account,
        plan: &mut AccountPlan,
    ) -> Result<()> {
        let mut reader = self.source().mailbox(account).await?;
        let folders = reader.folders().await?;
        for (folder, _) in self.settings().rules.map_all(&folders) {
            plan.folders += 1;
            let mut after = None;
            loop {
                let page = reader.list(&folder.path, after, 1024).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.uid);
                plan.messages += page.len() as u64;
                plan.bytes += page.iter().map(|m| m.size).sum::<u64>();
            }
        }
        Ok(())
    }
}

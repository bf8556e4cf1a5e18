//! Phase 1: domains, classes of service, accounts, aliases, lists, members.

use std::collections::BTreeSet;

use async_trait::async_trait;
use futures::StreamExt;

use super::phase::{Phase, PhaseContext, PhaseNeeds};
use super::work::{Work, WorkItem};
use crate::capability::Capability;
use crate::destination::Change;
use crate::error::{Error, Result};

/// Creates or updates every provisioning object, in dependency order: domains,
/// classes of service, accounts, aliases, lists, members. Classes of service and
/// lists are optional: done when both sides can, otherwise left out (and `plan`
/// reports the gap).
pub struct ProvisioningPhase;

/// Key prefix of items recording unreadable source records.
pub const INVALID_PREFIX: &str = "invalid:";

/// The item recording an unreadable source record. Its key names the file and
/// line (`invalid:export/accounts.csv:4`), stable across runs of the same input;
/// `seq` keeps apart errors without a line.
pub(crate) fn invalid(err: &Error, seq: usize) -> WorkItem {
    let place = match err {
        Error::Input {
            file,
            line: Some(line),
            ..
        } => format!("{}:{line}", file.display()),
        Error::Input {
            file, line: None, ..
        } => format!("{}#{seq}", file.display()),
        _ => format!("#{seq}"),
    };
    WorkItem::new(
        format!("{INVALID_PREFIX}{place}"),
        0,
        Work::Invalid(err.to_string()),
    )
}

#[async_trait]
impl Phase for ProvisioningPhase {
    fn name(&self) -> &'static str {
        "provisioning"
    }

    fn needs(&self) -> PhaseNeeds {
        PhaseNeeds {
            source: vec![Capability::Accounts],
            destination: vec![Capability::Domains, Capability::Accounts],
        }
    }

    async fn plan(&self, ctx: &PhaseContext) -> Result<Vec<WorkItem>> {
        let mut items = Vec::new();
        let mut bad = 0usize;
        let mut domains_seen = BTreeSet::new();
        if ctx.source.capabilities().has(Capability::Domains) {
            let mut s = ctx.source.domains().await?;
            while let Some(d) = s.next().await {
                match d {
                    Ok(d) => {
                        domains_seen.insert(d.name.clone());
                        items.push(WorkItem::new(
                            format!("domain:{}", d.name),
                            0,
                            Work::Domain(d),
                        ));
                    }
                    Err(e) => {
                        bad += 1;
                        items.push(invalid(&e, bad));
                    }
                }
            }
        }
        if ctx.both_can(Capability::ClassesOfService) {
            let mut s = ctx.source.classes_of_service().await?;
            while let Some(c) = s.next().await {
                match c {
                    Ok(c) => items.push(WorkItem::new(format!("cos:{}", c.name), 1, Work::Cos(c))),
                    Err(e) => {
                        bad += 1;
                        items.push(invalid(&e, bad));
                    }
                }
            }
        }
        let mut implied_domains = BTreeSet::new();
        {
            let mut s = ctx.source.accounts().await?;
            while let Some(a) = s.next().await {
                match a {
                    Ok(a) => {
                        implied_domains.insert(a.address.domain());
                        for alias in &a.aliases {
                            implied_domains.insert(alias.domain());
                            items.push(WorkItem::new(
                                format!("alias:{}:{}", a.address, alias),
                                3,
                                Work::Alias {
                                    account: a.address.clone(),
                                    alias: alias.clone(),
                                },
                            ));
                        }
                        items.push(WorkItem::new(
                            format!("account:{}", a.address),
                            2,
                            Work::Account(a),
                        ));
                    }
                    Err(e) => {
                        bad += 1;
                        items.push(invalid(&e, bad));
                    }
                }
            }
        }
        if ctx.both_can(Capability::DistributionLists) {
            let mut s = ctx.source.distribution_lists().await?;
            while let Some(l) = s.next().await {
                match l {
                    Ok(l) => {
                        implied_domains.insert(l.address.domain());
                        if !l.members.is_empty() {
                            items.push(WorkItem::new(
                                format!("members:{}", l.address),
                                5,
                                Work::Members {
                                    list: l.address.clone(),
                                    members: l.members.clone(),
                                },
                            ));
                        }
                        items.push(WorkItem::new(
                            format!("list:{}", l.address),
                            4,
                            Work::List(l),
                        ));
                    }
                    Err(e) => {
                        bad += 1;
                        items.push(invalid(&e, bad));
                    }
                }
            }
        }
        // A source without a domain list still needs its accounts' domains created.
        for d in implied_domains.difference(&domains_seen) {
            items.push(WorkItem::new(
                format!("domain:{d}"),
                0,
                Work::Domain(crate::model::Domain::new(d.clone())),
            ));
        }
        Ok(items)
    }

    async fn run(&self, ctx: &PhaseContext, item: &WorkItem) -> Result<Change> {
        let d = &ctx.destination;
        match &item.work {
            Work::Domain(x) => d.ensure_domain(x).await,
            Work::Cos(x) => d.ensure_cos(x).await,
            Work::Account(x) => d.ensure_account(x).await,
            Work::Alias { account, alias } => d.ensure_alias(account, alias).await,
            Work::List(x) => d.ensure_distribution_list(x).await,
            Work::Members { list, members } => d.ensure_members(list, members).await,
            other => Err(Error::Protocol {
                context: format!("provisioning item {}", item.key),
                message: format!("not a provisioning item: {other:?}"),
            }),
        }
    }
}

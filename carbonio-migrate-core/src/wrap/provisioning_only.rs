//! A destination narrowed to provisioning: the `prov-script` output.

use std::sync::Arc;

use async_trait::async_trait;

use crate::capability::{Capabilities, Capability};
use crate::destination::{Change, Destination};
use crate::error::{Error, Result};
use crate::model::{Account, Cos, DistributionList, Domain, EmailAddress};

/// Forwards the provisioning calls of `inner` and declares nothing else, so a
/// procedure's other phases are refused by name instead of half-running. Wrapped
/// around the bundle destination it is the `prov-script` output for air-gapped
/// sites: the same `provisioning.cmd` (and `apply.sh`), by the same code.
pub struct ProvisioningOnly {
    inner: Arc<dyn Destination>,
    kind: &'static str,
}

impl ProvisioningOnly {
    /// Narrows `inner`, reporting itself as adapter `kind`.
    pub fn new(inner: Arc<dyn Destination>, kind: &'static str) -> Self {
        ProvisioningOnly { inner, kind }
    }
}

const PROVISIONING: [Capability; 4] = [
    Capability::Domains,
    Capability::ClassesOfService,
    Capability::Accounts,
    Capability::DistributionLists,
];

#[async_trait]
impl Destination for ProvisioningOnly {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn location(&self) -> String {
        self.inner.location()
    }

    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        Capabilities::of(PROVISIONING.into_iter().filter(|c| inner.has(*c)))
    }

    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        self.inner.ensure_domain(domain).await
    }

    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        self.inner.ensure_cos(cos).await
    }

    /// As the inner destination's, with a refusal naming this adapter (the
    /// user configured `prov-script`, not the bundle inside it).
    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        self.inner
            .ensure_account(account)
            .await
            .map_err(|e| match e {
                Error::Unsupported { operation, .. } => Error::unsupported(operation, self.kind),
                other => other,
            })
    }

    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        self.inner.ensure_alias(account, alias).await
    }

    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        self.inner.ensure_distribution_list(list).await
    }

    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        self.inner.ensure_members(list, members).await
    }

    async fn finalize(&self) -> Result<()> {
        self.inner.finalize().await
    }
}

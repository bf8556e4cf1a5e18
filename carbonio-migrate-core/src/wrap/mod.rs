//! Adapters that wrap adapters, implementing the same trait.

mod composite;
mod provisioning_only;

pub use composite::CompositeSource;
pub use provisioning_only::ProvisioningOnly;

#![doc = include_str!("docs.md")]

pub mod auto_provisioning;
mod config;
mod connection;
mod entries;
mod profile;
mod source;

pub use auto_provisioning::{
    domain_attributes, prov_commands, AutoProvMode, MULTI_VALUED_ATTRIBUTES,
};
pub use config::{AccountsMode, DisabledAccounts, LdapConfig};
pub use profile::Profile;
pub use source::LdapSource;

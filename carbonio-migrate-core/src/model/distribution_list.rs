//! Distribution lists.

use serde::{Deserialize, Serialize};

use super::EmailAddress;

/// A distribution list and its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionList {
    /// The list's address.
    pub address: EmailAddress,
    /// Extra addresses of the list.
    pub aliases: Vec<EmailAddress>,
    /// Name shown in the address book.
    pub display_name: Option<String>,
    /// Free text description.
    pub description: Option<String>,
    /// Member addresses (accounts, lists or external addresses), in source order.
    pub members: Vec<EmailAddress>,
}

impl DistributionList {
    /// A list with only an address.
    pub fn new(address: EmailAddress) -> Self {
        DistributionList {
            address,
            aliases: Vec::new(),
            display_name: None,
            description: None,
            members: Vec::new(),
        }
    }
}

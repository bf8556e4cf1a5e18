//! Contacts.

use serde::{Deserialize, Serialize};

/// One contact, carried as its vCard text so nothing the source wrote is lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// A stable identity within the account (vCard `UID`, else a hash of the card).
    pub uid: String,
    /// Formatted name (`FN`), for reports.
    pub full_name: Option<String>,
    /// The complete `BEGIN:VCARD` ... `END:VCARD` block, CRLF line ends.
    pub vcard: String,
}

//! Accounts and their passwords.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CosName, EmailAddress, PasswordHash, Secret};

/// How the account's password reaches Carbonio.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Password {
    /// No password: the user cannot log in until one is set (or external auth is used).
    #[default]
    None,
    /// A clear password, hashed by Carbonio.
    Clear(Secret),
    /// A hash kept as is through `userPassword`, so users keep their password.
    Hash(PasswordHash),
}

/// How the destination brings an account into existence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Creation {
    /// Created by the tool with the fields of [`Account`] (`CreateAccountRequest`,
    /// `carbonio prov ca`).
    #[default]
    Create,
    /// Created by Carbonio itself from the external directory configured on the
    /// account's domain (`zimbraAutoProv*`): the destination asks for it by the
    /// account's address (`AutoProvAccountRequest`, principal by name, which
    /// needs `MANUAL` among the domain's `zimbraAutoProvMode`), and Carbonio
    /// names it and fills its attributes by the domain's maps. The password,
    /// names and extra attributes of [`Account`] are not sent; aliases still are.
    AutoProvisioning,
}

/// An account to provision, with what the data phase needs to reach its mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's primary address on the destination.
    pub address: EmailAddress,
    /// Extra addresses delivering to this account.
    pub aliases: Vec<EmailAddress>,
    /// Full name (`displayName`).
    pub display_name: Option<String>,
    /// First name (`givenName`).
    pub given_name: Option<String>,
    /// Last name (`sn`).
    pub surname: Option<String>,
    /// Class of service by name; `None` leaves the domain default.
    pub cos: Option<CosName>,
    /// The password, clear or hashed.
    pub password: Password,
    /// Ask the user for a new password at first login (`zimbraPasswordMustChange`).
    pub must_change_password: bool,
    /// Further Carbonio attributes (`zimbraPrefPasswordRecoveryAddress`, ...).
    pub attributes: BTreeMap<String, String>,
    /// Login on the source system when it differs from `address`.
    pub source_user: Option<String>,
    /// The account's own password on the source, when no admin credential is used.
    pub source_password: Option<Secret>,
    /// Created by the tool (default) or by Carbonio's auto-provisioning.
    #[serde(default)]
    pub creation: Creation,
}

impl Account {
    /// An account with only an address.
    pub fn new(address: EmailAddress) -> Self {
        Account {
            address,
            aliases: Vec::new(),
            display_name: None,
            given_name: None,
            surname: None,
            cos: None,
            password: Password::None,
            must_change_password: false,
            attributes: BTreeMap::new(),
            source_user: None,
            source_password: None,
            creation: Creation::Create,
        }
    }

    /// The login to use on the source: `source_user`, else the address.
    pub fn source_login(&self) -> &str {
        self.source_user.as_deref().unwrap_or(self.address.as_str())
    }
}

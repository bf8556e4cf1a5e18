//! What the emulator holds: the directory (domains, classes of service,
//! accounts, aliases, lists), REST imports, grants, tokens and the request log.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// Attribute name → values (multi-valued attributes hold several).
pub type Attributes = BTreeMap<String, Vec<String>>;

/// A domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainRecord {
    /// `zimbraId`.
    pub id: String,
    /// The domain name.
    pub name: String,
    /// Attributes as set.
    pub attrs: Attributes,
}

/// A class of service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosRecord {
    /// `zimbraId`, what accounts name in `zimbraCOSId`.
    pub id: String,
    /// The CoS name.
    pub name: String,
    /// Attributes as set.
    pub attrs: Attributes,
}

/// How an account's password was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordRecord {
    /// None: the account cannot log in.
    None,
    /// A clear password was given (`password` / `SetPasswordRequest`) and
    /// "hashed by the server": its SHA-256 in hex, for tests to compare.
    Clear {
        /// Hex SHA-256 of the clear password.
        sha256: String,
    },
    /// `userPassword` was given in the attributes: stored as given.
    Hash(String),
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// `zimbraId`.
    pub id: String,
    /// The primary address.
    pub name: String,
    /// Attributes (`givenName`, `zimbraCOSId`, `zimbraMailAlias`, ...);
    /// `userPassword` is kept in `password`, not here.
    pub attrs: Attributes,
    /// The password as set.
    pub password: PasswordRecord,
    /// Aliases in the order added.
    pub aliases: Vec<String>,
}

/// A distribution list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRecord {
    /// `zimbraId`.
    pub id: String,
    /// The list's address.
    pub name: String,
    /// Attributes (`displayName`, `description`, `zimbraMailAlias`).
    pub attrs: Attributes,
    /// Members in the order added.
    pub members: Vec<String>,
    /// Aliases in the order added.
    pub aliases: Vec<String>,
}

/// One REST import received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestImportRecord {
    /// The account (as written in the URL).
    pub account: String,
    /// The folder path after the account (`Calendar`).
    pub folder: String,
    /// The `fmt` parameter (`ics`, `vcf`).
    pub fmt: String,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// One contact stored by a CSV import (`fmt=csv`), field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRecord {
    /// The account (as written in the URL).
    pub account: String,
    /// The folder path after the account (`Contacts`).
    pub folder: String,
    /// Zimbra field name (`firstName`, `email2`) → value, as the server's
    /// CSV import would store them.
    pub fields: BTreeMap<String, String>,
}

/// A folder grant made with `FolderActionRequest op=grant`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// The folder's owner (the context account).
    pub owner: String,
    /// The folder id of the action.
    pub folder_id: String,
    /// The grantee type after resolution (`usr`, `grp`, `guest`, ...).
    pub grantee_type: String,
    /// The grantee's name (`d`).
    pub grantee: String,
    /// The rights (`perm`).
    pub perm: String,
}

/// Who holds an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holder {
    /// An account's primary address.
    Account(String),
    /// An alias of this account.
    AccountAlias(String),
    /// A list's address.
    List(String),
    /// An alias of this list.
    ListAlias(String),
}

/// A snapshot of everything the emulator holds, for tests to inspect.
#[derive(Clone, Debug, Default)]
pub struct EmulatorState {
    /// Domains by name.
    pub domains: BTreeMap<String, DomainRecord>,
    /// Classes of service by name.
    pub classes_of_service: BTreeMap<String, CosRecord>,
    /// Accounts by address.
    pub accounts: BTreeMap<String, AccountRecord>,
    /// Lists by address.
    pub lists: BTreeMap<String, ListRecord>,
    /// Every address in use (accounts, lists, aliases) and who holds it.
    pub addresses: BTreeMap<String, Holder>,
    /// REST imports in the order received.
    pub imports: Vec<RestImportRecord>,
    /// Contacts stored by CSV imports, in the order imported.
    pub contacts: Vec<ContactRecord>,
    /// Grants in the order made.
    pub grants: Vec<GrantRecord>,
    /// Request names (`AuthRequest`, `GetDomainRequest`, `POST /service/home/...`)
    /// in the order received.
    pub requests: Vec<String>,
    /// SOAP envelopes as received (XML ones in their JSON form), in order. They
    /// hold the passwords sent: a test tool's log, never the client's.
    pub envelopes: Vec<Value>,
    /// Mutating requests received with a valid token (faulted ones included).
    pub write_calls: u64,
}

impl EmulatorState {
    /// The account holding `address` (its own or an alias).
    pub fn account_of(&self, address: &str) -> Option<&AccountRecord> {
        match self.addresses.get(&address.to_ascii_lowercase())? {
            Holder::Account(a) | Holder::AccountAlias(a) => self.accounts.get(a),
            _ => None,
        }
    }

    /// The list holding `address` (its own or an alias).
    pub fn list_of(&self, address: &str) -> Option<&ListRecord> {
        match self.addresses.get(&address.to_ascii_lowercase())? {
            Holder::List(l) | Holder::ListAlias(l) => self.lists.get(l),
            _ => None,
        }
    }

    /// The field maps of the contacts CSV imports stored in `account`'s `folder`.
    pub fn contacts_of(&self, account: &str, folder: &str) -> Vec<&BTreeMap<String, String>> {
        self.contacts
            .iter()
            .filter(|c| c.account.eq_ignore_ascii_case(account) && c.folder == folder)
            .map(|c| &c.fields)
            .collect()
    }

    /// The imports into `account`'s `folder`.
    pub fn imports_of(&self, account: &str, folder: &str) -> Vec<&RestImportRecord> {
        self.imports
            .iter()
            .filter(|i| i.account.eq_ignore_ascii_case(account) && i.folder == folder)
            .collect()
    }
}

/// A token handed out by `AuthRequest`.
#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub(crate) expired: bool,
}

/// The emulator's whole mutable state.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) state: EmulatorState,
    pub(crate) tokens: HashMap<String, TokenRecord>,
    pub(crate) admin_user: String,
    pub(crate) admin_password: String,
    /// HTTP status of faults: 422 (Carbonio) or 500 (Zimbra).
    pub(crate) fault_status: u16,
    /// `lifetime` answered by `AuthRequest`, in milliseconds.
    pub(crate) token_lifetime_ms: u64,
    pub(crate) next_id: u64,
}

impl Inner {
    pub(crate) fn new(admin_user: String, admin_password: String) -> Self {
        Inner {
            state: EmulatorState::default(),
            tokens: HashMap::new(),
            admin_user,
            admin_password,
            fault_status: 422,
            token_lifetime_ms: 12 * 3600 * 1000,
            next_id: 1,
        }
    }

    /// A fresh UUID-shaped `zimbraId`.
    pub(crate) fn new_id(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{n:012x}")
    }
}

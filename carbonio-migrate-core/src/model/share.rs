//! Folder shares (grants).

use serde::{Deserialize, Serialize};

use super::{EmailAddress, FolderPath};

/// Who a share is granted to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Grantee {
    /// One account (`usr`).
    User(EmailAddress),
    /// A distribution list (`grp`).
    Group(EmailAddress),
    /// Every account of a domain (`dom`).
    Domain(String),
    /// All authenticated users (`all`).
    AllAuthenticated,
    /// Anyone, without login (`pub`).
    Public,
}

/// A grant on an owner's folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// The folder's owner.
    pub owner: EmailAddress,
    /// The shared folder.
    pub folder: FolderPath,
    /// Who gets access.
    pub grantee: Grantee,
    /// Rights in Carbonio letters (`r`, `rwidx`, `rwidxa`, ...).
    pub rights: String,
}

//! The objects a migration moves. Each type is valid by construction: an address,
//! name or path that cannot be valid is refused where it enters, with an error
//! that says why.

mod account;
mod address;
mod appointment;
mod contact;
mod cos;
mod distribution_list;
mod domain;
mod file_item;
mod folder;
mod message;
mod secret;
mod share;

pub use account::{Account, Creation, Password};
pub use address::{DomainName, EmailAddress};
pub use appointment::Appointment;
pub use contact::Contact;
pub use cos::{Cos, CosName};
pub use distribution_list::DistributionList;
pub use domain::Domain;
pub use file_item::FileItem;
pub use folder::{Folder, FolderKind, FolderPath, FolderRole, MAX_FOLDER_NAME_CHARS};
pub use message::{header_block, Flags, Message, MessageBody, MessageMeta, MessageSignature, Uid};
pub use secret::{PasswordHash, Secret};
pub use share::{Grantee, Share};

//! The staging area: one small file per ensured provisioning object.
//!
//! `ensure_*` calls may come in any order, concurrently, and be cut by SIGKILL at
//! any instant; `provisioning.cmd` must still come out sorted and byte-identical
//! to an uninterrupted run. So each object is staged alone, atomically, under a
//! name derived from its kind and key, and `finalize` assembles the file from
//! whatever is staged. Re-staging the same object with the same content writes
//! nothing.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::durable_file;
use crate::destination::Change;
use crate::error::{Error, Result};

/// The kinds of staged objects, in `provisioning.cmd` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    /// `cd` lines, keyed by domain name.
    Domain,
    /// `cc` lines, keyed by CoS name.
    Cos,
    /// `ca` (+ `sac`) lines, keyed by address.
    Account,
    /// `aaa` lines, keyed by alias address; the owner is recorded.
    Alias,
    /// `cdl` (+ `adla`) lines, keyed by list address.
    DistributionList,
    /// The member set of a list, keyed by list address.
    Members,
}

impl ObjectKind {
    /// Every kind in `provisioning.cmd` order.
    pub(crate) const IN_ORDER: [ObjectKind; 6] = [
        ObjectKind::Domain,
        ObjectKind::Cos,
        ObjectKind::Account,
        ObjectKind::Alias,
        ObjectKind::DistributionList,
        ObjectKind::Members,
    ];

    fn directory(self) -> &'static str {
        match self {
            ObjectKind::Domain => "domain",
            ObjectKind::Cos => "cos",
            ObjectKind::Account => "account",
            ObjectKind::Alias => "alias",
            ObjectKind::DistributionList => "distribution-list",
            ObjectKind::Members => "members",
        }
    }
}

/// One staged object. Serialized as JSON with a fixed field order, so the same
/// object always stages to the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StagedObject {
    /// The object's name (domain, CoS, address), also the sort key.
    pub key: String,
    /// For an alias: the account it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The rendered `prov` lines (may hold secrets: the file is mode 0600).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// For a member set: the member addresses, sorted and unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// A file name for `key`: bytes outside `[a-z0-9.@_-]` percent-encoded with
/// lowercase hex (so names stay distinct on case-insensitive file systems); an
/// over-long result is cut and suffixed with a hash of the key.
pub(crate) fn file_name_for(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'@' | b'_' | b'-') {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02x}"));
        }
    }
    // A leading dot would hide the file and clash with temporary files.
    if encoded.starts_with('.') {
        encoded.replace_range(0..1, "%2e");
    }
    if encoded.len() > 180 {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        encoded.truncate(140);
        encoded.push('~');
        encoded.push_str(&hex);
    }
    encoded
}

/// The staging directory and the lock that serialises its read-modify-writes.
#[derive(Debug)]
pub(crate) struct StagingArea {
    root: PathBuf,
    lock: Mutex<()>,
}

impl StagingArea {
    /// Opens (creating) the staging directory, private to its owner since staged
    /// account lines hold passwords.
    pub(crate) fn open(root: &Path) -> Result<Self> {
        for kind in ObjectKind::IN_ORDER {
            durable_file::create_dir(&root.join(kind.directory()))?;
        }
        durable_file::set_mode(root, 0o700)?;
        Ok(StagingArea {
            root: root.to_path_buf(),
            lock: Mutex::new(()),
        })
    }

    fn path(&self, kind: ObjectKind, key: &str) -> PathBuf {
        self.root
            .join(kind.directory())
            .join(format!("{}.json", file_name_for(key)))
    }

    /// Stages `object`, replacing what was staged under its key.
    pub(crate) async fn put(&self, kind: ObjectKind, object: StagedObject) -> Result<Change> {
        let _guard = self.lock.lock().await;
        let path = self.path(kind, &object.key);
        durable_file::blocking(move || write_object(&path, &object)).await
    }

    /// Stages alias `alias` of `account`; refuses an alias staged for another
    /// account.
    pub(crate) async fn put_alias(&self, object: StagedObject) -> Result<Change> {
        let _guard = self.lock.lock().await;
        let path = self.path(ObjectKind::Alias, &object.key);
        durable_file::blocking(move || {
            if let Some(existing) = read_object(&path)? {
                if existing.owner != object.owner {
                    return Err(Error::AlreadyExists {
                        what: format!(
                            "alias {} belongs to {}, cannot add it to {}",
                            object.key,
                            existing.owner.as_deref().unwrap_or("another object"),
                            object.owner.as_deref().unwrap_or("this account"),
                        ),
                    });
                }
            }
            write_object(&path, &object)
        })
        .await
    }

    /// Adds `members` to the member set staged for `list` (members already there
    /// are kept, as a server does).
    pub(crate) async fn add_members(&self, list: &str, members: Vec<String>) -> Result<Change> {
        let _guard = self.lock.lock().await;
        let path = self.path(ObjectKind::Members, list);
        let list = list.to_string();
        durable_file::blocking(move || {
            let existing = read_object(&path)?;
            let mut all: Vec<String> = existing
                .as_ref()
                .map(|o| o.members.clone())
                .unwrap_or_default();
            all.extend(members);
            all.sort();
            all.dedup();
            let object = StagedObject {
                key: list,
                owner: None,
                lines: Vec::new(),
                members: all,
            };
            write_object(&path, &object)
        })
        .await
    }

    /// The staging directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
}

/// Every object of `kind` staged under `root`, sorted by key.
pub(crate) fn all(root: &Path, kind: ObjectKind) -> Result<Vec<StagedObject>> {
    let dir = root.join(kind.directory());
    let entries =
        fs::read_dir(&dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    let mut objects = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue; // temporaries of an interrupted write
        }
        if let Some(object) = read_object(&path)? {
            objects.push(object);
        }
    }
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(objects)
}

fn read_object(path: &Path) -> Result<Option<StagedObject>> {
    let Some(bytes) = durable_file::read_if_exists(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::input(path, None, format!("unreadable staged object: {e}")))
}

/// Writes `object` unless the same bytes are staged.
fn write_object(path: &Path, object: &StagedObject) -> Result<Change> {
    let mut bytes = serde_json::to_vec_pretty(object)
        .map_err(|e| Error::io("encoding a staged object", std::io::Error::other(e)))?;
    bytes.push(b'\n');
    let change = match durable_file::read_if_exists(path)? {
        Some(existing) if existing == bytes => return Ok(Change::Unchanged),
        Some(_) => Change::Updated,
        None => Change::Created,
    };
    durable_file::replace(path, &bytes, 0o600)?;
    Ok(change)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_distinct_and_bounded() {
        assert_eq!(file_name_for("ada@example.org"), "ada@example.org");
        assert_eq!(file_name_for("Staff"), "%53taff");
        assert_ne!(file_name_for("Staff"), file_name_for("staff"));
        assert_eq!(file_name_for("a/b c"), "a%2fb%20c");
        assert_eq!(file_name_for(".x"), "%2ex");
        let long = "ü".repeat(64);
        let name = file_name_for(&long);
        assert!(name.len() <= 180, "{}", name.len());
        assert_ne!(name, file_name_for(&"ü".repeat(63)));
    }
}

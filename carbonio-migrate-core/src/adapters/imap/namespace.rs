//! Translating server mailbox names to [`FolderPath`]s and back: the personal
//! namespace prefix (`INBOX.` on Courier and Cyrus), the hierarchy delimiter,
//! modified UTF-7, and special-use roles. Pure functions, used by the source and
//! the destination alike.

use crate::error::{Error, Result};
use crate::model::{FolderPath, FolderRole};

use super::mutf7;

/// What replaces a `/` inside a source folder name, since `/` separates
/// Carbonio folders and cannot be part of a name.
pub const SLASH_REPLACEMENT: char = '_';

/// A server's personal namespace: the prefix of the user's own mailboxes and
/// their hierarchy delimiter (RFC 2342).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
    delimiter: Option<char>,
}

impl Namespace {
    /// A namespace with this prefix (as on the wire, e.g. `INBOX.`, or empty) and
    /// delimiter (`None` for a flat server).
    pub fn new(prefix: impl Into<String>, delimiter: Option<char>) -> Self {
        Namespace {
            prefix: prefix.into(),
            delimiter,
        }
    }

    /// The prefix, as on the wire.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hierarchy delimiter.
    pub fn delimiter(&self) -> Option<char> {
        self.delimiter
    }

    /// Whether `server_name` is the namespace's own root (`INBOX.` listed on its
    /// own, or the prefix without its trailing delimiter), which is no folder.
    pub fn is_root(&self, server_name: &str) -> bool {
        if self.prefix.is_empty() || server_name.eq_ignore_ascii_case("INBOX") {
            return false;
        }
        let bare = match self.delimiter {
            Some(d) => self.prefix.strip_suffix(d).unwrap_or(&self.prefix),
            None => &self.prefix,
        };
        server_name == self.prefix || server_name == bare
    }

    /// The name without the personal prefix, `None` when it does not start with
    /// it. The `INBOX` part of a prefix compares case-insensitively, as IMAP
    /// names `INBOX` in any case.
    fn strip_prefix<'a>(&self, server_name: &'a str) -> Option<&'a str> {
        if let Some(rest) = server_name.strip_prefix(&self.prefix) {
            return Some(rest);
        }
        let head = self.prefix.get(..5)?;
        if head.eq_ignore_ascii_case("INBOX") {
            let candidate = server_name.get(..self.prefix.len())?;
            if candidate.eq_ignore_ascii_case(&self.prefix) {
                return server_name.get(self.prefix.len()..);
            }
        }
        None
    }

    /// The folder path of a server mailbox name: the personal prefix stripped,
    /// split on the delimiter, each segment decoded from modified UTF-7, a `/`
    /// inside a segment replaced by [`SLASH_REPLACEMENT`]. `INBOX` in any case is
    /// `INBOX`. A name outside the prefix is taken whole.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when a segment is not valid modified UTF-7 or
    /// cannot be a folder name (empty, `.`, `..`, control characters, longer
    /// than 128 characters).
    pub fn to_path(&self, server_name: &str) -> Result<FolderPath> {
        if server_name.eq_ignore_ascii_case("INBOX") {
            return FolderPath::new(["INBOX"]);
        }
        let relative = self.strip_prefix(server_name).unwrap_or(server_name);
        let raw: Vec<&str> = match self.delimiter {
            Some(d) => relative.split(d).collect(),
            None => vec![relative],
        };
        let mut segments = Vec::with_capacity(raw.len());
        for (i, segment) in raw.iter().enumerate() {
            let decoded = mutf7::decode(segment)?;
            let named = if i == 0 && decoded.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_string()
            } else {
                decoded.replace('/', &SLASH_REPLACEMENT.to_string())
            };
            segments.push(named);
        }
        FolderPath::new(segments).map_err(|e| match e {
            Error::InvalidValue { reason, .. } => Error::InvalidValue {
                what: "IMAP folder name",
                value: server_name.to_string(),
                reason,
            },
            other => other,
        })
    }

    /// The server mailbox name of a folder path: segments encoded in modified
    /// UTF-7, joined with the delimiter, under the personal prefix. A leading
    /// `INBOX` segment is the server's `INBOX` and takes no prefix. A delimiter
    /// character inside a segment is replaced by [`SLASH_REPLACEMENT`] (it would
    /// otherwise create a level). A flat server (no delimiter) gets the
    /// segments joined with [`SLASH_REPLACEMENT`], one level.
    pub fn to_server(&self, path: &FolderPath) -> String {
        let delimiter = self.delimiter.unwrap_or(SLASH_REPLACEMENT);
        let segments: Vec<String> = path
            .segments()
            .iter()
            .map(|s| mutf7::encode(&s.replace(delimiter, &SLASH_REPLACEMENT.to_string())))
            .collect();
        let joined = segments.join(&delimiter.to_string());
        if path.segments()[0].eq_ignore_ascii_case("INBOX") {
            let rest = &segments[1..];
            if rest.is_empty() {
                return "INBOX".into();
            }
            return format!("INBOX{delimiter}{}", rest.join(&delimiter.to_string()));
        }
        format!("{}{joined}", self.prefix)
    }
}

/// A special-use attribute of a LIST reply (RFC 6154), as the server spells it.
pub fn role_from_attribute(attribute: &str) -> Option<FolderRole> {
    let lower = attribute.to_ascii_lowercase();
    Some(match lower.as_str() {
        "\\sent" => FolderRole::Sent,
        "\\drafts" => FolderRole::Drafts,
        "\\trash" => FolderRole::Trash,
        "\\junk" => FolderRole::Junk,
        "\\archive" => FolderRole::Archive,
        _ => return None,
    })
}

/// The role of a folder: its special-use attribute, else a well-known name of a
/// top-level folder (`Sent Items`, `Gesendet`, ...), else none.
pub fn folder_role<'a>(
    path: &FolderPath,
    attributes: impl IntoIterator<Item = &'a str>,
) -> Option<FolderRole> {
    attributes
        .into_iter()
        .find_map(role_from_attribute)
        .or_else(|| {
            (path.segments().len() == 1)
                .then(|| FolderRole::from_well_known_name(path.name()))
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> FolderPath {
        FolderPath::parse(text).unwrap()
    }

    #[test]
    fn dovecot_names_map_both_ways() {
        let ns = Namespace::new("", Some('/'));
        for (wire, folder) in [
            ("INBOX", "INBOX"),
            ("inbox", "INBOX"),
            ("Entw&APw-rfe", "Entwürfe"),
            ("Archiv/2024/Q1 Report.v2", "Archiv/2024/Q1 Report.v2"),
            ("&ZeVnLIqe-/&MOEw4g-", "日本語/メモ"),
            ("INBOX/Projekte", "INBOX/Projekte"),
        ] {
            assert_eq!(ns.to_path(wire).unwrap(), path(folder), "{wire}");
        }
        assert_eq!(
            ns.to_server(&path("Entwürfe/日本語")),
            "Entw&APw-rfe/&ZeVnLIqe-"
        );
        assert_eq!(ns.to_server(&path("INBOX")), "INBOX");
        assert_eq!(ns.to_server(&path("Tom & Jerry")), "Tom &- Jerry");
    }

    #[test]
    fn courier_prefix_is_stripped_and_added() {
        let ns = Namespace::new("INBOX.", Some('.'));
        assert_eq!(ns.to_path("INBOX").unwrap(), path("INBOX"));
        assert_eq!(ns.to_path("INBOX.Sent").unwrap(), path("Sent"));
        assert_eq!(ns.to_path("inbox.Sent.2024").unwrap(), path("Sent/2024"));
        assert_eq!(ns.to_server(&path("Sent/2024")), "INBOX.Sent.2024");
        assert_eq!(ns.to_server(&path("INBOX")), "INBOX");
        // A dot is the delimiter here, so a Carbonio name with a dot is flattened.
        assert_eq!(ns.to_server(&path("Q1 Report.v2")), "INBOX.Q1 Report_v2");
        assert!(ns.is_root("INBOX."));
        assert!(!ns.is_root("INBOX"));
    }

    #[test]
    fn slash_inside_a_source_name_becomes_underscore() {
        let ns = Namespace::new("", Some('.'));
        assert_eq!(
            ns.to_path("Kunden.A/B GmbH").unwrap().segments(),
            ["Kunden", "A_B GmbH"]
        );
        let flat = Namespace::new("", None);
        assert_eq!(flat.to_path("a/b.c").unwrap().segments(), ["a_b.c"]);
    }

    #[test]
    fn unusable_names_are_errors_naming_the_server_name() {
        let ns = Namespace::new("", Some('.'));
        let err = ns.to_path("a..b").unwrap_err().to_string();
        assert!(err.contains("\"a..b\""), "{err}");
        assert!(err.contains("empty"), "{err}");
        assert!(ns.to_path("bad&AP-").is_err());
    }

    #[test]
    fn roles_from_special_use_then_names() {
        assert_eq!(
            folder_role(&path("Gesendete Objekte"), ["\\HasNoChildren"]),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            folder_role(&path("Stuff"), ["\\Junk", "\\HasNoChildren"]),
            Some(FolderRole::Junk)
        );
        assert_eq!(folder_role(&path("A/Trash"), []), None);
        assert_eq!(
            folder_role(&path("A/Papierkorb"), ["\\Trash"]),
            Some(FolderRole::Trash)
        );
        assert_eq!(folder_role(&path("INBOX"), []), Some(FolderRole::Inbox));
    }
}

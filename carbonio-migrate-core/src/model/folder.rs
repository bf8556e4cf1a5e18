//! Folders: where messages, appointments, contacts and files live.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The longest folder name Carbonio accepts, in characters.
pub const MAX_FOLDER_NAME_CHARS: usize = 128;

/// A folder path as segments, independent of any server's separator.
///
/// Each segment is 1 to 128 characters, has no control characters, no `/` (the
/// separator Carbonio uses), and is not `.` or `..`. Non-ASCII names are plain
/// Unicode here; protocol encodings (modified UTF-7) belong to the adapters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct FolderPath(Vec<String>);

impl FolderPath {
    /// Builds a path from its segments.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the bad segment.
    pub fn new<I, S>(segments: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let segments: Vec<String> = segments.into_iter().map(Into::into).collect();
        let shown = segments.join("/");
        let refuse = |reason: String| Error::InvalidValue {
            what: "folder path",
            value: shown.clone(),
            reason,
        };
        if segments.is_empty() {
            return Err(refuse("it has no segments".into()));
        }
        for s in &segments {
            if s.is_empty() {
                return Err(refuse("a folder name is empty".into()));
            }
            if s == "." || s == ".." {
                return Err(refuse(format!("{s:?} is not a folder name")));
            }
            if s.chars().count() > MAX_FOLDER_NAME_CHARS {
                return Err(refuse(format!(
                    "the name {s:?} is longer than {MAX_FOLDER_NAME_CHARS} characters"
                )));
            }
            if let Some(c) = s.chars().find(|c| c.is_control() || *c == '/') {
                return Err(refuse(format!("the name {s:?} contains {c:?}")));
            }
        }
        Ok(FolderPath(segments))
    }

    /// Parses a `/`-separated path such as `Inbox/Projects/2024`.
    ///
    /// # Errors
    /// As [`FolderPath::new`].
    pub fn parse(text: &str) -> Result<Self> {
        Self::new(text.trim_matches('/').split('/'))
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// The last segment.
    pub fn name(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or_default()
    }

    /// The enclosing folder, `None` at top level.
    pub fn parent(&self) -> Option<FolderPath> {
        (self.0.len() > 1).then(|| FolderPath(self.0[..self.0.len() - 1].to_vec()))
    }

    /// The path joined with `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.0.join(separator)
    }

    /// This path with its first segment replaced (used to map a role folder's
    /// source name to the destination's, keeping the subfolders below it).
    pub fn with_first(&self, first: &str) -> FolderPath {
        let mut segments = self.0.clone();
        segments[0] = first.to_string();
        FolderPath(segments)
    }
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

impl TryFrom<Vec<String>> for FolderPath {
    type Error = Error;
    fn try_from(v: Vec<String>) -> Result<Self> {
        Self::new(v)
    }
}

impl From<FolderPath> for Vec<String> {
    fn from(p: FolderPath) -> Vec<String> {
        p.0
    }
}

/// A special-use role. The destination maps each to its own system folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderRole {
    /// Incoming mail.
    Inbox,
    /// Sent mail.
    Sent,
    /// Unfinished messages.
    Drafts,
    /// Deleted items.
    Trash,
    /// Spam.
    Junk,
    /// Archived mail.
    Archive,
}

impl FolderRole {
    /// The name Carbonio gives the system folder of this role.
    pub fn carbonio_name(self) -> &'static str {
        match self {
            FolderRole::Inbox => "Inbox",
            FolderRole::Sent => "Sent",
            FolderRole::Drafts => "Drafts",
            FolderRole::Trash => "Trash",
            FolderRole::Junk => "Junk",
            FolderRole::Archive => "Archive",
        }
    }

    /// The role a top-level folder name suggests, in several languages
    /// (`Sent Items`, `Gesendet`, `Elementi inviati`, ...), case-insensitively.
    pub fn from_well_known_name(name: &str) -> Option<FolderRole> {
        let lower = name.trim().to_lowercase();
        let role = match lower.as_str() {
            "inbox"
            | "posteingang"
            | "boîte de réception"
            | "posta in arrivo"
            | "bandeja de entrada" => FolderRole::Inbox,
            "sent"
            | "sent items"
            | "sent messages"
            | "sent mail"
            | "gesendet"
            | "gesendete objekte"
            | "gesendete elemente"
            | "envoyés"
            | "éléments envoyés"
            | "messages envoyés"
            | "posta inviata"
            | "elementi inviati"
            | "inviata"
            | "enviados"
            | "elementos enviados"
            | "verzonden items" => FolderRole::Sent,
            "drafts" | "entwürfe" | "brouillons" | "bozze" | "borradores" | "concepten" => {
                FolderRole::Drafts
            }
            "trash"
            | "deleted items"
            | "deleted messages"
            | "papierkorb"
            | "gelöschte objekte"
            | "gelöschte elemente"
            | "corbeille"
            | "éléments supprimés"
            | "cestino"
            | "posta eliminata"
            | "elementi eliminati"
            | "papelera"
            | "elementos eliminados"
            | "prullenbak" => FolderRole::Trash,
            "junk"
            | "spam"
            | "junk e-mail"
            | "junk email"
            | "bulk mail"
            | "junk-e-mail"
            | "indésirables"
            | "courrier indésirable"
            | "posta indesiderata"
            | "correo no deseado" => FolderRole::Junk,
            "archive" | "archives" | "archiv" | "archivio" | "archivo" => FolderRole::Archive,
            _ => return None,
        };
        Some(role)
    }
}

/// What a folder holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderKind {
    /// Messages.
    #[default]
    Mail,
    /// Appointments.
    Calendar,
    /// Contacts.
    Contacts,
    /// Documents (Briefcase, Files).
    Files,
}

/// A folder of a source or destination mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// Where it is.
    pub path: FolderPath,
    /// Its special use, if any.
    pub role: Option<FolderRole>,
    /// What it holds.
    pub kind: FolderKind,
    /// Whether the user is subscribed to it.
    pub subscribed: bool,
}

impl Folder {
    /// A subscribed mail folder; its role guessed from a well-known top-level name.
    pub fn mail(path: FolderPath) -> Self {
        let role = if path.segments().len() == 1 {
            FolderRole::from_well_known_name(path.name())
        } else {
            None
        };
        Folder {
            path,
            role,
            kind: FolderKind::Mail,
            subscribed: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_unicode_paths() {
        let p = FolderPath::parse("Projekte/Überblick 2024/Ä.B").unwrap();
        assert_eq!(p.segments(), ["Projekte", "Überblick 2024", "Ä.B"]);
        assert_eq!(p.name(), "Ä.B");
        assert_eq!(p.parent().unwrap().to_string(), "Projekte/Überblick 2024");
        assert_eq!(p.with_first("X").to_string(), "X/Überblick 2024/Ä.B");
    }

    #[test]
    fn refuses_bad_segments() {
        assert!(FolderPath::parse("a//b")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(FolderPath::new(["a", ".."]).is_err());
        assert!(FolderPath::new(["tab\there"]).is_err());
        assert!(FolderPath::new(["x".repeat(129)]).is_err());
        assert!(FolderPath::new(Vec::<String>::new()).is_err());
    }

    #[test]
    fn well_known_names_give_roles() {
        assert_eq!(
            FolderRole::from_well_known_name("Sent Items"),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            FolderRole::from_well_known_name("Gesendet"),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            FolderRole::from_well_known_name("Elementi inviati"),
            Some(FolderRole::Sent)
        );
        assert_eq!(
            FolderRole::from_well_known_name("Papierkorb"),
            Some(FolderRole::Trash)
        );
        assert_eq!(FolderRole::from_well_known_name("Projects"), None);
        assert_eq!(
            Folder::mail(FolderPath::parse("INBOX").unwrap()).role,
            Some(FolderRole::Inbox)
        );
        assert_eq!(
            Folder::mail(FolderPath::parse("A/Sent").unwrap()).role,
            None
        );
    }
}

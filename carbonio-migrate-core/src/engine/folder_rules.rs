//! Where each source folder goes on the destination: `mail.exclude`,
//! `mail.include`, `mail.rename`, and special-use roles mapped to Carbonio's
//! system folders.

use crate::config::MailConfig;
use crate::error::Result;
use crate::model::{Folder, FolderPath};

/// The folder mapping rules of a migration, checked once at start.
#[derive(Clone, Debug, Default)]
pub struct FolderRules {
    exclude: Vec<FolderPath>,
    include: Vec<FolderPath>,
    rename: Vec<(FolderPath, FolderPath)>,
}

fn starts_with_ci(path: &FolderPath, prefix: &FolderPath) -> bool {
    path.segments().len() >= prefix.segments().len()
        && path
            .segments()
            .iter()
            .zip(prefix.segments())
            .all(|(a, b)| a.to_lowercase() == b.to_lowercase())
}

impl FolderRules {
    /// Builds the rules from `[mail]`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidValue`] for a path that cannot be a folder path.
    pub fn from_config(mail: &MailConfig) -> Result<Self> {
        let parse_all = |v: &[String]| {
            v.iter()
                .map(|p| FolderPath::parse(p))
                .collect::<Result<Vec<_>>>()
        };
        let mut rename = mail
            .rename
            .iter()
            .map(|(from, to)| Ok((FolderPath::parse(from)?, FolderPath::parse(to)?)))
            .collect::<Result<Vec<_>>>()?;
        // Longest prefix first, so `A/B` beats `A`.
        rename.sort_by_key(|(from, _)| std::cmp::Reverse(from.segments().len()));
        Ok(FolderRules {
            exclude: parse_all(&mail.exclude)?,
            include: parse_all(&mail.include)?,
            rename,
        })
    }

    /// A stable text of the rules, part of the run's identity: changing them would
    /// send already-copied folders elsewhere.
    pub fn fingerprint(&self) -> String {
        let list = |v: &[FolderPath]| {
            v.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let renames = self
            .rename
            .iter()
            .map(|(a, b)| format!("{a}=>{b}"))
            .collect::<Vec<_>>()
            .join(",");
        format!(
            "exclude[{}] include[{}] rename[{}]",
            list(&self.exclude),
            list(&self.include),
            renames
        )
    }

    /// The destination folder for a source folder, `None` when it is excluded.
    ///
    /// An explicit rename wins; otherwise a folder with a role at top level, and
    /// everything below it, moves under Carbonio's system folder of that role
    /// (`Sent Items/2020` becomes `Sent/2020`; `INBOX` becomes `Inbox`).
    pub fn map(&self, folder: &Folder) -> Option<Folder> {
        let path = &folder.path;
        if self.exclude.iter().any(|e| starts_with_ci(path, e)) {
            return None;
        }
        if !self.include.is_empty() && !self.include.iter().any(|i| starts_with_ci(path, i)) {
            return None;
        }
        for (from, to) in &self.rename {
            if starts_with_ci(path, from) {
                let rest = &path.segments()[from.segments().len()..];
                let segments = to.segments().iter().chain(rest).cloned();
                let new_path = FolderPath::new(segments).ok()?;
                return Some(Folder {
                    path: new_path,
                    ..folder.clone()
                });
            }
        }
        Some(folder.clone())
    }

    /// Maps a whole folder list, so that subfolders of a role folder follow it:
    /// each folder's top-level ancestor's role decides its first segment.
    pub fn map_all(&self, folders: &[Folder]) -> Vec<(Folder, Folder)> {
        folders
            .iter()
            .filter_map(|f| {
                let mut mapped = self.map(f)?;
                let renamed = mapped.path != f.path;
                if !renamed {
                    let top = &f.path.segments()[0];
                    let top_role = folders
                        .iter()
                        .find(|g| g.path.segments().len() == 1 && &g.path.segments()[0] == top)
                        .and_then(|g| g.role)
                        .or(if f.path.segments().len() == 1 {
                            f.role
                        } else {
                            None
                        });
                    if let Some(role) = top_role {
                        mapped.path = mapped.path.with_first(role.carbonio_name());
                    }
                }
                Some((f.clone(), mapped))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn folders(paths: &[&str]) -> Vec<Folder> {
        paths
            .iter()
            .map(|p| Folder::mail(FolderPath::parse(p).unwrap()))
            .collect()
    }

    fn mapped(rules: &FolderRules, paths: &[&str]) -> Vec<(String, String)> {
        rules
            .map_all(&folders(paths))
            .into_iter()
            .map(|(a, b)| (a.path.to_string(), b.path.to_string()))
            .collect()
    }

    #[test]
    fn roles_move_to_system_folders_with_children() {
        let rules = FolderRules::default();
        let got = mapped(
            &rules,
            &[
                "INBOX",
                "INBOX/Lists",
                "Sent Items",
                "Sent Items/2020",
                "Projekte",
            ],
        );
        assert_eq!(
            got,
            [
                ("INBOX", "Inbox"),
                ("INBOX/Lists", "Inbox/Lists"),
                ("Sent Items", "Sent"),
                ("Sent Items/2020", "Sent/2020"),
                ("Projekte", "Projekte")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn exclude_include_and_rename() {
        let mail = MailConfig {
            exclude: vec!["junk".into(), "Archive/Old".into()],
            rename: BTreeMap::from([("Projekte".to_string(), "Projects".to_string())]),
            ..MailConfig::default()
        };
        let rules = FolderRules::from_config(&mail).unwrap();
        let got = mapped(
            &rules,
            &[
                "Junk",
                "Archive",
                "Archive/Old",
                "Archive/Old/X",
                "Projekte/A",
            ],
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, "Projects/A");
        let only = FolderRules::from_config(&MailConfig {
            include: vec!["Archive".into()],
            ..MailConfig::default()
        })
        .unwrap();
        assert_eq!(mapped(&only, &["INBOX", "Archive", "Archive/Old"]).len(), 2);
        assert!(rules.fingerprint().contains("exclude[junk,Archive/Old]"));
    }
}

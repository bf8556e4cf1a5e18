//! [`BundleDestination`]: a directory a Carbonio admin applies with stock tools.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::apply_script::{self, ImportStep, CALENDAR_URL, CONTACTS_URL, MAIL_URL};
use super::archive_reader::ArchiveMailboxReader;
use super::config::BundleConfig;
use super::durable_file;
use super::mail_archive::ArchiveMailboxWriter;
use super::staging::{self, ObjectKind, StagedObject, StagingArea};
use super::text_file::SpooledFile;
use crate::adapters::pim_text::{IcsWriter, VcfWriter};
use crate::adapters::prov_script;
use crate::capability::{Capabilities, Capability};
use crate::destination::{Change, Destination, ItemWriter, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, Creation, DistributionList, Domain, EmailAddress,
};
use crate::source::MailboxReader;

/// Mail archives, relative to the bundle.
const MAIL_DIR: &str = "mail";
/// Calendars, relative to the bundle.
const CALENDAR_DIR: &str = "calendar";
/// Contacts, relative to the bundle.
const CONTACTS_DIR: &str = "contacts";

/// The file name stem of an account's data files: its address, with `%` and `/`
/// (both allowed in a local part) percent-encoded so it stays one file name.
fn account_file_stem(address: &str) -> String {
    address.replace('%', "%25").replace('/', "%2f")
}

/// The address an [`account_file_stem`] was made from.
fn account_from_file_stem(stem: &str) -> String {
    let mut out = String::with_capacity(stem.len());
    let mut rest = stem;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at..at + 3);
        match code {
            Some("%2f") => out.push('/'),
            Some("%25") => out.push('%'),
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

/// Writes a bundle: `provisioning.cmd`, `mail/<account>.tgz`,
/// `calendar/<account>.ics`, `contacts/<account>.vcf`, `apply.sh` and
/// `README.txt` (see `docs.md` of this adapter).
///
/// Crash-safe and deterministic: every file appears under its final name only
/// complete (written as a temporary and renamed), provisioning objects are staged
/// one file each under the staging directory and assembled by
/// [`Destination::finalize`], and a run killed at any instant then run again
/// produces the same bytes as an uninterrupted run.
#[derive(Debug)]
pub struct BundleDestination {
    root: PathBuf,
    staging: StagingArea,
}

impl BundleDestination {
    /// Opens (creating) the bundle at `config.path`. Objects are staged in
    /// `config.staging_dir`, else in `staging_dir` (the engine passes
    /// `<state_dir>/bundle-staging`).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when a directory cannot be created.
    pub fn open(config: &BundleConfig, staging_dir: &Path) -> Result<Self> {
        let root = config.path.clone();
        for dir in [MAIL_DIR, CALENDAR_DIR, CONTACTS_DIR] {
            durable_file::create_dir(&root.join(dir))?;
        }
        let staging = config.staging_dir.as_deref().unwrap_or(staging_dir);
        Ok(BundleDestination {
            staging: StagingArea::open(staging)?,
            root,
        })
    }

    fn data_file(&self, dir: &str, account: &EmailAddress, extension: &str) -> PathBuf {
        self.root.join(dir).join(format!(
            "{}.{extension}",
            account_file_stem(account.as_str())
        ))
    }

    /// `provisioning.cmd`: every staged object's lines, kinds in dependency order,
    /// each kind sorted by name.
    fn render_provisioning(staging_root: &Path) -> Result<String> {
        let mut text = String::new();
        for kind in ObjectKind::IN_ORDER {
            for object in staging::all(staging_root, kind)? {
                let lines = if kind == ObjectKind::Members {
                    let list = EmailAddress::parse(&object.key)?;
                    let members = object
                        .members
                        .iter()
                        .map(|m| EmailAddress::parse(m))
                        .collect::<Result<Vec<_>>>()?;
                    prov_script::members(&list, &members)
                } else {
                    object.lines
                };
                for line in lines {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        }
        Ok(text)
    }

    /// The import steps for the data files present, accounts sorted, and for each
    /// account mail, then calendar, then contacts.
    fn import_steps(root: &Path) -> Result<Vec<ImportStep>> {
        let mut files: Vec<(String, usize, &'static str, String)> = Vec::new();
        for (order, (dir, extension, url)) in [
            (MAIL_DIR, ".tgz", MAIL_URL),
            (CALENDAR_DIR, ".ics", CALENDAR_URL),
            (CONTACTS_DIR, ".vcf", CONTACTS_URL),
        ]
        .into_iter()
        .enumerate()
        {
            let path = root.join(dir);
            let entries = std::fs::read_dir(&path)
                .map_err(|e| crate::Error::io(format!("listing {}", path.display()), e))?;
            for entry in entries {
                let entry = entry
                    .map_err(|e| crate::Error::io(format!("listing {}", path.display()), e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(stem) = name.strip_suffix(extension) else {
                    continue;
                };
                let account = account_from_file_stem(stem);
                files.push((account, order, url, format!("{dir}/{name}")));
            }
        }
        files.sort();
        Ok(files
            .into_iter()
            .map(|(account, _, url, file)| ImportStep { account, url, file })
            .collect())
    }
}

fn staged(key: &str, lines: Vec<String>) -> StagedObject {
    StagedObject {
        key: key.to_string(),
        owner: None,
        lines,
        members: Vec::new(),
    }
}

#[async_trait]
impl Destination for BundleDestination {
    fn kind(&self) -> &'static str {
        "bundle"
    }

    fn location(&self) -> String {
        format!("bundle at {}", self.root.display())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::of([
            Capability::Domains,
            Capability::ClassesOfService,
            Capability::Accounts,
            Capability::DistributionLists,
            Capability::Mail,
            Capability::Appointments,
            Capability::Contacts,
            Capability::ReadBack,
        ])
    }

    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        let object = staged(domain.name.as_str(), prov_script::domain(domain));
        self.staging.put(ObjectKind::Domain, object).await
    }

    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        let object = staged(cos.name.as_str(), prov_script::cos(cos));
        self.staging.put(ObjectKind::Cos, object).await
    }

    /// An account with [`Creation::AutoProvisioning`] is refused: `carbonio
    /// prov` has no command asking Carbonio to auto-provision one account
    /// (its command list has `autoProvControl` only), so no line of the file
    /// could do it. The domain's `EAGER` mode is the offline way.
    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        if account.creation == Creation::AutoProvisioning {
            return Err(Error::unsupported(
                format!(
                    "creating account {} by auto-provisioning (carbonio prov has no command for one account: use the carbonio destination, or auto_provisioning_modes without MANUAL so Carbonio's EAGER poller creates the accounts)",
                    account.address
                ),
                self.kind(),
            ));
        }
        let object = staged(account.address.as_str(), prov_script::account(account));
        self.staging.put(ObjectKind::Account, object).await
    }

    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        let mut object = staged(alias.as_str(), prov_script::alias(account, alias));
        object.owner = Some(account.as_str().to_string());
        self.staging.put_alias(object).await
    }

    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        let object = staged(list.address.as_str(), prov_script::distribution_list(list));
        self.staging.put(ObjectKind::DistributionList, object).await
    }

    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        let members = members.iter().map(|m| m.as_str().to_string()).collect();
        self.staging.add_members(list.as_str(), members).await
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        let target = self.data_file(MAIL_DIR, &account.address, "tgz");
        let writer = ArchiveMailboxWriter::create(account.address.as_str(), target).await?;
        Ok(Box::new(writer))
    }

    async fn appointments(&self, account: &Account) -> Result<Box<dyn ItemWriter<Appointment>>> {
        let target = self.data_file(CALENDAR_DIR, &account.address, "ics");
        Ok(Box::new(IcsWriter::new(SpooledFile::create(target).await?)))
    }

    async fn contacts(&self, account: &Account) -> Result<Box<dyn ItemWriter<Contact>>> {
        let target = self.data_file(CONTACTS_DIR, &account.address, "vcf");
        Ok(Box::new(VcfWriter::new(SpooledFile::create(target).await?)))
    }

    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        let archive = self.data_file(MAIL_DIR, &account.address, "tgz");
        Ok(Box::new(ArchiveMailboxReader::new(archive)))
    }

    async fn finalize(&self) -> Result<()> {
        let root = self.root.clone();
        let staging_root = self.staging.root().to_path_buf();
        durable_file::blocking(move || {
            let provisioning = Self::render_provisioning(&staging_root)?;
            durable_file::replace_if_changed(
                &root.join("provisioning.cmd"),
                provisioning.as_bytes(),
                0o600,
            )?;
            let script = apply_script::render(&Self::import_steps(&root)?);
            durable_file::replace_if_changed(&root.join("apply.sh"), script.as_bytes(), 0o755)?;
            durable_file::replace_if_changed(
                &root.join("README.txt"),
                apply_script::readme().as_bytes(),
                0o644,
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_file_stems_are_single_names() {
        assert_eq!(account_file_stem("ada@example.org"), "ada@example.org");
        assert_eq!(
            account_file_stem("a/b%c@example.org"),
            "a%2fb%25c@example.org"
        );
        for address in ["a%2f@x.org", "a/25@x.org", "%%/@x.org", "plain@x.org"] {
            assert_eq!(account_from_file_stem(&account_file_stem(address)), address);
        }
    }
}

//! Procedures: named, ordered lists of phases, checked against the configured
//! pair before anything runs.

use std::sync::Arc;

use super::data::DataPhase;
use super::later_phases::{FilesPhase, SharesPhase};
use super::phase::Phase;
use super::provisioning::ProvisioningPhase;
use crate::capability::Capabilities;
use crate::error::{Error, Result};

/// A named migration procedure.
#[derive(Clone)]
pub struct Procedure {
    name: &'static str,
    summary: &'static str,
    phases: Vec<Arc<dyn Phase>>,
}

impl std::fmt::Debug for Procedure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Procedure")
            .field("name", &self.name)
            .field("phases", &self.phase_names())
            .finish()
    }
}

fn full() -> Vec<Arc<dyn Phase>> {
    vec![
        Arc::new(ProvisioningPhase),
        Arc::new(DataPhase {
            with_pim: true,
            report_invalid: false,
        }),
        Arc::new(SharesPhase),
        Arc::new(FilesPhase),
    ]
}

fn provisioning_and_data() -> Vec<Arc<dyn Phase>> {
    vec![
        Arc::new(ProvisioningPhase),
        Arc::new(DataPhase {
            with_pim: true,
            report_invalid: false,
        }),
    ]
}

impl Procedure {
    /// Every registered procedure, in the migration guide's order.
    pub fn all() -> Vec<Procedure> {
        vec![
            Procedure {
                name: "zextras-backup",
                summary: "procedure 1: provisioning and data from a Zextras backup, then shares and files",
                phases: full(),
            },
            Procedure {
                name: "zextras-provisioning",
                summary: "procedure 2: provisioning from a Zextras backup, data over IMAP and ICS/VCF",
                phases: provisioning_and_data(),
            },
            Procedure {
                name: "ldap",
                summary: "procedure 3: accounts from LDAP / Active Directory, data over IMAP and ICS/VCF",
                phases: provisioning_and_data(),
            },
            Procedure {
                name: "generic",
                summary: "procedure 4: accounts from a CSV export, data over IMAP or export files",
                phases: provisioning_and_data(),
            },
            Procedure {
                name: "zimbra",
                summary: "from a live Zimbra over its SOAP/REST API: provisioning, data, shares, files",
                phases: full(),
            },
            Procedure {
                name: "mail-only",
                summary: "mail between existing accounts, nothing provisioned",
                phases: vec![Arc::new(DataPhase { with_pim: false, report_invalid: true })],
            },
        ]
    }

    /// The procedure registered as `name`.
    ///
    /// # Errors
    /// [`Error::Config`] listing the registered names.
    pub fn named(name: &str) -> Result<Procedure> {
        Self::all()
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::all().iter().map(|p| p.name).collect();
                Error::config(format!(
                    "unknown procedure {name:?}; the procedures are: {}",
                    names.join(", ")
                ))
            })
    }

    /// Its registered name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line saying what it does.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// Its phases, in order.
    pub fn phases(&self) -> &[Arc<dyn Phase>] {
        &self.phases
    }

    /// The names of its phases.
    pub fn phase_names(&self) -> Vec<&'static str> {
        self.phases.iter().map(|p| p.name()).collect()
    }

    /// Checks that the pair can do every phase of `selected` (all when `None`).
    ///
    /// # Errors
    /// [`Error::Config`] naming the procedure, the phase, the capability and the adapter.
    pub fn check(
        &self,
        selected: Option<&[String]>,
        source: (&str, &Capabilities),
        destination: (&str, &Capabilities),
    ) -> Result<()> {
        if let Some(sel) = selected {
            for s in sel {
                if !self.phases.iter().any(|p| p.name() == s) {
                    return Err(Error::config(format!(
                        "procedure '{}' has no phase '{s}'; its phases are: {}",
                        self.name,
                        self.phase_names().join(", ")
                    )));
                }
            }
        }
        for phase in &self.phases {
            if selected.is_some_and(|sel| !sel.iter().any(|s| s == phase.name())) {
                continue;
            }
            if let Some(why) = phase.needs().missing(phase.name(), source, destination) {
                return Err(Error::config(format!(
                    "procedure '{}' cannot run: {why}",
                    self.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Capability as C;

    #[test]
    fn registered_names() {
        let names: Vec<&str> = Procedure::all().iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "zextras-backup",
                "zextras-provisioning",
                "ldap",
                "generic",
                "zimbra",
                "mail-only"
            ]
        );
        assert!(Procedure::named("nope")
            .unwrap_err()
            .to_string()
            .contains("generic, zimbra, mail-only"));
    }

    #[test]
    fn refuses_a_phase_the_pair_cannot_do_by_name() {
        let src = Capabilities::of([C::Domains, C::Accounts, C::Mail]);
        let dst = Capabilities::of([C::Domains, C::Accounts, C::Mail]);
        let zimbra = Procedure::named("zimbra").unwrap();
        let err = zimbra
            .check(None, ("export-dir", &src), ("bundle", &dst))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "configuration: procedure 'zimbra' cannot run: phase 'shares' needs a source that reads shares, and adapter 'export-dir' does not"
        );
        let generic = Procedure::named("generic").unwrap();
        generic
            .check(None, ("export-dir", &src), ("bundle", &dst))
            .unwrap();
        let no_mail = Capabilities::of([C::Domains, C::Accounts]);
        let err = generic
            .check(None, ("export-dir", &src), ("x", &no_mail))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "phase 'data' needs a destination that writes mail, and adapter 'x' does not"
            ),
            "{err}"
        );
        // Only the selected phase is checked.
        zimbra
            .check(
                Some(&["provisioning".to_string()]),
                ("export-dir", &src),
                ("bundle", &dst),
            )
            .unwrap();
        assert!(zimbra
            .check(Some(&["bogus".to_string()]), ("a", &src), ("b", &dst))
            .is_err());
    }
}

//! The provisioning state of [`super::MemoryDestination`]: domains, classes of
//! service, accounts, aliases and lists, with the `ensure_*` rules a real
//! directory enforces (dependencies must exist, one owner per address).

use std::collections::BTreeMap;

use crate::destination::Change;
use crate::error::{Error, Result};
use crate::model::{
    Account, Cos, CosName, DistributionList, Domain, DomainName, EmailAddress, Password,
};

/// Who holds an address.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Holder {
    Account(EmailAddress),
    List(EmailAddress),
    AliasOfAccount(EmailAddress),
    AliasOfList(EmailAddress),
}

impl Holder {
    /// The object the address belongs to.
    fn owner(&self) -> &EmailAddress {
        match self {
            Holder::Account(a)
            | Holder::List(a)
            | Holder::AliasOfAccount(a)
            | Holder::AliasOfList(a) => a,
        }
    }
}

/// Sets each wanted attribute; true when one changed. Attributes the destination
/// has and the wanted object does not name are kept, as `zmprov modify*` does.
fn merge_attributes(have: &mut BTreeMap<String, String>, want: &BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (key, value) in want {
        if have.get(key) != Some(value) {
            have.insert(key.clone(), value.clone());
            changed = true;
        }
    }
    changed
}

/// Sets `have` to `want` when `want` is `Some` and differs; `None` leaves it.
fn merge_option<T: PartialEq + Clone>(have: &mut Option<T>, want: &Option<T>) -> bool {
    match want {
        Some(w) if have.as_ref() != Some(w) => {
            *have = Some(w.clone());
            true
        }
        _ => false,
    }
}

/// The directory of a memory destination.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    domains: BTreeMap<DomainName, Domain>,
    classes_of_service: BTreeMap<CosName, Cos>,
    /// Accounts with `aliases` as ensured, in the order ensured.
    accounts: BTreeMap<EmailAddress, Account>,
    /// Lists with their aliases and members as ensured.
    lists: BTreeMap<EmailAddress, DistributionList>,
    /// Every address in use and who holds it.
    addresses: BTreeMap<EmailAddress, Holder>,
}

impl Directory {
    fn need_domain(&self, address: &EmailAddress, role: &str) -> Result<()> {
        let domain = address.domain();
        if self.domains.contains_key(&domain) {
            Ok(())
        } else {
            Err(Error::NotFound {
                what: format!("domain {domain} (needed by {role} {address})"),
            })
        }
    }

    /// Fails when `address` is held by something other than `allowed`.
    fn need_free(&self, address: &EmailAddress, allowed: &Holder, wanted_for: &str) -> Result<()> {
        match self.addresses.get(address) {
            None => Ok(()),
            Some(holder) if holder == allowed => Ok(()),
            Some(holder) => {
                let what = match holder {
                    Holder::Account(a) => format!("{address} is already the account {a}"),
                    Holder::List(l) => format!("{address} is already the distribution list {l}"),
                    Holder::AliasOfAccount(_) | Holder::AliasOfList(_) => {
                        format!("alias {address} already belongs to {}", holder.owner())
                    }
                };
                Err(Error::AlreadyExists {
                    what: format!("{what} (wanted for {wanted_for})"),
                })
            }
        }
    }

    /// See [`crate::Destination::ensure_domain`].
    pub(crate) fn ensure_domain(&mut self, domain: &Domain) -> Change {
        match self.domains.get_mut(&domain.name) {
            None => {
                self.domains.insert(domain.name.clone(), domain.clone());
                Change::Created
            }
            Some(have) => {
                if merge_attributes(&mut have.attributes, &domain.attributes) {
                    Change::Updated
                } else {
                    Change::Unchanged
                }
            }
        }
    }

    /// See [`crate::Destination::ensure_cos`].
    pub(crate) fn ensure_cos(&mut self, cos: &Cos) -> Change {
        match self.classes_of_service.get_mut(&cos.name) {
            None => {
                self.classes_of_service
                    .insert(cos.name.clone(), cos.clone());
                Change::Created
            }
            Some(have) => {
                if merge_attributes(&mut have.attributes, &cos.attributes) {
                    Change::Updated
                } else {
                    Change::Unchanged
                }
            }
        }
    }

    /// See [`crate::Destination::ensure_account`]. `None` fields and
    /// [`Password::None`] leave what the destination has; aliases and source-side
    /// fields are not stored here.
    pub(crate) fn ensure_account(&mut self, account: &Account) -> Result<Change> {
        let address = &account.address;
        self.need_domain(address, "account")?;
        if let Some(cos) = &account.cos {
            if !self.classes_of_service.contains_key(cos) {
                return Err(Error::NotFound {
                    what: format!("class of service {cos} (needed by account {address})"),
                });
            }
        }
        self.need_free(address, &Holder::Account(address.clone()), address.as_str())?;
        let Some(have) = self.accounts.get_mut(address) else {
            let mut stored = account.clone();
            stored.aliases.clear();
            stored.source_user = None;
            stored.source_password = None;
            self.accounts.insert(address.clone(), stored);
            self.addresses
                .insert(address.clone(), Holder::Account(address.clone()));
            return Ok(Change::Created);
        };
        let mut changed = merge_option(&mut have.display_name, &account.display_name);
        changed |= merge_option(&mut have.given_name, &account.given_name);
        changed |= merge_option(&mut have.surname, &account.surname);
        changed |= merge_option(&mut have.cos, &account.cos);
        if account.password != Password::None && have.password != account.password {
            have.password = account.password.clone();
            changed = true;
        }
        if have.must_change_password != account.must_change_password {
            have.must_change_password = account.must_change_password;
            changed = true;
        }
        changed |= merge_attributes(&mut have.attributes, &account.attributes);
        Ok(if changed {
            Change::Updated
        } else {
            Change::Unchanged
        })
    }

    /// See [`crate::Destination::ensure_alias`].
    pub(crate) fn ensure_alias(
        &mut self,
        account: &EmailAddress,
        alias: &EmailAddress,
    ) -> Result<Change> {
        if !self.accounts.contains_key(account) {
            return Err(Error::NotFound {
                what: format!("account {account} (to add alias {alias})"),
            });
        }
        self.need_domain(alias, "alias")?;
        let mine = Holder::AliasOfAccount(account.clone());
        self.need_free(alias, &mine, account.as_str())?;
        if self.addresses.get(alias) == Some(&mine) {
            return Ok(Change::Unchanged);
        }
        self.addresses.insert(alias.clone(), mine);
        if let Some(have) = self.accounts.get_mut(account) {
            have.aliases.push(alias.clone());
        }
        Ok(Change::Created)
    }

    /// See [`crate::Destination::ensure_distribution_list`]. Members are ignored.
    pub(crate) fn ensure_distribution_list(&mut self, list: &DistributionList) -> Result<Change> {
        let address = &list.address;
        self.need_domain(address, "distribution list")?;
        self.need_free(address, &Holder::List(address.clone()), address.as_str())?;
        let mine = Holder::AliasOfList(address.clone());
        for alias in &list.aliases {
            self.need_domain(alias, "alias")?;
            self.need_free(alias, &mine, address.as_str())?;
        }
        let created = !self.lists.contains_key(address);
        if created {
            let mut stored = list.clone();
            stored.aliases.clear();
            stored.members.clear();
            self.lists.insert(address.clone(), stored);
            self.addresses
                .insert(address.clone(), Holder::List(address.clone()));
        }
        let mut changed = false;
        if let Some(have) = self.lists.get_mut(address) {
            changed |= merge_option(&mut have.display_name, &list.display_name);
            changed |= merge_option(&mut have.description, &list.description);
            for alias in &list.aliases {
                if !have.aliases.contains(alias) {
                    have.aliases.push(alias.clone());
                    self.addresses.insert(alias.clone(), mine.clone());
                    changed = true;
                }
            }
        }
        Ok(match (created, changed) {
            (true, _) => Change::Created,
            (false, true) => Change::Updated,
            (false, false) => Change::Unchanged,
        })
    }

    /// See [`crate::Destination::ensure_members`].
    pub(crate) fn ensure_members(
        &mut self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        let Some(have) = self.lists.get_mut(list) else {
            return Err(Error::NotFound {
                what: format!("distribution list {list} (to add members)"),
            });
        };
        let mut changed = false;
        for member in members {
            if !have.members.contains(member) {
                have.members.push(member.clone());
                changed = true;
            }
        }
        Ok(if changed {
            Change::Updated
        } else {
            Change::Unchanged
        })
    }

    /// Whether `address` is an account.
    pub(crate) fn has_account(&self, address: &EmailAddress) -> bool {
        self.accounts.contains_key(address)
    }

    /// Domains, by name.
    pub(crate) fn domains(&self) -> Vec<Domain> {
        self.domains.values().cloned().collect()
    }

    /// Classes of service, by name.
    pub(crate) fn classes_of_service(&self) -> Vec<Cos> {
        self.classes_of_service.values().cloned().collect()
    }

    /// Accounts by address, each with its aliases.
    pub(crate) fn accounts(&self) -> Vec<Account> {
        self.accounts.values().cloned().collect()
    }

    /// The aliases of an account or list, in the order added.
    pub(crate) fn aliases_of(&self, address: &EmailAddress) -> Vec<EmailAddress> {
        self.accounts
            .get(address)
            .map(|a| a.aliases.clone())
            .or_else(|| self.lists.get(address).map(|l| l.aliases.clone()))
            .unwrap_or_default()
    }

    /// Lists by address, with aliases and members.
    pub(crate) fn distribution_lists(&self) -> Vec<DistributionList> {
        self.lists.values().cloned().collect()
    }

    /// A list's members, in the order added.
    pub(crate) fn members_of(&self, list: &EmailAddress) -> Vec<EmailAddress> {
        self.lists
            .get(list)
            .map(|l| l.members.clone())
            .unwrap_or_default()
    }

    /// The owner of an address, if any (for tests of this module).
    #[cfg(test)]
    fn owner_of(&self, address: &EmailAddress) -> Option<&EmailAddress> {
        self.addresses.get(address).map(Holder::owner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn with_domain() -> Directory {
        let mut d = Directory::default();
        d.ensure_domain(&Domain::new(DomainName::parse("example.org").unwrap()));
        d
    }

    #[test]
    fn domain_attributes_update_then_stay() {
        let mut d = Directory::default();
        let mut dom = Domain::new(DomainName::parse("example.org").unwrap());
        assert_eq!(d.ensure_domain(&dom), Change::Created);
        assert_eq!(d.ensure_domain(&dom), Change::Unchanged);
        dom.attributes.insert("description".into(), "x".into());
        assert_eq!(d.ensure_domain(&dom), Change::Updated);
        assert_eq!(d.ensure_domain(&dom), Change::Unchanged);
    }

    #[test]
    fn account_needs_its_domain_and_cos() {
        let mut d = Directory::default();
        let mut a = Account::new(addr("ada@example.org"));
        assert_eq!(
            d.ensure_account(&a).unwrap_err().to_string(),
            "not found: domain example.org (needed by account ada@example.org)"
        );
        let mut d = with_domain();
        a.cos = Some(CosName::parse("staff").unwrap());
        assert_eq!(
            d.ensure_account(&a).unwrap_err().to_string(),
            "not found: class of service staff (needed by account ada@example.org)"
        );
    }

    #[test]
    fn account_changes_are_updates_and_repeats_unchanged() {
        let mut d = with_domain();
        let mut a = Account::new(addr("ada@example.org"));
        assert_eq!(d.ensure_account(&a).unwrap(), Change::Created);
        assert_eq!(d.ensure_account(&a).unwrap(), Change::Unchanged);
        a.display_name = Some("Ada".into());
        a.must_change_password = true;
        assert_eq!(d.ensure_account(&a).unwrap(), Change::Updated);
        assert_eq!(d.ensure_account(&a).unwrap(), Change::Unchanged);
        assert_eq!(d.accounts()[0].display_name.as_deref(), Some("Ada"));
    }

    #[test]
    fn alias_held_by_another_account_names_both() {
        let mut d = with_domain();
        let ada = addr("ada@example.org");
        let bob = addr("bob@example.org");
        let alias = addr("boss@example.org");
        d.ensure_account(&Account::new(ada.clone())).unwrap();
        d.ensure_account(&Account::new(bob.clone())).unwrap();
        assert_eq!(d.ensure_alias(&ada, &alias).unwrap(), Change::Created);
        assert_eq!(d.ensure_alias(&ada, &alias).unwrap(), Change::Unchanged);
        assert_eq!(
            d.ensure_alias(&bob, &alias).unwrap_err().to_string(),
            "already exists: alias boss@example.org already belongs to ada@example.org \
             (wanted for bob@example.org)"
        );
        assert_eq!(d.aliases_of(&ada), std::slice::from_ref(&alias));
        assert_eq!(d.owner_of(&alias), Some(&ada));
    }

    #[test]
    fn list_address_cannot_be_an_account() {
        let mut d = with_domain();
        let ada = addr("ada@example.org");
        d.ensure_account(&Account::new(ada.clone())).unwrap();
        let err = d
            .ensure_distribution_list(&DistributionList::new(ada.clone()))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "already exists: ada@example.org is already the account ada@example.org \
             (wanted for ada@example.org)"
        );
    }

    #[test]
    fn members_are_added_once_and_kept() {
        let mut d = with_domain();
        let list = addr("all@example.org");
        let mut dl = DistributionList::new(list.clone());
        dl.aliases.push(addr("everyone@example.org"));
        assert_eq!(d.ensure_distribution_list(&dl).unwrap(), Change::Created);
        assert_eq!(d.ensure_distribution_list(&dl).unwrap(), Change::Unchanged);
        let members = [addr("a@example.org"), addr("x@elsewhere.net")];
        assert_eq!(d.ensure_members(&list, &members).unwrap(), Change::Updated);
        assert_eq!(
            d.ensure_members(&list, &members[..1]).unwrap(),
            Change::Unchanged
        );
        assert_eq!(d.members_of(&list), members);
        assert_eq!(d.aliases_of(&list), [addr("everyone@example.org")]);
    }
}

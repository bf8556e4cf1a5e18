//! [`CarbonioDestination`]: provisioning through Admin SOAP, calendars and
//! contacts through REST, mail through the `imap` destination.
//!
//! Every `ensure_*` reads the object first (`Get*`) and writes only what
//! differs, so a re-run of a finished provisioning makes no write call at all.
//! Passwords are set when an account is created and never on an existing
//! account: the user may have changed it on Carbonio since the first run, and
//! Carbonio does not return the stored hash (`userPassword`) to compare with;
//! resetting it on every run would undo the user's change and break the
//! promise of zero writes. For the same reason `zimbraPasswordMustChange` goes
//! with the initial password only (Carbonio clears it once the user has
//! chosen a password).
//!
//! Domains: single- and multi-valued attributes are compared with the
//! read-back (multi-valued ones as sets, since LDAP keeps no order) and a
//! differing one is replaced by exactly the wanted values. Secret attributes
//! (bind passwords) cannot be compared without printing or hashing them, so
//! they are sent when the domain is created and when the read-back lacks the
//! attribute, never otherwise: a re-run stays write-free, and a changed bind
//! password is set by the admin (`carbonio prov md`), as the README says.
//!
//! Accounts with [`Creation::AutoProvisioning`] are asked of Carbonio with
//! `AutoProvAccountRequest` (domain by name, principal by name = the address),
//! which creates them from the directory configured on the domain; see
//! `docs/design/0005-auto-provisioning.md`.

use crate::adapters::prov_script::commands::ACCOUNT_FIELD_ATTRIBUTES;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::client::{http_client, AdminClient, CallError};
use super::config::{CarbonioConfig, ContactsFormat};
use super::faults::codes;
use super::rest::{RestTarget, RestUpload};
use super::soap::{all, attributes, first, text, text_of, SoapRequest};
use crate::adapters::imap::destination::ImapDestination;
use crate::adapters::imap::AuthMode;
use crate::adapters::pim_text::{CsvWriter, IcsWriter, VcfWriter};
use crate::capability::{Capabilities, Capability};
use crate::destination::{Change, Destination, ItemWriter, MailboxWriter};
use crate::error::{Error, Result};
use crate::model::{
    Account, Appointment, Contact, Cos, Creation, DistributionList, Domain, EmailAddress, Password,
    Secret,
};
use crate::source::MailboxReader;

/// The registered name.
pub const KIND: &str = "carbonio";

/// An object as a `Get*Response` describes it.
#[derive(Clone, Debug, Default)]
struct Entry {
    name: String,
    id: String,
    attrs: BTreeMap<String, Vec<String>>,
    /// Members (`dlm`) of a distribution list.
    members: Vec<String>,
}

impl Entry {
    fn parse(response: &Value, key: &str, context: &str) -> Result<Entry> {
        let object = first(response, key).ok_or_else(|| Error::Protocol {
            context: context.to_string(),
            message: format!("the answer has no <{key}>"),
        })?;
        let id = text_of(object, "id").ok_or_else(|| Error::Protocol {
            context: context.to_string(),
            message: format!("the <{key}> of the answer has no id"),
        })?;
        Ok(Entry {
            name: text_of(object, "name").unwrap_or_default(),
            id,
            attrs: attributes(object),
            members: all(object, "dlm").into_iter().filter_map(text).collect(),
        })
    }

    fn is(&self, address: &str) -> bool {
        self.name.eq_ignore_ascii_case(address)
    }

    /// The values of attribute `name` (names compare case-insensitively, as in LDAP).
    fn values(&self, name: &str) -> &[String] {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The wanted single-valued attributes whose value differs (an empty
    /// wanted value means "absent").
    fn differing<'a>(&self, want: &'a [(String, String)]) -> Vec<(&'a str, &'a str)> {
        want.iter()
            .filter(|(n, v)| {
                let have = self.values(n);
                if v.is_empty() {
                    !have.is_empty()
                } else {
                    have != [v.clone()]
                }
            })
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// The wanted attributes (name → values; no value means absent) whose
    /// values differ from the read-back, compared as sets. Each comes back with
    /// the pairs that set exactly its values: one `(name, value)` per value, or
    /// `(name, "")`, which removes the attribute.
    fn differing_values<'a>(
        &self,
        want: &'a BTreeMap<String, Vec<String>>,
    ) -> Vec<(&'a str, &'a str)> {
        let mut pairs = Vec::new();
        for (name, values) in want {
            let wanted: Vec<&str> = values
                .iter()
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .collect();
            let mut have: Vec<&str> = self.values(name).iter().map(String::as_str).collect();
            let mut sorted = wanted.clone();
            sorted.sort_unstable();
            sorted.dedup();
            have.sort_unstable();
            have.dedup();
            if sorted == have {
                continue;
            }
            if wanted.is_empty() {
                pairs.push((name.as_str(), ""));
            } else {
                pairs.extend(wanted.into_iter().map(|v| (name.as_str(), v)));
            }
        }
        pairs
    }
}

fn change(written: bool) -> Change {
    if written {
        Change::Updated
    } else {
        Change::Unchanged
    }
}

fn pairs(map: &BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A [`Destination`] writing into Carbonio: provisioning over Admin SOAP
/// (JSON), appointments and contacts over REST with the admin token, mail over
/// IMAP when `[destination.imap]` is configured.
///
/// Capabilities: domains, classes of service, accounts, distribution lists,
/// appointments, contacts; with `imap`, also mail, read-back and mid-account
/// resume (those of the `imap` destination).
pub struct CarbonioDestination {
    config: CarbonioConfig,
    client: Arc<AdminClient>,
    upload_http: reqwest::Client,
    rest_base: reqwest::Url,
    imap: Option<ImapDestination>,
    /// CoS name (lowercase) → id: accounts name their CoS, the server wants its id.
    cos_ids: Mutex<HashMap<String, String>>,
    /// Account address → id, learnt by `ensure_account`, used by `ensure_alias`.
    account_ids: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for CarbonioDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarbonioDestination")
            .field("admin_url", &self.config.admin_url)
            .field("admin_user", &self.config.admin_user)
            .field("imap", &self.imap)
            .finish_non_exhaustive()
    }
}

fn remember(cache: &Mutex<HashMap<String, String>>, key: &str, id: &str) {
    if let Ok(mut map) = cache.lock() {
        map.insert(key.to_ascii_lowercase(), id.to_string());
    }
}

fn recall(cache: &Mutex<HashMap<String, String>>, key: &str) -> Option<String> {
    cache
        .lock()
        .ok()
        .and_then(|map| map.get(&key.to_ascii_lowercase()).cloned())
}

impl CarbonioDestination {
    /// A destination for `config`, logging in as `admin_user` with
    /// `admin_password` (at the first call). `imap_secret` is the password of
    /// `[destination.imap]` when it names one; without it, IMAP impersonation
    /// uses the Carbonio admin (`admin_user` and `admin_password`) unless the
    /// `imap` table names another admin.
    ///
    /// # Errors
    /// [`Error::Config`] for a bad URL, CA file or `imap` table.
    pub fn new(
        config: CarbonioConfig,
        admin_password: Secret,
        imap_secret: Option<Secret>,
    ) -> Result<Self> {
        let client = Arc::new(AdminClient::new(&config, admin_password.clone())?);
        // Uploads of big calendars take longer than a SOAP call.
        let upload_timeout = Duration::from_secs(config.timeout_secs.max(1).saturating_mul(10));
        let upload_http = http_client(&config, upload_timeout)?;
        let rest_base = config.rest_base()?;
        let imap = match &config.imap {
            None => None,
            Some(imap) => {
                let mut imap = imap.clone();
                let mut secret = imap_secret;
                if imap.auth == AuthMode::Impersonate && imap.admin_user.is_none() {
                    imap.admin_user = Some(config.admin_user.clone());
                    secret = secret.or_else(|| Some(admin_password.clone()));
                }
                Some(ImapDestination::new(imap, secret)?)
            }
        };
        Ok(CarbonioDestination {
            config,
            client,
            upload_http,
            rest_base,
            imap,
            cos_ids: Mutex::new(HashMap::new()),
            account_ids: Mutex::new(HashMap::new()),
        })
    }

    /// The Admin SOAP client (shared token), for callers that send requests of
    /// their own (shares, mountpoints).
    pub fn client(&self) -> &Arc<AdminClient> {
        &self.client
    }

    fn fail(&self, error: CallError, context: &str) -> Error {
        error.into_error(context, self.client.admin())
    }

    /// `Get<kind>Request` by name: the object, or `None` on `missing`.
    async fn get(
        &self,
        request: &'static str,
        key: &str,
        name: &str,
        missing: &str,
    ) -> Result<Option<Entry>> {
        let context = format!("reading {key} {name}");
        let req = SoapRequest::admin(request).selector(key, "name", name);
        match self.client.call(&req).await {
            Ok(response) => Entry::parse(&response, key, &context).map(Some),
            Err(CallError::Fault(f)) if f.is(missing) => Ok(None),
            Err(e) => Err(self.fail(e, &context)),
        }
    }

    async fn get_account(&self, name: &str) -> Result<Option<Entry>> {
        self.get("GetAccountRequest", "account", name, codes::NO_SUCH_ACCOUNT)
            .await
    }

    async fn get_list(&self, name: &str) -> Result<Option<Entry>> {
        self.get(
            "GetDistributionListRequest",
            "dl",
            name,
            codes::NO_SUCH_DISTRIBUTION_LIST,
        )
        .await
    }

    /// Who holds `address` on the server, in words (`the account x`, `an alias
    /// of distribution list y`), for `AlreadyExists` errors.
    async fn holder(&self, address: &str) -> Result<String> {
        if let Some(e) = self.get_account(address).await? {
            return Ok(if e.is(address) {
                format!("the account {}", e.name)
            } else {
                format!("an alias of account {}", e.name)
            });
        }
        if let Some(e) = self.get_list(address).await? {
            return Ok(if e.is(address) {
                format!("the distribution list {}", e.name)
            } else {
                format!("an alias of distribution list {}", e.name)
            });
        }
        Ok("another object".into())
    }

    /// Sends a write and maps its faults with `context`.
    async fn write(&self, request: &SoapRequest, context: &str) -> Result<Value> {
        self.client.call_for(request, context).await
    }

    /// The id of the class of service `name`, from the cache or `GetCos`.
    async fn cos_id(&self, name: &str, for_account: &EmailAddress) -> Result<String> {
        if let Some(id) = recall(&self.cos_ids, name) {
            return Ok(id);
        }
        match self
            .get("GetCosRequest", "cos", name, codes::NO_SUCH_COS)
            .await?
        {
            Some(e) => {
                remember(&self.cos_ids, name, &e.id);
                Ok(e.id)
            }
            None => Err(Error::NotFound {
                what: format!("class of service {name} (needed by account {for_account})"),
            }),
        }
    }

    async fn account_id(&self, address: &EmailAddress, for_what: &str) -> Result<String> {
        if let Some(id) = recall(&self.account_ids, address.as_str()) {
            return Ok(id);
        }
        match self.get_account(address.as_str()).await? {
            Some(e) if e.is(address.as_str()) => {
                remember(&self.account_ids, address.as_str(), &e.id);
                Ok(e.id)
            }
            _ => Err(Error::NotFound {
                what: format!("account {address} ({for_what})"),
            }),
        }
    }

    /// The attributes of `account` compared on every run (not the password).
    async fn account_attributes(&self, account: &Account) -> Result<Vec<(String, String)>> {
        let mut want = Vec::new();
        for (name, value) in [
            ("givenName", &account.given_name),
            ("sn", &account.surname),
            ("displayName", &account.display_name),
        ] {
            if let Some(v) = value {
                want.push((name.to_string(), v.clone()));
            }
        }
        if let Some(cos) = &account.cos {
            let id = self.cos_id(cos.as_str(), &account.address).await?;
            want.push(("zimbraCOSId".to_string(), id));
        }
        for (k, v) in &account.attributes {
            let field = ACCOUNT_FIELD_ATTRIBUTES
                .iter()
                .any(|f| f.eq_ignore_ascii_case(k));
            let cos_given = account.cos.is_some() && k.eq_ignore_ascii_case("zimbraCOSId");
            if !field && !cos_given {
                want.push((k.clone(), v.clone()));
            }
        }
        Ok(want)
    }

    /// The account whose primary address is `address`, remembered for
    /// aliases; an error when `address` is another account's alias.
    async fn existing_account(&self, address: &str) -> Result<Option<Entry>> {
        let Some(have) = self.get_account(address).await? else {
            return Ok(None);
        };
        if !have.is(address) {
            return Err(Error::AlreadyExists {
                what: format!(
                    "{address} is already an alias of account {} (wanted for account {address})",
                    have.name
                ),
            });
        }
        remember(&self.account_ids, address, &have.id);
        Ok(Some(have))
    }

    /// An account Carbonio creates from the directory: found as is (its
    /// attributes are the directory's, kept up to date by Carbonio's maps, not
    /// by this tool), else asked for with `AutoProvAccountRequest`. The account
    /// Carbonio names must be the wanted address: `zimbraAutoProvAccountNameMap`
    /// decides its local part, and a different one would leave the mail phase
    /// without a mailbox.
    async fn ensure_auto_provisioned(&self, account: &Account) -> Result<Change> {
        let address = account.address.as_str();
        if self.existing_account(address).await?.is_some() {
            return Ok(Change::Unchanged);
        }
        let domain = account.address.domain();
        let req = SoapRequest::admin("AutoProvAccountRequest")
            .selector("domain", "name", domain.as_str())
            .selector("principal", "name", address);
        let context = format!("auto-provisioning account {address}");
        let response = match self.client.call(&req).await {
            Ok(response) => response,
            Err(CallError::Fault(f)) if f.is(codes::NO_SUCH_EXTERNAL_ENTRY) => {
                return Err(Error::NotFound {
                    what: format!(
                        "{address} in the directory configured on domain {domain} (zimbraAutoProvLdapSearchFilter finds no entry; {context})"
                    ),
                })
            }
            // A server-side FAILURE here is the domain's settings (MANUAL
            // missing, directory unreachable, bad map): retrying cannot help.
            Err(CallError::Fault(f)) if f.is(codes::FAILURE) => {
                return Err(Error::Rejected {
                    item: format!("account {address}"),
                    reason: format!(
                        "Carbonio's auto-provisioning failed: {} (check the zimbraAutoProv* attributes of domain {domain})",
                        f.reason
                    ),
                })
            }
            Err(e) => return Err(self.fail(e, &context)),
        };
        let created = Entry::parse(&response, "account", &context)?;
        if !created.is(address) {
            return Err(Error::Rejected {
                item: format!("account {address}"),
                reason: format!(
                    "auto-provisioning created {} instead: the domain's zimbraAutoProvAccountNameMap gives another local part",
                    created.name
                ),
            });
        }
        remember(&self.account_ids, address, &created.id);
        Ok(Change::Created)
    }

    async fn add_list_alias(&self, list: &Entry, alias: &EmailAddress) -> Result<()> {
        let context = format!("adding alias {alias} to distribution list {}", list.name);
        let req = SoapRequest::admin("AddDistributionListAliasRequest")
            .element("id", &list.id)
            .element("alias", alias.as_str());
        match self.client.call(&req).await {
            Ok(_) => Ok(()),
            Err(CallError::Fault(f)) if f.is(codes::ACCOUNT_EXISTS) => {
                let holder = self.holder(alias.as_str()).await?;
                if holder == format!("an alias of distribution list {}", list.name) {
                    return Ok(());
                }
                Err(Error::AlreadyExists {
                    what: format!(
                        "alias {alias} is already {holder} (wanted for distribution list {})",
                        list.name
                    ),
                })
            }
            Err(e) => Err(self.fail(e, &context)),
        }
    }
}

#[async_trait]
impl Destination for CarbonioDestination {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn location(&self) -> String {
        format!("carbonio {}", self.config.admin_url)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = vec![
            Capability::Domains,
            Capability::ClassesOfService,
            Capability::Accounts,
            Capability::DistributionLists,
            Capability::Appointments,
            Capability::Contacts,
        ];
        if self.imap.is_some() {
            caps.extend([
                Capability::Mail,
                Capability::ReadBack,
                Capability::ResumeMail,
            ]);
        }
        Capabilities::of(caps)
    }

    async fn ensure_domain(&self, domain: &Domain) -> Result<Change> {
        let name = domain.name.as_str();
        let want = domain.plain_attributes();
        let secrets = domain
            .secret_attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()));
        match self
            .get("GetDomainRequest", "domain", name, codes::NO_SUCH_DOMAIN)
            .await?
        {
            None => {
                let plain = want.iter().flat_map(|(k, values)| {
                    values
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(move |v| (k.as_str(), v.as_str()))
                });
                let req = SoapRequest::admin("CreateDomainRequest")
                    .element("name", name)
                    .attrs(plain)
                    .attrs(secrets);
                self.write(&req, &format!("creating domain {name}")).await?;
                Ok(Change::Created)
            }
            Some(have) => {
                let diff = have.differing_values(&want);
                let unset_secrets: Vec<(&str, &str)> = secrets
                    .filter(|(k, _)| have.values(k).iter().all(String::is_empty))
                    .collect();
                let written = !diff.is_empty() || !unset_secrets.is_empty();
                if written {
                    let req = SoapRequest::admin("ModifyDomainRequest")
                        .element("id", &have.id)
                        .attrs(diff)
                        .attrs(unset_secrets);
                    self.write(&req, &format!("modifying domain {name}"))
                        .await?;
                }
                Ok(change(written))
            }
        }
    }

    async fn ensure_cos(&self, cos: &Cos) -> Result<Change> {
        let name = cos.name.as_str();
        let want = pairs(&cos.attributes);
        match self
            .get("GetCosRequest", "cos", name, codes::NO_SUCH_COS)
            .await?
        {
            None => {
                // The name as an element: CreateCos reads no attribute (reference §1.1).
                let req = SoapRequest::admin("CreateCosRequest")
                    .element("name", name)
                    .attrs(want.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let context = format!("creating class of service {name}");
                let response = self.write(&req, &context).await?;
                let created = Entry::parse(&response, "cos", &context)?;
                remember(&self.cos_ids, name, &created.id);
                Ok(Change::Created)
            }
            Some(have) => {
                remember(&self.cos_ids, name, &have.id);
                let diff = have.differing(&want);
                let written = !diff.is_empty();
                if written {
                    let req = SoapRequest::admin("ModifyCosRequest")
                        .element("id", &have.id)
                        .attrs(diff);
                    self.write(&req, &format!("modifying class of service {name}"))
                        .await?;
                }
                Ok(change(written))
            }
        }
    }

    async fn ensure_account(&self, account: &Account) -> Result<Change> {
        let address = account.address.as_str();
        if account.creation == Creation::AutoProvisioning {
            return self.ensure_auto_provisioned(account).await;
        }
        let want = self.account_attributes(account).await?;
        if let Some(have) = self.existing_account(address).await? {
            let diff = have.differing(&want);
            let written = !diff.is_empty();
            if written {
                let req = SoapRequest::admin("ModifyAccountRequest")
                    .element("id", &have.id)
                    .attrs(diff);
                self.write(&req, &format!("modifying account {address}"))
                    .await?;
            }
            return Ok(change(written));
        }
        let mut req = SoapRequest::admin("CreateAccountRequest").element("name", address);
        if let Password::Clear(secret) = &account.password {
            req = req.element("password", secret.expose());
        }
        req = req.attrs(want.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if account.must_change_password {
            req = req.attrs([("zimbraPasswordMustChange", "TRUE")]);
        }
        if let Password::Hash(hash) = &account.password {
            // Stored as given, never re-hashed (reference §1.3).
            req = req.attrs([("userPassword", hash.expose())]);
        }
        let context = format!("creating account {address}");
        match self.client.call(&req).await {
            Ok(response) => {
                let created = Entry::parse(&response, "account", &context)?;
                remember(&self.account_ids, address, &created.id);
                Ok(Change::Created)
            }
            Err(CallError::Fault(f)) if f.is(codes::ACCOUNT_EXISTS) => {
                let holder = self.holder(address).await?;
                Err(Error::AlreadyExists {
                    what: format!("{address} is already {holder} (wanted for account {address})"),
                })
            }
            Err(e) => Err(self.fail(e, &context)),
        }
    }

    async fn ensure_alias(&self, account: &EmailAddress, alias: &EmailAddress) -> Result<Change> {
        // Read first, so an alias already in place costs no write at all.
        if let Some(holder) = self.get_account(alias.as_str()).await? {
            if holder.is(account.as_str()) {
                return Ok(Change::Unchanged);
            }
            let what = if holder.is(alias.as_str()) {
                format!("alias {alias} is already the account {}", holder.name)
            } else {
                format!("alias {alias} already belongs to account {}", holder.name)
            };
            return Err(Error::AlreadyExists {
                what: format!("{what} (wanted for account {account})"),
            });
        }
        let id = self
            .account_id(account, &format!("to add alias {alias}"))
            .await?;
        let req = SoapRequest::admin("AddAccountAliasRequest")
            .element("id", &id)
            .element("alias", alias.as_str());
        match self.client.call(&req).await {
            Ok(_) => Ok(Change::Created),
            // Not an account's: a list or a list's alias holds it.
            Err(CallError::Fault(f)) if f.is(codes::ACCOUNT_EXISTS) => {
                let holder = self.holder(alias.as_str()).await?;
                Err(Error::AlreadyExists {
                    what: format!(
                        "alias {alias} is already {holder} (wanted for account {account})"
                    ),
                })
            }
            Err(e) => Err(self.fail(e, &format!("adding alias {alias} to account {account}"))),
        }
    }

    async fn ensure_distribution_list(&self, list: &DistributionList) -> Result<Change> {
        let address = list.address.as_str();
        let mut want = Vec::new();
        if let Some(v) = &list.display_name {
            want.push(("displayName".to_string(), v.clone()));
        }
        if let Some(v) = &list.description {
            want.push(("description".to_string(), v.clone()));
        }
        let (entry, mut result) = match self.get_list(address).await? {
            Some(have) => {
                if !have.is(address) {
                    return Err(Error::AlreadyExists {
                        what: format!(
                            "{address} is already an alias of distribution list {} (wanted for distribution list {address})",
                            have.name
                        ),
                    });
                }
                let diff = have.differing(&want);
                let written = !diff.is_empty();
                if written {
                    let req = SoapRequest::admin("ModifyDistributionListRequest")
                        .element("id", &have.id)
                        .attrs(diff);
                    self.write(&req, &format!("modifying distribution list {address}"))
                        .await?;
                }
                (have, change(written))
            }
            None => {
                let req = SoapRequest::admin("CreateDistributionListRequest")
                    .element("name", address)
                    .attrs(want.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let context = format!("creating distribution list {address}");
                let created = match self.client.call(&req).await {
                    Ok(response) => Entry::parse(&response, "dl", &context)?,
                    Err(CallError::Fault(f)) if f.is(codes::ACCOUNT_EXISTS) => {
                        let holder = self.holder(address).await?;
                        return Err(Error::AlreadyExists {
                            what: format!(
                                "{address} is already {holder} (wanted for distribution list {address})"
                            ),
                        });
                    }
                    Err(e) => return Err(self.fail(e, &context)),
                };
                (created, Change::Created)
            }
        };
        let have_aliases = entry.values("zimbraMailAlias").to_vec();
        for alias in &list.aliases {
            if have_aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(alias.as_str()))
            {
                continue;
            }
            self.add_list_alias(&entry, alias).await?;
            if result == Change::Unchanged {
                result = Change::Updated;
            }
        }
        Ok(result)
    }

    async fn ensure_members(
        &self,
        list: &EmailAddress,
        members: &[EmailAddress],
    ) -> Result<Change> {
        let Some(have) = self.get_list(list.as_str()).await? else {
            return Err(Error::NotFound {
                what: format!("distribution list {list} (to add members)"),
            });
        };
        let mut missing: Vec<&str> = Vec::new();
        for member in members {
            let known = have
                .members
                .iter()
                .any(|m| m.eq_ignore_ascii_case(member.as_str()));
            if !known && !missing.contains(&member.as_str()) {
                missing.push(member.as_str());
            }
        }
        if missing.is_empty() {
            return Ok(Change::Unchanged);
        }
        let req = SoapRequest::admin("AddDistributionListMemberRequest")
            .element("id", &have.id)
            .elements("dlm", missing.iter().copied());
        self.write(
            &req,
            &format!(
                "adding {} members to distribution list {list}",
                missing.len()
            ),
        )
        .await?;
        Ok(Change::Updated)
    }

    async fn mailbox(&self, account: &Account) -> Result<Box<dyn MailboxWriter>> {
        match &self.imap {
            Some(imap) => imap.mailbox(account).await,
            None => Err(Error::unsupported(
                "writing mail (configure [destination.imap])",
                KIND,
            )),
        }
    }

    async fn read_back(&self, account: &Account) -> Result<Box<dyn MailboxReader>> {
        match &self.imap {
            Some(imap) => imap.read_back(account).await,
            None => Err(Error::unsupported(
                "reading back mail (configure [destination.imap])",
                KIND,
            )),
        }
    }

    async fn appointments(&self, account: &Account) -> Result<Box<dyn ItemWriter<Appointment>>> {
        let target = RestTarget::new(
            self.client.clone(),
            self.upload_http.clone(),
            &self.rest_base,
            account.address.as_str(),
            "Calendar",
            "ics",
        )?;
        Ok(Box::new(IcsWriter::new(RestUpload::new(target))))
    }

    async fn contacts(&self, account: &Account) -> Result<Box<dyn ItemWriter<Contact>>> {
        let target = RestTarget::new(
            self.client.clone(),
            self.upload_http.clone(),
            &self.rest_base,
            account.address.as_str(),
            "Contacts",
            self.config.contacts_format.as_str(),
        )?;
        match self.config.contacts_format {
            ContactsFormat::Vcf => Ok(Box::new(VcfWriter::new(RestUpload::new(target)))),
            ContactsFormat::Csv => {
                let format = self.config.contacts_csv_format;
                // Without `csvlocale` the server picks the column names of the
                // requesting admin's locale (German ones for `de`, ...); `en`
                // matches no localised variant, so the English names apply.
                let target = target
                    .with_param("csvfmt", format.as_str())
                    .with_param("csvlocale", "en");
                Ok(Box::new(CsvWriter::new(RestUpload::new(target), format)))
            }
        }
    }
}

//! The emulated Admin SOAP handlers (reference §1.2–1.5, §4 for grants).
//!
//! Faithful points: the token check, the fault codes and reason prefixes of
//! the reference's table, `CreateCos` reading its name only as an element, the
//! element-or-attribute leniency of every other handler, `userPassword` stored
//! as given, `zimbraCOSId` and the domain checked on create, aliases and lists
//! sharing one address space (`ACCOUNT_EXISTS` for an alias that exists), DL
//! member re-add as a no-op, grants to unknown users turned into guest grants.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::state::{
    AccountRecord, Attributes, CosRecord, DomainRecord, GrantRecord, Holder, Inner, ListRecord,
    PasswordRecord,
};

/// A fault to answer: code and reason text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) code: String,
    pub(crate) reason: String,
}

pub(crate) fn fault(code: &str, reason: impl Into<String>) -> Fault {
    Fault {
        code: code.to_string(),
        reason: reason.into(),
    }
}

type Answer = Result<Value, Fault>;

const ADMIN_NS: &str = "urn:zimbraAdmin";
const MAIL_NS: &str = "urn:zimbraMail";

/// Whether a request changes something (counted in `write_calls`).
pub(crate) fn is_write(name: &str) -> bool {
    [
        "Create", "Modify", "Add", "Set", "Remove", "Delete", "Rename", "AutoProv",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || name == "FolderActionRequest"
}

/// Text of a node: string, `_content`, or first of an array.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => m.get("_content").and_then(text),
        Value::Array(items) => items.first().and_then(text),
        _ => None,
    }
}

/// `request[key]` read leniently, as `Element.getAttribute` does: an attribute
/// or a child element.
fn lenient(request: &Value, key: &str) -> Option<String> {
    request.get(key).and_then(text)
}

/// `request[key]` only as an element (`{"_content": …}`), as `getElement` reads.
fn element_only(request: &Value, key: &str) -> Option<String> {
    match request.get(key)? {
        Value::Object(m) => m.get("_content").and_then(text),
        Value::Array(items) => match items.first()? {
            Value::Object(m) => m.get("_content").and_then(text),
            _ => None,
        },
        _ => None,
    }
}

fn required(request: &Value, key: &str) -> Result<String, Fault> {
    lenient(request, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            fault(
                "service.INVALID_REQUEST",
                format!("invalid request: missing required attribute: {key}"),
            )
        })
}

/// The `(by, value)` of a selector element.
pub(crate) fn selector(request: &Value, key: &str) -> Result<(String, String), Fault> {
    let node = request.get(key).ok_or_else(|| {
        fault(
            "service.INVALID_REQUEST",
            format!("invalid request: missing required element: {key}"),
        )
    })?;
    let node = match node {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    let by = node
        .get("by")
        .and_then(text)
        .unwrap_or_else(|| "name".into());
    let value = text(node).unwrap_or_default();
    Ok((by, value))
}

/// The `a` list as (name, value) pairs in order.
fn attr_pairs(request: &Value) -> Result<Vec<(String, String)>, Fault> {
    let items = match request.get("a") {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(other) => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        let name = item.get("n").and_then(text).unwrap_or_default();
        let bare = name.trim_start_matches(['+', '-']);
        let valid = bare.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(fault(
                "account.INVALID_ATTR_NAME",
                format!("invalid attr name: {name}"),
            ));
        }
        let value = item.get("_content").and_then(text).unwrap_or_default();
        out.push((name, value));
    }
    Ok(out)
}

/// Applies `pairs` as `modifyAttrs` does: a plain name replaces (an empty
/// value deletes), `+name` adds one value, `-name` removes one.
fn apply(attrs: &mut Attributes, pairs: &[(String, String)]) {
    let mut replaced: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if let Some(n) = name.strip_prefix('+') {
            let values = attrs.entry(n.to_string()).or_default();
            if !values.contains(value) {
                values.push(value.clone());
            }
        } else if let Some(n) = name.strip_prefix('-') {
            if let Some(values) = attrs.get_mut(n) {
                values.retain(|v| v != value);
                if values.is_empty() {
                    attrs.remove(n);
                }
            }
        } else if value.is_empty() {
            attrs.remove(name);
        } else if replaced.contains(&name.as_str()) {
            // A repeated <a n="x"> gives a multi-valued attribute its values.
            attrs.entry(name.clone()).or_default().push(value.clone());
        } else {
            attrs.insert(name.clone(), vec![value.clone()]);
            replaced.push(name);
        }
    }
}

fn render_attrs(attrs: &Attributes) -> Value {
    Value::Array(
        attrs
            .iter()
            .flat_map(|(n, values)| values.iter().map(move |v| json!({"n": n, "_content": v})))
            .collect(),
    )
}

fn object(name: &str, id: &str, attrs: &Attributes) -> Value {
    json!({"name": name, "id": id, "a": render_attrs(attrs)})
}

fn response(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    map.insert("_jsns".into(), Value::String(ADMIN_NS.into()));
    for (k, v) in pairs {
        map.insert(k.into(), v);
    }
    Value::Object(map)
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Inner {
    /// The token of a request is valid: `Ok`, else the fault to answer.
    pub(crate) fn check_token(&self, token: Option<&str>) -> Result<(), Fault> {
        match token.and_then(|t| self.tokens.get(t)) {
            None => Err(fault("service.AUTH_REQUIRED", "no valid authtoken present")),
            Some(t) if t.expired => Err(fault(
                "service.AUTH_EXPIRED",
                "auth credentials have expired",
            )),
            Some(_) => Ok(()),
        }
    }

    /// Answers one request named `name` (already authenticated unless it is
    /// `AuthRequest`); `context` is the envelope's `Header.context`.
    pub(crate) fn handle(&mut self, name: &str, request: &Value, context: &Value) -> Answer {
        let ns = lenient(request, "_jsns").unwrap_or_default();
        let wanted_ns = if name == "FolderActionRequest" {
            MAIL_NS
        } else {
            ADMIN_NS
        };
        if ns != wanted_ns {
            return Err(fault(
                "service.UNKNOWN_DOCUMENT",
                format!("unknown document: {name} in namespace {ns:?}"),
            ));
        }
        match name {
            "AuthRequest" => self.auth(request),
            "GetDomainRequest" => self.get_domain(request),
            "CreateDomainRequest" => self.create_domain(request),
            "ModifyDomainRequest" => self.modify_domain(request),
            "GetCosRequest" => self.get_cos(request),
            "CreateCosRequest" => self.create_cos(request),
            "ModifyCosRequest" => self.modify_cos(request),
            "GetAccountRequest" => self.get_account(request),
            "CreateAccountRequest" => self.create_account(request),
            "ModifyAccountRequest" => self.modify_account(request),
            "SetPasswordRequest" => self.set_password(request),
            "AddAccountAliasRequest" => self.add_account_alias(request),
            "GetDistributionListRequest" => self.get_list(request),
            "CreateDistributionListRequest" => self.create_list(request),
            "ModifyDistributionListRequest" => self.modify_list(request),
            "AddDistributionListMemberRequest" => self.add_members(request),
            "AddDistributionListAliasRequest" => self.add_list_alias(request),
            "FolderActionRequest" => self.folder_action(request, context),
            // Answered by the server loop: it needs the directory (auto_prov.rs).
            "AutoProvAccountRequest" => Err(fault(
                "service.FAILURE",
                "system failure: AutoProvAccountRequest must go through the server loop",
            )),
            other => Err(fault(
                "service.UNKNOWN_DOCUMENT",
                format!("unknown document: {other}"),
            )),
        }
    }

    fn auth(&mut self, request: &Value) -> Answer {
        if request.get("authToken").is_some() {
            return Err(fault(
                "service.INVALID_REQUEST",
                "invalid request: token renewal is not emulated",
            ));
        }
        let user = lenient(request, "account")
            .or_else(|| lenient(request, "name"))
            .unwrap_or_default();
        let password = lenient(request, "password").unwrap_or_default();
        if !user.eq_ignore_ascii_case(&self.admin_user) || password != self.admin_password {
            return Err(fault(
                "account.AUTH_FAILED",
                format!("authentication failed for [{user}]"),
            ));
        }
        let token = format!("0_{:032x}", rand::random::<u128>());
        self.tokens
            .insert(token.clone(), super::state::TokenRecord { expired: false });
        Ok(response(vec![
            ("authToken", json!([{ "_content": token }])),
            ("lifetime", json!(self.token_lifetime_ms)),
        ]))
    }

    fn find_domain(&self, by: &str, key: &str) -> Option<&DomainRecord> {
        let domains = &self.state.domains;
        match by {
            "id" => domains.values().find(|d| d.id == key),
            _ => domains.get(&key.to_ascii_lowercase()),
        }
    }

    fn get_domain(&mut self, request: &Value) -> Answer {
        let (by, key) = selector(request, "domain")?;
        let d = self
            .find_domain(&by, &key)
            .ok_or_else(|| fault("account.NO_SUCH_DOMAIN", format!("no such domain: {key}")))?;
        Ok(response(vec![(
            "domain",
            json!([object(&d.name, &d.id, &d.attrs)]),
        )]))
    }

    fn create_domain(&mut self, request: &Value) -> Answer {
        let name = required(request, "name")?.to_ascii_lowercase();
        let pairs = attr_pairs(request)?;
        if self.state.domains.contains_key(&name) {
            return Err(fault(
                "account.DOMAIN_EXISTS",
                format!("domain already exists: {name}"),
            ));
        }
        let id = self.new_id();
        let mut attrs = Attributes::new();
        apply(&mut attrs, &pairs);
        attrs.insert("zimbraId".into(), vec![id.clone()]);
        attrs.insert("zimbraDomainName".into(), vec![name.clone()]);
        let d = DomainRecord {
            id,
            name: name.clone(),
            attrs,
        };
        let answer = response(vec![("domain", json!([object(&d.name, &d.id, &d.attrs)]))]);
        self.state.domains.insert(name, d);
        Ok(answer)
    }

    fn modify_domain(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let pairs = attr_pairs(request)?;
        let d = self
            .state
            .domains
            .values_mut()
            .find(|d| d.id == id)
            .ok_or_else(|| fault("account.NO_SUCH_DOMAIN", format!("no such domain: {id}")))?;
        apply(&mut d.attrs, &pairs);
        Ok(response(vec![(
            "domain",
            json!([object(&d.name, &d.id, &d.attrs)]),
        )]))
    }

    fn get_cos(&mut self, request: &Value) -> Answer {
        let (by, key) = selector(request, "cos")?;
        let cos = match by.as_str() {
            "id" => self.state.classes_of_service.values().find(|c| c.id == key),
            _ => self.state.classes_of_service.get(&key),
        }
        .ok_or_else(|| fault("account.NO_SUCH_COS", format!("no such cos: {key}")))?;
        Ok(response(vec![(
            "cos",
            json!([object(&cos.name, &cos.id, &cos.attrs)]),
        )]))
    }

    fn create_cos(&mut self, request: &Value) -> Answer {
        // CreateCos reads request.getElement("name"): an attribute is not found.
        let name = element_only(request, "name").ok_or_else(|| {
            fault(
                "service.INVALID_REQUEST",
                "invalid request: missing required element: name",
            )
        })?;
        let pairs = attr_pairs(request)?;
        if self.state.classes_of_service.contains_key(&name) {
            return Err(fault(
                "account.COS_EXISTS",
                format!("cos already exists: {name}"),
            ));
        }
        let id = self.new_id();
        let mut attrs = Attributes::new();
        apply(&mut attrs, &pairs);
        attrs.insert("zimbraId".into(), vec![id.clone()]);
        attrs.insert("cn".into(), vec![name.clone()]);
        let cos = CosRecord {
            id,
            name: name.clone(),
            attrs,
        };
        let answer = response(vec![(
            "cos",
            json!([object(&cos.name, &cos.id, &cos.attrs)]),
        )]);
        self.state.classes_of_service.insert(name, cos);
        Ok(answer)
    }

    fn modify_cos(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let pairs = attr_pairs(request)?;
        let cos = self
            .state
            .classes_of_service
            .values_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| fault("account.NO_SUCH_COS", format!("no such cos: {id}")))?;
        apply(&mut cos.attrs, &pairs);
        Ok(response(vec![(
            "cos",
            json!([object(&cos.name, &cos.id, &cos.attrs)]),
        )]))
    }

    fn account_by(&self, by: &str, key: &str) -> Option<&AccountRecord> {
        match by {
            "id" => self.state.accounts.values().find(|a| a.id == key),
            // By name resolves aliases to their account, as the server does.
            _ => self.state.account_of(key),
        }
    }

    fn account_answer(a: &AccountRecord) -> Value {
        response(vec![("account", json!([object(&a.name, &a.id, &a.attrs)]))])
    }

    fn get_account(&mut self, request: &Value) -> Answer {
        let (by, key) = selector(request, "account")?;
        let a = self
            .account_by(&by, &key)
            .ok_or_else(|| fault("account.NO_SUCH_ACCOUNT", format!("no such account: {key}")))?;
        Ok(Self::account_answer(a))
    }

    fn need_domain(&self, address: &str) -> Result<(), Fault> {
        let domain = domain_of(address);
        if self.state.domains.contains_key(domain) {
            Ok(())
        } else {
            Err(fault(
                "account.NO_SUCH_DOMAIN",
                format!("no such domain: {domain}"),
            ))
        }
    }

    fn need_cos(&self, pairs: &[(String, String)]) -> Result<(), Fault> {
        for (n, v) in pairs {
            if n.eq_ignore_ascii_case("zimbraCOSId")
                && !v.is_empty()
                && !self.state.classes_of_service.values().any(|c| &c.id == v)
            {
                return Err(fault("account.NO_SUCH_COS", format!("no such cos: {v}")));
            }
        }
        Ok(())
    }

    /// Moves `userPassword` out of `pairs` into a password record.
    fn take_password_hash(pairs: &mut Vec<(String, String)>) -> Option<PasswordRecord> {
        let i = pairs
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case("userPassword"))?;
        let (_, v) = pairs.remove(i);
        Some(PasswordRecord::Hash(v))
    }

    pub(crate) fn create_account(&mut self, request: &Value) -> Answer {
        let name = required(request, "name")?.to_ascii_lowercase();
        let mut pairs = attr_pairs(request)?;
        self.need_domain(&name)?;
        if self.state.addresses.contains_key(&name) {
            return Err(fault(
                "account.ACCOUNT_EXISTS",
                format!("email address already exists: {name}"),
            ));
        }
        self.need_cos(&pairs)?;
        // With userPassword in the attributes, the password argument is ignored.
        let password = match Self::take_password_hash(&mut pairs) {
            Some(hash) => hash,
            None => match lenient(request, "password").filter(|p| !p.is_empty()) {
                Some(clear) => PasswordRecord::Clear {
                    sha256: sha256_hex(&clear),
                },
                None => PasswordRecord::None,
            },
        };
        let id = self.new_id();
        let mut attrs = Attributes::new();
        apply(&mut attrs, &pairs);
        attrs.insert("zimbraId".into(), vec![id.clone()]);
        attrs.insert("mail".into(), vec![name.clone()]);
        attrs
            .entry("zimbraAccountStatus".into())
            .or_insert_with(|| vec!["active".into()]);
        let account = AccountRecord {
            id,
            name: name.clone(),
            attrs,
            password,
            aliases: Vec::new(),
        };
        let answer = Self::account_answer(&account);
        self.state
            .addresses
            .insert(name.clone(), Holder::Account(name.clone()));
        self.state.accounts.insert(name, account);
        Ok(answer)
    }

    fn account_mut(&mut self, id: &str) -> Result<&mut AccountRecord, Fault> {
        self.state
            .accounts
            .values_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| fault("account.NO_SUCH_ACCOUNT", format!("no such account: {id}")))
    }

    fn modify_account(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let mut pairs = attr_pairs(request)?;
        self.need_cos(&pairs)?;
        let hash = Self::take_password_hash(&mut pairs);
        let account = self.account_mut(&id)?;
        if let Some(hash) = hash {
            account.password = hash;
        }
        apply(&mut account.attrs, &pairs);
        Ok(Self::account_answer(account))
    }

    fn set_password(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let password = required(request, "newPassword")?;
        let account = self.account_mut(&id)?;
        account.password = PasswordRecord::Clear {
            sha256: sha256_hex(&password),
        };
        Ok(response(vec![]))
    }

    /// Takes `alias` for `holder`, or the fault the server answers.
    fn claim_alias(&mut self, alias: &str, holder: Holder) -> Result<(), Fault> {
        self.need_domain(alias)?;
        if self.state.addresses.contains_key(alias) {
            // addAliasInternal answers ACCOUNT_EXISTS, never ALIAS_EXISTS.
            return Err(fault(
                "account.ACCOUNT_EXISTS",
                format!("email address already exists: {alias}"),
            ));
        }
        self.state.addresses.insert(alias.to_string(), holder);
        Ok(())
    }

    fn add_account_alias(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let alias = required(request, "alias")?.to_ascii_lowercase();
        let owner = self.account_mut(&id)?.name.clone();
        self.claim_alias(&alias, Holder::AccountAlias(owner))?;
        let account = self.account_mut(&id)?;
        account.aliases.push(alias.clone());
        for attr in ["zimbraMailAlias", "mail"] {
            account
                .attrs
                .entry(attr.into())
                .or_default()
                .push(alias.clone());
        }
        Ok(response(vec![]))
    }

    fn list_answer(l: &ListRecord) -> Value {
        let mut dl = object(&l.name, &l.id, &l.attrs);
        dl["dlm"] = Value::Array(l.members.iter().map(|m| json!({"_content": m})).collect());
        response(vec![("dl", json!([dl]))])
    }

    fn list_mut(&mut self, id: &str) -> Result<&mut ListRecord, Fault> {
        self.state
            .lists
            .values_mut()
            .find(|l| l.id == id)
            .ok_or_else(|| {
                fault(
                    "account.NO_SUCH_DISTRIBUTION_LIST",
                    format!("no such distribution list: {id}"),
                )
            })
    }

    fn get_list(&mut self, request: &Value) -> Answer {
        let (by, key) = selector(request, "dl")?;
        let list = match by.as_str() {
            "id" => self.state.lists.values().find(|l| l.id == key),
            _ => self.state.list_of(&key),
        }
        .ok_or_else(|| {
            fault(
                "account.NO_SUCH_DISTRIBUTION_LIST",
                format!("no such distribution list: {key}"),
            )
        })?;
        Ok(Self::list_answer(list))
    }

    fn create_list(&mut self, request: &Value) -> Answer {
        let name = required(request, "name")?.to_ascii_lowercase();
        let pairs = attr_pairs(request)?;
        self.need_domain(&name)?;
        match self.state.addresses.get(&name) {
            Some(Holder::List(_)) => {
                return Err(fault(
                    "account.DISTRIBUTION_LIST_EXISTS",
                    format!("email address already exists: {name}"),
                ))
            }
            Some(_) => {
                return Err(fault(
                    "account.ACCOUNT_EXISTS",
                    format!("email address already exists: {name}"),
                ))
            }
            None => {}
        }
        let id = self.new_id();
        let mut attrs = Attributes::new();
        apply(&mut attrs, &pairs);
        attrs.insert("zimbraId".into(), vec![id.clone()]);
        attrs.insert("mail".into(), vec![name.clone()]);
        let list = ListRecord {
            id,
            name: name.clone(),
            attrs,
            members: Vec::new(),
            aliases: Vec::new(),
        };
        let answer = Self::list_answer(&list);
        self.state
            .addresses
            .insert(name.clone(), Holder::List(name.clone()));
        self.state.lists.insert(name, list);
        Ok(answer)
    }

    fn modify_list(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let pairs = attr_pairs(request)?;
        let list = self.list_mut(&id)?;
        apply(&mut list.attrs, &pairs);
        Ok(Self::list_answer(list))
    }

    fn add_members(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let members: Vec<String> = match request.get("dlm") {
            Some(Value::Array(items)) => items.iter().filter_map(text).collect(),
            Some(one) => text(one).into_iter().collect(),
            None => Vec::new(),
        };
        if members.is_empty() {
            return Err(fault(
                "service.INVALID_REQUEST",
                "invalid request: missing required element: dlm",
            ));
        }
        let list = self.list_mut(&id)?;
        for member in members {
            let member = member.to_ascii_lowercase();
            // Re-adding a member is allowed and changes nothing.
            if !list.members.contains(&member) {
                list.members.push(member);
            }
        }
        Ok(response(vec![]))
    }

    fn add_list_alias(&mut self, request: &Value) -> Answer {
        let id = required(request, "id")?;
        let alias = required(request, "alias")?.to_ascii_lowercase();
        let owner = self.list_mut(&id)?.name.clone();
        self.claim_alias(&alias, Holder::ListAlias(owner))?;
        let list = self.list_mut(&id)?;
        list.aliases.push(alias.clone());
        for attr in ["zimbraMailAlias", "mail"] {
            list.attrs
                .entry(attr.into())
                .or_default()
                .push(alias.clone());
        }
        Ok(response(vec![]))
    }

    fn folder_action(&mut self, request: &Value, context: &Value) -> Answer {
        let owner = lenient(context, "account").ok_or_else(|| {
            fault(
                "service.INVALID_REQUEST",
                "invalid request: the admin must name the mailbox in context.account",
            )
        })?;
        let owner = self
            .state
            .account_of(&owner)
            .map(|a| a.name.clone())
            .ok_or_else(|| {
                fault(
                    "account.NO_SUCH_ACCOUNT",
                    format!("no such account: {owner}"),
                )
            })?;
        let action = match request.get("action") {
            Some(Value::Array(items)) => items.first().cloned().unwrap_or(Value::Null),
            Some(a) => a.clone(),
            None => Value::Null,
        };
        let op = lenient(&action, "op").unwrap_or_default();
        let folder_id = required(&action, "id")?;
        if op != "grant" {
            return Err(fault(
                "service.INVALID_REQUEST",
                format!("invalid request: folder action op={op:?} is not emulated"),
            ));
        }
        let grant = match action.get("grant") {
            Some(Value::Array(items)) => items.first().cloned().unwrap_or(Value::Null),
            Some(g) => g.clone(),
            None => Value::Null,
        };
        let mut gt = required(&grant, "gt")?;
        let perm = lenient(&grant, "perm").unwrap_or_default();
        let grantee = lenient(&grant, "d").unwrap_or_default();
        if gt == "usr" || gt == "grp" {
            // A user that does not exist silently becomes a guest; `usr`
            // naming a group is corrected to `grp` (FolderAction.java).
            gt = if self.state.account_of(&grantee).is_some() {
                "usr".into()
            } else if self.state.list_of(&grantee).is_some() {
                "grp".into()
            } else {
                "guest".into()
            };
        }
        self.state.grants.push(GrantRecord {
            owner,
            folder_id: folder_id.clone(),
            grantee_type: gt,
            grantee,
            perm,
        });
        Ok(json!({"_jsns": MAIL_NS, "action": {"op": "grant", "id": folder_id}}))
    }
}

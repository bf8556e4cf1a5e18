//! Admin SOAP envelopes in Zimbra's JSON form, and the readers of what comes back.
//!
//! The shapes follow `shared/reference/carbonio.md` §1.1: a request is an object
//! under `Body` named `<X>Request` with its namespace in `_jsns`; element text is
//! `_content`; XML attributes are plain string properties; repeated elements are
//! arrays. Names, passwords, ids, aliases and members are always sent as
//! elements (`{"_content": …}`), selectors as `{"by": "name", "_content": …}` and
//! attributes as `"a": [{"n": …, "_content": …}]`: the one form every handler
//! accepts (`CreateCos` reads its name *only* as an element).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};

/// Namespace of the admin requests.
pub const ADMIN_NS: &str = "urn:zimbraAdmin";
/// Namespace of the mailbox requests (`FolderActionRequest`, ...).
pub const MAIL_NS: &str = "urn:zimbraMail";
/// Namespace of the header context.
pub const CONTEXT_NS: &str = "urn:zimbra";

/// One SOAP request body (`CreateAccountRequest`, ...), built element by element.
///
/// `Debug` prints the request's name only: bodies carry passwords and hashes.
#[derive(Clone)]
pub struct SoapRequest {
    name: &'static str,
    body: Map<String, Value>,
}

impl fmt::Debug for SoapRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SoapRequest({})", self.name)
    }
}

impl SoapRequest {
    /// An empty admin request named `name` (ending in `Request`).
    pub fn admin(name: &'static str) -> Self {
        Self::in_namespace(name, ADMIN_NS)
    }

    /// An empty request named `name` in namespace `ns`.
    pub fn in_namespace(name: &'static str, ns: &str) -> Self {
        let mut body = Map::new();
        body.insert("_jsns".into(), Value::String(ns.into()));
        SoapRequest { name, body }
    }

    /// The request's name (`GetAccountRequest`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The name of the answer (`GetAccountResponse`).
    pub fn response_name(&self) -> String {
        let stem = self.name.strip_suffix("Request").unwrap_or(self.name);
        format!("{stem}Response")
    }

    /// Adds `<key>text</key>`: `"key": {"_content": text}`.
    pub fn element(mut self, key: &str, text: &str) -> Self {
        self.body.insert(key.into(), json!({ "_content": text }));
        self
    }

    /// Adds `<key by="by">text</key>`: `"key": {"by": by, "_content": text}`.
    pub fn selector(mut self, key: &str, by: &str, text: &str) -> Self {
        self.body
            .insert(key.into(), json!({ "by": by, "_content": text }));
        self
    }

    /// Adds an XML attribute of the request: `"key": "value"`.
    pub fn attribute(mut self, key: &str, value: &str) -> Self {
        self.body.insert(key.into(), Value::String(value.into()));
        self
    }

    /// Adds repeated elements `<key>t</key>…`: `"key": [{"_content": t}, …]`.
    pub fn elements<'a>(mut self, key: &str, texts: impl IntoIterator<Item = &'a str>) -> Self {
        let items: Vec<Value> = texts
            .into_iter()
            .map(|t| json!({ "_content": t }))
            .collect();
        self.body.insert(key.into(), Value::Array(items));
        self
    }

    /// Adds `<a n="name">value</a>` for each pair, after those already added.
    pub fn attrs<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut items = match self.body.remove("a") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        items.extend(
            pairs
                .into_iter()
                .map(|(n, v)| json!({ "n": n, "_content": v })),
        );
        if !items.is_empty() {
            self.body.insert("a".into(), Value::Array(items));
        }
        self
    }

    /// Adds a child given as a whole JSON value (nested shapes like a
    /// `FolderActionRequest`'s `action`).
    pub fn child(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.into(), value);
        self
    }

    /// The JSON body, `{"<Name>": {...}}`.
    pub fn body_json(&self) -> Value {
        let mut body = Map::new();
        body.insert(self.name.into(), Value::Object(self.body.clone()));
        Value::Object(body)
    }

    /// The whole envelope, with `token` in `Header.context.authToken` and, when
    /// given, `acting_as` as the context's `account` (an admin acting on a
    /// mailbox, reference §1.4).
    pub fn envelope(&self, token: Option<&str>, acting_as: Option<&str>) -> Value {
        let mut context = Map::new();
        context.insert("_jsns".into(), Value::String(CONTEXT_NS.into()));
        if let Some(token) = token {
            context.insert("authToken".into(), json!({ "_content": token }));
        }
        if let Some(account) = acting_as {
            context.insert(
                "account".into(),
                json!({ "by": "name", "_content": account }),
            );
        }
        json!({
            "Header": { "context": Value::Object(context) },
            "Body": self.body_json(),
        })
    }
}

/// The first object of `value[key]`, whether the server wrote one object or an
/// array of them (Zimbra's JSON writes repeatable elements as arrays).
pub fn first<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value.get(key)? {
        Value::Array(items) => items.first(),
        other => Some(other),
    }
}

/// Every object of `value[key]`, one or many.
pub fn all<'a>(value: &'a Value, key: &str) -> Vec<&'a Value> {
    match value.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// The text of a node: a string as is, an element's `_content`, the first of an
/// array; numbers and booleans as written.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(map) => map.get("_content").and_then(text),
        Value::Array(items) => items.first().and_then(text),
        Value::Null => None,
    }
}

/// The text of `value[key]`, attribute or element.
pub fn text_of(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(text)
}

/// The `a` list of an object as name → values (multi-valued attributes repeat).
pub fn attributes(object: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in all(object, "a") {
        if let (Some(n), Some(v)) = (text_of(a, "n"), text(a).or(Some(String::new()))) {
            out.entry(n).or_default().push(v);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_reference_shape() {
        let request =
            SoapRequest::admin("GetDomainRequest").selector("domain", "name", "example.org");
        assert_eq!(
            request.envelope(Some("0_abc"), None),
            json!({"Header":{"context":{"_jsns":"urn:zimbra","authToken":{"_content":"0_abc"}}},
                   "Body":{"GetDomainRequest":{"_jsns":"urn:zimbraAdmin",
                     "domain":{"by":"name","_content":"example.org"}}}})
        );
        assert_eq!(request.response_name(), "GetDomainResponse");
        assert_eq!(format!("{request:?}"), "SoapRequest(GetDomainRequest)");
    }

    #[test]
    fn attrs_accumulate_and_empty_lists_are_left_out() {
        let r = SoapRequest::admin("ModifyDomainRequest")
            .element("id", "x")
            .attrs([])
            .attrs([("a", "1")])
            .attrs([("b", "2")]);
        assert_eq!(
            r.body_json()["ModifyDomainRequest"]["a"],
            json!([{"n":"a","_content":"1"},{"n":"b","_content":"2"}])
        );
        let empty = SoapRequest::admin("X").attrs([]);
        assert!(empty.body_json()["X"].get("a").is_none());
    }

    #[test]
    fn readers_accept_objects_arrays_and_strings() {
        let v = json!({"authToken":[{"_content":"tok"}],"lifetime":43200000,
                       "account":{"name":"a@b.org","a":[{"n":"m","_content":"1"},{"n":"m","_content":"2"},{"n":"e"}]}});
        assert_eq!(text_of(&v, "authToken").as_deref(), Some("tok"));
        assert_eq!(text_of(&v, "lifetime").as_deref(), Some("43200000"));
        let account = first(&v, "account").unwrap();
        assert_eq!(text_of(account, "name").as_deref(), Some("a@b.org"));
        let attrs = attributes(account);
        assert_eq!(attrs["m"], ["1", "2"]);
        assert_eq!(attrs["e"], [""]);
    }
}

//! Request envelopes in, answers out, in the form the request came in: JSON
//! (body starts with `{`) or SOAP XML (1.2, or 1.1 by its namespace).

use serde_json::{json, Value};

use super::admin::Fault;
use super::xml;

const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The form of a request, and so of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    Json,
    Soap12,
    Soap11,
}

/// A parsed request envelope.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) form: Form,
    /// `Header.context` (`Null` when absent).
    pub(crate) context: Value,
    /// The request's name and its body.
    pub(crate) name: String,
    pub(crate) request: Value,
    /// The whole envelope in JSON form, for the log.
    pub(crate) whole: Value,
}

fn parse_error(message: String) -> (Form, Fault) {
    (
        Form::Json,
        Fault {
            code: "service.PARSE_ERROR".into(),
            reason: format!("parse error: {message}"),
        },
    )
}

/// Parses a request body; the error names the form to answer in.
pub(crate) fn parse(body: &[u8]) -> Result<Envelope, (Form, Fault)> {
    let text = std::str::from_utf8(body).map_err(|e| parse_error(e.to_string()))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let whole: Value = serde_json::from_str(trimmed).map_err(|e| parse_error(e.to_string()))?;
        let context = whole
            .get("Header")
            .and_then(|h| h.get("context"))
            .cloned()
            .unwrap_or(Value::Null);
        let body = whole
            .get("Body")
            .and_then(Value::as_object)
            .ok_or_else(|| parse_error("no Body object".into()))?;
        let (name, request) = body
            .iter()
            .find(|(k, _)| !k.starts_with('_'))
            .ok_or_else(|| parse_error("an empty Body".into()))?;
        return Ok(Envelope {
            form: Form::Json,
            context,
            name: name.clone(),
            request: request.clone(),
            whole: whole.clone(),
        });
    }
    let root = xml::parse(trimmed).map_err(parse_error)?;
    let ns_prefix = root.name.split_once(':').map(|(p, _)| p);
    let ns_attr = match ns_prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".into(),
    };
    let ns = root
        .attributes
        .iter()
        .find(|(k, _)| *k == ns_attr)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let form = match ns {
        SOAP12 => Form::Soap12,
        SOAP11 => Form::Soap11,
        other => {
            return Err(parse_error(format!(
                "the root element is not a SOAP envelope (namespace {other:?})"
            )))
        }
    };
    if root.local_name() != "Envelope" {
        return Err(parse_error("the root element is not Envelope".into()));
    }
    let context = root
        .child("Header")
        .and_then(|h| h.child("context"))
        .map(xml::Node::to_json)
        .unwrap_or(Value::Null);
    let request = root
        .child("Body")
        .and_then(|b| b.children.first())
        .ok_or_else(|| {
            (
                form,
                Fault {
                    code: "service.PARSE_ERROR".into(),
                    reason: "parse error: an empty Body".into(),
                },
            )
        })?;
    let name = request.local_name().to_string();
    let request_json = request.to_json();
    Ok(Envelope {
        form,
        whole: json!({"Header": {"context": context.clone()}, "Body": {name.clone(): request_json.clone()}}),
        context,
        name,
        request: request_json,
    })
}

/// The answer's body and content type.
pub(crate) fn answer(form: Form, name: &str, response: &Value) -> (String, &'static str) {
    match form {
        Form::Json => (
            json!({"Header": {"context": {"_jsns": "urn:zimbra"}},
                   "Body": {name: response},
                   "_jsns": "urn:zimbraSoap"})
            .to_string(),
            "application/json; charset=utf-8",
        ),
        Form::Soap12 | Form::Soap11 => {
            let mut out = String::new();
            xml::render(name, response, &mut out);
            soap_xml(form, &out)
        }
    }
}

/// A fault in the form of the request (reference §1.5).
pub(crate) fn fault(form: Form, fault: &Fault) -> (String, &'static str) {
    // The server's own problems are the Receiver's; everything else the Sender's.
    let receiver = fault.code == "service.FAILURE";
    match form {
        Form::Json => (
            json!({"Body": {"Fault": {
                    "Code": {"Value": if receiver { "soap:Receiver" } else { "soap:Sender" }},
                    "Reason": {"Text": fault.reason},
                    "Detail": {"Error": {"_jsns": "urn:zimbra", "Code": fault.code,
                                         "Trace": "qtp-emulator"}}}},
                   "_jsns": "urn:zimbraSoap"})
            .to_string(),
            "application/json; charset=utf-8",
        ),
        Form::Soap12 | Form::Soap11 => {
            let value = if receiver {
                "soap:Receiver"
            } else {
                "soap:Sender"
            };
            let inner = format!(
                "<soap:Fault><soap:Code><soap:Value>{value}</soap:Value></soap:Code>\
                 <soap:Reason><soap:Text>{}</soap:Text></soap:Reason>\
                 <soap:Detail><Error xmlns=\"urn:zimbra\"><Code>{}</Code><Trace>qtp-emulator</Trace></Error></soap:Detail></soap:Fault>",
                xml::escape(&fault.reason),
                xml::escape(&fault.code)
            );
            soap_xml(form, &inner)
        }
    }
}

fn soap_xml(form: Form, body: &str) -> (String, &'static str) {
    let (ns, content_type) = match form {
        Form::Soap11 => (SOAP11, "text/xml; charset=utf-8"),
        _ => (SOAP12, "application/soap+xml; charset=utf-8"),
    };
    (
        format!(
            "<soap:Envelope xmlns:soap=\"{ns}\"><soap:Header><context xmlns=\"urn:zimbra\"/></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
        ),
        content_type,
    )
}

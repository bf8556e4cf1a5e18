//! Just enough XML for SOAP envelopes: elements, attributes, text, the five
//! entities and numeric references, comments and the XML declaration. Parsed
//! XML becomes the same JSON tree the JSON form uses (attributes as string
//! properties, text as `_content`, `xmlns` as `_jsns`, repeated children as
//! arrays), so one set of handlers serves both forms.

use serde_json::{Map, Value};

/// An XML element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// The qualified name (`soap:Envelope`).
    pub name: String,
    /// Attributes in document order.
    pub attributes: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Node>,
    /// The element's own text, trimmed.
    pub text: String,
}

impl Node {
    /// The name without its prefix.
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The first child with local name `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.local_name() == name)
    }

    /// The element as the JSON tree of the JSON envelope form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in &self.attributes {
            if k == "xmlns" {
                map.insert("_jsns".into(), Value::String(v.clone()));
            } else if !k.starts_with("xmlns:") {
                map.insert(k.clone(), Value::String(v.clone()));
            }
        }
        if !self.text.is_empty() {
            map.insert("_content".into(), Value::String(self.text.clone()));
        }
        for child in &self.children {
            let key = child.local_name().to_string();
            let value = child.to_json();
            match map.remove(&key) {
                None => {
                    map.insert(key, value);
                }
                Some(Value::Array(mut items)) => {
                    items.push(value);
                    map.insert(key, Value::Array(items));
                }
                Some(previous) => {
                    map.insert(key, Value::Array(vec![previous, value]));
                }
            }
        }
        Value::Object(map)
    }
}

/// Parses one document's root element.
///
/// # Errors
/// A lowercase description of the first problem and its byte offset.
pub fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser { s: text, pos: 0 };
    parser.skip_misc()?;
    let root = parser.element()?;
    parser.skip_misc()?;
    if parser.pos != text.len() {
        return Err(format!(
            "content after the root element at byte {}",
            parser.pos
        ));
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    /// Whitespace, comments and processing instructions.
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<?") {
                self.skip_past("?>")?;
            } else if self.rest().starts_with("<!--") {
                self.skip_past("-->")?;
            } else {
                return Ok(());
            }
        }
    }

    fn skip_past(&mut self, end: &str) -> Result<(), String> {
        match self.rest().find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(format!("unterminated markup at byte {}", self.pos)),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let end = self
            .rest()
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '='))
            .unwrap_or(self.rest().len());
        if end == 0 {
            return Err(format!("a name was expected at byte {}", self.pos));
        }
        let name = self.rest()[..end].to_string();
        self.pos += end;
        Ok(name)
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(format!("{token:?} was expected at byte {}", self.pos))
        }
    }

    fn element(&mut self) -> Result<Node, String> {
        self.expect("<")?;
        let mut node = Node {
            name: self.name()?,
            ..Node::default()
        };
        loop {
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.pos += 2;
                return Ok(node);
            }
            if self.rest().starts_with('>') {
                self.pos += 1;
                break;
            }
            let key = self.name()?;
            self.skip_ws();
            self.expect("=")?;
            self.skip_ws();
            let quote = self
                .rest()
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
                .ok_or_else(|| format!("a quoted value was expected at byte {}", self.pos))?;
            self.pos += 1;
            let end = self
                .rest()
                .find(quote)
                .ok_or_else(|| format!("unterminated attribute value at byte {}", self.pos))?;
            let value = unescape(&self.rest()[..end])?;
            self.pos += end + 1;
            node.attributes.push((key, value));
        }
        let mut text = String::new();
        loop {
            if self.rest().starts_with("</") {
                self.pos += 2;
                let name = self.name()?;
                if name != node.name {
                    return Err(format!(
                        "</{name}> closes <{}> at byte {}",
                        node.name, self.pos
                    ));
                }
                self.skip_ws();
                self.expect(">")?;
                node.text = text.trim().to_string();
                return Ok(node);
            }
            if self.rest().starts_with("<!--") {
                self.skip_past("-->")?;
            } else if let Some(cdata) = self.rest().strip_prefix("<![CDATA[") {
                let end = cdata
                    .find("]]>")
                    .ok_or_else(|| format!("unterminated CDATA at byte {}", self.pos))?;
                text.push_str(&cdata[..end]);
                self.pos += "<![CDATA[".len() + end + 3;
            } else if self.rest().starts_with('<') {
                node.children.push(self.element()?);
            } else if self.rest().is_empty() {
                return Err(format!("<{}> is not closed", node.name));
            } else {
                let end = self.rest().find('<').unwrap_or(self.rest().len());
                text.push_str(&unescape(&self.rest()[..end])?);
                self.pos += end;
            }
        }
    }
}

fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| format!("unterminated entity in {text:?}"))?;
        let entity = &after[..end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `text` escaped for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders a JSON-form tree as the XML element `name` (the inverse of
/// [`Node::to_json`]): string properties as attributes, `_content` as text,
/// `_jsns` as `xmlns`, objects, arrays and numbers as child elements.
pub fn render(name: &str, value: &Value, out: &mut String) {
    out.push('<');
    out.push_str(name);
    let mut text = None;
    let mut children = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            match (k.as_str(), v) {
                ("_content", v) => text = Some(scalar(v)),
                ("_jsns", v) => {
                    out.push_str(&format!(" xmlns=\"{}\"", escape(&scalar(v))));
                }
                // Numbers stand for Zimbra's CONTENT-disposition values
                // (`lifetime`): a property in JSON, an element in XML.
                (_, Value::Object(_) | Value::Number(_)) => children.push((k, v)),
                (_, Value::Array(items)) => children.extend(items.iter().map(|i| (k, i))),
                (_, v) => out.push_str(&format!(" {k}=\"{}\"", escape(&scalar(v)))),
            }
        }
    } else {
        text = Some(scalar(value));
    }
    if text.is_none() && children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(text) = text {
        out.push_str(&escape(&text));
    }
    for (k, v) in children {
        render(k, v, out);
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_soap_envelope_into_the_json_form() {
        let doc = r#"<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope">
  <soap:Header><context xmlns="urn:zimbra"><authToken>t&amp;1</authToken></context></soap:Header>
  <soap:Body><AuthRequest xmlns="urn:zimbraAdmin"><account by="name">a@b.org</account>
    <password>p&lt;w</password><a n="x">1</a><a n="x">2</a></AuthRequest></soap:Body>
</soap:Envelope>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.local_name(), "Envelope");
        let body = root.child("Body").unwrap().children[0].to_json();
        assert_eq!(
            body,
            json!({"_jsns":"urn:zimbraAdmin","account":{"by":"name","_content":"a@b.org"},
                   "password":{"_content":"p<w"},
                   "a":[{"n":"x","_content":"1"},{"n":"x","_content":"2"}]})
        );
        assert!(parse("<a><b></a>").is_err());
    }

    #[test]
    fn renders_the_inverse() {
        let mut out = String::new();
        render(
            "GetCosResponse",
            &json!({"_jsns":"urn:zimbraAdmin","cos":[{"name":"s<","id":"1","a":[{"n":"q","_content":"5"}]}]}),
            &mut out,
        );
        assert_eq!(
            out,
            "<GetCosResponse xmlns=\"urn:zimbraAdmin\"><cos id=\"1\" name=\"s&lt;\"><a n=\"q\">5</a></cos></GetCosResponse>"
        );
    }
}

//! A contact's vCard read into Zimbra contact fields (`firstName`, `email2`,
//! `workCity`, ...), the names Carbonio's CSV import stores
//! (`store/conf/contacts/contact-fields.xml`, format `csv`).
//!
//! The mapping follows Carbonio's own vCard import (`VCard.java`) so a
//! contact lands in the same fields whichever of `fmt=vcf` / `fmt=csv` carried
//! it: `N` → last/first/middle name, prefix, suffix; `ORG` → company and
//! department; `TEL` by its `TYPE`s; `ADR` by `work`/`home` (an untyped one is
//! `other*`); `URL` by `work`/`home` (untyped: `otherURL`); a numbered field
//! (`email2`, `workPhone2`) for each repeat. Properties outside this list
//! (photos, keys, custom `X-` ones) are not carried: the CSV format has no
//! column for them, which is why `vcf` stays the default.

use std::collections::BTreeMap;

use crate::adapters::export_dir::text_lines::{split_property, unescape_text, unfold};

/// Zimbra field name → value, for one contact. Empty values are left out.
pub(crate) type ContactFields = BTreeMap<String, String>;

/// The fields of the first `BEGIN:VCARD` ... `END:VCARD` block of `vcard`
/// (a contact carries one card). Folded lines are joined; `\\`, `\;`, `\,`
/// and `\n` are unescaped; property groups (`item1.EMAIL`) are ignored.
pub(crate) fn contact_fields(vcard: &str) -> ContactFields {
    let mut fields = ContactFields::new();
    let lines = unfold(vcard.lines());
    for line in &lines {
        let (name, params, value) = split_property(line);
        // `item1.EMAIL`: the group only ties properties together for clients.
        let name = name.rsplit('.').next().unwrap_or_default();
        if name == "END" {
            break;
        }
        let types = types(params);
        let has = |t: &str| types.iter().any(|x| x == t);
        match name {
            "FN" => put(&mut fields, "fullName", &unescape_text(value)),
            "N" => {
                let parts = components(value);
                for (field, index) in [
                    ("lastName", 0),
                    ("firstName", 1),
                    ("middleName", 2),
                    ("namePrefix", 3),
                    ("nameSuffix", 4),
                ] {
                    put(&mut fields, field, part(&parts, index));
                }
            }
            "NICKNAME" => put(&mut fields, "nickname", &unescape_text(value)),
            "EMAIL" => add_numbered(&mut fields, "email", &unescape_text(value)),
            "TEL" => {
                let field = if has("fax") {
                    if has("home") {
                        "homeFax"
                    } else {
                        "workFax"
                    }
                } else if has("cell") {
                    "mobilePhone"
                } else if has("pager") {
                    "pager"
                } else if has("work") {
                    "workPhone"
                } else if has("home") {
                    "homePhone"
                } else {
                    "otherPhone"
                };
                add_numbered(&mut fields, field, &unescape_text(value));
            }
            "ORG" => {
                let parts = components(value);
                put(&mut fields, "company", part(&parts, 0));
                put(&mut fields, "department", part(&parts, 1));
            }
            "TITLE" => put(&mut fields, "jobTitle", &unescape_text(value)),
            "ADR" => {
                let prefix = if has("work") {
                    "work"
                } else if has("home") {
                    "home"
                } else {
                    "other"
                };
                let parts = components(value);
                // Post office box, extended address and street make up the
                // street field, one per line, as Carbonio keeps a street.
                let street: Vec<&str> = (0..3)
                    .map(|i| part(&parts, i))
                    .filter(|s| !s.is_empty())
                    .collect();
                put(&mut fields, &format!("{prefix}Street"), &street.join("\n"));
                for (suffix, index) in
                    [("City", 3), ("State", 4), ("PostalCode", 5), ("Country", 6)]
                {
                    put(
                        &mut fields,
                        &format!("{prefix}{suffix}"),
                        part(&parts, index),
                    );
                }
            }
            "URL" => {
                let field = if has("work") {
                    "workURL"
                } else if has("home") {
                    "homeURL"
                } else {
                    "otherURL"
                };
                put(&mut fields, field, &unescape_text(value));
            }
            "BDAY" => put(&mut fields, "birthday", &date(&unescape_text(value))),
            "NOTE" => put(&mut fields, "notes", &unescape_text(value)),
            _ => {}
        }
    }
    fields
}

/// Sets `field` unless it is set already (the first property wins, as in
/// Carbonio) or `value` is empty.
fn put(fields: &mut ContactFields, field: &str, value: &str) {
    let value = value.trim_end_matches(['\r', '\n']);
    if !value.is_empty() && !fields.contains_key(field) {
        fields.insert(field.to_string(), value.to_string());
    }
}

/// Sets `base`, else `base2`, `base3`, ...: Zimbra's names for repeats.
fn add_numbered(fields: &mut ContactFields, base: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let mut n = 1;
    loop {
        let name = if n == 1 {
            base.to_string()
        } else {
            format!("{base}{n}")
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = fields.entry(name) {
            slot.insert(value.to_string());
            return;
        }
        n += 1;
    }
}

/// The `TYPE`s of a property, lowercase: `TYPE=work,voice`, repeated `TYPE=`
/// parameters, and vCard 2.1's bare `WORK`.
fn types(params: &str) -> Vec<String> {
    let mut out = Vec::new();
    for param in params.split(';').filter(|p| !p.is_empty()) {
        let values = match param.split_once('=') {
            Some((name, values)) if name.trim().eq_ignore_ascii_case("TYPE") => values,
            Some(_) => continue,
            None => param,
        };
        out.extend(
            values
                .split(',')
                .map(|v| v.trim().trim_matches('"').to_ascii_lowercase()),
        );
    }
    out
}

/// The `;`-separated components of a structured value (`N`, `ORG`, `ADR`),
/// each unescaped; an escaped `\;` stays inside its component.
fn components(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push('\\');
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ';' => parts.push(unescape_text(&std::mem::take(&mut current))),
            _ => current.push(c),
        }
    }
    parts.push(unescape_text(&current));
    parts
}

fn part(parts: &[String], index: usize) -> &str {
    parts.get(index).map_or("", |s| s.trim())
}

/// `19850412` and `1985-04-12T...` as `1985-04-12`, the form Carbonio stores;
/// anything else (`--0412`, free text) as given.
fn date(value: &str) -> String {
    let value = value.trim();
    let digits = value.as_bytes();
    if digits.len() >= 8 && digits[..8].iter().all(u8::is_ascii_digit) {
        return format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..8]);
    }
    if value.len() > 10 && value.as_bytes()[10] == b'T' {
        return value[..10].to_string();
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(vcard: &str) -> Vec<(String, String)> {
        contact_fields(vcard).into_iter().collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_mapped_property_lands_in_its_zimbra_field() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\n\
            FN:Dr. Zoë Müller-Łukasz\r\n\
            N:Müller-Łukasz;Zoë;Anna;Dr.;PhD\r\n\
            NICKNAME:Zo\r\n\
            EMAIL;TYPE=INTERNET,WORK:zoe@example.org\r\n\
            item1.EMAIL:zoe@home.example\r\n\
            EMAIL:z@third.example\r\n\
            TEL;TYPE=WORK,VOICE:+39 02 1234\r\n\
            TEL;TYPE=work:+39 02 5678\r\n\
            TEL;TYPE=HOME:+39 06 1\r\n\
            TEL;TYPE=CELL:+39 333 1\r\n\
            TEL;TYPE=WORK;TYPE=FAX:+39 02 9\r\n\
            TEL;TYPE=HOME,FAX:+39 06 9\r\n\
            TEL;PAGER:+39 1\r\n\
            TEL:+39 0\r\n\
            ORG:ACME\\, Inc.;R&D\r\n\
            TITLE:Chief\\; Engineer\r\n\
            ADR;TYPE=WORK:;Floor 3;Via Roma 1;Milano;MI;20121;Italia\r\n\
            ADR;TYPE=HOME:;;Rue de l'Église 5;Paris;;75001;France\r\n\
            URL;TYPE=WORK:https://acme.example\r\n\
            URL:https://zoe.example\r\n\
            BDAY:19850412\r\n\
            NOTE:line one\\nline two\\, with comma\\\\ and \"quotes\"\r\n\
            PHOTO;ENCODING=b:AAAA\r\n\
            END:VCARD\r\n";
        assert_eq!(
            fields(card),
            pairs(&[
                ("fullName", "Dr. Zoë Müller-Łukasz"),
                ("lastName", "Müller-Łukasz"),
                ("firstName", "Zoë"),
                ("middleName", "Anna"),
                ("namePrefix", "Dr."),
                ("nameSuffix", "PhD"),
                ("nickname", "Zo"),
                ("email", "zoe@example.org"),
                ("email2", "zoe@home.example"),
                ("email3", "z@third.example"),
                ("workPhone", "+39 02 1234"),
                ("workPhone2", "+39 02 5678"),
                ("homePhone", "+39 06 1"),
                ("mobilePhone", "+39 333 1"),
                ("workFax", "+39 02 9"),
                ("homeFax", "+39 06 9"),
                ("pager", "+39 1"),
                ("otherPhone", "+39 0"),
                ("company", "ACME, Inc."),
                ("department", "R&D"),
                ("jobTitle", "Chief; Engineer"),
                ("workStreet", "Floor 3\nVia Roma 1"),
                ("workCity", "Milano"),
                ("workState", "MI"),
                ("workPostalCode", "20121"),
                ("workCountry", "Italia"),
                ("homeStreet", "Rue de l'Église 5"),
                ("homeCity", "Paris"),
                ("homePostalCode", "75001"),
                ("homeCountry", "France"),
                ("workURL", "https://acme.example"),
                ("otherURL", "https://zoe.example"),
                ("birthday", "1985-04-12"),
                ("notes", "line one\nline two, with comma\\ and \"quotes\""),
            ])
        );
    }

    #[test]
    fn folded_lines_are_joined_and_lf_cards_read_alike() {
        let card = "BEGIN:VCARD\nFN:Ada\n  Lovelace\nNOTE:a long\n\t note\nBDAY:1815-12-10\nEND:VCARD\nFN:Other\n";
        assert_eq!(
            fields(card),
            pairs(&[
                ("fullName", "Ada Lovelace"),
                ("notes", "a long note"),
                ("birthday", "1815-12-10"),
            ])
        );
    }

    #[test]
    fn an_escaped_semicolon_stays_in_its_component() {
        assert_eq!(
            components("a\\;b;c\\,d;;\\\\"),
            ["a;b", "c,d", "", "\\"].map(String::from)
        );
        assert_eq!(date("--0412"), "--0412");
        assert_eq!(date("1985-04-12T00:00:00Z"), "1985-04-12");
    }
}

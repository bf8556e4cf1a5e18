//! The emulated CSV contact import (`/Contacts?fmt=csv&csvfmt=…`), after
//! Carbonio's `ContactCSV`: the header line names the columns (a leading byte
//! order mark removed); `csvfmt=thunderbird-csv` maps Thunderbird's English
//! column names to contact fields, any other `csvfmt` (or none) is the default
//! `csv` format, where the header names are the field names — the real server
//! falls back to its default format for an unknown `csvfmt` rather than
//! refusing it. Names match case-insensitively; an empty value is no field;
//! the first column naming a field wins; a column no format knows is kept
//! under its own name (the server's user-defined fields). Localised column
//! sets (`csvlocale`) are not emulated: the English ones are used.

use std::collections::BTreeMap;

/// The fields of one imported contact, by Zimbra field name.
pub type ContactFieldMap = BTreeMap<String, String>;

/// `thunderbird-csv` of `contact-fields.xml`: column names (several for a
/// multi-value column) → field.
const THUNDERBIRD: &[(&[&str], &str)] = &[
    (&["First Name"], "firstName"),
    (&["Last Name"], "lastName"),
    (&["Display Name"], "fullName"),
    (&["Nickname"], "nickname"),
    (&["Primary Email"], "email"),
    (&["Secondary Email"], "email2"),
    (&["Screen Name"], "aimId"),
    (&["Work Phone"], "workPhone"),
    (&["Home Phone"], "homePhone"),
    (&["Fax Number"], "workFax"),
    (&["Pager Number"], "pager"),
    (&["Mobile Number"], "mobilePhone"),
    (&["Home Address", "Home Address 2"], "homeStreet"),
    (&["Home City"], "homeCity"),
    (&["Home State"], "homeState"),
    (&["Home ZipCode"], "homePostalCode"),
    (&["Home Country"], "homeCountry"),
    (&["Work Address", "Work Address 2"], "workStreet"),
    (&["Work City"], "workCity"),
    (&["Work State"], "workState"),
    (&["Work ZipCode"], "workPostalCode"),
    (&["Work Country"], "workCountry"),
    (&["Job Title"], "jobTitle"),
    (&["Department"], "department"),
    (&["Organization"], "company"),
    (&["Web Page 1"], "workURL"),
    (&["Web Page 2"], "homeURL"),
    (&["Birth Month", "Birth Day", "Birth Year"], "birthday"),
    (&["Custom 1"], "custom1"),
    (&["Custom 2"], "custom2"),
    (&["Custom 3"], "custom3"),
    (&["Custom 4"], "custom4"),
    (&["Notes"], "notes"),
];

/// The contacts of a CSV body in format `csvfmt`, or the reason the server
/// gives after `Could not parse csv file - Reason : `.
pub(crate) fn parse(body: &[u8], csvfmt: Option<&str>) -> Result<Vec<ContactFieldMap>, String> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    if header.iter().all(String::is_empty) {
        return Err("no column name definitions".into());
    }
    if let Some(i) = header.iter().position(String::is_empty) {
        return Err(format!("missing column name for column[{i}]"));
    }
    let thunderbird = csvfmt == Some("thunderbird-csv");
    let mut contacts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let mut fields = ContactFieldMap::new();
        let mut pending: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (name, value) in header.iter().zip(record.iter()) {
            let column = thunderbird
                .then(|| {
                    THUNDERBIRD
                        .iter()
                        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
                })
                .flatten();
            match column {
                Some((names, field)) if names.len() > 1 => {
                    if !value.is_empty() {
                        pending.entry(field).or_default().push(value.to_string());
                    }
                }
                Some((_, field)) => put(&mut fields, field, value),
                None => put(&mut fields, name, value),
            }
        }
        for (field, values) in pending {
            let value = if field == "birthday" {
                birthday(&values)
            } else {
                values.join("\n")
            };
            put(&mut fields, field, &value);
        }
        // A row of blanks is no contact (the server's bug 50069).
        if fields.len() == 1 && fields.values().all(|v| v.trim().is_empty()) {
            fields.clear();
        }
        if !fields.is_empty() {
            contacts.push(fields);
        }
    }
    Ok(contacts)
}

fn put(fields: &mut ContactFieldMap, field: &str, value: &str) {
    let seen = fields.keys().any(|k| k.eq_ignore_ascii_case(field));
    if !value.is_empty() && !field.trim().is_empty() && !seen {
        fields.insert(field.to_string(), value.to_string());
    }
}

/// Month, day, year as `YYYY-MM-DD` when they make a date, else joined with
/// `-` (quoted with `'` when it starts with a digit), as the server does.
fn birthday(values: &[String]) -> String {
    let numbers: Vec<u32> = values.iter().filter_map(|v| v.parse().ok()).collect();
    if let [m, d, y] = numbers[..] {
        if values.len() == 3
            && (1600..=4500).contains(&y)
            && (1..=12).contains(&m)
            && (1..=31).contains(&d)
        {
            return format!("{y:04}-{m:02}-{d:02}");
        }
    }
    let joined = values.join("-");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("'{joined}'")
    } else {
        joined
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn thunderbird_columns_map_and_unknown_ones_are_kept() {
        let body =
            "\u{feff}First Name,Home Address,Home Address 2,Birth Month,Birth Day,Birth Year,X\r\n\
                    Ada,Street 1,Flat 2,12,10,1815,y\r\n,,,,,,\r\n";
        let got = parse(body.as_bytes(), Some("thunderbird-csv")).unwrap();
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!(c["firstName"], "Ada");
        assert_eq!(c["homeStreet"], "Street 1\nFlat 2");
        assert_eq!(c["birthday"], "1815-12-10");
        assert_eq!(c["X"], "y");
        // Any other csvfmt: the header names are the fields.
        let got = parse(b"firstName,email\r\nAda,a@x\r\n", Some("outlook-9-csv")).unwrap();
        assert_eq!(got[0]["email"], "a@x");
        assert_eq!(
            parse(b"a,,b\r\n1,2,3\r\n", None).unwrap_err(),
            "missing column name for column[1]"
        );
    }
}

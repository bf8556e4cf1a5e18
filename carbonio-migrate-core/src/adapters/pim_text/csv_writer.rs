//! An account's contacts as one CSV file for Carbonio's
//! `/Contacts?fmt=csv&csvfmt=<format>` import.
//!
//! Layout: a UTF-8 byte order mark, one header line, one row per contact;
//! RFC 4180 quoting (a field holding `,`, `"`, CR or LF is quoted, `"`
//! doubled), CRLF line ends. The byte order mark is there because the server
//! guesses the upload's charset from its first bytes (ICU's detector, in
//! `CsvFormatter`): a mostly-ASCII file with a few accented names can be taken
//! for ISO-8859-1, while a BOM makes UTF-8 certain, and `ContactCSV` removes
//! it from the first column name.
//!
//! Columns are fixed per format, so rows go to the sink as they come and the
//! header (known from the start) is the prefix. A contact field without a
//! column in the chosen format (a fourth e-mail address, `otherURL` in
//! `thunderbird-csv`) cannot be carried; it is counted and named, never its
//! value, in one warning at the end.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::vcard_fields::{contact_fields, ContactFields};
use super::TextSink;
use crate::adapters::carbonio::CsvContactsFormat;
use crate::destination::ItemWriter;
use crate::error::{Error, Result};
use crate::model::Contact;

/// Where a column's value comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// A Zimbra contact field as it is.
    Field(&'static str),
    /// A part of the `birthday` field (`YYYY-MM-DD`): 0 year, 1 month, 2 day,
    /// without leading zeros (Thunderbird's `Birth Month`, `Birth Day`, `Birth Year`).
    Birthday(usize),
    /// A column the format has and no vCard property fills.
    Nothing,
}

/// A column: its header name and its source.
type Column = (&'static str, Source);

/// `csv` (flag `allfields`): the header names are the field names, stored as
/// they are. Every field the vCard reader produces has a column.
const ZIMBRA_FIELDS: &[&str] = &[
    "firstName",
    "middleName",
    "lastName",
    "namePrefix",
    "nameSuffix",
    "fullName",
    "nickname",
    "email",
    "email2",
    "email3",
    "company",
    "department",
    "jobTitle",
    "workPhone",
    "workPhone2",
    "homePhone",
    "homePhone2",
    "mobilePhone",
    "workFax",
    "homeFax",
    "pager",
    "otherPhone",
    "workStreet",
    "workCity",
    "workState",
    "workPostalCode",
    "workCountry",
    "homeStreet",
    "homeCity",
    "homeState",
    "homePostalCode",
    "homeCountry",
    "otherStreet",
    "otherCity",
    "otherState",
    "otherPostalCode",
    "otherCountry",
    "workURL",
    "homeURL",
    "otherURL",
    "birthday",
    "notes",
];

/// `thunderbird-csv` (no locale): the columns of `contact-fields.xml` in its
/// order. `Home Address,Home Address 2` is one multi-value field (joined with
/// a newline by the server): the whole street goes in the first. The birthday
/// is split into month, day and year, which the server joins again.
const THUNDERBIRD: &[Column] = &[
    ("First Name", Source::Field("firstName")),
    ("Last Name", Source::Field("lastName")),
    ("Display Name", Source::Field("fullName")),
    ("Nickname", Source::Field("nickname")),
    ("Primary Email", Source::Field("email")),
    ("Secondary Email", Source::Field("email2")),
    ("Screen Name", Source::Nothing),
    ("Work Phone", Source::Field("workPhone")),
    ("Home Phone", Source::Field("homePhone")),
    ("Fax Number", Source::Field("workFax")),
    ("Pager Number", Source::Field("pager")),
    ("Mobile Number", Source::Field("mobilePhone")),
    ("Home Address", Source::Field("homeStreet")),
    ("Home Address 2", Source::Nothing),
    ("Home City", Source::Field("homeCity")),
    ("Home State", Source::Field("homeState")),
    ("Home ZipCode", Source::Field("homePostalCode")),
    ("Home Country", Source::Field("homeCountry")),
    ("Work Address", Source::Field("workStreet")),
    ("Work Address 2", Source::Nothing),
    ("Work City", Source::Field("workCity")),
    ("Work State", Source::Field("workState")),
    ("Work ZipCode", Source::Field("workPostalCode")),
    ("Work Country", Source::Field("workCountry")),
    ("Job Title", Source::Field("jobTitle")),
    ("Department", Source::Field("department")),
    ("Organization", Source::Field("company")),
    ("Web Page 1", Source::Field("workURL")),
    ("Web Page 2", Source::Field("homeURL")),
    ("Birth Month", Source::Birthday(1)),
    ("Birth Day", Source::Birthday(2)),
    ("Birth Year", Source::Birthday(0)),
    ("Custom 1", Source::Nothing),
    ("Custom 2", Source::Nothing),
    ("Custom 3", Source::Nothing),
    ("Custom 4", Source::Nothing),
    ("Notes", Source::Field("notes")),
];

fn columns(format: CsvContactsFormat) -> Vec<Column> {
    match format {
        CsvContactsFormat::ZimbraFields => ZIMBRA_FIELDS
            .iter()
            .map(|f| (*f, Source::Field(f)))
            .collect(),
        CsvContactsFormat::Thunderbird => THUNDERBIRD.to_vec(),
    }
}

/// `YYYY-MM-DD` as numbers without leading zeros, else `None`.
fn birthday_parts(value: &str) -> Option<[String; 3]> {
    let mut parts = value.split('-');
    let mut next = || parts.next()?.parse::<u32>().ok().map(|n| n.to_string());
    let (y, m, d) = (next()?, next()?, next()?);
    (value.len() == 10).then_some([y, m, d])
}

/// One CSV line (CRLF-terminated, quoted where needed) of `values`.
fn csv_line<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<String> {
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let failed = |e: &dyn std::fmt::Display| Error::Protocol {
        context: "writing a contact as CSV".into(),
        message: e.to_string(),
    };
    out.write_record(values).map_err(|e| failed(&e))?;
    let bytes = out.into_inner().map_err(|e| failed(&e))?;
    // The input is `&str` and the writer adds only ASCII: still UTF-8.
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

/// A contact's row for `columns`, and the fields that found no column.
fn row(columns: &[Column], mut fields: ContactFields) -> (Vec<String>, ContactFields) {
    let birthday = fields.get("birthday").and_then(|b| birthday_parts(b));
    let mut values = Vec::with_capacity(columns.len());
    let mut birthday_used = false;
    for (_, source) in columns {
        values.push(match source {
            Source::Field(field) => fields.remove(*field).unwrap_or_default(),
            Source::Birthday(i) => match &birthday {
                Some(parts) => {
                    birthday_used = true;
                    parts[*i].clone()
                }
                None => String::new(),
            },
            Source::Nothing => String::new(),
        });
    }
    if birthday_used {
        fields.remove("birthday");
    }
    (values, fields)
}

/// Writes one account's contacts as CSV rows into a [`TextSink`]; an account
/// without contacts gets no output.
pub(crate) struct CsvWriter<S> {
    sink: Box<S>,
    format: CsvContactsFormat,
    columns: Vec<Column>,
    count: u64,
    /// Field name → number of contacts whose value for it had no column.
    dropped: BTreeMap<String, u64>,
}

impl<S: TextSink> CsvWriter<S> {
    /// An address book in `format` written into `sink`.
    pub(crate) fn new(sink: S, format: CsvContactsFormat) -> Self {
        CsvWriter {
            sink: Box::new(sink),
            format,
            columns: columns(format),
            count: 0,
            dropped: BTreeMap::new(),
        }
    }
}

#[async_trait]
impl<S: TextSink> ItemWriter<Contact> for CsvWriter<S> {
    async fn write(&mut self, items: Vec<Contact>) -> Result<()> {
        for contact in items {
            let (values, rest) = row(&self.columns, contact_fields(&contact.vcard));
            for field in rest.into_keys() {
                *self.dropped.entry(field).or_default() += 1;
            }
            let line = csv_line(values.iter().map(String::as_str))?;
            self.sink.append(&line).await?;
            self.count += 1;
        }
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        let CsvWriter {
            sink,
            format,
            columns,
            count,
            dropped,
        } = *self;
        if !dropped.is_empty() {
            let list: Vec<String> = dropped
                .iter()
                .map(|(field, n)| format!("{field} ({n})"))
                .collect();
            tracing::warn!(
                "contacts_csv_format = {:?} has no column for: {}; use contacts_format = \"vcf\" to keep them",
                format.as_str(),
                list.join(", ")
            );
        }
        let mut header = String::from('\u{feff}');
        header.push_str(&csv_line(columns.iter().map(|(name, _)| *name))?);
        sink.complete(&header, "", count > 0).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed_and_lines_end_in_crlf() {
        assert_eq!(
            csv_line([
                "plain",
                "a,b",
                "say \"hi\"",
                "two\nlines",
                "",
                "Zoë",
                " lead"
            ])
            .unwrap(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,Zoë, lead\r\n"
        );
    }

    #[test]
    fn thunderbird_rows_split_the_birthday_and_report_fields_without_a_column() {
        let fields: ContactFields = [
            ("firstName", "Ada"),
            ("birthday", "1815-12-10"),
            ("email3", "c@example.org"),
            ("otherURL", "https://ada.example"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let cols = columns(CsvContactsFormat::Thunderbird);
        let (values, rest) = row(&cols, fields);
        let get = |name: &str| {
            let i = cols.iter().position(|(n, _)| *n == name).unwrap();
            values[i].as_str()
        };
        assert_eq!(get("First Name"), "Ada");
        assert_eq!(
            (get("Birth Month"), get("Birth Day"), get("Birth Year")),
            ("12", "10", "1815")
        );
        assert_eq!(rest.into_keys().collect::<Vec<_>>(), ["email3", "otherURL"]);
    }

    #[test]
    fn a_birthday_without_year_is_not_split() {
        assert_eq!(birthday_parts("--1210"), None);
        let cols = columns(CsvContactsFormat::Thunderbird);
        let fields: ContactFields = [("birthday".to_string(), "--1210".to_string())].into();
        let (_, rest) = row(&cols, fields);
        assert_eq!(rest.get("birthday").map(String::as_str), Some("--1210"));
    }
}

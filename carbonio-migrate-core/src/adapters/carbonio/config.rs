//! `[destination]` keys of the `carbonio` adapter.

use std::path::PathBuf;

use serde::Deserialize;

use crate::adapters::imap::ImapConfig;
use crate::error::{Error, Result};

/// The configuration of a Carbonio destination.
///
/// ```toml
/// [destination]
/// type = "carbonio"
/// admin_url = "https://mail.example.org:6071/service/admin/soap"
/// admin_user = "zextras@example.org"
/// password_env = "CARBONIO_ADMIN_PASSWORD"
/// # ca_file = "corp-ca.pem"
/// # rest_url = "https://mail.example.org:6071"
/// # contacts_format = "csv"            # default "vcf"
/// # contacts_csv_format = "thunderbird-csv"  # default "csv" (Zimbra field names)
/// [destination.imap]
/// host = "mail.example.org"
/// auth = "impersonate"     # admin_user and the password default to the SOAP admin's
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarbonioConfig {
    /// The Admin SOAP endpoint: `https://<proxy>:6071/service/admin/soap` (or
    /// `:7071` on the mailstore inside the LAN).
    pub admin_url: String,
    /// The admin who logs in (`zextras@example.org`, or a dedicated import admin).
    pub admin_user: String,
    /// Environment variable holding the admin's password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the admin's password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Trust these CA certificates (PEM) instead of the system roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Do not verify the server certificate. An explicit, logged opt-out.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Seconds an HTTP exchange may take before it is a (retryable) network error.
    /// REST imports of big calendars get ten times as long.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Base of the REST imports (`https://host:6071`); default: the scheme, host
    /// and port of `admin_url`, where the admin token has admin privileges.
    #[serde(default)]
    pub rest_url: Option<String>,
    /// How contacts are uploaded: `vcf` (default: the source's vCards as they
    /// are) or `csv` (rows of Zimbra contact fields, for servers or policies
    /// that want CSV).
    #[serde(default)]
    pub contacts_format: ContactsFormat,
    /// The column set of `contacts_format = "csv"` (Carbonio's `csvfmt`).
    #[serde(default)]
    pub contacts_csv_format: CsvContactsFormat,
    /// The mail part: the `imap` adapter's keys. Without it the destination
    /// provisions and imports calendars and contacts, but does not write mail.
    #[serde(default)]
    pub imap: Option<ImapConfig>,
}

fn default_timeout_secs() -> u64 {
    60
}

impl CarbonioConfig {
    /// A configuration with only the required keys.
    pub fn new(admin_url: impl Into<String>, admin_user: impl Into<String>) -> Self {
        CarbonioConfig {
            admin_url: admin_url.into(),
            admin_user: admin_user.into(),
            password_env: None,
            password_file: None,
            ca_file: None,
            insecure_skip_verify: false,
            timeout_secs: default_timeout_secs(),
            rest_url: None,
            contacts_format: ContactsFormat::default(),
            contacts_csv_format: CsvContactsFormat::default(),
            imap: None,
        }
    }

    /// The admin URL, parsed.
    ///
    /// # Errors
    /// [`Error::Config`] when it is not an `http`/`https` URL with a host.
    pub fn admin_url(&self) -> Result<reqwest::Url> {
        parse_base("admin_url", &self.admin_url)
    }

    /// The REST base: `rest_url`, else the admin URL's `scheme://host:port`.
    ///
    /// # Errors
    /// [`Error::Config`] for a URL that cannot be used.
    pub fn rest_base(&self) -> Result<reqwest::Url> {
        match &self.rest_url {
            Some(text) => parse_base("rest_url", text),
            None => {
                let mut url = self.admin_url()?;
                url.set_path("/");
                url.set_query(None);
                url.set_fragment(None);
                Ok(url)
            }
        }
    }
}

/// `contacts_format`: the REST format contacts are uploaded in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContactsFormat {
    /// `vcf`: the vCards concatenated (`/Contacts?fmt=vcf`).
    #[default]
    Vcf,
    /// `csv`: one header line and a row per contact (`/Contacts?fmt=csv`),
    /// columns as `contacts_csv_format` says.
    Csv,
}

/// `contacts_csv_format`: the column set, Carbonio's `csvfmt` parameter
/// (`store/conf/contacts/contact-fields.xml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CsvContactsFormat {
    /// `csv`: the header names are Zimbra's contact field names (`firstName`,
    /// `email2`, `workCity`, ...), which the server stores as they are.
    #[default]
    ZimbraFields,
    /// `thunderbird-csv`: Thunderbird's English column names (`First Name`,
    /// `Primary Email`, ...), which the server maps to its fields.
    Thunderbird,
}

impl ContactsFormat {
    /// The configuration values, in the order the error message lists them.
    pub const VALUES: [&'static str; 2] = ["vcf", "csv"];

    /// The configuration value (`vcf`, `csv`), also the REST `fmt` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactsFormat::Vcf => "vcf",
            ContactsFormat::Csv => "csv",
        }
    }
}

impl CsvContactsFormat {
    /// The configuration values, in the order the error message lists them.
    pub const VALUES: [&'static str; 2] = ["csv", "thunderbird-csv"];

    /// The configuration value, also the REST `csvfmt` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            CsvContactsFormat::ZimbraFields => "csv",
            CsvContactsFormat::Thunderbird => "thunderbird-csv",
        }
    }
}

/// Reads one of `values` for `key`; anything else is refused naming the key
/// and the allowed values, because the registry's error keeps only the
/// message (serde's own "unknown variant" names no key).
fn one_of<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    key: &str,
    values: &[&'static str],
) -> std::result::Result<&'static str, D::Error> {
    let text = String::deserialize(deserializer)?;
    values.iter().copied().find(|v| *v == text).ok_or_else(|| {
        let allowed: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        serde::de::Error::custom(format!(
            "{key} = {text:?} is not one of {}",
            allowed.join(", ")
        ))
    })
}

impl<'de> Deserialize<'de> for ContactsFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match one_of(d, "contacts_format", &Self::VALUES)? {
            "csv" => ContactsFormat::Csv,
            _ => ContactsFormat::Vcf,
        })
    }
}

impl<'de> Deserialize<'de> for CsvContactsFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(match one_of(d, "contacts_csv_format", &Self::VALUES)? {
            "thunderbird-csv" => CsvContactsFormat::Thunderbird,
            _ => CsvContactsFormat::ZimbraFields,
        })
    }
}

fn parse_base(key: &str, text: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| Error::config(format!("[destination] {key} = {text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::config(format!(
            "[destination] {key} = {text:?} must be an http or https URL with a host"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "[destination] {key} must not carry credentials (use admin_user and password_env)"
        )));
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_a_nested_imap_table() {
        let c: CarbonioConfig = toml::from_str(
            "admin_url = \"https://mail.example.org:6071/service/admin/soap\"\n\
             admin_user = \"zextras@example.org\"\npassword_env = \"PW\"\n\
             [imap]\nhost = \"mail.example.org\"\nauth = \"impersonate\"\n",
        )
        .unwrap();
        assert_eq!(c.timeout_secs, 60);
        assert_eq!(c.imap.unwrap().host, "mail.example.org");
        assert_eq!(
            CarbonioConfig::new("https://mail.example.org:6071/service/admin/soap", "a")
                .rest_base()
                .unwrap()
                .as_str(),
            "https://mail.example.org:6071/"
        );
        let err = toml::from_str::<CarbonioConfig>("admin_url=\"x\"\nadmin_user=\"a\"\nbogus=1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `bogus`"), "{err}");
    }

    #[test]
    fn contacts_formats_default_to_vcf_and_unknown_values_name_key_and_choices() {
        let base = "admin_url=\"https://h/s\"\nadmin_user=\"a\"\n";
        let c: CarbonioConfig = toml::from_str(base).unwrap();
        assert_eq!(c.contacts_format, ContactsFormat::Vcf);
        assert_eq!(c.contacts_csv_format, CsvContactsFormat::ZimbraFields);
        let c: CarbonioConfig = toml::from_str(&format!(
            "{base}contacts_format=\"csv\"\ncontacts_csv_format=\"thunderbird-csv\"\n"
        ))
        .unwrap();
        assert_eq!(c.contacts_format, ContactsFormat::Csv);
        assert_eq!(c.contacts_csv_format, CsvContactsFormat::Thunderbird);
        let err = toml::from_str::<CarbonioConfig>(&format!("{base}contacts_format=\"xml\"\n"))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "contacts_format = \"xml\" is not one of \"vcf\", \"csv\""
        );
        let err = toml::from_str::<CarbonioConfig>(&format!(
            "{base}contacts_csv_format=\"outlook-2003-csv\"\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.message(),
            "contacts_csv_format = \"outlook-2003-csv\" is not one of \"csv\", \"thunderbird-csv\""
        );
    }

    #[test]
    fn bad_urls_are_refused_with_the_key() {
        let err = CarbonioConfig::new("mail.example.org", "a")
            .admin_url()
            .unwrap_err()
            .to_string();
        assert!(err.contains("admin_url = \"mail.example.org\""), "{err}");
        let err = CarbonioConfig::new("ftp://h/x", "a")
            .admin_url()
            .unwrap_err()
            .to_string();
        assert!(err.contains("http or https"), "{err}");
        let err = CarbonioConfig::new("https://u:p@h/x", "a")
            .admin_url()
            .unwrap_err()
            .to_string();
        assert!(!err.contains("u:p"), "{err}");
    }
}

//! `apply.sh` and `README.txt`: how the admin applies a bundle with stock tools.
//!
//! `carbonio prov -f` goes on after a failed line and exits 0, printing
//! `ERROR: <code> (<message>)` (or a usage text, or `Unknown command`), so the
//! script reads its output: the "already exists" codes are accepted (the bundle
//! is applied again after a fix), anything else stops the script naming the
//! first error. Each data import is one `carbonio prov sm <account> postRestURL
//! ...` call, checked the same way; a finished import leaves a marker under
//! `.applied/`, so a re-run after a failure skips it instead of importing the
//! messages twice (a `.eml` without `.meta` is never recognised as a duplicate).

/// One data file to import into one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImportStep {
    /// The account's address.
    pub account: String,
    /// The `postRestURL` target.
    pub url: &'static str,
    /// The file, relative to the bundle directory.
    pub file: String,
}

/// The `postRestURL` of a mail archive.
pub(crate) const MAIL_URL: &str = "//?fmt=tgz&resolve=skip";
/// The `postRestURL` of a calendar.
pub(crate) const CALENDAR_URL: &str = "/Calendar?fmt=ics";
/// The `postRestURL` of contacts.
pub(crate) const CONTACTS_URL: &str = "/Contacts?fmt=vcf";

/// Quotes a word for bash: single quotes, with `'` written as `'\''`.
pub(crate) fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._-+=:/,%".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

const PROLOGUE: &str = r#"#!/usr/bin/env bash
# Applies this carbonio-migrate bundle to Carbonio with stock tools.
# Run it as the zextras user on a mailbox server. It is safe to run again after
# fixing an error: existing objects are accepted and finished imports skipped
# (delete .applied/ to import everything again).
set -euo pipefail

if [ "$(id -un)" != "zextras" ]; then
  echo "apply.sh: run this script as the zextras user, e.g.: sudo -u zextras bash $0" >&2
  exit 1
fi
cd "$(dirname "${BASH_SOURCE[0]}")"
mkdir -p .applied
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# The first line of $log that reports an error other than "already exists".
first_error() {
  grep -E 'ERROR: |(^|> )error: |usage: |Unknown command' "$log" \
    | grep -v -E 'ERROR: account\.(ACCOUNT_EXISTS|DOMAIN_EXISTS|COS_EXISTS|DISTRIBUTION_LIST_EXISTS)( |$)' \
    | head -n 1 || true
}

echo "step 1: provisioning (carbonio prov -f provisioning.cmd)"
status=0
carbonio prov -f provisioning.cmd >"$log" 2>&1 || status=$?
error="$(first_error)"
if [ "$status" -ne 0 ] || [ -n "$error" ]; then
  cat "$log" >&2
  echo "apply.sh: provisioning.cmd failed (exit $status): ${error:-see the output above}" >&2
  exit 1
fi

# import <account> <url> <file>
import() {
  local account="$1" url="$2" file="$3"
  local marker=".applied/${file//\//_}.done"
  if [ -e "$marker" ]; then
    echo "$file: already imported into $account, skipping"
    return 0
  fi
  echo "importing $file into $account"
  local status=0
  carbonio prov sm "$account" postRestURL "$url" "$file" >"$log" 2>&1 || status=$?
  local error
  error="$(first_error)"
  if [ "$status" -ne 0 ] || [ -n "$error" ]; then
    cat "$log" >&2
    echo "apply.sh: importing $file into $account failed (exit $status): ${error:-see the output above}" >&2
    exit 1
  fi
  touch "$marker"
}

"#;

/// The whole `apply.sh` for these import steps (in order).
pub(crate) fn render(steps: &[ImportStep]) -> String {
    let mut script = String::from(PROLOGUE);
    if steps.is_empty() {
        script.push_str("# no mail, calendar or contacts to import\n");
    } else {
        script.push_str("echo \"step 2: mail, calendars and contacts\"\n");
    }
    for step in steps {
        script.push_str(&format!(
            "import {} {} {}\n",
            shell_quote(&step.account),
            shell_quote(step.url),
            shell_quote(&step.file)
        ));
    }
    script.push_str("echo \"done: the bundle is applied\"\n");
    script
}

/// `README.txt`: what the admin runs.
pub(crate) fn readme() -> String {
    "Copy this directory to a Carbonio mailbox server and, as the zextras user, run:\n  \
     bash apply.sh   (it provisions from provisioning.cmd, then imports mail/, calendar/ and contacts/; safe to re-run)\n"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_handles_quotes_and_specials() {
        assert_eq!(shell_quote("ada@example.org"), "ada@example.org");
        assert_eq!(
            shell_quote("o'neil@example.org"),
            "'o'\\''neil@example.org'"
        );
        assert_eq!(
            shell_quote("//?fmt=tgz&resolve=skip"),
            "'//?fmt=tgz&resolve=skip'"
        );
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn render_lists_steps_in_order() {
        let script = render(&[ImportStep {
            account: "ada@example.org".into(),
            url: MAIL_URL,
            file: "mail/ada@example.org.tgz".into(),
        }]);
        assert!(script.starts_with("#!/usr/bin/env bash\n"));
        assert!(script.contains(
            "\nimport ada@example.org '//?fmt=tgz&resolve=skip' mail/ada@example.org.tgz\n"
        ));
    }
}

//! The `carbonio prov` lines that create each provisioning object.
//!
//! Every function returns the object's lines without line ends, each argument
//! through [`quote`], attributes in a stable order, so the same object always
//! renders to the same bytes. Lines of accounts hold the password or hash: never
//! log them.

use crate::model::{Account, Cos, DistributionList, Domain, EmailAddress, Password};

use super::quote;

/// The most members one `adlm` line adds, keeping lines (and the LDAP modify
/// each one becomes) of a reasonable size.
pub const MAX_MEMBERS_PER_LINE: usize = 100;

/// Appends ` name value` for each pair.
fn push_attributes<'a>(line: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (name, value) in pairs {
        line.push(' ');
        line.push_str(&quote(name));
        line.push(' ');
        line.push_str(&quote(value));
    }
}

/// `cd <name> [attr value]...`: attributes sorted by name, a multi-valued
/// one repeating its name once per value (which `prov` gathers into exactly
/// those values), then the secret attributes (bind passwords) by name.
///
/// Secret values are written like account passwords: the file is the one
/// place that must hold them, and callers keep it private (mode 0600).
pub fn domain(domain: &Domain) -> Vec<String> {
    let mut line = format!("cd {}", quote(domain.name.as_str()));
    let plain = domain.plain_attributes();
    push_attributes(
        &mut line,
        plain
            .iter()
            .flat_map(|(k, values)| values.iter().map(move |v| (k.as_str(), v.as_str()))),
    );
    push_attributes(
        &mut line,
        domain
            .secret_attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose())),
    );
    vec![line]
}

/// `cc <name> [attr value]...`, attributes sorted by name.
pub fn cos(cos: &Cos) -> Vec<String> {
    let mut line = format!("cc {}", quote(cos.name.as_str()));
    push_attributes(
        &mut line,
        cos.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    vec![line]
}

/// Attributes [`account`] sets from dedicated fields; the same names in
/// `Account::attributes` are left out so a value is never given twice. The
/// `carbonio` destination follows the same rule with this list.
pub(crate) const ACCOUNT_FIELD_ATTRIBUTES: [&str; 5] = [
    "givenName",
    "sn",
    "displayName",
    "zimbraPasswordMustChange",
    "userPassword",
];

/// `ca <addr> <password or ''> givenName .. sn .. displayName ..
/// [zimbraPasswordMustChange TRUE] [userPassword <hash>] [other attributes sorted]`,
/// then `sac <addr> <cos name>` when the account names a class of service.
///
/// A clear password is given to `ca` (Carbonio hashes it); a hash goes through
/// `userPassword` with an empty `ca` password, so users keep their password.
pub fn account(account: &Account) -> Vec<String> {
    let address = account.address.as_str();
    let password = match &account.password {
        Password::Clear(secret) => secret.expose(),
        Password::None | Password::Hash(_) => "",
    };
    let mut line = format!("ca {} {}", quote(address), quote(password));
    let named = [
        ("givenName", account.given_name.as_deref()),
        ("sn", account.surname.as_deref()),
        ("displayName", account.display_name.as_deref()),
    ];
    push_attributes(
        &mut line,
        named
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v))),
    );
    if account.must_change_password {
        push_attributes(&mut line, [("zimbraPasswordMustChange", "TRUE")]);
    }
    if let Password::Hash(hash) = &account.password {
        push_attributes(&mut line, [("userPassword", hash.expose())]);
    }
    push_attributes(
        &mut line,
        account
            .attributes
            .iter()
            .filter(|(k, _)| {
                !ACCOUNT_FIELD_ATTRIBUTES
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut lines = vec![line];
    if let Some(cos) = &account.cos {
        lines.push(format!("sac {} {}", quote(address), quote(cos.as_str())));
    }
    lines
}

/// `aaa <account> <alias>`.
pub fn alias(account: &EmailAddress, alias: &EmailAddress) -> Vec<String> {
    vec![format!(
        "aaa {} {}",
        quote(account.as_str()),
        quote(alias.as_str())
    )]
}

/// `cdl <addr> [displayName ..] [description ..]`, then one `adla <list> <alias>`
/// per alias in the list's order. Members are rendered by [`members`].
pub fn distribution_list(list: &DistributionList) -> Vec<String> {
    let address = list.address.as_str();
    let mut line = format!("cdl {}", quote(address));
    let named = [
        ("displayName", list.display_name.as_deref()),
        ("description", list.description.as_deref()),
    ];
    push_attributes(
        &mut line,
        named
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v))),
    );
    let mut lines = vec![line];
    lines.extend(
        list.aliases
            .iter()
            .map(|a| format!("adla {} {}", quote(address), quote(a.as_str()))),
    );
    lines
}

/// `adlm <list> m1 m2 ...`, at most [`MAX_MEMBERS_PER_LINE`] members a line, in
/// the order given. No members, no lines.
pub fn members(list: &EmailAddress, members: &[EmailAddress]) -> Vec<String> {
    members
        .chunks(MAX_MEMBERS_PER_LINE)
        .map(|chunk| {
            let mut line = format!("adlm {}", quote(list.as_str()));
            for member in chunk {
                line.push(' ');
                line.push_str(&quote(member.as_str()));
            }
            line
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::adapters::prov_script::quoting::tests::parse_line;
    use crate::model::{CosName, DomainName, PasswordHash, Secret};

    fn addr(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    #[test]
    fn domain_and_cos_lines_sort_attributes() {
        let mut d = Domain::new(DomainName::parse("example.org").unwrap());
        d.attributes
            .insert("zimbraAuthMech".into(), "zimbra".into());
        d.attributes
            .insert("description".into(), "Main site".into());
        assert_eq!(
            domain(&d),
            ["cd example.org description 'Main site' zimbraAuthMech zimbra"]
        );
        let mut c = Cos::new(CosName::parse("Staff Plus").unwrap());
        c.attributes
            .insert("zimbraMailQuota".into(), "5368709120".into());
        assert_eq!(cos(&c), ["cc 'Staff Plus' zimbraMailQuota 5368709120"]);
    }

    #[test]
    fn domain_line_repeats_multi_valued_attributes_and_ends_with_secrets() {
        let mut d = Domain::new(DomainName::parse("corp.example.org").unwrap());
        d.attributes.insert("zimbraAuthMech".into(), "ad".into());
        d.multi_attributes.insert(
            "zimbraAutoProvAttrMap".into(),
            vec!["givenName=givenName".into(), "sn=sn".into()],
        );
        d.secret_attributes.insert(
            "zimbraAutoProvLdapAdminBindPassword".into(),
            Secret::new("s3cret pw"),
        );
        let lines = domain(&d);
        assert_eq!(
            lines,
            ["cd corp.example.org zimbraAuthMech ad zimbraAutoProvAttrMap givenName=givenName zimbraAutoProvAttrMap sn=sn zimbraAutoProvLdapAdminBindPassword 's3cret pw'"]
        );
        assert_eq!(parse_line(&lines[0])[9], "s3cret pw");
    }

    #[test]
    fn account_with_clear_password_must_change_and_cos() {
        let mut a = Account::new(addr("ada@example.org"));
        a.given_name = Some("Ada".into());
        a.surname = Some("Lovelace".into());
        a.display_name = Some("Ada Lovelace".into());
        a.password = Password::Clear(Secret::new("It's #1"));
        a.must_change_password = true;
        a.cos = Some(CosName::parse("staff").unwrap());
        a.attributes.insert("zimbraPrefLocale".into(), "it".into());
        a.attributes.insert("displayName".into(), "ignored".into());
        let lines = account(&a);
        assert_eq!(
            lines,
            [
                "ca ada@example.org \"It's #1\" givenName Ada sn Lovelace displayName 'Ada Lovelace' zimbraPasswordMustChange TRUE zimbraPrefLocale it",
                "sac ada@example.org staff",
            ]
        );
        assert_eq!(parse_line(&lines[0])[2], "It's #1");
    }

    #[test]
    fn account_with_hash_has_empty_password_and_user_password() {
        let mut a = Account::new(addr("bob@example.org"));
        a.password = Password::Hash(PasswordHash::parse("{SSHA}W6ph5Mm5Pz8=").unwrap());
        assert_eq!(
            account(&a),
            ["ca bob@example.org '' userPassword '{SSHA}W6ph5Mm5Pz8='"]
        );
    }

    #[test]
    fn list_aliases_and_member_chunks() {
        let mut l = DistributionList::new(addr("team@example.org"));
        l.display_name = Some("Team".into());
        l.description = Some("All \"staff\"".into());
        l.aliases = vec![addr("all@example.org")];
        assert_eq!(
            distribution_list(&l),
            [
                "cdl team@example.org displayName Team description 'All \"staff\"'",
                "adla team@example.org all@example.org",
            ]
        );
        let many: Vec<EmailAddress> = (0..150)
            .map(|i| addr(&format!("u{i}@example.org")))
            .collect();
        let lines = members(&l.address, &many);
        assert_eq!(lines.len(), 2);
        assert_eq!(parse_line(&lines[0]).len(), 2 + 100);
        assert_eq!(parse_line(&lines[1]).len(), 2 + 50);
        assert!(lines[1].starts_with("adlm team@example.org u100@example.org "));
        assert!(members(&l.address, &[]).is_empty());
    }
}

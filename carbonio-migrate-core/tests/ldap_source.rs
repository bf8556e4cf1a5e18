//! The `ldap` source against a real OpenLDAP slapd started on loopback by
//! `scripts/slapd.sh` (see `carbonio-migrate-core/src/testkit/slapd.rs`), loaded
//! with `scripts/ldap/openldap-tree.ldif` and `scripts/ldap/ad-tree.ldif`.
#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // A failing test should panic.

use carbonio_migrate_core::adapters::ldap::{DisabledAccounts, LdapConfig, LdapSource, Profile};
use carbonio_migrate_core::conformance::check_source;
use carbonio_migrate_core::model::{Account, DistributionList, Password, Secret};
use carbonio_migrate_core::testkit::slapd::{bulk_users_ldif, Slapd};
use carbonio_migrate_core::testkit::unique_token;
use carbonio_migrate_core::{Error, Result, Source};
use futures::StreamExt;

fn config(slapd: &Slapd, profile: Profile) -> LdapConfig {
    let base = match profile {
        Profile::OpenLdap => slapd.base_dn(),
        Profile::Ad => slapd.ad_base_dn(),
    };
    LdapConfig::new(slapd.url(), slapd.reader_dn(), base, profile)
}

fn source(slapd: &Slapd, config: LdapConfig) -> LdapSource {
    LdapSource::new(config, Secret::new(slapd.reader_password())).unwrap()
}

/// The stream's items: the objects, and the errors as text.
async fn drain<T>(
    stream: Result<carbonio_migrate_core::ResultStream<'_, T>>,
) -> (Vec<T>, Vec<String>) {
    let mut stream = stream.unwrap();
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    while let Some(item) = stream.next().await {
        match item {
            Ok(item) => ok.push(item),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (ok, errors)
}

fn addresses(accounts: &[Account]) -> Vec<&str> {
    accounts.iter().map(|a| a.address.as_str()).collect()
}

fn list<'a>(lists: &'a [DistributionList], address: &str) -> &'a DistributionList {
    lists
        .iter()
        .find(|l| l.address.as_str() == address)
        .unwrap_or_else(|| panic!("no list {address}"))
}

fn strings<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(T::to_string).collect()
}

fn hash_of(account: &Account) -> &str {
    match &account.password {
        Password::Hash(h) => h.expose(),
        other => panic!("{}: expected a hash, got {other:?}", account.address),
    }
}

#[tokio::test]
async fn openldap_accounts_keep_hashes_and_aliases_and_report_bad_entries_by_dn() {
    let slapd = Slapd::shared();
    let source = source(slapd, config(slapd, Profile::OpenLdap));
    let (accounts, errors) = drain(source.accounts().await).await;
    assert_eq!(
        addresses(&accounts),
        [
            "ada@example.org",
            "bob@example.org",
            "carol@example.org",
            "dave@example.org"
        ]
    );
    let ada = &accounts[0];
    assert_eq!(
        strings(&ada.aliases),
        ["ada.lovelace@example.org", "countess@example.org"]
    );
    assert_eq!(ada.given_name.as_deref(), Some("Ada"));
    assert_eq!(ada.surname.as_deref(), Some("Lovelace"));
    assert_eq!(ada.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(hash_of(ada), "{SSHA}3hQWRYkYJoDCM4uEH3YJ7gjBaSWep8Qs");
    assert_eq!(
        hash_of(&accounts[1]),
        "{SSHA512}R56/+cfZgnrUz+6qxUVlOQR4RXfzr8y0hPgtNYznXHpLUOv9kboI1i35w3Rhfpddu0rjFs9yztrzV87MjF2+WmNtdGVzdHNh"
    );
    assert!(hash_of(&accounts[2]).starts_with("{CRYPT}$6$cmtest$"));
    assert_eq!(accounts[3].password, Password::None);
    assert_eq!(ada.source_user, None);
    let url = slapd.url();
    assert_eq!(
        errors,
        [
            format!("{url} uid=nomail,ou=people,dc=example,dc=org: no mail attribute, so no address"),
            format!(
                "{url} uid=badmail,ou=people,dc=example,dc=org: mail: invalid e-mail address \"not-an-address\": it has no '@'"
            ),
        ]
    );
}

#[tokio::test]
async fn openldap_groups_become_lists_with_nested_and_external_members() {
    let slapd = Slapd::shared();
    let source = source(slapd, config(slapd, Profile::OpenLdap));
    let (lists, errors) = drain(source.distribution_lists().await).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        strings(&lists.iter().map(|l| &l.address).collect::<Vec<_>>()),
        ["team@example.org", "devs@example.org"]
    );
    // Nested through a group without mail (staff), a cycle (devs → team),
    // an external contact, and a member DN spelled in another case.
    let team = list(&lists, "team@example.org");
    assert_eq!(
        strings(&team.members),
        [
            "ada@example.org",
            "bob@example.org",
            "eve@partner.example.net",
            "carol@example.org",
            "dave@example.org"
        ]
    );
    assert_eq!(strings(&team.aliases), ["all@example.org"]);
    assert_eq!(team.display_name.as_deref(), Some("team"));
    assert_eq!(team.description.as_deref(), Some("Everyone on the team"));
    let devs = list(&lists, "devs@example.org");
    assert_eq!(
        strings(&devs.members),
        [
            "dave@example.org",
            "bob@example.org",
            "ada@example.org",
            "eve@partner.example.net",
            "carol@example.org"
        ]
    );
    let (domains, errors) = drain(source.domains().await).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        strings(&domains.iter().map(|d| &d.name).collect::<Vec<_>>()),
        ["example.org"]
    );
}

#[tokio::test]
async fn ad_accounts_take_aliases_from_proxy_addresses_and_skip_disabled() {
    let slapd = Slapd::shared();
    let source = source(slapd, config(slapd, Profile::Ad));
    let (accounts, errors) = drain(source.accounts().await).await;
    assert_eq!(
        addresses(&accounts),
        [
            "alice@corp.example.com",
            "bruno@corp.example.com",
            "pia@corp.example.com"
        ]
    );
    let alice = &accounts[0];
    assert_eq!(
        strings(&alice.aliases),
        ["a.admin@corp.example.com", "alice@old.example.com"]
    );
    assert_eq!(alice.source_user.as_deref(), Some("alice"));
    assert_eq!(alice.password, Password::None);
    assert_eq!(alice.given_name.as_deref(), Some("Alice"));
    // No mail: the address is the UPN, lowercased.
    assert_eq!(accounts[1].source_user.as_deref(), Some("bruno"));
    // The primary SMTP address differs from mail: it becomes an alias.
    assert_eq!(
        strings(&accounts[2].aliases),
        ["pia.primary@corp.example.com"]
    );
    assert!(accounts.iter().all(|a| a.attributes.is_empty()));
    let url = slapd.url();
    assert_eq!(
        errors,
        [
            format!(
                "{url} cn=No Address,cn=Users,dc=corp,dc=example,dc=com: no mail or userPrincipalName attribute, so no address"
            ),
            format!(
                "{url} cn=Bad Proxy,cn=Users,dc=corp,dc=example,dc=com: proxyAddresses: invalid e-mail address \"not an address\": it has no '@'"
            ),
        ]
    );
    let (domains, _) = drain(source.domains().await).await;
    assert_eq!(
        strings(&domains.iter().map(|d| &d.name).collect::<Vec<_>>()),
        ["corp.example.com", "old.example.com"]
    );
}

#[tokio::test]
async fn ad_disabled_accounts_can_be_created_locked() {
    let slapd = Slapd::shared();
    let mut config = config(slapd, Profile::Ad);
    config.disabled_accounts = DisabledAccounts::Locked;
    let source = source(slapd, config);
    let (accounts, _) = drain(source.accounts().await).await;
    let dora = accounts
        .iter()
        .find(|a| a.address.as_str() == "dora@corp.example.com")
        .unwrap();
    assert_eq!(dora.attributes["zimbraAccountStatus"], "locked");
    assert_eq!(accounts.len(), 4);
    let (lists, _) = drain(source.distribution_lists().await).await;
    assert_eq!(
        strings(&list(&lists, "all@corp.example.com").members),
        [
            "alice@corp.example.com",
            "bruno@corp.example.com",
            "dora@corp.example.com"
        ]
    );
}

#[tokio::test]
async fn ad_mail_enabled_groups_expand_nested_groups_and_cycles() {
    let slapd = Slapd::shared();
    let source = source(slapd, config(slapd, Profile::Ad));
    let (lists, errors) = drain(source.distribution_lists().await).await;
    assert!(errors.is_empty(), "{errors:?}");
    // Engineering has no mail: not a list, but expanded where it is nested.
    assert_eq!(lists.len(), 2);
    let all = list(&lists, "all@corp.example.com");
    // All Staff → Alice, Sales → Bruno, Engineering → Alice, Dora (disabled,
    // skipped), All Staff (the cycle ends here).
    assert_eq!(
        strings(&all.members),
        ["alice@corp.example.com", "bruno@corp.example.com"]
    );
    assert_eq!(strings(&all.aliases), ["everyone@corp.example.com"]);
    assert_eq!(all.display_name.as_deref(), Some("All Staff"));
    assert_eq!(
        all.description.as_deref(),
        Some("everyone, through nested groups")
    );
    let sales = list(&lists, "sales@corp.example.com");
    assert_eq!(
        strings(&sales.members),
        ["bruno@corp.example.com", "alice@corp.example.com"]
    );
    assert_eq!(sales.display_name.as_deref(), Some("Sales"));
}

#[tokio::test]
async fn paging_reads_more_entries_than_the_size_limit() {
    let slapd = Slapd::start_with_bulk_users(1_200).unwrap();
    // Without paging the server stops at 500: the limit is real.
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&slapd.url()).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(slapd.reader_dn(), slapd.reader_password())
        .await
        .unwrap()
        .success()
        .unwrap();
    let plain = ldap
        .search(
            slapd.bulk_base_dn(),
            ldap3::Scope::Subtree,
            "(objectClass=inetOrgPerson)",
            vec!["mail"],
        )
        .await
        .unwrap();
    assert_eq!(plain.1.rc, 4, "sizeLimitExceeded expected");
    assert_eq!(plain.0.len(), 500);

    let mut config = config(&slapd, Profile::OpenLdap);
    config.base_dn = slapd.bulk_base_dn().to_string();
    config.page_size = 200;
    let source = source(&slapd, config);
    let (accounts, errors) = drain(source.accounts().await).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(accounts.len(), 1_200);
    assert_eq!(accounts[0].address.as_str(), "user00001@bulk.example.org");
    assert_eq!(
        accounts[1_199].address.as_str(),
        "user01200@bulk.example.org"
    );
    let mut unique = addresses(&accounts);
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 1_200);
}

#[tokio::test]
async fn entries_added_at_run_time_are_read() {
    let slapd = Slapd::shared();
    let token = unique_token();
    // Under the AD suffix, whose profile reads no inetOrgPerson: the other
    // tests sharing this server see nothing of it.
    let base = format!("ou=run-{token},{}", slapd.ad_base_dn());
    slapd
        .add_ldif(&bulk_users_ldif(
            &base,
            &format!("run-{token}.example.org"),
            3,
        ))
        .unwrap();
    let mut config = config(slapd, Profile::OpenLdap);
    config.base_dn = base;
    let source = source(slapd, config);
    let (accounts, errors) = drain(source.accounts().await).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        addresses(&accounts),
        [
            format!("user00001@run-{token}.example.org"),
            format!("user00002@run-{token}.example.org"),
            format!("user00003@run-{token}.example.org"),
        ]
    );
}

#[tokio::test]
async fn starttls_and_ldaps_verify_the_private_ca_and_refuse_untrusted_certificates() {
    let slapd = Slapd::shared();
    let mut starttls = config(slapd, Profile::OpenLdap);
    starttls.starttls = true;
    starttls.ca_file = Some(slapd.ca_file());
    let (accounts, _) = drain(source(slapd, starttls.clone()).accounts().await).await;
    assert_eq!(accounts.len(), 4);

    let mut ldaps = config(slapd, Profile::Ad);
    ldaps.url = slapd.ldaps_url();
    ldaps.ca_file = Some(slapd.ca_file());
    let (accounts, _) = drain(source(slapd, ldaps.clone()).accounts().await).await;
    assert_eq!(accounts.len(), 3);

    // The system roots do not know the private CA.
    for mut untrusted in [starttls, ldaps] {
        untrusted.ca_file = None;
        let url = untrusted.url.clone();
        let err = match source(slapd, untrusted).accounts().await {
            Err(e) => e,
            Ok(_) => panic!("an untrusted certificate was accepted at {url}"),
        };
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("configuration: certificate of {url} not trusted")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_wrong_bind_password_is_an_auth_error_without_the_password() {
    let slapd = Slapd::shared();
    let wrong = "wrong-Pa55word";
    let source = LdapSource::new(config(slapd, Profile::OpenLdap), Secret::new(wrong)).unwrap();
    let err = match source.accounts().await {
        Err(e) => e,
        Ok(_) => panic!("a wrong password was accepted"),
    };
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "authentication failed for cn=reader,dc=example,dc=org at {}",
            slapd.url()
        )
    );
    assert!(!err.chain().contains(wrong), "{}", err.chain());
    assert!(!format!("{err:?}").contains(wrong));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn both_profiles_pass_the_source_conformance_suite() {
    let slapd = Slapd::shared();
    for profile in [Profile::OpenLdap, Profile::Ad] {
        let source = source(slapd, config(slapd, profile));
        let report = check_source(&source)
            .await
            .unwrap_or_else(|f| panic!("{profile:?}: {f}"));
        println!("{report}");
    }
}

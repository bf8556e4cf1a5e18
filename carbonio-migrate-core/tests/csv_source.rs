//! The `csv` provisioning source: the official procedure's three account
//! layouts, mapped header names, lists, and errors with file and line.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::collections::BTreeMap;
use std::path::Path;

use carbonio_migrate_core::adapters::csv::{CsvConfig, CsvSource};
use carbonio_migrate_core::model::{Account, Password, Secret};
use carbonio_migrate_core::{Error, Source};
use futures::StreamExt;

fn config(dir: &Path, accounts: &str) -> CsvConfig {
    std::fs::write(dir.join("accounts.csv"), accounts).unwrap();
    CsvConfig {
        accounts: dir.join("accounts.csv"),
        distribution_lists: None,
        classes_of_service: None,
        domains: None,
        columns: BTreeMap::new(),
        initial_password_env: None,
        initial_password_file: None,
    }
}

async fn accounts(source: &CsvSource) -> Vec<Result<Account, Error>> {
    source.accounts().await.unwrap().collect().await
}

#[tokio::test]
async fn layout_1_one_initial_password_that_must_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path(), "email,givenName,surname,displayName\nada@example.org,Ada,Lovelace,Ada Lovelace\nbob@example.org,Bob,Byte,Bob Byte\n");
    let source = CsvSource::new(&c, Some(Secret::new("Initial#2026"))).unwrap();
    let got = accounts(&source).await;
    assert_eq!(got.len(), 2);
    for a in got {
        let a = a.unwrap();
        assert_eq!(a.password, Password::Clear(Secret::new("Initial#2026")));
        assert!(a.must_change_password, "{}", a.address);
    }
}

#[tokio::test]
async fn layout_2_empty_password_and_a_recovery_address() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path(), "email,givenName,surname,displayName,recoveryEmail\nada@example.org,Ada,Lovelace,Ada Lovelace,ada@home.example\n");
    // Even with an initial password configured, a recovery address wins: the user
    // sets the password through the recovery mail.
    let source = CsvSource::new(&c, Some(Secret::new("unused"))).unwrap();
    let a = accounts(&source).await.remove(0).unwrap();
    assert_eq!(a.password, Password::None);
    assert_eq!(
        a.attributes["zimbraPrefPasswordRecoveryAddress"],
        "ada@home.example"
    );
    assert_eq!(
        a.attributes["zimbraPrefPasswordRecoveryAddressStatus"],
        "verified"
    );
    assert_eq!(a.attributes["zimbraFeatureResetPasswordStatus"], "enabled");
}

#[tokio::test]
async fn layout_3_a_password_or_a_hash_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let c = config(
        dir.path(),
        "email,password,password_hash,must_change,givenName,surname,displayName\n\
         ada@example.org,S3cret!,,true,Ada,Lovelace,Ada Lovelace\n\
         bob@example.org,,{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=,,Bob,Byte,Bob Byte\n",
    );
    let source = CsvSource::new(&c, None).unwrap();
    let got = accounts(&source).await;
    let ada = got[0].as_ref().unwrap();
    assert_eq!(ada.password, Password::Clear(Secret::new("S3cret!")));
    assert!(ada.must_change_password);
    let bob = got[1].as_ref().unwrap();
    assert!(
        matches!(&bob.password, Password::Hash(h) if h.expose() == "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")
    );
    assert!(!bob.must_change_password);
}

#[tokio::test]
async fn header_names_are_mapped_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(
        dir.path(),
        "Mail Address,First,Last,Login\nada@example.org,Ada,Lovelace,alovelace\n",
    );
    c.columns = BTreeMap::from([
        ("email".to_string(), "Mail Address".to_string()),
        ("givenName".to_string(), "First".to_string()),
        ("surname".to_string(), "last".to_string()),
        ("source_user".to_string(), "Login".to_string()),
    ]);
    let source = CsvSource::new(&c, None).unwrap();
    assert!(source.warnings().is_empty(), "{:?}", source.warnings());
    let a = accounts(&source).await.remove(0).unwrap();
    assert_eq!(a.address.as_str(), "ada@example.org");
    assert_eq!(
        (a.given_name.as_deref(), a.surname.as_deref()),
        (Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(a.source_user.as_deref(), Some("alovelace"));
    let domains: Vec<_> = source.domains().await.unwrap().collect().await;
    assert_eq!(
        domains.len(),
        1,
        "domains come from the mapped email column"
    );
}

#[tokio::test]
async fn lists_bom_and_bad_rows_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(
        dir.path(),
        "\u{feff}email,cos\nada@example.org,staff\nnot-an-address,staff\neve@example.org,gold\n",
    );
    std::fs::write(
        dir.path().join("cos.csv"),
        "name,zimbraMailQuota\nstaff,1000\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("dl.csv"), "listAddress,description,displayName,member\nteam@example.org,All,Team,ada@example.org,ext@partner.example\n").unwrap();
    c.classes_of_service = Some(dir.path().join("cos.csv"));
    c.distribution_lists = Some(dir.path().join("dl.csv"));
    let source = CsvSource::new(&c, None).unwrap();
    let got = accounts(&source).await;
    assert!(got[0].is_ok());
    let file = dir.path().join("accounts.csv");
    assert_eq!(
        got[1].as_ref().unwrap_err().to_string(),
        format!(
            "{}:3: invalid e-mail address \"not-an-address\": it has no '@'",
            file.display()
        )
    );
    assert_eq!(
        got[2].as_ref().unwrap_err().to_string(),
        format!(
            "{}:4: unknown class of service \"gold\": it is not in classes_of_service.csv",
            file.display()
        )
    );
    let lists: Vec<_> = source.distribution_lists().await.unwrap().collect().await;
    let team = lists[0].as_ref().unwrap();
    assert_eq!(team.members.len(), 2);
    assert_eq!(team.display_name.as_deref(), Some("Team"));
}

#[test]
fn a_missing_accounts_file_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), "email\n");
    c.accounts = dir.path().join("nope.csv");
    let err = CsvSource::new(&c, None).unwrap_err().to_string();
    assert!(err.contains("nope.csv does not exist"), "{err}");
}

//! The `carbonio` destination over HTTPS, against the emulator serving a
//! certificate signed by a private CA: trusted with `ca_file`, refused with a
//! certificate error without it, accepted with the explicit opt-out.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use carbonio_migrate_core::adapters::carbonio::{CarbonioConfig, CarbonioDestination};
use carbonio_migrate_core::model::{Domain, DomainName, Secret};
use carbonio_migrate_core::testkit::carbonio::CarbonioEmulator;
use carbonio_migrate_core::Destination;

fn destination(emulator: &CarbonioEmulator, extra: &str) -> CarbonioDestination {
    let config: CarbonioConfig = toml::from_str(&format!(
        "admin_url = \"{}\"\nadmin_user = \"{}\"\ntimeout_secs = 10\n{extra}",
        emulator.admin_url(),
        emulator.admin_user()
    ))
    .unwrap();
    CarbonioDestination::new(config, Secret::new(emulator.admin_password()), None).unwrap()
}

fn domain() -> Domain {
    Domain::new(DomainName::parse("tls.example.org").unwrap())
}

#[tokio::test]
async fn with_the_ca_file_the_client_connects() {
    let emulator = CarbonioEmulator::start_https().unwrap();
    assert!(emulator.admin_url().starts_with("https://127.0.0.1:"));
    let ca = emulator.ca_file().unwrap();
    let dest = destination(
        &emulator,
        &format!("ca_file = {:?}\n", ca.display().to_string()),
    );
    dest.ensure_domain(&domain()).await.unwrap();
    assert!(emulator.state().domains.contains_key("tls.example.org"));
    assert_eq!(
        emulator.requests(),
        ["AuthRequest", "GetDomainRequest", "CreateDomainRequest"]
    );
}

#[tokio::test]
async fn without_the_ca_file_the_certificate_is_refused_by_name() {
    let emulator = CarbonioEmulator::start_https().unwrap();
    let dest = destination(&emulator, "");
    let err = dest.ensure_domain(&domain()).await.unwrap_err();
    let text = err.to_string();
    let expected_start = format!(
        "configuration: AuthRequest to {}: the server's certificate is not trusted (",
        emulator.admin_url()
    );
    assert!(text.starts_with(&expected_start), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(text.ends_with(
        "; set [destination] ca_file to the CA that signed it, or insecure_skip_verify = true to skip the check"
    ), "{text}");
    assert!(
        !err.is_retryable(),
        "a retry cannot make the certificate trusted"
    );
    assert!(emulator.requests().is_empty(), "nothing reached the server");
    // The refused handshake did not stop the emulator.
    let ca = emulator.ca_file().unwrap();
    let trusted = destination(
        &emulator,
        &format!("ca_file = {:?}\n", ca.display().to_string()),
    );
    trusted.ensure_domain(&domain()).await.unwrap();
}

#[tokio::test]
async fn the_explicit_opt_out_connects_without_the_ca() {
    let emulator = CarbonioEmulator::start_https().unwrap();
    let dest = destination(&emulator, "insecure_skip_verify = true\n");
    dest.ensure_domain(&domain()).await.unwrap();
    assert!(emulator.state().domains.contains_key("tls.example.org"));
}

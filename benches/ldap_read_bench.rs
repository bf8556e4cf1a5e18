//! How fast the `ldap` source reads a large directory with paged searches.
//!
//! Starts a private slapd (`scripts/slapd.sh`, size limit 500) with 10,000
//! inetOrgPerson users loaded offline, then streams every account as the
//! size-limited reader, in pages of 500, three times, and prints the figures.
//!
//! ```sh
//! cargo run --release -p carbonio-migrate-benches --bin ldap-read-bench [-- USERS]
//! ```

use std::time::Instant;

use carbonio_migrate_core::adapters::ldap::{LdapConfig, LdapSource, Profile};
use carbonio_migrate_core::model::Secret;
use carbonio_migrate_core::testkit::slapd::Slapd;
use carbonio_migrate_core::Source;
use futures::StreamExt;

const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 10_000,
    };
    let started = Instant::now();
    let slapd = Slapd::start_with_bulk_users(users)?;
    println!(
        "slapd with {users} users loaded (slapadd) and started in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let mut config = LdapConfig::new(
        slapd.url(),
        slapd.reader_dn(),
        slapd.bulk_base_dn(),
        Profile::OpenLdap,
    );
    config.page_size = 500;
    let source = LdapSource::new(config, Secret::new(slapd.reader_password()))?;
    for round in 1..=ROUNDS {
        let started = Instant::now();
        let mut stream = source.accounts().await?;
        let (mut read, mut failed) = (0usize, 0usize);
        while let Some(item) = stream.next().await {
            match item {
                Ok(_) => read += 1,
                Err(_) => failed += 1,
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "round {round}: {read} accounts ({failed} errors) in {seconds:.3} s, {:.0} entries/s, pages of 500",
            read as f64 / seconds
        );
        if read != users {
            return Err(format!("read {read} accounts, expected {users}").into());
        }
    }
    Ok(())
}

//! Provisioning benchmark: 10,000 accounts (with aliases, a CoS, and lists) from
//! CSV into the Carbonio emulator over its Admin SOAP, then the re-run that must
//! make zero write calls. Prints figures; asserts only that the re-run wrote
//! nothing (a wrong result is not a timing).
//!
//! ```text
//! cargo run --release -p carbonio-migrate-benches --bin provisioning-bench [-- ACCOUNTS]
//! ```

use std::fmt::Write as _;
use std::time::Instant;

use carbonio_migrate_core::config::Config;
use carbonio_migrate_core::engine::{Engine, RunOptions};
use carbonio_migrate_core::testkit::carbonio::CarbonioEmulator;

#[tokio::main]
async fn main() {
    let accounts: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from("email,givenName,surname,displayName,password_hash,aliases,cos\n");
    for i in 0..accounts {
        let alias = if i % 10 == 0 {
            format!("alias{i}@bench.example")
        } else {
            String::new()
        };
        writeln!(
            csv,
            "user{i}@bench.example,Given{i},Sur{i},User {i},{{SSHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=,{alias},staff"
        )
        .expect("string");
    }
    std::fs::write(dir.path().join("accounts.csv"), csv).expect("write");
    std::fs::write(
        dir.path().join("cos.csv"),
        "name,zimbraMailQuota\nstaff,1000\n",
    )
    .expect("write");
    let mut lists = String::new();
    for l in 0..20 {
        let members: Vec<String> = (0..50)
            .map(|m| format!("user{}@bench.example", l * 50 + m))
            .collect();
        writeln!(
            lists,
            "list{l}@bench.example,List {l},List {l},{}",
            members.join(",")
        )
        .expect("string");
    }
    std::fs::write(dir.path().join("dl.csv"), lists).expect("write");

    let emulator = CarbonioEmulator::start().expect("emulator");
    std::env::set_var("BENCH_CARBONIO_PASSWORD", emulator.admin_password());
    let config_text = format!(
        "procedure = \"generic\"\nstate_dir = \"state\"\n\
         [provisioning]\ntype = \"csv\"\naccounts = \"accounts.csv\"\nclasses_of_service = \"cos.csv\"\ndistribution_lists = \"dl.csv\"\n\
         [source]\ntype = \"export-dir\"\npath = \".\"\n\
         [destination]\ntype = \"carbonio\"\nadmin_url = \"{}\"\nadmin_user = \"{}\"\npassword_env = \"BENCH_CARBONIO_PASSWORD\"\n\
         [run]\nconcurrency = 16\n",
        emulator.admin_url(),
        emulator.admin_user()
    );
    let file = dir.path().join("migration.toml");
    std::fs::write(&file, config_text).expect("write");
    let config = Config::load(&file).expect("config");
    let options = || RunOptions {
        phases: Some(vec!["provisioning".into()]),
        ..RunOptions::default()
    };

    let engine = Engine::from_config(&config).expect("engine");
    let start = Instant::now();
    let summary = engine.run(options()).await.expect("run");
    let first = start.elapsed();
    println!(
        "first run: {accounts} accounts, {} items created, {} failed, in {first:.2?} ({:.0} accounts/s); {} write calls",
        summary.created,
        summary.failed,
        accounts as f64 / first.as_secs_f64(),
        emulator.write_calls()
    );

    // The re-run as an admin would do it after a crash: a new journal, so every
    // object is read back from Carbonio and compared.
    std::fs::remove_dir_all(dir.path().join("state")).expect("forget the journal");
    let writes = emulator.write_calls();
    let engine = Engine::from_config(&config).expect("engine");
    let start = Instant::now();
    let again = engine.run(options()).await.expect("re-run");
    let second = start.elapsed();
    let new_writes = emulator.write_calls() - writes;
    println!(
        "re-run without a journal: {} unchanged, {} failed, in {second:.2?}; {new_writes} write calls",
        again.unchanged, again.failed
    );
    assert_eq!(new_writes, 0, "the re-run must make zero write calls");
}

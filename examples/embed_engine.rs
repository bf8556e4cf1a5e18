//! Embedding the engine: build a source and a destination in code, run the
//! `generic` procedure with progress events, run it again (nothing to do), and
//! verify.
//!
//! ```text
//! cargo run -p carbonio-migrate-examples --example embed_engine
//! ```

use std::sync::Arc;

use anyhow::Result;
use carbonio_migrate_core::adapters::memory::{MemoryDestination, MemorySource};
use carbonio_migrate_core::engine::{
    Engine, EngineSettings, Procedure, ProgressEvent, ProgressSink, RunOptions, VerifyOptions,
};
use carbonio_migrate_core::journal::Journal;
use carbonio_migrate_core::model::{Account, EmailAddress, Flags, FolderPath, Password, Secret};

#[tokio::main]
async fn main() -> Result<()> {
    // A source: here in memory; in your tool, any `impl Source`.
    let source = MemorySource::new();
    for (name, given) in [("ada", "Ada"), ("grace", "Grace")] {
        let mut account = Account::new(EmailAddress::parse(&format!("{name}@example.org"))?);
        account.given_name = Some(given.to_string());
        account.password = Password::Clear(Secret::new("Initial#Pass1"));
        account.must_change_password = true;
        let inbox = FolderPath::parse("INBOX")?;
        for i in 1..=3 {
            let body =
                format!("Subject: note {i}\r\nFrom: {name}@example.org\r\n\r\nhello {i}\r\n");
            let date = chrono::DateTime::parse_from_rfc3339("2024-05-01T09:00:00+02:00")?;
            source.add_message(
                &account.address,
                &inbox,
                Flags {
                    seen: i > 1,
                    ..Flags::default()
                },
                date,
                body.into_bytes(),
            );
        }
        source.add_account(account);
    }
    let destination = MemoryDestination::new();

    let state = tempfile::tempdir()?;
    let journal = Arc::new(Journal::open(state.path())?);
    let engine = Engine::new(
        Arc::new(source),
        Arc::new(destination.clone()),
        journal,
        Procedure::named("generic")?,
        EngineSettings::default(),
    )?;

    // Progress events are typed: render them as you like.
    let progress = ProgressSink::new(|event| {
        if let ProgressEvent::ItemFinished {
            phase,
            key,
            outcome,
            ..
        } = event
        {
            println!("{phase:>12}  {outcome:<9} {key}");
        }
    });
    let summary = engine
        .run(RunOptions {
            progress,
            ..RunOptions::default()
        })
        .await?;
    println!(
        "first run: {} created, {} failed",
        summary.created, summary.failed
    );

    let again = engine.run(RunOptions::default()).await?;
    println!(
        "second run: wrote nothing = {}, {} items already done",
        again.wrote_nothing(),
        again.already_done
    );

    let report = engine.verify(&VerifyOptions::deep()).await?;
    println!(
        "verify: {}",
        if report.is_clean() {
            "identical"
        } else {
            "differences found"
        }
    );
    println!(
        "destination holds {} accounts",
        destination.accounts().len()
    );
    Ok(())
}

//! Journal benchmark: fills a message map with 1,000,000 rows, then measures
//! recording 100,000 more (in the engine's batch size and in larger batches) and
//! the latency of random lookups. Run with:
//!
//! ```text
//! cargo run --release -p carbonio-migrate-benches --bin journal-bench
//! ```
//!
//! Prints figures; it asserts nothing (timings belong in reports, not tests).

use std::time::{Duration, Instant};

use carbonio_migrate_core::journal::{FolderKey, Journal, MappedMessage};
use carbonio_migrate_core::model::Uid;

const PRELOAD: u32 = 1_000_000;
const RECORD: u32 = 100_000;
const LOOKUPS: usize = 100_000;

fn rows(from: u32, to: u32) -> Vec<MappedMessage> {
    (from..to)
        .map(|i| MappedMessage {
            src_uid: Uid::new(i).expect("uids start at 1"),
            dst_uid: Uid::new(i + 7),
            size: u64::from(i % 100_000) + 300,
            signature: None,
            flags: Some(0x5eed),
        })
        .collect()
}

fn folder(n: u32) -> FolderKey {
    FolderKey {
        account: format!("user{}@example.org", n % 100),
        folder: format!("INBOX/f{n}"),
        uid_validity: 1,
    }
}

fn record(journal: &Journal, key: &FolderKey, first: u32, count: u32, batch: u32) -> Duration {
    let start = Instant::now();
    let mut next = first;
    while next < first + count {
        let end = (next + batch).min(first + count);
        journal
            .record_messages(key, &rows(next, end))
            .expect("record");
        next = end;
    }
    start.elapsed()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path()).expect("open journal");

    // 1,000,000 rows over 200 folders of 5,000 messages, in batches of 5,000.
    let start = Instant::now();
    for f in 0..200 {
        record(&journal, &folder(f), 1, PRELOAD / 200, 5_000);
    }
    println!("preload: {PRELOAD} rows in {:.2?}", start.elapsed());

    let t64 = record(&journal, &folder(1000), 1, RECORD, 64);
    println!("record {RECORD} rows in batches of 64 (the engine's append batch): {t64:.2?}");
    let t1k = record(&journal, &folder(1001), 1, RECORD, 1_000);
    println!("record {RECORD} rows in batches of 1000: {t1k:.2?}");

    // Random lookups: deterministic LCG so runs compare.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut samples = Vec::with_capacity(LOOKUPS);
    let keys: Vec<FolderKey> = (0..200).map(folder).collect();
    for _ in 0..LOOKUPS {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let key = &keys[(x >> 33) as usize % keys.len()];
        let uid = Uid::new(((x >> 7) % u64::from(PRELOAD / 200)) as u32 + 1).expect("non-zero");
        let t = Instant::now();
        let found = journal.lookup(key, uid).expect("lookup");
        samples.push(t.elapsed());
        assert!(found.is_some(), "row must exist");
    }
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / LOOKUPS as u32;
    println!(
        "lookup over {} rows: mean {:.1?}, p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        PRELOAD + 2 * RECORD,
        mean,
        samples[LOOKUPS / 2],
        samples[LOOKUPS * 99 / 100],
        samples[LOOKUPS - 1]
    );
    let t = Instant::now();
    let max = journal.max_uid(&keys[3]).expect("max uid");
    println!(
        "max_uid of a 5,000-message folder: {:.1?} ({max:?})",
        t.elapsed()
    );
    let size = std::fs::metadata(journal.path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!("journal file: {:.1} MB", size as f64 / 1e6);
}

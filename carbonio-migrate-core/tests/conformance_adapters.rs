//! The built-in file adapters pass the conformance suite: the `export-dir`
//! source on the quickstart export, the `bundle` destination on the fixture.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

use std::path::PathBuf;

use carbonio_migrate_core::adapters::bundle::{BundleConfig, BundleDestination};
use carbonio_migrate_core::adapters::export_dir::{ExportDirConfig, ExportDirSource};
use carbonio_migrate_core::conformance::{
    check, check_destination_with, check_source_with, DestinationChecks, SourceChecks,
};

fn quickstart_export() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart/export")
}

#[tokio::test]
async fn export_dir_source_passes_on_the_quickstart_export() {
    let source = ExportDirSource::open(&ExportDirConfig {
        path: quickstart_export(),
    })
    .unwrap();
    let checks = SourceChecks {
        max_accounts: usize::MAX,
        page_size: 7,
        max_fetch_per_folder: usize::MAX,
    };
    let report = check_source_with(&source, checks)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    for name in [
        check::SOURCE_LIST_PAGING,
        check::SOURCE_FETCH_BODY,
        check::SOURCE_FOLDERS,
        check::SOURCE_CAPABILITIES,
    ] {
        assert!(report.has_passed(name), "{name} not run: {report}");
    }
}

#[tokio::test]
async fn bundle_destination_passes_with_dates_and_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let config = BundleConfig {
        path: dir.path().join("bundle"),
        staging_dir: None,
    };
    let dest = BundleDestination::open(&config, &dir.path().join("staging")).unwrap();
    // An archive keeps folders, bytes and dates; flags other than \Seen are lost
    // (documented), so the flags check is skipped.
    let checks = DestinationChecks {
        keeps_flags: false,
        ..DestinationChecks::default()
    };
    let report = check_destination_with(&dest, checks)
        .await
        .unwrap_or_else(|f| panic!("{f}"));
    for name in [
        check::DESTINATION_ENSURE_IDEMPOTENT,
        check::DESTINATION_ALIAS_CLASH,
        check::DESTINATION_READ_BACK_BODIES,
        check::DESTINATION_READ_BACK_DATES,
    ] {
        assert!(report.has_passed(name), "{name} not run: {report}");
    }
}

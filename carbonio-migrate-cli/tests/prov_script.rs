//! The `prov-script` output for air-gapped sites: the same `provisioning.cmd`
//! as the bundle's, by the same code, and nothing but provisioning.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::*;

#[test]
fn prov_script_writes_the_bundles_provisioning_file_and_refuses_data() {
    let dir = tempfile::tempdir().unwrap();
    let bundle_root = quickstart_copy(&dir.path().join("bundle"));
    let out = cli(&bundle_root, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let script_root = quickstart_copy(&dir.path().join("script"));
    let config = std::fs::read_to_string(script_root.join("migration.toml")).unwrap();
    std::fs::write(
        script_root.join("migration.toml"),
        config
            .replace("type = \"bundle\"", "type = \"prov-script\"")
            .replace("path = \"bundle\"", "path = \"air-gapped\""),
    )
    .unwrap();

    // The whole procedure needs mail: refused by name before anything is written.
    let out = cli(&script_root, &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "phase 'data' needs a destination that writes mail, and adapter 'prov-script' does not"
        ),
        "{}",
        text(&out)
    );
    assert!(!script_root.join("air-gapped/provisioning.cmd").exists());

    let out = cli(&script_root, &["run", "--phase", "provisioning"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = std::fs::read(script_root.join("air-gapped/provisioning.cmd")).unwrap();
    let bundled = std::fs::read(bundle_root.join("bundle/provisioning.cmd")).unwrap();
    assert!(script == bundled, "the same file, byte for byte");
    assert!(script_root.join("air-gapped/apply.sh").exists());
    let mail = script_root.join("air-gapped/mail");
    assert!(
        !mail.exists() || std::fs::read_dir(&mail).unwrap().next().is_none(),
        "no mail archives"
    );
}

//! Helpers shared by the CLI's end-to-end tests: a private copy of the
//! quickstart, the real binary, and byte-for-byte tree comparison.

#![allow(dead_code, clippy::unwrap_used)] // test code: each test file uses a part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `carbonio-migrate` binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_carbonio-migrate"))
}

/// The repository's quickstart directory.
pub fn quickstart() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/quickstart")
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of the quickstart (export and config, no state, no bundle).
pub fn quickstart_copy(dir: &Path) -> PathBuf {
    let root = dir.join("quickstart");
    copy_tree(&quickstart().join("export"), &root.join("export"));
    std::fs::copy(
        quickstart().join("migration.toml"),
        root.join("migration.toml"),
    )
    .unwrap();
    root
}

/// Runs the CLI with `args` against the config in `root`.
pub fn cli(root: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .arg("--config")
        .arg(root.join("migration.toml"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// stdout and stderr as text, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir` (relative path → bytes).
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts two trees are byte-identical, naming the first difference.
pub fn assert_same_tree(
    expected: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
    context: &str,
) {
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(expected), names(got), "{context}: different files");
    for (name, bytes) in expected {
        assert!(
            got[name] == *bytes,
            "{context}: {name} differs ({} vs {} bytes)",
            bytes.len(),
            got[name].len()
        );
    }
}

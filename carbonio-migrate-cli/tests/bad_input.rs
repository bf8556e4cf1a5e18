//! Malformed input through the real binary: every bad row reported with file
//! and line, every other row migrated, exit code 3; and configuration errors
//! refused with exit code 2 before anything runs.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use std::path::Path;

use common::*;

const CONFIG: &str = "procedure = \"generic\"\n[source]\ntype = \"export-dir\"\npath = \"export\"\n[destination]\ntype = \"bundle\"\npath = \"bundle\"\n";

fn export(root: &Path, accounts: &str, lists: &str) {
    std::fs::create_dir_all(root.join("export")).unwrap();
    std::fs::write(root.join("migration.toml"), CONFIG).unwrap();
    std::fs::write(root.join("export/accounts.csv"), accounts).unwrap();
    std::fs::write(root.join("export/distribution_lists.csv"), lists).unwrap();
    std::fs::write(
        root.join("export/classes_of_service.csv"),
        "name,zimbraMailQuota\nstaff,1000\n",
    )
    .unwrap();
}

#[test]
fn each_bad_row_is_reported_with_file_and_line_and_the_rest_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    export(
        root,
        "email,givenName,surname,cos\n\
         ada@example.org,Ada,Lovelace,staff\n\
         not-an-address,Bad,Row,staff\n\
         bob@example.org,Bob\n\
         ada@example.org,Ada,Again,staff\n\
         carol@example.org,Carol,Unknown,platinum\n\
         dave@example.org,\"Dave,Jones\n\
         eve@example.org,Eve,Last,staff\n",
        "team@example.org,Team,The Team,ada@example.org,not valid\nok@example.org,OK,Fine,ada@example.org\n",
    );
    let out = cli(root, &["run"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "finished with failed items: {}",
        text(&out)
    );

    let out = cli(root, &["report", "--format", "csv", "--failed-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "export/accounts.csv:3: invalid e-mail address \"\"not-an-address\"\": it has no '@'",
        "export/accounts.csv:4: the row has 2 fields, the header has 4",
        "export/accounts.csv:5: duplicate account ada@example.org, first defined at line 2",
        "export/accounts.csv:6: unknown class of service \"\"platinum\"\": it is not in classes_of_service.csv",
        "export/accounts.csv:7: the row has 2 fields, the header has 4 (a quoted field runs over several lines: is a closing quote missing?)",
        "export/distribution_lists.csv:1: member in column 5: invalid e-mail address \"\"not valid\"\": it has no '@'",
    ] {
        assert!(report.contains(expected), "missing {expected:?} in report:\n{report}");
    }
    assert_eq!(
        report.lines().count(),
        1 + 6,
        "header and six failures:\n{report}"
    );

    let cmd = std::fs::read_to_string(root.join("bundle/provisioning.cmd")).unwrap();
    let created: Vec<&str> = cmd.lines().filter(|l| l.starts_with("ca ")).collect();
    assert_eq!(
        created,
        [
            "ca ada@example.org '' givenName Ada sn Lovelace",
            "ca eve@example.org '' givenName Eve sn Last"
        ],
        "the good rows, including the one after the broken quote"
    );
    assert!(
        cmd.contains("cdl ok@example.org displayName Fine description OK"),
        "{cmd}"
    );
    assert!(!cmd.contains("team@example.org"), "{cmd}");

    // Fixing the rows and running again migrates them and clears the old failures.
    export(
        root,
        "email,givenName,surname,cos\nada@example.org,Ada,Lovelace,staff\neve@example.org,Eve,Last,staff\nbob@example.org,Bob,B,staff\n",
        "ok@example.org,OK,Fine,ada@example.org\n",
    );
    let out = cli(root, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = cli(root, &["report", "--format", "csv", "--failed-only"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().count(),
        1,
        "only the header is left"
    );
    let cmd = std::fs::read_to_string(root.join("bundle/provisioning.cmd")).unwrap();
    assert!(
        cmd.contains("ca bob@example.org '' givenName Bob sn B"),
        "{cmd}"
    );
}

#[test]
fn a_missing_required_column_is_one_error_at_line_one() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), "mail,givenName\nada@example.org,Ada\n", "");
    let out = cli(dir.path(), &["run"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = cli(dir.path(), &["report", "--format", "json", "--failed-only"]);
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.contains("export/accounts.csv:1: missing required column \\\"email\\\""),
        "{report}"
    );
}

#[test]
fn a_changed_destination_is_refused_with_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    export(root, "email\nada@example.org\n", "");
    assert_eq!(cli(root, &["run"]).status.code(), Some(0));
    std::fs::write(
        root.join("migration.toml"),
        CONFIG.replace("path = \"bundle\"", "path = \"elsewhere\""),
    )
    .unwrap();
    let out = cli(root, &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "destination was \"bundle at {}\", now \"bundle at {}\"",
        root.join("bundle").display(),
        root.join("elsewhere").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(
        !root.join("elsewhere/provisioning.cmd").exists(),
        "nothing written"
    );
}

#[test]
fn a_phase_the_pair_cannot_do_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    export(root, "email\nada@example.org\n", "");
    std::fs::write(
        root.join("migration.toml"),
        CONFIG.replace("generic", "zimbra"),
    )
    .unwrap();
    let out = cli(root, &["run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("procedure 'zimbra' cannot run: phase 'shares' needs a source that reads shares, and adapter 'export-dir' does not"),
        "{}",
        text(&out)
    );
}

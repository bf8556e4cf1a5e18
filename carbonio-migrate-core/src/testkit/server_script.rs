//! The shell scripts that run the private test servers (`scripts/dovecot.sh`,
//! `scripts/slapd.sh`): finding and running one, reading the ports file its
//! `start` writes, and saying why a server did not start.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::unique::unique_token;

use crate::{Error, Result};

/// Exit code of a server script when the server, its tools or openssl are
/// missing.
pub(crate) const EXIT_NOT_INSTALLED: i32 = 3;
/// The script that installs what the real-server tests need.
pub(crate) const INSTALL_SCRIPT: &str = "scripts/install-test-deps.sh";

/// `scripts/<name>` of this checkout.
pub(crate) fn script_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts")
        .join(name)
}

/// Runs `script` with `args` under bash and collects its output.
pub(crate) fn run_script(script: &Path, args: &[&std::ffi::OsStr]) -> Result<Output> {
    Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| Error::io(format!("running {}", script.display()), e))
}

/// The configuration error for a `start` of `server` in `dir` that failed
/// with `output`: the script's own words, and for a missing server the
/// install script to run.
pub(crate) fn start_error(server: &str, dir: &Path, output: &Output) -> Error {
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(EXIT_NOT_INSTALLED) {
        let hint = if stderr.contains(INSTALL_SCRIPT) {
            String::new()
        } else {
            format!("; install it with {INSTALL_SCRIPT} (as root)")
        };
        return Error::config(format!("{server} test server: {}{hint}", stderr.trim()));
    }
    Error::config(format!(
        "{server} test server in {} did not start ({}): {}",
        dir.display(),
        output.status,
        stderr.trim()
    ))
}

/// Starts `scripts/<server>.sh` in a fresh directory under the temp dir,
/// with a watchdog that stops it (and removes the directory) when this process
/// exits, and with the arguments `extra` returns for the directory (it may
/// write files there first). Returns the script and the directory.
///
/// # Errors
/// [`Error::Config`] when the script is not there (not a source checkout) or
/// the server does not start ([`start_error`]); the half-started server is
/// stopped and its directory removed.
pub(crate) fn start_server(
    server: &str,
    extra: impl FnOnce(&Path) -> Result<Vec<OsString>>,
) -> Result<(PathBuf, PathBuf)> {
    let script = script_path(&format!("{server}.sh"));
    if !script.is_file() {
        return Err(Error::config(format!(
            "{} not found: the {server} testkit runs from a source checkout",
            script.display()
        )));
    }
    let dir = std::env::temp_dir().join(format!("cmtest-{server}-{}", unique_token()));
    std::fs::create_dir(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    // --parent-pid: the script's watchdog stops the server when this process
    // exits, even if it is killed or never drops the value (`shared`).
    let mut args: Vec<OsString> = vec![
        "start".into(),
        dir.clone().into(),
        "--parent-pid".into(),
        std::process::id().to_string().into(),
        "--remove-on-exit".into(),
    ];
    args.extend(extra(&dir)?);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(OsString::as_os_str).collect();
    let output = run_script(&script, &args)?;
    if !output.status.success() {
        let error = start_error(server, &dir, &output);
        // Best effort: a half-started server holds nothing we need.
        let _ = run_script(&script, &["stop".as_ref(), dir.as_os_str()]);
        let _ = std::fs::remove_dir_all(&dir);
        return Err(error);
    }
    Ok((script, dir))
}

/// The text of `<dir>/<name>`, a file the script's `start` wrote.
pub(crate) fn read_state(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::read_to_string(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

/// The two ports of `<dir>/ports` (see [`parse_ports`]); an error naming the
/// file and what it holds otherwise.
pub(crate) fn read_ports(dir: &Path, keys: [&str; 2]) -> Result<(u16, u16)> {
    let text = read_state(dir, "ports")?;
    parse_ports(&text, keys).ok_or_else(|| {
        Error::input(
            dir.join("ports"),
            Some(1),
            format!(
                "expected '{}=N {}=N', found {:?}",
                keys[0],
                keys[1],
                text.trim()
            ),
        )
    })
}

/// Parses a ports file, `<plain>=NNNN <tls>=NNNN` for `keys = [plain, tls]`:
/// both ports, non-zero, and no other key.
pub(crate) fn parse_ports(text: &str, keys: [&str; 2]) -> Option<(u16, u16)> {
    let mut ports = [None, None];
    for field in text.split_whitespace() {
        let (key, value) = field.split_once('=')?;
        let port = value.parse::<u16>().ok().filter(|p| *p != 0)?;
        let slot = keys.iter().position(|k| *k == key)?;
        ports[slot] = Some(port);
    }
    Some((ports[0]?, ports[1]?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_file_is_parsed() {
        let keys = ["imap", "imaps"];
        assert_eq!(
            parse_ports("imap=10143 imaps=10993\n", keys),
            Some((10143, 10993))
        );
        assert_eq!(parse_ports("imaps=2 imap=1", keys), Some((1, 2)));
        assert_eq!(parse_ports("imap=10143", keys), None);
        assert_eq!(parse_ports("imap=0 imaps=1", keys), None);
        assert_eq!(parse_ports("imap=x imaps=1", keys), None);
        assert_eq!(parse_ports("pop3=1 imap=1 imaps=2", keys), None);
        assert_eq!(
            parse_ports("ldap=10389 ldaps=10636", ["ldap", "ldaps"]),
            Some((10389, 10636))
        );
    }
}

//! The shell scripts that run the private test servers (`scripts/dovecot.sh`,
//! `scripts/slapd.sh`): finding and running one, reading the ports file its
//! `start` writes, and saying why a server did not start.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

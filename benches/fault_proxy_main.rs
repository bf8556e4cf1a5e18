//! `fault-proxy`: the testkit's [`FaultProxy`] as a process, so shell
//! benchmarks (`scripts/bench-imap.sh --latency-ms L`) can put latency between
//! IMAP clients and a loopback server.
//!
//! ```text
//! fault-proxy --target 127.0.0.1:PORT [--latency-ms L]
//! ```
//!
//! Listens on a free port of 127.0.0.1, prints `port=NNNN` on stdout once it
//! accepts connections, and relays every connection to the loopback target,
//! each chunk delayed `L` ms in each direction (order kept, throughput not
//! limited; 10 gives a 20 ms round trip). Runs until killed. Exit codes:
//! 2 usage, 1 the proxy could not start.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use carbonio_migrate_core::testkit::fault_proxy::{FaultPlan, FaultProxy};

const USAGE: &str = "usage: fault-proxy --target 127.0.0.1:PORT [--latency-ms L]";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
struct ProxyArgs {
    target: SocketAddr,
    one_way_latency: Duration,
}

fn parse_args(args: &[String]) -> Result<ProxyArgs, String> {
    let mut target = None;
    let mut latency_ms = 0u64;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--target" => {
                target = Some(
                    value
                        .parse::<SocketAddr>()
                        .map_err(|e| format!("--target {value}: {e}"))?,
                );
            }
            "--latency-ms" => {
                latency_ms = value
                    .parse()
                    .map_err(|e| format!("--latency-ms {value}: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(ProxyArgs {
        target: target.ok_or("--target is required")?,
        one_way_latency: Duration::from_millis(latency_ms),
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("fault-proxy: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let plan = FaultPlan::pass_through().with_latency(parsed.one_way_latency);
    let proxy = match FaultProxy::start(parsed.target, plan) {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("fault-proxy: {}", e.chain());
            return ExitCode::from(1);
        }
    };
    let mut stdout = std::io::stdout();
    // The caller reads this line to learn the port; without it nothing can connect.
    if writeln!(stdout, "port={}", proxy.port())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(1);
    }
    // The proxy runs on its own threads; this one only keeps the value alive
    // until the process is killed (park may wake spuriously, hence the loop).
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code: a panic is a failed test
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn target_and_latency_are_read() {
        assert_eq!(
            parse_args(&strings(&[
                "--target",
                "127.0.0.1:143",
                "--latency-ms",
                "10"
            ])),
            Ok(ProxyArgs {
                target: "127.0.0.1:143".parse().unwrap(),
                one_way_latency: Duration::from_millis(10),
            })
        );
    }

    #[test]
    fn bad_arguments_are_named() {
        assert_eq!(
            parse_args(&strings(&["--latency-ms", "10"])),
            Err("--target is required".to_string())
        );
        assert_eq!(
            parse_args(&strings(&["--target"])),
            Err("--target needs a value".to_string())
        );
        assert_eq!(
            parse_args(&strings(&["--port", "1"])),
            Err("unknown argument --port".to_string())
        );
    }
}

#!/usr/bin/env bash
# The project's test command (the README's). Runs every test of the workspace,
# including the conformance suite and the CLI's end-to-end quickstart tests
# (SIGKILL-and-resume included).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features "$@"

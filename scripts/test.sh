#!/usr/bin/env bash
# The test command (README): sets up whatever is missing, then runs every test.
# Integration tests need root (namespaces, tcpdump); as a normal user they are skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/vitest run "$@"

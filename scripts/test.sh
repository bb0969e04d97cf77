#!/usr/bin/env bash
# The test command (README): sets up whatever is missing, then runs every test.
# Integration tests need root (namespaces, tcpdump); as a normal user they are skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The tests are TypeScript too: type-check them with the sources (tsconfig.test.json), as CI runs this.
echo "[test] type-checking src, labs, bench and test (tsconfig.test.json)" >&2
node node_modules/typescript/bin/tsc -p tsconfig.test.json
exec node_modules/.bin/vitest run "$@"

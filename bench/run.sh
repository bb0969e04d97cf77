#!/usr/bin/env bash
# `npm run bench`: build what is stale, then run bench/inspect.bench.ts (inspect vs tshark, tcpdump
# and a bare pcap-parser loop on one trace; makes /tmp/wl-bench.pcap first if it is missing, which
# needs root). Arguments go to the bench: --trace F --runs N --tshark-analysis-runs N --packets N.
# Peak RSS needs /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/bench/inspect.bench.js ] || [ -n "$(find src bench -name '*.ts' -newer dist/bench/inspect.bench.js 2>/dev/null | head -n 1)" ]; then
  echo "[bench] building (tsc)" >&2
  npx tsc -p tsconfig.json >&2 || { echo "[bench] tsc failed" >&2; exit 1; }
fi
command -v tshark >/dev/null || { echo "[bench] tshark is missing: apt-get install tshark" >&2; exit 3; }
command -v tcpdump >/dev/null || { echo "[bench] tcpdump is missing: apt-get install tcpdump" >&2; exit 3; }
[ -x /usr/bin/time ] || echo "[bench] /usr/bin/time is missing (apt-get install time): peak RSS will not be measured" >&2
exec node dist/bench/inspect.bench.js "$@"

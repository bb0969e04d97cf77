#!/usr/bin/env bash
# `npm run bench`: build what is stale, then run bench/inspect.bench.ts (inspect vs tshark, tcpdump
# and a bare pcap-parser loop on one trace; makes /tmp/wl-bench.pcap first if it is missing, which
# needs root). Arguments go to the bench: --trace F --runs N --tshark-analysis-runs N --packets N.
# Peak RSS needs /usr/bin/time (Debian package `time`, installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# The project's setup installs what is missing (tshark, tcpdump, node_modules, the build).
bash scripts/setup.sh
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ]; then
  echo "[bench] installing Debian package time (peak RSS)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1 || echo "[bench] could not install time: peak RSS will not be measured" >&2
fi
exec node dist/bench/inspect.bench.js "$@"

#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine with Node 20, as root: installs only what is missing.
#   Debian packages: tcpdump (captures), tshark (the oracle in tests, bench anchors), iperf3 (the UDP
#   benchmark's anchor), nftables and iptables (fault rules), iproute2 (namespaces), procps (sysctl),
#   bpftrace (kernel events: state changes, retransmissions, drop reasons), ethtool (the loss labs switch
#   segmentation/receive offloads off so captures show wire-size segments), python3 make g++
#   ethtool (the loss labs switch the veth's segmentation and checksum offloads off),
#   bpftrace (kernel events: state changes, retransmissions, drop reasons), python3 make g++
#   (raw-socket's native build), chromium (the HTML report's browser test); node_modules (npm ci);
#   the TypeScript build (dist/).
# Environment: WIRELAB_SKIP_APT=1 skips the Debian packages (e.g. inside a locked-down container).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[setup] $*" >&2; }

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
if [ "${WIRELAB_SKIP_APT:-0}" != 1 ]; then
  have tcpdump   || need_pkgs+=(tcpdump)
  have tshark    || need_pkgs+=(tshark)
  have iperf3    || need_pkgs+=(iperf3)
  have nft       || need_pkgs+=(nftables)
  have iptables  || need_pkgs+=(iptables)
  have ip        || need_pkgs+=(iproute2)
  have sysctl    || need_pkgs+=(procps)
  have ethtool   || need_pkgs+=(ethtool)
  have bpftrace  || need_pkgs+=(bpftrace)
  have ethtool   || [ -x /usr/sbin/ethtool ] || need_pkgs+=(ethtool)
  have python3   || need_pkgs+=(python3)
  have make      || need_pkgs+=(make)
  have g++       || need_pkgs+=(g++)
  # The browser test drives Debian's Chromium through playwright-core (which downloads no browser).
  [ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
  if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      say "missing Debian packages: ${need_pkgs[*]}; run as root (sudo) or install them: apt-get install ${need_pkgs[*]}"
      exit 3
    fi
    say "installing Debian packages: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture: answer no (wirelab runs captures as root).
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null
  fi
fi

# raw-socket is a native addon: node-gyp must build against the running node's own headers
# (nothing outside the registries can be downloaded). LAB-MECHANICS.md, "npm packages".
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node_modules (npm ci)"
  npm_config_nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")') \
    npm ci --no-audit --no-fund --loglevel=error >&2
fi

# Rebuild dist/ when any source is newer than the last build.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src labs bench tsconfig.json package.json -newer "$stamp" -type f 2>/dev/null | head -n 1)" ]; then
  say "building (tsc)"
  node node_modules/typescript/bin/tsc -p tsconfig.json
  chmod +x dist/src/cli/main.js 2>/dev/null || true
  touch "$stamp"
fi

#!/usr/bin/env bash
# podman-compose --podman-path shim for machines where the compose network may not be a bridge on
# the host (podman's bridge adds host interfaces, iptables rules and sets ip_forward=1: measured
# here, a plain `podman build` left NETAVARK chains and ip_forward=1 behind). It runs
# compose.yaml as written except for the network attachment: each service joins a network
# namespace the test made (WIRELAB_SHIM_NS_<service>, a veth pair between them, nothing on the
# host), and every service name resolves to its address (WIRELAB_SHIM_IP_<service>) as compose's
# DNS would resolve it. Everything else goes to podman unchanged.
set -euo pipefail
case "${1:-} ${2:-}" in
  "network exists"|"network create") exit 0 ;;  # no compose network: the namespaces stand in for it
esac
# Builds use the host's network for apt and npm: podman's default build network is its bridge.
if [ "${1:-}" = build ]; then shift; exec podman build --network host "$@"; fi
hosts=()
for var in $(compgen -v WIRELAB_SHIM_IP_); do hosts+=(--add-host "${var#WIRELAB_SHIM_IP_}:${!var}"); done
out=()
while [ $# -gt 0 ]; do
  case "$1" in
    --net) shift ;;                      # the compose network's name: replaced below
    --network-alias)
      ns_var="WIRELAB_SHIM_NS_$2"
      [ -n "${!ns_var:-}" ] || { echo "podman-netns.sh: no $ns_var for service $2" >&2; exit 2; }
      out+=(--network "ns:/run/netns/${!ns_var}" "${hosts[@]}")
      shift ;;
    *) out+=("$1") ;;
  esac
  shift
done
exec podman "${out[@]}"

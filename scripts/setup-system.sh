#!/usr/bin/env bash
# Installs the system packages catmesh's tests and demo need. As root on Debian it
# uses apt-get; anywhere else it says exactly what to install and fails.
#
#   ./scripts/setup-system.sh          what the tests and the demo need
#   ./scripts/setup-system.sh bench    that, plus etcd for the benchmark (test/bench/)
#   ./scripts/setup-system.sh jepsen   that, plus etcd for the correctness checks (packages/jepsen)
set -euo pipefail

# command -> Debian package that provides it
declare -A needs=(
  [nats-server]=nats-server
  [promtool]=prometheus
  # network namespaces, veth and nftables for the netfilter fault mechanism
  [ip]=iproute2
  [nft]=nftables
  # headless browser tests of the reports and the dashboard (driven by playwright-core)
  [chromium]=chromium
  # the fake Kubernetes API server's self-signed serving certificate
  [openssl]=openssl
)
brew=(nats-server prometheus openssl)

for group in "$@"; do
  case "$group" in
    bench | jepsen)
      # etcd 3.4, the reference cat-feeder is benchmarked and checked against.
      needs[etcd]=etcd-server
      needs[etcdctl]=etcd-client
      brew+=(etcd)
      ;;
    *)
      echo "setup-system.sh: unknown package group '$group' (known: bench, jepsen)" >&2
      exit 2
      ;;
  esac
done

missing=()
for cmd in "${!needs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needs[$cmd]}")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${!needs[*]})"
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system packages: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "catmesh needs these system packages: ${missing[*]}" >&2
echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
echo "  macOS:         brew install ${brew[*]}" >&2
exit 1

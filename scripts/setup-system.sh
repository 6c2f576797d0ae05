#!/usr/bin/env bash
# Installs the system packages catmesh's tests and demo need. As root on Debian it
# uses apt-get; anywhere else it says exactly what to install and fails.
set -euo pipefail

# command -> Debian package that provides it
declare -A needs=(
  [nats-server]=nats-server
  [promtool]=prometheus
)

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
echo "  macOS:         brew install nats-server prometheus" >&2
exit 1

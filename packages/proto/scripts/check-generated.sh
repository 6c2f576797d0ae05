#!/usr/bin/env bash
# Fails when the committed generated code or descriptor set differs from what the
# .proto sources produce now: regenerate into a temporary copy and compare.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npx buf generate --template buf.gen.yaml -o "$tmp" >/dev/null
# buf.gen.yaml's plugin path is relative to this package; -o only moves the output root.
npx buf build -o "$tmp/catmesh.binpb"
if ! diff -r src/gen "$tmp/src/gen" >/dev/null || ! cmp -s descriptors/catmesh.binpb "$tmp/catmesh.binpb"; then
  echo "packages/proto: generated code is stale; run 'make proto' and commit the result" >&2
  diff -r src/gen "$tmp/src/gen" | head -20 >&2 || true
  exit 1
fi
echo "packages/proto: generated code is up to date"

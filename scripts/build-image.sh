#!/usr/bin/env bash
# Builds multinet's image from this repository without a registry or a container builder:
# the same layout as deploy/Containerfile (docs/cluster.md, "multinet's image without a
# registry"), written as an OCI layout tarball for `ctr -n k8s.io images import`.
# Usage: bash scripts/build-image.sh [--name REF] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building multinet (dist/)" >&2
npm run --silent build >&2
npm run --silent build:shim-bin >/dev/null
npm run --silent build:daemon >/dev/null
npm run --silent build:thin >/dev/null
exec node --import tsx scripts/build-image.ts "$@"

#!/usr/bin/env bash
# The README's demo command: installs what is missing (Debian packages, npm packages), builds
# multinet and its shim, then runs `multinet demo` (as root: it creates network namespaces).
# Extra arguments go to the demo: --keep, -o json, or "down".
# --cluster [--keep]: the same story on a real two-node Kubernetes cluster (docs/cluster.md); the
# first run builds the Kubernetes binaries (tools/build.sh, several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "multinet demo creates network namespaces: run it as root (sudo bash scripts/demo.sh)" >&2
  exit 1
fi
if [ "${1:-}" = --cluster ]; then
  shift
  echo "== preparing (packages, Kubernetes binaries in tools/bin, multinet build)" >&2
  bash scripts/setup.sh >&2
  npm run --silent build >&2
  npm run --silent build:shim-bin >/dev/null
  npm run --silent build:daemon >/dev/null
  npm run --silent build:thin >/dev/null
  exec node --import tsx scripts/demo-cluster.ts "$@"
fi
echo "== preparing (packages, build)" >&2
MULTINET_SKIP_TOOLS=1 bash scripts/setup.sh >&2
npm run --silent build >&2
npm run --silent build:shim >/dev/null
exec node dist/bin/multinet.js demo "$@"

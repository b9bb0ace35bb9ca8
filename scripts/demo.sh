#!/usr/bin/env bash
# The README's demo command: installs what is missing (Debian packages, npm packages), builds
# multinet and its shim, then runs `multinet demo` (as root: it creates network namespaces).
# Extra arguments go to the demo: --keep, -o json, or "down".
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "multinet demo creates network namespaces: run it as root (sudo bash scripts/demo.sh)" >&2
  exit 1
fi
echo "== preparing (packages, build)" >&2
MULTINET_SKIP_TOOLS=1 bash scripts/setup.sh >&2
npm run --silent build >&2
npm run --silent build:shim >/dev/null
exec node dist/bin/multinet.js demo "$@"

#!/usr/bin/env bash
# The one test command (README). Installs what the tests need on a fresh Debian machine (as root),
# builds the Go test components, then runs lint, format check, type check and every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== lint / format / types"
npx eslint .
npx prettier --check .
npx tsc -p tsconfig.json --noEmit

echo "== unit tests"
node scripts/run-tests.mjs src
echo "== integration tests (real plugins, real namespaces)"
node scripts/run-tests.mjs test/integration
if [ -d test/e2e ] && find test/e2e -name '*.test.ts' | grep -q .; then
  echo "== e2e tests (real kube-apiserver + etcd)"
  node scripts/run-tests.mjs test/e2e
fi

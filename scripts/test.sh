#!/usr/bin/env bash
# The one test command (README). Installs what the tests need on a fresh Debian machine (as root),
# builds multinet and the Go test components, then runs lint, format check, type check and every
# test suite, and closes with one "N passed, N failed" line for all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== build (the e2e tests and the demo exec the built plugin, daemon and shim)"
npm run --silent build
npm run --silent build:shim-bin >/dev/null
npm run --silent build:daemon >/dev/null
npm run --silent build:thin-bin >/dev/null

echo "== lint / format / types"
npx eslint .
npx prettier --check .
npx tsc -p tsconfig.json --noEmit

export TEST_SUMMARY_FILE
TEST_SUMMARY_FILE=$(mktemp)
trap 'rm -f "$TEST_SUMMARY_FILE"' EXIT
status=0
echo "== unit tests (src, and the bench report's goal judges)"
node scripts/run-tests.mjs src bench --test-concurrency=2 || status=1
echo "== integration tests (real plugins, real namespaces)"
node scripts/run-tests.mjs test/integration || status=1
echo "== e2e tests (real kube-apiserver + etcd, daemon, containerd, demo, bench smoke)"
node scripts/run-tests.mjs test/e2e || status=1
echo "== cluster tests (a real two-node cluster: kubelet, containerd, multinet's DaemonSet)"
node scripts/run-tests.mjs test/cluster || status=1
echo "== reliability and security (faults, storm, fuzzing; the report goes to a temp file: npm run reliability:report regenerates test/reliability/REPORT.md)"
node scripts/run-tests.mjs test/reliability || status=1

awk '{p+=$1; f+=$2; s+=$3} END {printf "total: %d passed, %d failed, %d skipped\n", p, f, s}' "$TEST_SUMMARY_FILE"
exit $status

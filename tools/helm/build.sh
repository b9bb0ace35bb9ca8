#!/usr/bin/env bash
# Builds Helm into tools/bin/ from the Go module proxy, only so that a test can render the chart in
# deploy/helm/multinet and apply what it renders (never product code, never shipped). Own module and
# own stamp, so the pin moves without rebuilding the Kubernetes components. Called by tools/build.sh.
# Usage: tools/helm/build.sh [--force]
set -euo pipefail
cd "$(dirname "$0")"

PKG=helm.sh/helm/v3/cmd/helm

mkdir -p ../bin ../.cache
exec 7>../.cache/helm-build.lock
flock 7

stamp_file=../.cache/helm-build.stamp
stamp=$( (cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1)
if [ "${1:-}" != --force ] && [ -x ../bin/helm ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  echo "== tools/helm: up to date (tools/bin)"
  exit 0
fi

export CGO_ENABLED=0 # static, as upstream releases it
export GOFLAGS="${GOFLAGS:-} -mod=mod"
version=$(go list -m -f '{{.Version}}' helm.sh/helm/v3)
rm -f "$stamp_file"
echo "== tools/helm: building helm ($PKG $version)"
start=$(date +%s)
# -X sets what `helm version` prints (upstream's Makefile sets the same variable).
go build -trimpath -ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version" -o ../bin/helm.tmp "$PKG"
mv -f ../bin/helm.tmp ../bin/helm
echo "   done in $(($(date +%s) - start)) s"
(cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1 >"$stamp_file"

#!/usr/bin/env bash
# Builds Multus CNI (thin `multus`, thick `multus-daemon` + `multus-shim`) into tools/bin/ from the
# Go module proxy, for the benchmarks in bench/ (never product code). Own module and own stamp, so
# a change of the Multus pin rebuilds only these three binaries. Called by tools/build.sh.
# Usage: tools/multus/build.sh [--force]
set -euo pipefail
cd "$(dirname "$0")"

PKG=gopkg.in/k8snetworkplumbingwg/multus-cni.v4
BINARIES=(multus multus-daemon multus-shim)

mkdir -p ../bin ../.cache
exec 8>../.cache/multus-build.lock
flock 8

stamp_file=../.cache/multus-build.stamp
stamp=$( (cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1)
all_present=1
for name in "${BINARIES[@]}"; do [ -x "../bin/$name" ] || all_present=0; done
if [ "${1:-}" != --force ] && [ "$all_present" = 1 ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  echo "== tools/multus: up to date (tools/bin)"
  exit 0
fi

export CGO_ENABLED=0 # static binaries, as upstream's images ship them
export GOFLAGS="${GOFLAGS:-} -mod=mod"
version=$(go list -m -f '{{.Version}}' "$PKG")
rm -f "$stamp_file"
echo "== tools/multus: building ${BINARIES[*]} ($PKG $version)"
start=$(date +%s)
out=$(mktemp -d ../bin/.multus-build.XXXXXX)
trap 'rm -rf "$out"' EXIT
# -X sets what `multus-daemon -version` prints (upstream's hack/build-go.sh sets the same variables).
go build -trimpath -ldflags="-s -w -X $PKG/pkg/multus.version=$version" -o "$out/" \
  "${BINARIES[@]/#/$PKG/cmd/}"
for name in "${BINARIES[@]}"; do mv -f "$out/$name" "../bin/$name"; done
echo "   done in $(($(date +%s) - start)) s"
(cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1 >"$stamp_file"

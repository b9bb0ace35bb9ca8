#!/usr/bin/env bash
# Builds the Go test components (never product code) into tools/bin/ from the Go module proxy.
# Idempotent: skips everything when go.mod, go.sum, this script and the Go version are unchanged
# since the last successful build (stamp file), so scripts/setup.sh can call it on every run.
# Usage: tools/build.sh [--force]
set -euo pipefail
cd "$(dirname "$0")"
multus/build.sh "$@" # Multus for bench/: its own module and stamp (tools/multus/README.md)
helm/build.sh "$@"   # Helm, to render deploy/helm in a test: its own module and stamp (tools/helm/README.md)

# One line per binary: "<output name> <package> [extra -ldflags]". Adding a tool is one line here
# plus `go get -tool <package>@<version>` (which pins it in go.mod).
kube_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
kube_minor=$(echo "$kube_version" | cut -d. -f2)
# The apiserver reports this in /version (clients warn on v0.0.0); values as upstream's hack/lib/version.sh.
kube_ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$kube_minor -X k8s.io/component-base/version.gitTreeState=clean"
BINARIES=(
  "kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver $kube_ldflags"
  "etcd go.etcd.io/etcd/server/v3"
  # The real cluster (test/support/cluster.ts, scripts/demo.sh --cluster): node agent, the two
  # controllers a verbatim pod and a DaemonSet need, and a kubectl within the supported skew.
  "kubelet k8s.io/kubernetes/cmd/kubelet $kube_ldflags"
  "kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler $kube_ldflags"
  "kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager $kube_ldflags"
  "kubectl k8s.io/kubernetes/cmd/kubectl $kube_ldflags"
)

mkdir -p bin .cache
exec 9>.cache/build.lock
flock 9 # two test runs starting at once build once

stamp_file=.cache/build.stamp
stamp=$( (cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1)
all_present=1
for line in "${BINARIES[@]}"; do
  read -r name _ <<<"$line"
  [ -x "bin/$name" ] || all_present=0
done
if [ "${1:-}" != --force ] && [ "$all_present" = 1 ] && [ "$(cat "$stamp_file" 2>/dev/null)" = "$stamp" ]; then
  echo "== tools: up to date (tools/bin)"
  exit 0
fi

export CGO_ENABLED=0 # static binaries, as upstream releases them
export GOFLAGS="${GOFLAGS:-} -mod=mod"
rm -f "$stamp_file"
for line in "${BINARIES[@]}"; do
  read -r name pkg ldflags <<<"$line"
  echo "== tools: building $name ($pkg, $(go list -f '{{.Module.Path}} {{.Module.Version}}' "$pkg"))"
  start=$(date +%s)
  go build -trimpath -ldflags="-s -w ${ldflags:-}" -o "bin/$name.tmp" "$pkg"
  mv -f "bin/$name.tmp" "bin/$name"
  echo "   done in $(($(date +%s) - start)) s"
done
# go.sum may have been completed by -mod=mod: hash what the binaries were built from.
(cat go.mod go.sum build.sh; go version) | sha256sum | cut -d' ' -f1 >"$stamp_file"

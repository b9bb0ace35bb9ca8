#!/usr/bin/env bash
# Installs what multinet's tests and demo need, only when missing: Debian packages, npm packages,
# and the Go-built test components (tools/). Idempotent; safe to run on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
[ -x /usr/lib/cni/bridge ] || need_pkgs+=(containernetworking-plugins)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v nsenter >/dev/null || need_pkgs+=(util-linux)
command -v ping >/dev/null || need_pkgs+=(iputils-ping)
command -v openssl >/dev/null || need_pkgs+=(openssl)
# The containerd e2e: a real runtime, and a static C pause program for its sandbox image.
command -v containerd >/dev/null || need_pkgs+=(containerd)
command -v runc >/dev/null || need_pkgs+=(runc)
command -v gcc >/dev/null || need_pkgs+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/aarch64-linux-gnu/libc.a ] || need_pkgs+=(libc6-dev)
# The real cluster (test/cluster, demo --cluster): its images carry a static busybox (sh, ip, ping, httpd).
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need_pkgs[*]} (run as root, or: apt-get install -y ${need_pkgs[*]})" >&2
    exit 1
  fi
  echo "== installing Debian packages: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

# The Go-built test components (kube-apiserver, etcd, ...) are not needed by the demo.
if [ -x tools/build.sh ] && [ -z "${MULTINET_SKIP_TOOLS:-}" ]; then
  tools/build.sh
fi

#!/bin/sh
# Installs the Debian packages opsub needs to build, test and benchmark.
# Idempotent: apt runs only when something is missing.
set -e
PKGS="make gcc g++ clang libzydis-dev libzycore-dev musl-tools libpcap-dev libseccomp-dev
      libjansson-dev libcmocka-dev libmicrohttpd-dev libsodium-dev libarchive-dev help2man tcpdump iproute2 iputils-ping xz-utils bc jq procps socat
      gnuplot-nox dpdk dpdk-dev librte-net-vhost23 librte-net-virtio23 afl++ linux-perf busybox-static"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm fetches the SQLite amalgamation for the third-party workload test.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

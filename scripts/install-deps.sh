#!/usr/bin/env bash
# Installs every build, test and interop dependency from Debian 12 packages.
# Shared by README's quick-start commands and .ci/run. Idempotent; `apt-get update` runs once.
#   --bench   also the benchmark's peers and tools (bench/run.sh, bench/profile.sh): nginx,
#             haproxy, stunnel4, wrk, OpenSSH, perf. Their packaged services are not started
#             (a policy-rc.d refuses it during the install): the bench runs its own copies on
#             127.0.0.1 with private configurations.
set -euo pipefail
BENCH=0
if [ "${1:-}" = --bench ]; then BENCH=1; fi
PACKAGES=(
  build-essential cmake ninja-build clang libclang-rt-14-dev
  libasio-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libc-ares-dev nlohmann-json3-dev pkg-config
  openssl curl socat python3
  pagekite python3-socksipychain
  pdns-server pdns-backend-pipe
  libldns-dev knot knot-dnsutils
  libsystemd-dev systemd prometheus chromium fonts-dejavu-core
)
if [ "$BENCH" = 1 ]; then
  PACKAGES+=(nginx haproxy stunnel4 wrk openssh-server openssh-client linux-perf ccache procps)
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
guard=""
# Packaged services (prometheus, and the bench's nginx/haproxy/ssh) are never started by the
# install: tests run their own copies on loopback with private configurations.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null
  $SUDO chmod 755 "$guard"
  trap '$SUDO rm -f "$guard"' EXIT
fi
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs every build, test and interop dependency from Debian 12 packages.
# Shared by README's quick-start commands and .ci/run. Idempotent; `apt-get update` runs once.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build clang libclang-rt-14-dev
  libasio-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev
  openssl curl socat python3
  pagekite python3-socksipychain
)
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
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Install what building and testing Elava needs, from Debian 12 packages.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  gcc meson ninja-build pkg-config
  liblmdb-dev lmdb-utils libjansson-dev libssl-dev
  libcurl4-openssl-dev libxml2-dev libyaml-dev
  libmicrohttpd-dev libsystemd-dev   # the daemon's HTTP endpoint, sd_notify
  prometheus wrk yamllint systemd    # real peers and checkers of the daemon
  python3 curl               # the AWS emulator's and fault server's runtime
  libcmocka-dev
  clang libclang-rt-14-dev   # libFuzzer builds of the fuzz targets
  clang-format git
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

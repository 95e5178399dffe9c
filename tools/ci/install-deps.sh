#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the QEMU demo need.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PKGS=(
  # build
  meson ninja-build pkg-config gcc libc6-dev clang libclang-rt-14-dev libdrm-dev
  libglib2.0-dev libpixman-1-dev libssl-dev liblz4-dev libjpeg62-turbo-dev libopus-dev
  libspice-protocol-dev
  # reference library (ABI and benchmark comparisons) and real clients
  libspice-server1 libspice-server-dev libspice-client-glib-2.0-dev spice-client-gtk
  # end to end
  qemu-system-x86 virt-viewer xvfb xauth openssl socat binutils python3 imagemagick
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

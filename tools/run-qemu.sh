#!/usr/bin/env bash
# The main job: build our libspice-server.so.1 and run Debian's unmodified
# QEMU with it, serving the VM's display on 127.0.0.1. Connect with
#   remote-viewer spice://127.0.0.1:${SPICE_PORT:-5930}
# Options through the environment: SPICE_PORT, QEMU_ARGS (extra arguments),
# KERNEL/INITRD (boot a Linux kernel instead of the empty BIOS/iPXE screen).
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/ci/install-deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

port=${SPICE_PORT:-5930}
args=(-machine pc -m 512 -display none -vga qxl
      -spice "port=$port,addr=127.0.0.1,disable-ticketing=on"
      -device virtio-tablet-pci -device virtio-keyboard-pci)
if [ -n "${KERNEL:-}" ]; then
  args+=(-kernel "$KERNEL")
  [ -n "${INITRD:-}" ] && args+=(-initrd "$INITRD")
  args+=(-append "console=tty0")
fi

echo "QEMU serves its display through $(readlink -f build/server/libspice-server.so.1)"
echo "connect with:  remote-viewer spice://127.0.0.1:$port"
# shellcheck disable=SC2086
LD_LIBRARY_PATH="$PWD/build/server${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  exec qemu-system-x86_64 "${args[@]}" ${QEMU_ARGS:-}

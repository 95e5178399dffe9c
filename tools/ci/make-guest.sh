#!/usr/bin/env bash
# make-guest.sh [CACHE_DIR]
# Builds (once, then reuses) the end-to-end test guest from Debian packages
# only: the kernel of linux-image-amd64 and a busybox-static initramfs whose
# /init loads the qxl DRM driver chain, shows a fixed banner on tty0, keeps
# drawing a counter (or, with e2e.video=1, plays 3 s of video frames into
# /dev/fb0 and then leaves the screen still; with e2e.cursor=1, sets and
# moves a DRM hardware cursor with tests/e2e/guest-cursor.c, compiled here
# with gcc -static) and powers off (see
# docs/e2e.md for what it shows).
# Prints the guest directory (vmlinuz, initrd.img, cmdline) on stdout.
# CACHE_DIR defaults to $XDG_CACHE_HOME/spice-e2e-guest (~/.cache/...).
# Exit 77 when the packages cannot be had (no apt, no lists, no mirror),
# 1 on any other failure. Nothing is installed on the host.
set -euo pipefail

cache=${1:-}
if [ -z "$cache" ]; then
    if [ -n "${XDG_CACHE_HOME:-}" ]; then cache=$XDG_CACHE_HOME/spice-e2e-guest
    elif [ -n "${HOME:-}" ]; then cache=$HOME/.cache/spice-e2e-guest
    else echo "make-guest: no CACHE_DIR, XDG_CACHE_HOME or HOME" >&2; exit 1
    fi
fi
skip() { echo "make-guest: $*" >&2; exit 77; }
die() { echo "make-guest: $*" >&2; exit 1; }

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || skip "apt-get/dpkg-deb missing"
command -v gzip >/dev/null || skip "gzip missing"
mkdir -p "$cache"

# Parallel tests build the guest at most once.
exec 9>"$cache/.lock"
command -v flock >/dev/null && flock -w 600 9

# The kernel package linux-image-amd64 points at, from the local apt lists.
kpkg_of_lists() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kpkg=$(kpkg_of_lists || true)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    kpkg=$(kpkg_of_lists || true)
fi
# Offline with an earlier build in the cache: reuse the newest one.
reuse_or_skip() {
    last=$(ls -dt "$cache"/guest-* 2>/dev/null | head -1 || true)
    [ -n "$last" ] && [ -f "$last/initrd.img" ] && { echo "$last"; exit 0; }
    skip "$@"
}
[ -n "$kpkg" ] || reuse_or_skip "no linux-image-amd64 in the apt lists"

# The key covers this script (it holds /init), the cursor program and the
# kernel package.
cursor_src=$(dirname "$0")/../../tests/e2e/guest-cursor.c
[ -f "$cursor_src" ] || die "$cursor_src missing"
self_hash=$(cat "$0" "$cursor_src" | sha256sum | cut -c1-12)
out="$cache/guest-$kpkg-$self_hash"
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/cmdline" ]; then
    touch "$out"
    echo "$out"; exit 0
fi

work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
fetch() {  # package...: apt-get download into $work/debs
    rm -rf "$work/debs" && mkdir -p "$work/debs"
    (cd "$work/debs" && apt-get download "$@" >/dev/null 2>&1)
}
if ! fetch "$kpkg" busybox-static; then
    # Stale lists name versions the mirror dropped: refresh once, and the
    # kernel linux-image-amd64 points at may have changed with them.
    [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1 || true
    new=$(kpkg_of_lists || true)
    if [ -n "$new" ] && [ "$new" != "$kpkg" ]; then
        kpkg=$new
        out="$cache/guest-$kpkg-$self_hash"
    fi
    fetch "$kpkg" busybox-static || reuse_or_skip "apt-get download $kpkg busybox-static failed"
fi
dpkg-deb -x "$work"/debs/linux-image-*.deb "$work/k"
dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/bb"
bb="$work/bb/bin/busybox"
[ -x "$bb" ] || die "busybox-static has no bin/busybox"
kver=$(ls "$work/k/lib/modules" | head -1)
[ -n "$kver" ] || die "$kpkg has no modules"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-* | head -1)

root="$work/root"
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/modules" "$root/tmp"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# The cursor program (e2e.cursor=1): static, raw DRM ioctls. The kernel's
# DRM uapi headers: libdrm-dev's copy when installed (Debian's
# linux-libc-dev leaves them out), else downloaded and unpacked here.
command -v gcc >/dev/null || die "gcc missing (guest-cursor)"
drm_inc=""
for d in /usr/include/libdrm /usr/include/drm; do
    [ -f "$d/drm_mode.h" ] && { drm_inc=$d; break; }
done
if [ -z "$drm_inc" ]; then
    (mkdir -p "$work/drmdev" && cd "$work/drmdev" && apt-get download libdrm-dev >/dev/null 2>&1) ||
        reuse_or_skip "apt-get download libdrm-dev failed"
    dpkg-deb -x "$work"/drmdev/libdrm-dev_*.deb "$work/drmdev/x"
    drm_inc=$work/drmdev/x/usr/include/libdrm
    [ -f "$drm_inc/drm_mode.h" ] || die "libdrm-dev has no drm_mode.h"
fi
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$drm_inc" -o "$root/bin/guest-cursor" "$cursor_src" ||
    die "guest-cursor does not build"
strip "$root/bin/guest-cursor" 2>/dev/null || true

# The package ships no modules.dep (depmod runs at install). Each module's
# .modinfo names what it depends on ("depends=a,b"): follow that from qxl,
# copying each module (decompressed if the kernel ships them compressed)
# and listing it after its dependencies, which is the order to insmod in.
moddir="$work/k/lib/modules/$kver/kernel"
loads=""
add_module() {  # name
    local name=$1 f dep
    case " $loads " in *" $name.ko "*) return 0 ;; esac
    f=$(find "$moddir" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) | head -1)
    [ -n "$f" ] || die "module $name not in $kpkg"
    case "$f" in
        *.ko) cp "$f" "$root/modules/$name.ko" ;;
        *.ko.xz) xz -dc "$f" >"$root/modules/$name.ko" ;;
        *.ko.zst) zstd -qdc "$f" >"$root/modules/$name.ko" ;;
        *.ko.gz) gzip -dc "$f" >"$root/modules/$name.ko" ;;
        *) die "unknown module file $f" ;;
    esac
    for dep in $(tr '\0' '\n' <"$root/modules/$name.ko" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do
        add_module "$dep"
    done
    loads="$loads $name.ko"
}
add_module qxl
# -vga std's DRM driver too (e2e-cursor shows it has no cursor plane).
add_module bochs

# Video mode's source picture (e2e.video=1): 1024 x 496 rows of x8r8g8b8
# (bytes B,G,R,0), a smooth colour field with +-3 of deterministic dither
# so neighbouring pixels differ a little, as in a photograph (the codec
# selectors and the FILTER stream detector take it as photographic). /init
# cuts 8 frames of 240 rows from it, each 32 rows further down: played in
# turn they scroll.
command -v python3 >/dev/null || die "python3 missing (video frames)"
python3 - "$root/video.raw" <<'PY'
import math, random, sys
W, H = 1024, 496
rnd = random.Random(20261121)
out = bytearray(W * H * 4)
i = 0
for y in range(H):
    for x in range(W):
        r = 128 + 100 * math.sin(x / 97.0 + y / 151.0)
        g = 128 + 100 * math.sin(x / 173.0 - y / 59.0 + 1.0)
        b = 128 + 100 * math.sin((x + y) / 211.0 + 2.0)
        out[i] = max(0, min(255, int(b) + rnd.randint(-3, 3)))
        out[i + 1] = max(0, min(255, int(g) + rnd.randint(-3, 3)))
        out[i + 2] = max(0, min(255, int(r) + rnd.randint(-3, 3)))
        i += 4
open(sys.argv[1], "wb").write(out)
PY

# The guest's /init. Markers on ttyS0 ("E2E: ...") tell the host where it is;
# the screen (tty0) shows only the banner and the counter.
cat >"$root/init" <<EOF
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
dmesg -n 1
log() { echo "E2E: \$*" >/dev/ttyS0; }
secs=60
video=0
cursor=0
for a in \$(cat /proc/cmdline); do
    case "\$a" in
        e2e.secs=*) secs=\${a#e2e.secs=} ;;
        e2e.video=*) video=\${a#e2e.video=} ;;
        e2e.cursor=*) cursor=\${a#e2e.cursor=} ;;
    esac
done
# Centiseconds since boot ("12.34" -> 1234; always past 1 s here).
uptime_cs() { read up rest </proc/uptime; echo "\${up%.*}\${up#*.}"; }
log "init up, kernel \$(uname -r)"
for m in$loads; do
    insmod /modules/\$m || log "insmod \$m failed"
done
i=0
while [ ! -e /sys/class/graphics/fb0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
log "fb0 \$(cat /sys/class/graphics/fb0/name 2>/dev/null) \$(cat /sys/class/graphics/fb0/virtual_size 2>/dev/null)"
log "fbcon \$(cat /sys/class/vtconsole/vtcon1/name 2>/dev/null) bound=\$(cat /sys/class/vtconsole/vtcon1/bind 2>/dev/null)"
{
    printf '\033[2J\033[H'
    printf '\033[1;37mSPICE E2E GUEST BANNER\033[0m\n'
    printf 'The quick brown fox jumps over the lazy dog 0123456789\n'
    printf 'ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz !"#\$%%&()*+,-./:;<=>?@[]^_{|}~\n'
    printf '\033[1;31m'
    j=0; while [ \$j -lt 32 ]; do printf '\342\226\210 '; j=\$((j + 1)); done
    printf '\033[0m\n'
    printf '\033[33;44m yellow on blue \033[0m \033[32mgreen\033[0m \033[1;36mbright cyan\033[0m\n'
} >/dev/tty0
log "banner shown"
dmesg | grep -i -E 'qxl|drm|fbcon|console' | head -20 >/dev/ttyS0
if [ "\$video" = 1 ]; then
    # Frames: 1024x240 at rows 240..479 of fb0 (4096-byte rows), each one
    # write() of 983040 bytes, so the fbdev helper damages (and the qxl
    # driver sends) the same box every frame. ~30 frames/s for 3 s, then
    # the screen stays as it is (no counter) until poweroff.
    k=0
    while [ \$k -lt 8 ]; do
        dd if=/video.raw of=/tmp/f\$k bs=4096 skip=\$((k * 32)) count=240 2>/dev/null
        k=\$((k + 1))
    done
    sleep 1
    log "video start"
    t0=\$(uptime_cs)
    f=0
    # 3 s, longer (up to 8 s) until 90 frames when the machine is slow.
    while el=\$((\$(uptime_cs) - t0)); [ \$el -lt 800 ] && { [ \$el -lt 300 ] || [ \$f -lt 90 ]; }; do
        dd if=/tmp/f\$((f % 8)) of=/dev/fb0 bs=983040 seek=1 count=1 2>/dev/null
        f=\$((f + 1))
        # Paced to 30 frames/s: frame f starts 33.3 f ms after t0.
        ahead=\$((t0 * 10 + f * 100 / 3 - \$(uptime_cs) * 10))
        [ \$ahead -gt 0 ] && usleep \$((ahead * 1000))
    done
    log "video done \$f frames in \$((\$(uptime_cs) - t0))0 ms"
    sleep \$secs
    log "poweroff"
    poweroff -f
fi
if [ "\$cursor" = 1 ]; then
    # A hardware cursor set and moved by guest-cursor (it keeps the DRM
    # device open, so the cursor stays, until poweroff); no counter.
    sleep 1
    /bin/guest-cursor >/dev/ttyS0 2>&1 &
    sleep \$secs
    log "poweroff"
    poweroff -f
fi
n=0
end=\$((secs * 5))
while [ \$n -lt \$end ]; do
    printf '\033[8;1Hcounter %05d' \$n >/dev/tty0
    n=\$((n + 1))
    [ \$((n % 25)) -eq 0 ] && log "tick \$n"
    sleep 0.2
done
log "poweroff"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null) | gzip -9 >"$work/initrd.img"

mkdir -p "$out.tmp"
cp "$vmlinuz" "$out.tmp/vmlinuz"
mv "$work/initrd.img" "$out.tmp/initrd.img"
# tty0 last: /dev/console is the screen; ttyS0 gets the kernel's errors.
echo "console=ttyS0 console=tty0 loglevel=3 vt.global_cursor_default=0 consoleblank=0 video=1024x768 panic=-1" \
    >"$out.tmp/cmdline"
echo "$kpkg $kver:$loads" >"$out.tmp/info"
rm -rf "$out"
mv "$out.tmp" "$out"
# Guests of other kernels or script versions unused for a week go (another
# checkout running right now may still use a recent one).
find "$cache" -maxdepth 1 -name 'guest-*' -mtime +7 ! -path "$out" -exec rm -rf {} + 2>/dev/null || true
echo "$out"

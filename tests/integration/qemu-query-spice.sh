#!/bin/sh
# qemu-query-spice.sh TEST_CLIENT LIBDIR
# Runs Debian's QEMU with our libspice-server.so.1 (LD_LIBRARY_PATH=LIBDIR),
# links a spice-client-glib client to it and checks that QMP query-spice
# lists a client channel. Exit 77 (skip) when QEMU is not installed.
# Every wait is bounded.
set -u
client="$1"
libdir="$2"
qemu=$(command -v qemu-system-x86_64) || { echo "qemu-system-x86_64 missing"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
# An uninstrumented QEMU cannot load a sanitizer build of the library.
if ldd "$libdir/libspice-server.so.1" 2>/dev/null | grep -q 'libasan\|libubsan'; then
    echo "library built with sanitizers: QEMU cannot load it"; exit 77
fi

tmp=$(mktemp -d)
qpid=""
cpid=""
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sock="$tmp/qmp.sock"

# A sanitizer build of our library needs clang's ASan runtime loaded first
# into QEMU (which is not instrumented); QEMU's own leaks are not ours.
preload=""
if nm -D "$libdir/libspice-server.so.1" 2>/dev/null | grep -q __asan_init; then
    preload=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
    [ -f "$preload" ] || { echo "ASan build but no clang ASan runtime"; exit 77; }
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi

LD_PRELOAD="$preload" LD_LIBRARY_PATH="$libdir" "$qemu" -display none -vga qxl -nodefaults -machine pc \
    -spice "port=$port,addr=127.0.0.1,disable-ticketing=on" \
    -qmp "unix:$sock,server=on,wait=off" -S >"$tmp/qemu.log" 2>&1 &
qpid=$!

# QEMU is up once its QMP socket exists (bounded: 15 s).
i=0
while [ ! -S "$sock" ]; do
    if ! kill -0 "$qpid" 2>/dev/null || [ $i -ge 150 ]; then
        echo "QEMU did not start:"; cat "$tmp/qemu.log"; exit 1
    fi
    i=$((i + 1))
    python3 -c 'import time; time.sleep(0.1)'
done

mkfifo "$tmp/client-in"
"$client" --link-only "$port" 60 <"$tmp/client-in" >"$tmp/client.out" 2>"$tmp/client.err" &
cpid=$!
exec 3>"$tmp/client-in"     # keeps the client connected until we close it

python3 - "$sock" "$tmp/client.out" <<'PY'
import json, socket, sys, time
sock_path, client_out = sys.argv[1], sys.argv[2]
deadline = time.time() + 30
while time.time() < deadline:
    if "LINKED" in open(client_out).read():
        break
    time.sleep(0.1)
else:
    sys.exit("client never linked")

s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sock_path)
f = s.makefile("rw")
def cmd(c):
    f.write(json.dumps({"execute": c}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
json.loads(f.readline())           # greeting
cmd("qmp_capabilities")
while time.time() < deadline:
    r = cmd("query-spice")["return"]
    chans = r.get("channels", [])
    if r.get("enabled") and any(c.get("channel-type") == 1 for c in chans):
        print("query-spice:", json.dumps(r))
        sys.exit(0)
    time.sleep(0.1)
sys.exit("query-spice never listed the main channel: %s" % json.dumps(r))
PY
rc=$?
exec 3>&-
if [ $rc -ne 0 ]; then
    echo "--- client"; cat "$tmp/client.out" "$tmp/client.err"
    echo "--- qemu"; cat "$tmp/qemu.log"
fi
exit $rc

#!/usr/bin/env python3
"""e2e-cursor: QEMU's cursor commands reach a spice-client-glib client.

The guest with e2e.cursor=1 runs tests/e2e/guest-cursor.c: a 64x64 ARGB
hardware cursor (hot spot 5,7) set through DRM_IOCTL_MODE_CURSOR2 on the
qxl driver's CRTC, then moved to four positions 400 ms apart. The qxl
driver turns these into QXL_CURSOR_SET and QXL_CURSOR_MOVE commands;
tests/e2e/e2e-client reports the cursor channel's "cursor-set" and
"cursor-move" signals. For our library and for Debian's upstream one (two
QEMUs at a time), asserts:

- the client got a 64x64 shape with hot spot 5,7 whose bytes equal, pixel
  for pixel, what the program drew (premultiplied ARGB8888 as 32-bit
  little-endian words, so bytes B,G,R,A; nobody on the way converts);
- after it, the client's moves are exactly the program's positions plus
  the hot spot (QXL positions name the hot spot, the DRM ones the top-left
  corner), in order;
- QEMU exits 0 on quit and its log has no bug lines.

-vga std: the guest's bochs-drm driver has no cursor plane, so the same
program's DRM_IOCTL_MODE_CURSOR2 fails (ENXIO) and nothing reaches the
client; the test checks that the program says so and that the client saw
no cursor shape (see docs/e2e.md)."""
import os
import re
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120
ALLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")

# guest-cursor.c's shape, hot spot and moves: keep in step with it.
CUR_W, CUR_H, HOT_X, HOT_Y = 64, 64, 5, 7
MOVES = [(100, 200), (300, 150), (640, 480), (20, 30)]


def shape_pixel(x, y):
    if 10 <= x <= 11 and 7 <= y <= 8:
        return 0xff0000ff
    if 8 <= x < 40 and 8 <= y < 40:
        return 0xffff0000
    if 8 <= x < 40 and 40 <= y < 48:
        return 0x80008000
    return 0


def cursor_shape():
    """What the client should hand over for guest-cursor.c's shape: its
    ARGB words as bytes R,G,B,A, alpha untouched (still premultiplied)."""
    out = bytearray()
    for y in range(CUR_H):
        for x in range(CUR_W):
            w = shape_pixel(x, y)
            out += bytes(((w >> 16) & 255, (w >> 8) & 255, w & 255, w >> 24))
    return bytes(out)


def read_events(c, until, timeout):
    """Reads client lines until until(lines) is true (bounded)."""
    deadline = time.time() + timeout
    while not until(c.lines):
        left = deadline - time.time()
        if left <= 0:
            return False
        c._readline(min(left, 1.0))
    return True


def cursor_events(lines):
    """[("set", w, h, hx, hy, bytes) | ("move", x, y) | ("hide",) | ("reset",)]"""
    ev = []
    for line in lines:
        f = line.split()
        if not f:
            continue
        if f[0] == "CURSOR-SET" and len(f) == 6:
            data = bytes.fromhex(f[5]) if f[5] != "-" else b""
            ev.append(("set", int(f[1]), int(f[2]), int(f[3]), int(f[4]), data))
        elif f[0] == "CURSOR-MOVE" and len(f) == 3:
            ev.append(("move", int(f[1]), int(f[2])))
        elif f[0] == "CURSOR-HIDE":
            ev.append(("hide",))
        elif f[0] == "CURSOR-RESET":
            ev.append(("reset",))
    return ev


def describe(ev):
    return ", ".join("set %dx%d hot %d,%d" % e[1:5] if e[0] == "set" else
                     " ".join(str(v) for v in e) for e in ev)


def first_diff(got, want):
    for i in range(0, min(len(got), len(want)), 4):
        if got[i:i + 4] != want[i:i + 4]:
            p = i // 4
            return "pixel (%d,%d): got %s want %s" % (p % CUR_W, p // CUR_W, got[i:i + 4].hex(),
                                                       want[i:i + 4].hex())
    return "lengths %d vs %d" % (len(got), len(want))


def run_qxl(args, guest, which):
    tag = "cursor-qxl-%s" % which
    q = E.Qemu(args, which, tag, guest=guest, extra_append="e2e.cursor=1 e2e.secs=60")
    c = E.Client(args, q.port, tag)
    q.wait_serial("E2E: cursor done", BOOT_TIMEOUT)
    serial = q.serial()
    moves = [tuple(int(v) for v in m) for m in re.findall(r"E2E: cursor move (\d+) (\d+)", serial)]
    if moves != MOVES:
        raise E.Fail("%s: guest-cursor moved to %s, expected %s" % (tag, moves, MOVES))
    want_moves = [("move", x + HOT_X, y + HOT_Y) for x, y in MOVES]
    want_shape = cursor_shape()

    def complete(lines):
        ev = cursor_events(lines)
        sets = [i for i, e in enumerate(ev) if e[0] == "set"]
        if not sets:
            return False
        after = [e for e in ev[sets[-1] + 1:] if e[0] == "move"]
        return len(after) >= len(want_moves)
    read_events(c, complete, 20)
    ev = cursor_events(c.lines)
    sets = [i for i, e in enumerate(ev) if e[0] == "set"]
    if not sets:
        raise E.Fail("%s: the client got no cursor shape in 20 s; cursor events: %s"
                     % (tag, describe(ev) or "none"))
    s = ev[sets[-1]]
    if s[1:5] != (CUR_W, CUR_H, HOT_X, HOT_Y):
        raise E.Fail("%s: cursor shape %dx%d hot %d,%d, expected %dx%d hot %d,%d"
                     % ((tag,) + s[1:5] + (CUR_W, CUR_H, HOT_X, HOT_Y)))
    with open(os.path.join(args.out, tag + "-shape.rgba"), "wb") as f:
        f.write(s[5])
    if s[5] != want_shape:
        raise E.Fail("%s: cursor pixels differ from what the guest drew: %s"
                     % (tag, first_diff(s[5], want_shape)))
    after = [e for e in ev[sets[-1] + 1:] if e[0] in ("move", "set", "hide")]
    if after != want_moves:
        raise E.Fail("%s: after the shape the client got %s, expected %s"
                     % (tag, describe(after), describe(want_moves)))
    E.log("%s: shape 64x64 hot 5,7 pixel-exact, moves %s in order; all cursor events: %s"
          % (tag, [m[1:] for m in want_moves], describe(ev)))
    E.check_exit(q, q.quit())
    E.check_log(q, ALLOW)


def run_std(args, guest, which):
    tag = "cursor-std-%s" % which
    q = E.Qemu(args, which, tag, vga="std", guest=guest, extra_append="e2e.cursor=1 e2e.secs=60")
    c = E.Client(args, q.port, tag)
    q.wait_serial("E2E: cursor", BOOT_TIMEOUT)
    deadline = time.time() + 20
    while not re.search(r"E2E: cursor (FAILED|done)[^\n]*\n", q.serial()):
        if time.time() > deadline:
            raise E.Fail("%s: guest-cursor did not finish in 20 s:\n%s" % (tag, q.serial()[-2000:]))
        time.sleep(0.2)
    m = re.search(r"E2E: cursor (FAILED|done)[^\n]*", q.serial())
    E.log("%s: guest-cursor said: %s" % (tag, m.group(0)))
    # Absence of a shape: whatever the client gets within 3 s.
    read_events(c, lambda lines: False, 3)
    ev = cursor_events(c.lines)
    if m.group(1) == "done" or any(e[0] == "set" for e in ev):
        raise E.Fail("%s: a hardware cursor worked under -vga std (events: %s): "
                     "update test-cursor.py and docs/e2e.md" % (tag, describe(ev)))
    if "CURSOR2 set" not in m.group(0):
        raise E.Fail("%s: guest-cursor failed before the cursor ioctl: %s" % (tag, m.group(0)))
    E.log("%s: no DRM cursor under -vga std (%s); client cursor events: %s"
          % (tag, m.group(0), describe(ev) or "none"))
    E.check_exit(q, q.quit())
    E.check_log(q, ALLOW)


def body(args):
    if not args.client:
        E.skip("no e2e-client")
    guest = E.make_guest(args)
    jobs = [lambda w=w: run_qxl(args, guest, w) for w in ("ours", "upstream")]
    failures = [str(e) for _, e in E.run_parallel(jobs) if e is not None]
    E.kill_all()
    if not failures:
        try:
            run_std(args, guest, "ours")
        except E.Fail as e:
            failures.append(str(e))
    if failures:
        raise E.Fail("\n".join(failures))


E.main(body)

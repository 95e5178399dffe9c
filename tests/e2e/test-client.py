#!/usr/bin/env python3
"""Test B, the display and cursor channels seen by real spice-client-glib
clients, with QEMU's screendump (the server's update_area) as the truth:

1. The Linux guest with our library and tests/e2e/e2e-client connected from
   QEMU's start (it sees the VGA-mode primary, then the qxl driver's):
   once the banner is up, the client's decoded primary equals the
   screendump outside the counter line, and the client's counter keeps
   following the guest. spicy-screenshot (spice-gtk's tool, writes the
   primary at the first invalidate) connecting late must equal it too.
2. -vga qxl and -vga std without a kernel (SeaBIOS's "No bootable device"
   text screen, rendered by QEMU into a simple spice display): the
   spicy-screenshot of our library equals the one of upstream's, and each
   equals its QEMU's screendump. The blinking text cursor is masked: the
   pixels that change between screendumps over ~2 s are left out."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120
ALLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")


client_env = E.client_env
Client = E.Client


def spicy_screenshot(port, path, timeout=30):
    """spicy-screenshot's picture of 127.0.0.1:port (bounded)."""
    if os.path.exists(path):
        os.unlink(path)
    try:
        r = subprocess.run(["spicy-screenshot", "-h", "127.0.0.1", "-p", str(port), "-o", path],
                           env=client_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, preexec_fn=E._die_with_parent)
    except subprocess.TimeoutExpired:
        raise E.Fail("spicy-screenshot got no picture in %d s" % timeout)
    if r.returncode != 0 or not os.path.exists(path):
        raise E.Fail("spicy-screenshot failed (%d): %s" % (r.returncode, r.stdout.decode(errors="replace")))
    return E.read_ppm(path)


def guest_part(args):
    guest = E.make_guest(args)
    q = E.Qemu(args, "ours", "client-guest", guest=guest, extra_append="e2e.secs=90")
    c = Client(args, q.port, "client-guest")
    q.wait_serial("E2E: banner shown", BOOT_TIMEOUT)
    truth = E.wait_banner(q, 30)

    # The client converges on the screendump (outside the counter line).
    deadline = time.time() + 30
    got = None
    while True:
        got = c.dump("primary")
        if got is not None and got[:2] == truth[:2] and E.static_part(got) == E.static_part(truth):
            break
        if time.time() > deadline:
            if got is None:
                raise E.Fail("client has no primary surface after 30 s (client said: %s)"
                             % "; ".join(c.lines[-10:]))
            E.write_png(os.path.join(args.out, "client-guest-primary.png"), got)
            if got[:2] != truth[:2]:
                raise E.Fail("client primary is %dx%d, screendump %dx%d" % (got[:2] + truth[:2]))
            E.expect_equal(E.static_part(truth), E.static_part(got),
                           "client primary vs screendump (counter masked)", args.out, "client-guest")
        time.sleep(0.3)
    E.write_png(os.path.join(args.out, "client-guest-primary.png"), got)
    E.log("client primary equals the screendump (%dx%d); client said: %s"
          % (got[0], got[1], "; ".join(c.lines[:12])))

    # ... and keeps following the guest's counter.
    first = E.counter(got)
    deadline = time.time() + 20
    while E.counter(got) == first:
        if time.time() > deadline:
            raise E.Fail("the client's counter line did not change in 20 s")
        time.sleep(0.3)
        got = c.dump("primary-later")
    E.log("client follows the counter")

    # A late client: spicy-screenshot's first picture.
    shot = spicy_screenshot(q.port, os.path.join(args.out, "client-guest-spicy.ppm"))
    now = q.screendump("after-spicy")
    E.write_png(os.path.join(args.out, "client-guest-spicy.png"), shot)
    E.expect_equal(E.static_part(now), E.static_part(shot),
                   "spicy-screenshot vs screendump (counter masked)", args.out, "client-guest-spicy")
    E.log("spicy-screenshot equals the screendump")
    E.check_exit(q, q.quit())
    E.check_log(q, ALLOW)


def volatile_mask(q, name, n=7):
    """Screendumps over ~2 s; returns (last dump, set of changing pixel indices)."""
    dumps = []
    for i in range(n):
        dumps.append(q.screendump("%s-%d" % (name, i)))
        time.sleep(0.3)
    mask = set()
    for a, b in zip(dumps, dumps[1:]):
        if a[:2] != b[:2]:
            raise E.Fail("%s: screen size changed while settled" % q.tag)
        for y in E.rows_differing(a, b):
            w = a[0]
            for x in range(w):
                i = (y * w + x) * 3
                if a[2][i:i + 3] != b[2][i:i + 3]:
                    mask.add(y * w + x)
    return dumps[-1], mask


def apply_mask(pic, mask):
    w, h, px = pic
    b = bytearray(px)
    for i in mask:
        b[i * 3:i * 3 + 3] = b"\0\0\0"
    return (w, h, bytes(b))


def wait_settled(q, timeout=60):
    """Waits until SeaBIOS is done: the screen is not uniform and only a few
    pixels (the cursor) change between two dumps 1 s apart."""
    deadline = time.time() + timeout
    prev = None
    while time.time() < deadline:
        pic = q.screendump("settle")
        if prev is not None and pic[:2] == prev[:2] and not E.uniform(pic):
            box = E.diff_box(prev, pic)
            if box is None or box[0] <= 16 * 16:
                return
        prev = pic
        time.sleep(1.0)
    raise E.Fail("%s: the BIOS screen never settled in %d s" % (q.tag, timeout))


def bios_part(args):
    for vga in ("qxl", "std"):
        qs = {w: E.Qemu(args, w, "bios-%s-%s" % (vga, w), vga=vga) for w in ("ours", "upstream")}
        shots, masks = {}, set()
        for w, q in qs.items():
            wait_settled(q)
            shots[w] = spicy_screenshot(q.port, os.path.join(args.out, "bios-%s-%s-spicy.ppm" % (vga, w)))
            truth, mask = volatile_mask(q, "bios")
            if len(mask) > 16 * 16:
                raise E.Fail("%s: %d pixels keep changing on the BIOS screen" % (q.tag, len(mask)))
            masks |= mask
            if shots[w][:2] != truth[:2]:
                raise E.Fail("%s: spicy-screenshot %dx%d, screendump %dx%d" % ((q.tag,) + shots[w][:2] + truth[:2]))
            E.write_png(os.path.join(args.out, "bios-%s-%s-spicy.png" % (vga, w)), shots[w])
            E.expect_equal(apply_mask(truth, mask), apply_mask(shots[w], mask),
                           "%s: spicy-screenshot vs screendump (cursor masked)" % q.tag,
                           args.out, "bios-%s-%s" % (vga, w))
        E.expect_equal(apply_mask(shots["upstream"], masks), apply_mask(shots["ours"], masks),
                       "-vga %s BIOS screen: spicy-screenshot ours vs upstream (cursor masked)" % vga,
                       args.out, "bios-%s" % vga)
        E.log("-vga %s BIOS screen: spicy-screenshot identical to upstream's (%dx%d, %d cursor pixels masked)"
              % (vga, shots["ours"][0], shots["ours"][1], len(masks)))
        for q in qs.values():
            E.check_exit(q, q.quit())
            E.check_log(q, ALLOW)


def body(args):
    if not args.client:
        E.skip("no e2e-client")
    if not E.shutil_which("spicy-screenshot"):
        raise E.Fail("spicy-screenshot missing (Debian package spice-client-gtk)")
    failures = []
    for part in (bios_part, guest_part):
        try:
            part(args)
        except E.Fail as e:
            E.log("FAIL in %s: %s" % (part.__name__, e))
            failures.append(part.__name__)
        E.kill_all()
    if failures:
        raise E.Fail("failed parts: " + ", ".join(failures))


E.main(body)

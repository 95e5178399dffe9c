#!/usr/bin/env python3
"""Test A, the QXL render worker: a Linux guest whose qxl DRM driver drives
QEMU's QXL device draws a banner on its fbcon console. QMP screendump goes
through the server's update_area, so the dump is what our worker rendered
into the primary surface. Our library and Debian's upstream one boot the
same guest side by side; their dumps must be pixel-identical everywhere
but the guest's counter line (which changes every 0.2 s), the ruler row
must have its exact geometry and colour, the counter must keep moving
(rendering goes on), and the guest must power off cleanly with QEMU
logging no bug lines and not aborting."""
import os
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120      # TCG boot to the banner; ~5 s when idle, slower under load and ASan
GUEST_SECS = 12         # the guest's /init powers off after this many seconds of counter


def body(args):
    guest = E.make_guest(args)
    allow = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")
    append = "e2e.secs=%d" % GUEST_SECS
    qs = {w: E.Qemu(args, w, "render-" + w, guest=guest, extra_append=append)
          for w in ("ours", "upstream")}
    for q in qs.values():
        q.wait_serial("E2E: banner shown", BOOT_TIMEOUT)
    pics = {"upstream": E.wait_banner(qs["upstream"], 30)}
    try:
        pics["ours"] = E.wait_banner(qs["ours"], 30)
    except E.Fail as e:
        # Say where ours' last dump differs from upstream's.
        last = getattr(e, "last", None)
        if last is not None and last[:2] == pics["upstream"][:2]:
            try:
                E.expect_equal(E.static_part(pics["upstream"]), E.static_part(last),
                               "upstream's banner vs ours' last dump", args.out, "render")
            except E.Fail as d:
                raise E.Fail("%s\n%s" % (e, d))
        raise
    for w, pic in pics.items():
        E.check_ruler(pic, w)
        if E.uniform(E.banner(pic)):
            raise E.Fail("%s: banner region is uniform" % w)
    # Identical outside the counter line (kept in the PNGs for a look).
    E.expect_equal(E.static_part(pics["upstream"]), E.static_part(pics["ours"]),
                   "screendumps (ours vs upstream, counter line masked)", args.out, "render")
    E.log("banner and the rest of the screen identical to upstream's (%dx%d)" % pics["ours"][:2])

    # The guest keeps drawing: our dumps must follow the counter.
    q = qs["ours"]
    first = E.counter(pics["ours"])
    deadline = time.time() + 20
    while True:
        later = q.screendump("counter")
        if E.counter(later) != first:
            break
        if time.time() > deadline:
            raise E.Fail("ours: the counter line did not change in 20 s")
        time.sleep(0.3)
    if E.static_part(later) != E.static_part(pics["ours"]):
        raise E.Fail("ours: the static part changed while only the counter was drawn")
    E.log("counter keeps moving under our library")

    # The guest powers off by itself (ACPI): QEMU exits 0 with -no-reboot.
    for w, q in qs.items():
        q.wait_serial("E2E: poweroff", GUEST_SECS + 60)
        rc = q.wait_exit(60)
        E.check_exit(q, rc)
        E.check_log(q, allow)
    E.log("both guests powered off; no bug lines")


E.main(body)

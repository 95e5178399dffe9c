#!/usr/bin/env python3
"""e2e-video: the video guest (e2e.video=1: banner, then ~30 frames/s of
1024x240 photographic frames into /dev/fb0 for 3 s, then a still screen)
under -spice streaming-video=all and =filter, our library and Debian's
upstream one (one QEMU at a time), tests/e2e/e2e-client connected to each
from QEMU's start.

Asserts, for each library and mode: the client saw a video stream while the
guest played (STREAM_CREATE, frames, STREAM_DESTROY: e2e-client reads
spice-client-glib's own debug lines about them), and once the screen stands
still the client's decoded primary equals QMP screendump exactly (the
lossless upgrade after the stream ends). Reports the frames the guest drew
and what each client got: stream frames received and shown, and every
update of the video band (ordinary draws + stream frames): a first frame-rate
comparison with upstream (docs/e2e.md)."""
import os
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120
ALLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")
MIN_SHOWN = 5            # stream frames the client must show: playback, not one frame
RETRY_BELOW_FPS = 25     # no stream from a guest this slow: one more run
CONVERGE_S = 20          # after the screen stands still: stream timeout (1 s) + upgrade


def run_one(args, guest, mode, which, results):
    tag = "video-%s-%s" % (mode, which)
    q = E.Qemu(args, which, tag, guest=guest, extra_append="e2e.video=1 e2e.secs=120",
               spice_opts="streaming-video=" + mode)
    c = E.Client(args, q.port, tag)
    try:
        c.band(E.VIDEO_Y0, E.VIDEO_Y1)
        q.wait_serial("E2E: video done", BOOT_TIMEOUT)
        frames, ms = E.video_frames(q)
        truth = E.wait_still(q, 30)
        deadline = time.time() + CONVERGE_S
        while True:
            got = c.dump("client")
            if (got is not None and got == truth) or time.time() > deadline:
                break
            time.sleep(0.3)
        if got is None:
            raise E.Fail("%s: the client has no primary surface" % tag)
        E.write_png(os.path.join(args.out, tag + "-client.png"), got)
        if got[:2] != truth[:2]:
            raise E.Fail("%s: client primary %dx%d, screendump %dx%d" % ((tag,) + got[:2] + truth[:2]))
        E.expect_equal(truth, got, "%s: client primary vs screendump once still (lossless upgrade)"
                       % tag, args.out, tag)
        st = c.stats()
        results[(mode, which)] = (frames, ms, st)
        if st["creates"] < 1:
            e = E.Fail("%s: the client saw no video stream (%d band updates for %d guest frames in %d ms)"
                       % (tag, st["band"], frames, ms))
            e.guest_fps = frames * 1000.0 / max(ms, 1)
            raise e
        if st["destroys"] < st["creates"]:
            raise E.Fail("%s: %d stream(s) created, %d ended: the stream never ended"
                         % (tag, st["creates"], st["destroys"]))
        if st["shown"] < MIN_SHOWN:
            raise E.Fail("%s: the stream showed %d frames (< %d)" % (tag, st["shown"], MIN_SHOWN))
        E.check_exit(q, q.quit())
        E.check_log(q, ALLOW)
    finally:
        for p in (c.p, q.p):
            if p.poll() is None:
                p.kill()


def body(args):
    if not args.client:
        E.skip("no e2e-client")
    guest = E.make_guest(args)
    results = {}
    failed = []
    # One QEMU at a time: a second one would take half the CPU and slow
    # both guests' frame rates (the comparison is fairer too).
    for mode in ("all", "filter"):
        for which in ("ours", "upstream"):
            name = "%s/%s" % (mode, which)
            for attempt in (1, 2):
                try:
                    run_one(args, guest, mode, which, results)
                    break
                except E.Fail as err:
                    # A guest starved of CPU draws too few frames too
                    # irregularly (gaps > 200 ms) to be a video: once more.
                    slow = getattr(err, "guest_fps", 99) < RETRY_BELOW_FPS
                    E.log("%s FAIL%s: %s" % (name, " (guest too slow, trying again)"
                                             if slow and attempt == 1 else "", err))
                    if not slow or attempt == 2:
                        failed.append(name)
                        break
    E.log("streaming  library   guest frames (ms)  stream frames got/shown  late  band updates  streams  MB read")
    for (mode, which), (frames, ms, st) in sorted(results.items()):
        E.log("%-10s %-9s %6d (%4d)          %4d / %-4d            %4d  %8d      %3d  %7.1f"
              % (mode, which, frames, ms, st["frames"], st["shown"], st["late"], st["band"],
                 st["creates"], st["bytes"] / 1e6))
    if failed:
        raise E.Fail("failed: " + ", ".join(failed))


E.main(body)

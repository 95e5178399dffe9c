#!/usr/bin/env python3
"""e2e-compression: every image-compression setting QEMU accepts, and the
two WAN options forced on, on the video guest (banner text, then 3 s of
1024x240 photographic frames drawn as ordinary images: streaming-video=off)
with tests/e2e/e2e-client connected from QEMU's start. Once the guest is
done and the screen stands still, the client's decoded primary must equal
QMP screendump (the server's own rendering) exactly for every lossless
setting and for jpeg-wan-compression=always too, as our library upgrades
JPEG areas losslessly once they stop changing. Upstream does not (its
JPEG'd text and frames stay lossy), so under E2E_OURS_IS_UPSTREAM=1 that
setting needs only LOSSY_MIN_PSNR over the whole screen. Settings run two QEMUs at a time (the machine has 2 cores).
Also checks that QEMU still refuses image-compression=lz4 (the list below is
then complete); if a QEMU accepts it, lz4 is tested as well."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120
ALLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")
# QEMU 7.2 ui/spice-core.c compression_names: exactly these six.
SETTINGS = [
    ("off", "image-compression=off"),
    ("auto_glz", "image-compression=auto_glz"),
    ("auto_lz", "image-compression=auto_lz"),
    ("quic", "image-compression=quic"),
    ("glz", "image-compression=glz"),
    ("lz", "image-compression=lz"),
    ("jpeg", "image-compression=auto_glz,jpeg-wan-compression=always"),
    ("zlib", "image-compression=auto_glz,zlib-glz-wan-compression=always"),
]
LOSSY = {"jpeg"}
LOSSY_MIN_PSNR = 30.0    # dB over the whole screen, for upstream only (it measures ~38.6)
CONVERGE_S = 20          # the client gets this long to equal the screendump


def qemu_accepts(opt):
    """True when QEMU's option parser takes -spice opt (it exits at once on
    an invalid name; a valid one gets as far as running, killed after 3 s)."""
    argv = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
            "-S", "-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on,%s" % (E.free_port(), opt)]
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LD_PRELOAD", None)
    p = E.spawn(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
        return True
    return p.returncode == 0 and b"invalid" not in out


def run_setting(args, guest, name, opts, results):
    tag = "compr-" + name
    q = E.Qemu(args, "ours", tag, guest=guest, extra_append="e2e.video=1 e2e.secs=120",
               spice_opts=opts + ",streaming-video=off")
    c = E.Client(args, q.port, tag)
    try:
        check_setting(args, q, c, name, results)
    finally:
        # A failed setting frees its CPU for the others at once.
        for p in (c.p, q.p):
            if p.poll() is None:
                p.kill()


def check_setting(args, q, c, name, results):
    tag = q.tag
    c.band(E.VIDEO_Y0, E.VIDEO_Y1)
    q.wait_serial("E2E: video done", BOOT_TIMEOUT)
    frames, ms = E.video_frames(q)
    truth = E.wait_still(q, 30)
    if E.uniform(E.crop(truth, 0, E.VIDEO_Y0, 1024, E.VIDEO_Y1 - E.VIDEO_Y0)):
        raise E.Fail("%s: the video band is uniform in the screendump" % tag)
    deadline = time.time() + CONVERGE_S
    t0 = time.time()
    first = None
    while True:
        got = c.dump("client")
        if first is None:
            first = got
        if got is not None and got == truth:
            break
        if time.time() > deadline:
            break
        time.sleep(0.3)
    if got is None:
        raise E.Fail("%s: the client has no primary surface (it said: %s)" % (tag, "; ".join(c.lines[-10:])))
    E.write_png(os.path.join(args.out, tag + "-client.png"), got)
    if got[:2] != truth[:2]:
        raise E.Fail("%s: client primary %dx%d, screendump %dx%d" % ((tag,) + got[:2] + truth[:2]))
    st = c.stats()
    if st["creates"]:
        raise E.Fail("%s: %d video stream(s) with streaming-video=off" % (tag, st["creates"]))
    if got == truth:
        verdict = "exact after %.1f s" % (time.time() - t0)
        if first is not None and first[:2] == truth[:2] and first != truth:
            verdict += " (first dump: PSNR %.1f dB)" % E.psnr(truth, first)
    elif name in LOSSY and os.environ.get("E2E_OURS_IS_UPSTREAM"):
        # Upstream never upgrades JPEG images (text included): a PSNR bound.
        band = E.crop(truth, 0, E.VIDEO_Y0, truth[0], E.VIDEO_Y1 - E.VIDEO_Y0)
        gband = E.crop(got, 0, E.VIDEO_Y0, got[0], E.VIDEO_Y1 - E.VIDEO_Y0)
        db = E.psnr(truth, got)
        if db < LOSSY_MIN_PSNR:
            E.expect_equal(truth, got, "%s: client vs screendump (PSNR %.1f dB < %.1f)"
                           % (tag, db, LOSSY_MIN_PSNR), args.out, tag)
        box = E.diff_box(truth, got)
        verdict = ("lossy after %d s: PSNR %.1f dB (banner rows %.1f, video band %.1f); "
                   "%d pixels differ in x %d..%d, y %d..%d" % (
                       CONVERGE_S, db, E.psnr(E.banner(truth), E.banner(got)), E.psnr(band, gband),
                       box[0], box[1], box[3], box[2], box[4]))
    else:
        E.expect_equal(truth, got, "%s: client primary vs screendump" % tag, args.out, tag)
    E.check_exit(q, q.quit())
    E.check_log(q, ALLOW)
    results[name] = "%s; guest drew %d frames in %d ms; client: %d band updates, %.1f MB read" % (
        verdict, frames, ms, st["band"], st["bytes"] / 1e6)


def body(args):
    if not args.client:
        E.skip("no e2e-client")
    settings = list(SETTINGS)
    if qemu_accepts("image-compression=auto_glz") is not True:
        raise E.Fail("QEMU refuses image-compression=auto_glz: the acceptance probe is broken")
    if qemu_accepts("image-compression=lz4"):
        E.log("this QEMU accepts image-compression=lz4: testing it too")
        settings.append(("lz4", "image-compression=lz4"))
    else:
        E.log("QEMU refuses image-compression=lz4 (as 7.2 does): the six names are all it takes")
    guest = E.make_guest(args)
    results = {}

    def job(name, opts):
        def run():
            run_setting(args, guest, name, opts, results)
        run.setting = name
        return run
    t0 = time.time()
    done = E.run_parallel([job(n, o) for n, o in settings])
    failed = []
    for j, err in done:
        if err is None:
            E.log("%-9s %s" % (j.setting, results[j.setting]))
        else:
            E.log("%-9s FAIL: %s" % (j.setting, err))
            failed.append(j.setting)
    E.log("%d settings in %.0f s" % (len(settings), time.time() - t0))
    if failed:
        raise E.Fail("failed settings: " + ", ".join(failed))


E.main(body)

#!/usr/bin/env python3
"""Test C, a person's view: remote-viewer (virt-viewer) under Xvfb connected
to QEMU running the Linux guest with our library. Screenshots of the X root
window (ImageMagick's import) are taken until the guest's banner is found
in them: the red ruler row locates the guest's screen, then the banner
rows must equal the screendump's pixel for pixel (remote-viewer shows the
guest unscaled in a 1024x768 kiosk window under its header bar), or, if
the viewer scaled it, match the scaled screendump closely. The last
screenshot is kept as out/viewer-x11.png.

Run as `test-viewer.py --x11 ...` it is the part inside xvfb-run."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

BOOT_TIMEOUT = 120
VIEW_TIMEOUT = 60
ALLOW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log-allowlist.txt")


def x11_screenshot(path_ppm):
    r = subprocess.run(["import", "-window", "root", "-depth", "8", "ppm:" + path_ppm],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    if r.returncode != 0:
        raise E.Fail("import failed: %s" % r.stdout.decode(errors="replace"))
    return E.read_ppm(path_ppm)


def find_ruler(shot, colour):
    """(x, y, width) of the first run of the ruler colour, or None."""
    w, h, px = shot
    c = bytes(colour)
    for y in range(h):
        row = px[y * w * 3:(y + 1) * w * 3]
        i = row.find(c)
        while i >= 0 and i % 3 != 0:
            i = row.find(c, i + 1)
        if i < 0:
            continue
        x0 = i // 3
        # The ruler's extent: last pixel of the colour in that row.
        j = row.rfind(c)
        while j >= 0 and j % 3 != 0:
            j = row.rfind(c, 0, j)
        return (x0, y, j // 3 - x0 + 1)
    return None


def match(shot, truth):
    """How the banner of truth appears in shot: returns a description, or
    raises Fail with the reason it does not."""
    colour = E.pixel(truth, 0, E.RULER_ROW * E.CELL_H)
    found = find_ruler(shot, colour)
    if found is None:
        raise E.Fail("no ruler colour %s on the X screen" % (colour,))
    x0, y0, width = found
    ruler_w = 31 * 2 * E.CELL_W + E.CELL_W       # 32 blocks, one every other cell
    top = y0 - E.RULER_ROW * E.CELL_H
    rows = E.BANNER_ROWS * E.CELL_H
    if width == ruler_w:
        vis_w = min(truth[0], shot[0] - x0)
        if top < 0 or top + rows > shot[1]:
            raise E.Fail("banner cut off on the X screen (top %d)" % top)
        want = E.crop(truth, 0, 0, vis_w, rows)
        got = E.crop(shot, x0, top, vis_w, rows)
        if want != got:
            box = E.diff_box(want, got)
            raise E.Fail("banner at (%d,%d) unscaled but %d pixels differ in x %d..%d, y %d..%d"
                         % (x0, top, box[0], box[1], box[3], box[2], box[4]))
        return "unscaled at (%d,%d), %dx%d banner pixels identical" % (x0, top, vis_w, rows)
    # Scaled: compare nearest-neighbour samples with a tolerance.
    s = width / ruler_w
    top = y0 - round(E.RULER_ROW * E.CELL_H * s)
    n = bad = 0
    for ty in range(0, rows, 2):
        sy = top + int(ty * s)
        if not (0 <= sy < shot[1]):
            continue
        for tx in range(0, truth[0], 2):
            sx = x0 + int(tx * s)
            if not (0 <= sx < shot[0]):
                continue
            a, b = E.pixel(truth, tx, ty), E.pixel(shot, sx, sy)
            n += 1
            bad += sum(abs(p - q) for p, q in zip(a, b)) > 96
    if n < 1000 or bad > n // 10:
        raise E.Fail("banner scaled by %.3f at (%d,%d): %d of %d samples differ" % (s, x0, top, bad, n))
    return "scaled by %.3f at (%d,%d): %d of %d samples differ" % (s, x0, top, bad, n)


def inside_x(args):
    """Within xvfb-run: remote-viewer, then screenshots until the banner shows."""
    truth = E.read_ppm(args.truth)
    env = dict(os.environ)
    env["NO_AT_BRIDGE"] = "1"
    env["GDK_BACKEND"] = "x11"
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LD_PRELOAD", None)
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    rvlog = open(os.path.join(args.out, "viewer-remote-viewer.log"), "w")
    rv = E.spawn(["remote-viewer", "-k", "spice://127.0.0.1:%d" % args.port],
                 env=env, stdout=rvlog, stderr=subprocess.STDOUT)
    ppm = os.path.join(args.out, "viewer-x11.ppm")
    png = os.path.join(args.out, "viewer-x11.png")
    deadline = time.time() + VIEW_TIMEOUT
    why = "no screenshot"
    while time.time() < deadline:
        if rv.poll() is not None:
            raise E.Fail("remote-viewer exited %d (see viewer-remote-viewer.log)" % rv.returncode)
        shot = x11_screenshot(ppm)
        try:
            how = match(shot, truth)
            E.write_png(png, shot)
            E.log("guest banner visible in remote-viewer: " + how)
            return
        except E.Fail as e:
            why = str(e)
        time.sleep(0.5)
    E.write_png(png, shot)
    raise E.Fail("remote-viewer never showed the banner in %d s: %s (see %s)" % (VIEW_TIMEOUT, why, png))


def body(args):
    for tool in ("xvfb-run", "remote-viewer", "import"):
        if not E.shutil_which(tool):
            raise E.Fail("%s missing (Debian packages xvfb, xauth, virt-viewer, imagemagick)" % tool)
    guest = E.make_guest(args)
    q = E.Qemu(args, "ours", "viewer", guest=guest, extra_append="e2e.secs=90")
    q.wait_serial("E2E: banner shown", BOOT_TIMEOUT)
    truth = E.wait_banner(q, 30)
    truth_path = os.path.join(args.out, "viewer-truth.ppm")
    E.write_ppm(truth_path, truth)
    argv = ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24 -nolisten tcp",
            sys.executable, os.path.abspath(__file__), "--x11",
            "--port", str(q.port), "--truth", truth_path, "--out", args.out]
    p = E.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, new_session=True)
    try:
        out, _ = p.communicate(timeout=VIEW_TIMEOUT + 60)
    except subprocess.TimeoutExpired:
        raise E.Fail("xvfb-run did not finish in %d s" % (VIEW_TIMEOUT + 60))
    E.log(out.decode(errors="replace").rstrip())
    if p.returncode != 0:
        raise E.Fail("the X side failed (exit %d)" % p.returncode)
    E.check_exit(q, q.quit())
    E.check_log(q, ALLOW)


if len(sys.argv) > 1 and sys.argv[1] == "--x11":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--x11", action="store_true")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rc = 0
    try:
        inside_x(a)
    except E.Fail as e:
        E.log("FAIL (X side):", e)
        rc = 1
    finally:
        E.kill_all()
    sys.exit(rc)
else:
    E.main(body)

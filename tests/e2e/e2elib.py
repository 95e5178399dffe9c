"""Shared helpers of the end-to-end tests (tests/e2e/test-*.py).

Runs Debian's QEMU with either our libspice-server.so.1 (LD_LIBRARY_PATH at
the build's server/ folder, plus the sanitizer runtime preloaded when the
library was built with ASan) or Debian's upstream library (LD_LIBRARY_PATH
unset), talks QMP, reads and writes PPM/PNG, and compares pictures.
Every wait is bounded; every process started here is killed when the test
ends (finally, SIGTERM handler, and PR_SET_PDEATHSIG as a backstop).
Exit codes: 0 pass, 1 fail, 77 skip (QEMU or the guest packages missing).
"""
import argparse
import ctypes
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77
_procs = []


class Fail(Exception):
    """A check failed: the message says what and where."""


def skip(msg):
    print("SKIP:", msg, flush=True)
    sys.exit(SKIP)


def log(*a):
    print(*a, flush=True)


def _on_term(signum, frame):
    raise SystemExit("killed by signal %d" % signum)


# Loaded once here: the child side of a fork (preexec_fn) must not dlopen
# while other threads (run_parallel) may hold the loader's lock.
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def _die_with_parent():
    # The child gets SIGKILL if this test process (more exactly: the thread
    # that started it) dies without cleaning up.
    if _libc is not None:
        _libc.prctl(1, 9)   # PR_SET_PDEATHSIG, SIGKILL


def spawn(argv, env=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL, new_session=False):
    """Starts a process that is killed when the test ends; with new_session
    its whole process group is (xvfb-run's Xvfb and clients)."""
    p = subprocess.Popen(argv, env=env, stdout=stdout, stderr=stderr, stdin=stdin,
                         preexec_fn=_die_with_parent, start_new_session=new_session)
    p.e2e_group = new_session
    _procs.append(p)
    return p


def kill_all():
    for p in reversed(_procs):
        if p.e2e_group:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        if p.poll() is None:
            p.kill()
    for p in _procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def main(body):
    """Runs body(args) with the common options; maps Fail to exit 1."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--libdir", required=True, help="folder holding our libspice-server.so.1")
    ap.add_argument("--out", required=True, help="folder for pictures and logs")
    ap.add_argument("--make-guest", required=True, help="tools/ci/make-guest.sh")
    ap.add_argument("--client", help="tests/e2e/e2e-client executable")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    os.makedirs(args.out, exist_ok=True)
    if not shutil_which("qemu-system-x86_64"):
        skip("qemu-system-x86_64 missing")
    rc = 0
    try:
        body(args)
        log("PASS")
    except Fail as e:
        log("FAIL:", e)
        rc = 1
    finally:
        kill_all()
    sys.exit(rc)


def shutil_which(name):
    import shutil
    return shutil.which(name)


# ---- the guest ----

def make_guest(args):
    """Builds or reuses the cached guest; returns (vmlinuz, initrd, cmdline)."""
    # SPICE_E2E_CACHE, else $XDG_CACHE_HOME or ~/.cache (shared by build
    # dirs), else the build dir.
    cache = os.environ.get("SPICE_E2E_CACHE")
    if not cache:
        base = os.environ.get("XDG_CACHE_HOME") or (
            os.path.join(os.environ["HOME"], ".cache") if os.environ.get("HOME") else None)
        cache = os.path.join(base, "spice-e2e-guest") if base else os.path.join(args.out, "..", "guest-cache")
    argv = ["bash", args.make_guest, cache]
    t0 = time.time()
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise Fail("make-guest.sh took more than 900 s")
    if r.returncode == SKIP:
        skip("guest packages cannot be had: " + r.stderr.strip())
    if r.returncode != 0:
        raise Fail("make-guest.sh failed: " + r.stderr.strip())
    d = r.stdout.strip().splitlines()[-1]
    log("guest %s (%.1f s)" % (d, time.time() - t0))
    with open(os.path.join(d, "cmdline")) as f:
        cmdline = f.read().strip()
    return os.path.join(d, "vmlinuz"), os.path.join(d, "initrd.img"), cmdline


# ---- QEMU ----

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sanitizer_env(libdir):
    """LD_PRELOAD and options that let the uninstrumented QEMU load a
    sanitizer build of our library; {} for a plain build."""
    lib = os.path.join(libdir, "libspice-server.so.1")
    env = {}
    try:
        ldd = subprocess.run(["ldd", lib], stdout=subprocess.PIPE, text=True, timeout=30).stdout
        syms = subprocess.run(["nm", "-D", lib], stdout=subprocess.PIPE, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return env
    pre = []
    # gcc: the runtimes are shared libraries the library links to.
    for m in re.finditer(r"(lib(?:asan|ubsan)\.so[.\d]*) => (\S+)", ldd):
        pre.append(m.group(2))
    # clang: the ASan runtime is left undefined (b_lundef=false).
    if not pre and "__asan_init" in syms:
        rt = subprocess.run(["clang", "-print-file-name=libclang_rt.asan-x86_64.so"],
                            stdout=subprocess.PIPE, text=True).stdout.strip()
        if not os.path.isfile(rt):
            raise Fail("ASan build of the library but no clang ASan runtime")
        pre.append(rt)
    if pre:
        env["LD_PRELOAD"] = ":".join(pre)
        # QEMU's own leaks are not ours; any error report fails the test.
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


class Qemu:
    """One QEMU with a SPICE server on 127.0.0.1 and a QMP socket.
    which: "ours" (our library) or "upstream" (Debian's)."""

    def __init__(self, args, which, tag, vga="qxl", guest=None, extra_append="", spice_opts=""):
        self.which, self.tag = which, tag
        self.tmp = tempfile.mkdtemp(prefix="e2e-%s-" % tag)
        self.qmp_path = os.path.join(self.tmp, "qmp.sock")
        self.serial_path = os.path.join(args.out, "%s-serial.log" % tag)
        self.log_path = os.path.join(args.out, "%s-qemu.log" % tag)
        self.port = free_port()
        argv = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "512",
                "-nodefaults", "-no-reboot", "-vga", vga, "-display", "none",
                "-spice", "port=%d,addr=127.0.0.1,disable-ticketing=on%s" % (
                    self.port, "," + spice_opts if spice_opts else ""),
                "-serial", "file:" + self.serial_path,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if guest:
            vmlinuz, initrd, cmdline = guest
            argv += ["-kernel", vmlinuz, "-initrd", initrd,
                     "-append", (cmdline + " " + extra_append).strip()]
        env = dict(os.environ)
        env.pop("LD_LIBRARY_PATH", None)
        env.pop("LD_PRELOAD", None)
        # E2E_OURS_IS_UPSTREAM=1 runs the "ours" side on upstream's library
        # too: a check of the tests themselves.
        if which == "ours" and not os.environ.get("E2E_OURS_IS_UPSTREAM"):
            env["LD_LIBRARY_PATH"] = args.libdir
            env.update(sanitizer_env(args.libdir))
        log("%s: QEMU -vga %s%s%s with %s library%s" % (
            tag, vga, " + guest kernel" if guest else " (no kernel)",
            " -spice ..." + spice_opts if spice_opts else "",
            "our" if env.get("LD_LIBRARY_PATH") else "Debian's upstream",
            " (LD_PRELOAD=%s)" % env["LD_PRELOAD"] if env.get("LD_PRELOAD") else ""))
        self.logf = open(self.log_path, "w")
        self.p = spawn(argv, env=env, stdout=self.logf, stderr=subprocess.STDOUT)
        self.sock = None
        self._connect_qmp()

    def _connect_qmp(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise Fail("%s: QEMU exited (%s) at start:\n%s" % (self.tag, self.p.returncode, self.log()))
            if os.path.exists(self.qmp_path):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.settimeout(60)
                    s.connect(self.qmp_path)
                    self.sock = s
                    self.f = s.makefile("rw")
                    json.loads(self.f.readline())     # greeting
                    self.cmd("qmp_capabilities")
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise Fail("%s: no QMP socket after %d s" % (self.tag, timeout))

    def cmd(self, name, **arguments):
        """One QMP command; returns its "return" value, raises Fail on error."""
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        try:
            self.f.write(json.dumps(msg) + "\n")
            self.f.flush()
            while True:
                line = self.f.readline()
                if not line:
                    raise Fail("%s: QMP closed during %s (QEMU %s)" % (self.tag, name, self.state()))
                r = json.loads(line)
                if "return" in r:
                    return r["return"]
                if "error" in r:
                    raise Fail("%s: QMP %s: %s" % (self.tag, name, r["error"]))
        except socket.timeout:
            raise Fail("%s: QMP %s timed out" % (self.tag, name))
        except OSError as e:
            raise Fail("%s: QMP %s: %s (QEMU %s)" % (self.tag, name, e, self.state()))

    def screendump(self, name):
        """QMP screendump into out/<tag>-<name>.ppm; returns the picture."""
        path = os.path.join(os.path.dirname(self.serial_path), "%s-%s.ppm" % (self.tag, name))
        self.cmd("screendump", filename=path)
        return read_ppm(path)

    def serial(self):
        try:
            with open(self.serial_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log(self):
        self.logf.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def state(self):
        rc = self.p.poll()
        return "running" if rc is None else "exited %d" % rc

    def wait_serial(self, marker, timeout):
        """Waits until the guest's serial log holds marker."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if marker in self.serial():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        raise Fail("%s: no %r on the serial console after %d s (QEMU %s)\n--- serial\n%s\n--- qemu\n%s"
                   % (self.tag, marker, timeout, self.state(), self.serial()[-3000:], self.log()[-3000:]))

    def quit(self, timeout=30):
        """Asks QEMU to quit; returns its exit code (negative: signal)."""
        if self.p.poll() is None:
            try:
                self.cmd("quit")
            except Fail:
                pass
        return self.wait_exit(timeout)

    def wait_exit(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=10)
            raise Fail("%s: QEMU did not exit within %d s" % (self.tag, timeout))


# ---- tests/e2e/e2e-client ----

def client_env():
    env = dict(os.environ)
    # spice-gtk's own process-lifetime allocations are not ours.
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LD_PRELOAD", None)
    return env


class Client:
    """tests/e2e/e2e-client, driven over its stdin/stdout."""

    def __init__(self, args, port, tag, seconds=200):
        self.tag = tag
        self.out = args.out
        self.errf = open(os.path.join(args.out, tag + "-client.err"), "w")
        self.p = spawn([args.client, str(port), str(seconds)], env=client_env(),
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errf)
        self.lines = []
        self.buf = b""

    def _readline(self, timeout):
        """The client's next stdout line, or None after timeout seconds."""
        import select
        deadline = time.time() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise Fail("%s: client exited (%s); see %s-client.err" % (self.tag, self.p.poll(), self.tag))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.decode(errors="replace").strip()
        self.lines.append(line)
        return line

    def ask(self, command, answers, timeout=15):
        """Sends one command; returns the first line starting with one of
        answers (a tuple), skipping event lines."""
        self.p.stdin.write((command + "\n").encode())
        self.p.stdin.flush()
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self._readline(deadline - time.time())
            if line is None:
                break
            if line.startswith(answers):
                return line
            if line.startswith(("CHANNEL-ERROR", "DISCONNECTED", "TIMEOUT")):
                raise Fail("%s: client: %s" % (self.tag, line))
        raise Fail("%s: client did not answer %r in %d s" % (self.tag, command, timeout))

    def dump(self, name):
        """The client's primary as a picture, or None when it has none."""
        path = os.path.join(self.out, "%s-%s.ppm" % (self.tag, name))
        line = self.ask("dump %s" % path, ("DUMPED", "NODUMP"))
        return read_ppm(path) if line.startswith("DUMPED") else None

    def band(self, y0, y1):
        """Counts the invalidates touching rows y0..y1-1 from now on."""
        self.ask("band %d %d" % (y0, y1), ("BAND",))

    def stats(self):
        """The client's counters (e2e-client's STATS line) as a dict."""
        line = self.ask("stats", ("STATS",))
        return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}


# Lines our library (or a sanitizer) must never print into QEMU's log.
BUG_PATTERNS = re.compile(r"spice-server bug|spice_server bug|guest bug|client bug|"
                          r"CRITICAL|Assertion|assertion|AddressSanitizer|LeakSanitizer|"
                          r"runtime error:|Aborted|core dumped|Segmentation")


def check_log(q, allowlist_path):
    """Fails if QEMU's log has a bug line not allowed by allowlist_path
    (one regular expression a line, '#' comments)."""
    allowed = []
    with open(allowlist_path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                allowed.append(re.compile(line))
    bad = []
    for line in q.log().splitlines():
        if BUG_PATTERNS.search(line) and not any(a.search(line) for a in allowed):
            bad.append(line)
    if bad:
        raise Fail("%s: QEMU log has %d bug line(s):\n%s" % (q.tag, len(bad), "\n".join(bad[:20])))
    other = [l for l in q.log().splitlines() if l.strip()]
    if other:
        log("%s: QEMU log (no bug lines):\n  %s" % (q.tag, "\n  ".join(other[:20])))


def check_exit(q, rc):
    """A QEMU that aborted or crashed fails the test."""
    if rc < 0:
        raise Fail("%s: QEMU killed by signal %d\n%s" % (q.tag, -rc, q.log()[-3000:]))
    if rc != 0:
        raise Fail("%s: QEMU exited %d\n%s" % (q.tag, rc, q.log()[-3000:]))


# ---- pictures: (width, height, bytes RGB) ----

def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not m or m.group(3) != b"255":
        raise Fail("%s is not an 8-bit P6 PPM" % path)
    w, h = int(m.group(1)), int(m.group(2))
    px = data[m.end():m.end() + w * h * 3]
    if len(px) != w * h * 3:
        raise Fail("%s is truncated" % path)
    return (w, h, px)


def write_ppm(path, pic):
    w, h, px = pic
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(px)


def write_png(path, pic):
    """Writes an RGB picture as PNG (stdlib only)."""
    w, h, px = pic
    raw = b"".join(b"\0" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def crop(pic, x, y, w, h):
    W, H, px = pic
    if x < 0 or y < 0 or x + w > W or y + h > H:
        raise Fail("crop %dx%d+%d+%d outside a %dx%d picture" % (w, h, x, y, W, H))
    rows = [px[((y + r) * W + x) * 3:((y + r) * W + x + w) * 3] for r in range(h)]
    return (w, h, b"".join(rows))


def pixel(pic, x, y):
    W, H, px = pic
    i = (y * W + x) * 3
    return tuple(px[i:i + 3])


def uniform(pic):
    w, h, px = pic
    return px == px[:3] * (w * h)


def rows_differing(a, b):
    """Row indices where two same-sized pictures differ."""
    w = a[0]
    return [y for y in range(a[1]) if a[2][y * w * 3:(y + 1) * w * 3] != b[2][y * w * 3:(y + 1) * w * 3]]


def diff_box(a, b):
    """(count, x0, y0, x1, y1) of the pixels where a and b differ, or None."""
    if a[0] != b[0] or a[1] != b[1]:
        raise Fail("sizes differ: %dx%d vs %dx%d" % (a[0], a[1], b[0], b[1]))
    ys = rows_differing(a, b)
    if not ys:
        return None
    w = a[0]
    n, x0, x1 = 0, w, -1
    for y in ys:
        ra, rb = a[2][y * w * 3:(y + 1) * w * 3], b[2][y * w * 3:(y + 1) * w * 3]
        for x in range(w):
            if ra[x * 3:x * 3 + 3] != rb[x * 3:x * 3 + 3]:
                n += 1
                x0, x1 = min(x0, x), max(x1, x)
    return (n, x0, ys[0], x1, ys[-1])


def diff_picture(a, b):
    """b dimmed, with the pixels that differ from a in magenta."""
    w, h = a[0], a[1]
    out = bytearray(len(a[2]))
    for i in range(0, len(out), 3):
        if a[2][i:i + 3] != b[2][i:i + 3]:
            out[i:i + 3] = b"\xff\x00\xff"
        else:
            out[i] = b[2][i] // 3
            out[i + 1] = b[2][i + 1] // 3
            out[i + 2] = b[2][i + 2] // 3
    return (w, h, bytes(out))


def mask_rows(pic, y0, y1):
    """The picture with rows y0..y1-1 blacked out (a volatile band)."""
    w, h, px = pic
    return (w, h, px[:y0 * w * 3] + b"\0" * ((y1 - y0) * w * 3) + px[y1 * w * 3:])


def expect_equal(a, b, what, out_dir, name):
    """Fails with where a and b differ (and a diff PNG) unless equal."""
    if a == b:
        return
    box = diff_box(a, b)
    path = os.path.join(out_dir, name + "-diff.png")
    if a[0] == b[0] and a[1] == b[1]:
        write_png(path, diff_picture(a, b))
    raise Fail("%s differ: %d pixels in x %d..%d, y %d..%d (see %s)"
               % (what, box[0], box[1], box[3], box[2], box[4], path))


# ---- the guest's screen (make-guest.sh's /init, 8x16 font, 1024x768) ----

CELL_W, CELL_H = 8, 16
SCREEN = (1024, 768)
BANNER_ROWS = 5                       # text rows 0..4
COUNTER_ROW = 7                       # "counter NNNNN", rewritten every 0.2 s
RULER_ROW = 3                         # 32 bright red full blocks, one every other cell
BLACK = (0, 0, 0)


def banner(pic):
    return crop(pic, 0, 0, pic[0], BANNER_ROWS * CELL_H)


def static_part(pic):
    """Everything but the counter line."""
    return mask_rows(pic, COUNTER_ROW * CELL_H, (COUNTER_ROW + 1) * CELL_H)


def counter(pic):
    return crop(pic, 0, COUNTER_ROW * CELL_H, 14 * CELL_W, CELL_H)


def check_ruler(pic, tag):
    """The ruler row holds 32 solid 8x16 blocks of one reddish colour at even
    cells 0..62 and nothing else: checks geometry and channel order without
    any reference picture."""
    y0 = RULER_ROW * CELL_H
    colour = pixel(pic, 0, y0)
    if colour == BLACK or not (colour[0] > colour[1] and colour[0] > colour[2]):
        raise Fail("%s: ruler block colour %s is not red (channel order?)" % (tag, colour))
    for cell in range(SCREEN[0] // CELL_W):
        want = colour if cell % 2 == 0 and cell < 64 else BLACK
        c = crop(pic, cell * CELL_W, y0, CELL_W, CELL_H)
        if c[2] != bytes(want) * (CELL_W * CELL_H):
            raise Fail("%s: ruler cell %d (x %d, y %d) is not uniformly %s"
                       % (tag, cell, cell * CELL_W, y0, want))


def wait_banner(q, timeout, name="banner"):
    """Screendumps until the banner is drawn (ruler in place) and the static
    part is the same in two dumps in a row; returns the last dump."""
    deadline = time.time() + timeout
    prev, last, last_err = None, None, "no dump"
    n = 0
    out_dir = os.path.dirname(q.serial_path)
    while time.time() < deadline:
        if q.p.poll() is not None:
            break
        try:
            pic = q.screendump("%s-poll" % name)
        except Fail as e:
            last_err += "; then " + str(e)
            break
        n += 1
        last = pic
        if pic[:2] == SCREEN:
            try:
                check_ruler(pic, q.tag)
                if prev is not None and static_part(prev) == static_part(pic):
                    write_ppm(os.path.join(os.path.dirname(q.serial_path), "%s-%s.ppm" % (q.tag, name)), pic)
                    write_png(os.path.join(os.path.dirname(q.serial_path), "%s-%s.png" % (q.tag, name)), pic)
                    return pic
                last_err = "static part still changing"
            except Fail as e:
                last_err = str(e)
            prev = pic
        else:
            last_err = "screen is %dx%d" % pic[:2]
        time.sleep(0.3)
    if last is not None:
        write_png(os.path.join(out_dir, "%s-%s-last.png" % (q.tag, name)), last)
    e = Fail("%s: banner never settled (%d s, %d dumps, QEMU %s): %s; last dump in %s-%s-last.png"
             % (q.tag, timeout, n, q.state(), last_err, q.tag, name))
    e.last = last
    raise e


def psnr(a, b):
    """PSNR in dB of two same-sized RGB pictures (inf when equal)."""
    import math
    if a[:2] != b[:2]:
        raise Fail("sizes differ: %dx%d vs %dx%d" % (a[:2] + b[:2]))
    if a[2] == b[2]:
        return float("inf")
    w = a[0]
    se = 0
    for y in rows_differing(a, b):
        ra, rb = a[2][y * w * 3:(y + 1) * w * 3], b[2][y * w * 3:(y + 1) * w * 3]
        se += sum((p - q) * (p - q) for p, q in zip(ra, rb))
    mse = se / float(len(a[2]))
    return 10 * math.log10(255.0 * 255.0 / mse) if mse else float("inf")


def wait_still(q, timeout, name="still"):
    """Screendumps until two dumps 0.5 s apart are equal and the screen is
    1024x768 with the ruler in place; returns the last dump."""
    deadline = time.time() + timeout
    prev, last_err = None, "no dump"
    while time.time() < deadline:
        if q.p.poll() is not None:
            break
        pic = q.screendump("%s-poll" % name)
        if pic[:2] == SCREEN:
            try:
                check_ruler(pic, q.tag)
                if prev == pic:
                    write_png(os.path.join(os.path.dirname(q.serial_path), "%s-%s.png" % (q.tag, name)), pic)
                    return pic
                last_err = "screen still changing"
            except Fail as e:
                last_err = str(e)
        else:
            last_err = "screen is %dx%d" % pic[:2]
        prev = pic
        time.sleep(0.5)
    raise Fail("%s: the screen never stood still (%d s, QEMU %s): %s" % (q.tag, timeout, q.state(), last_err))


def run_parallel(jobs, width=2):
    """Runs the callables in jobs, at most width at a time (threads: each
    job mostly waits on its QEMU); returns [(job, None or the Fail)]."""
    import concurrent.futures
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=width) as ex:
        futs = [(j, ex.submit(j)) for j in jobs]
        for j, f in futs:
            try:
                f.result()
                results.append((j, None))
            except Fail as e:
                results.append((j, e))
    return results


# The video guest (e2e.video=1): 1024x240 frames at rows 240..479.
VIDEO_Y0, VIDEO_Y1 = 240, 480


def video_frames(q, timeout=10):
    """The guest's "video done N frames in T ms" as (N, T), once the whole
    line is on the serial console (call after wait_serial "video done")."""
    deadline = time.time() + timeout
    while True:
        m = re.search(r"E2E: video done (\d+) frames in (\d+) ms\r?\n", q.serial())
        if m:
            return int(m.group(1)), int(m.group(2))
        if time.time() > deadline:
            raise Fail("%s: no whole video summary line on the serial console in %d s" % (q.tag, timeout))
        time.sleep(0.1)

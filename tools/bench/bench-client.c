/* bench-client: the headless spice-client-glib client spice-bench runs in
 * a child process (docs/bench.md, "Clients").
 *
 * It connects to 127.0.0.1:PORT, decodes everything (display and cursor
 * channels), counts display updates ("display-invalidate" signals) and the
 * bytes its channels read, and answers the bench's commands:
 *
 *   stdin (control, one command a line)     fd 3 (replies, one a line)
 *   -                                        ready            first MARK seen
 *   start STALL_MS                           started          baselines taken; then
 *                                                             stalls STALL_MS (ms)
 *   resume                                   (ends a stall early)
 *   dump                                     stats VWIN VALL QN QSUM M0 B0 .. I0 IB0 ..
 *                                            then dump W H FMT UPD BYTES DBYTES DISC
 *                                            or "dump none UPD BYTES DBYTES DISC";
 *                                            pixels (W*4 bytes a row, row 0 first)
 *                                            written at offset 0 of fd 4
 *   quit / end of input                      (exits 0)
 *
 * Slow client: --delay-ms sleeps in every display-invalidate handler.
 * spice-gtk reads its sockets in coroutines on this one main context, so
 * while the handler sleeps nothing is read and TCP back-pressures the
 * server, as with a client that needs that long to show each update.  A
 * stall blocks the main context entirely (poll on the control fd only).
 * The process ends by itself after --max-seconds, and with its parent.
 *
 * stats (all since "start"): VWIN / VALL display updates intersecting
 * --video-rect until "resume" / until now; with --proxy (proxy.c, the
 * session then connects through it) QN JPEG stream frames whose quality
 * was read and QSUM the sum of those qualities, then count and bytes of
 * each display message kind (BENCH_DMSG_KINDS order), then count and bytes
 * of each draw source image type (BENCH_IMG_KINDS order); zeros without
 * --proxy.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <spice-client.h>

#include "tools/bench/proxy.h"

#define CTL_FD 0
#define OUT_FD 3
#define SHM_FD 4

typedef struct Client {
    GMainLoop *loop;
    SpiceSession *session;
    SpiceChannel *display;
    unsigned delay_ms;
    uint64_t updates;           /* display-invalidate signals since start */
    uint64_t updates_base;
    uint64_t bytes_base, dbytes_base;
    bool ready_sent;
    bool disconnected;          /* a channel closed or failed */
    GString *ctl;               /* partial control input */
    int video[4];               /* --video-rect x, y, w, h (w = 0: none) */
    uint64_t vupd, vupd_base;   /* updates intersecting it */
    uint64_t vupd_window;       /* ... from start to resume */
    bool resumed;
    BenchProxy *proxy;          /* --proxy, or NULL */
    ProxyStats pbase;           /* proxy counters at start */
    int exit_code;
} Client;

static Client C;

static void out_line(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void out_line(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = write(OUT_FD, s + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            /* The bench is gone: nothing to report to. */
            exit(1);
        }
        off += (size_t)n;
    }
}

/* Bytes read by every channel of the session, and by the display channel. */
static void wire_bytes(uint64_t *total, uint64_t *display)
{
    GList *list = spice_session_get_channels(C.session);

    *total = *display = 0;
    for (GList *l = list; l; l = l->next) {
        gulong n = 0;
        g_object_get(l->data, "total-read-bytes", &n, NULL);
        *total += n;
        if (SPICE_IS_DISPLAY_CHANNEL(l->data)) {
            *display += n;
        }
    }
    g_list_free(list);
}

static void invalidate_cb(SpiceChannel *ch, gint x, gint y, gint w, gint h, gpointer data)
{
    C.updates++;
    if (C.video[2] && x < C.video[0] + C.video[2] && x + w > C.video[0] &&
        y < C.video[1] + C.video[3] && y + h > C.video[1]) {
        C.vupd++;
    }
    if (C.delay_ms) {
        /* Blocks the main context: the coroutines read nothing meanwhile. */
        g_usleep((gulong)C.delay_ms * 1000);
    }
}

static void mark_cb(SpiceChannel *ch, gint mark, gpointer data)
{
    if (mark && !C.ready_sent) {
        C.ready_sent = true;
        out_line("ready\n");
    }
}

static void channel_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    if (ev == SPICE_CHANNEL_CLOSED || ev >= SPICE_CHANNEL_ERROR_CONNECT) {
        if (!C.disconnected) {
            g_printerr("bench-client: %s channel: event %d\n",
                       SPICE_IS_DISPLAY_CHANNEL(ch) ? "display" : "a", ev);
        }
        C.disconnected = true;
    }
}

static void channel_new_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    g_signal_connect(ch, "channel-event", G_CALLBACK(channel_event_cb), NULL);
    if (SPICE_IS_DISPLAY_CHANNEL(ch)) {
        int id = -1;
        g_object_get(ch, "channel-id", &id, NULL);
        if (id == 0) {
            C.display = ch;
        }
        g_signal_connect(ch, "display-invalidate", G_CALLBACK(invalidate_cb), NULL);
        g_signal_connect(ch, "display-mark", G_CALLBACK(mark_cb), NULL);
        spice_channel_connect(ch);
    } else if (SPICE_IS_CURSOR_CHANNEL(ch)) {
        spice_channel_connect(ch);
    }
}

static void channel_destroy_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    if (ch == C.display) {
        C.display = NULL;
    }
}

/* Blocks everything for `ms`, or until "resume" arrives on the control fd. */
static void stall(unsigned ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)ms * 1000;

    for (;;) {
        int64_t left = end - g_get_monotonic_time();
        if (left <= 0) {
            return;
        }
        struct pollfd p = { .fd = CTL_FD, .events = POLLIN };
        int r = poll(&p, 1, (int)(left / 1000) + 1);
        if (r < 0 && errno != EINTR) {
            return;
        }
        if (r > 0) {
            char buf[256];
            ssize_t n = read(CTL_FD, buf, sizeof(buf));
            if (n <= 0) {
                return;
            }
            g_string_append_len(C.ctl, buf, n);
            if (strstr(C.ctl->str, "resume\n")) {
                return;
            }
        }
    }
}

static void stats(void)
{
    ProxyStats st = { 0 };
    GString *s = g_string_new("stats");

    if (C.proxy) {
        bench_proxy_snapshot(C.proxy, &st);
    }
    uint64_t vall = C.vupd - C.vupd_base;
    /* the most frequent quality in the window (a rate controller that
     * dips for a few frames moves the mean, not this) */
    int mode = 0;
    uint64_t mode_n = 0;
    for (int q = 1; q <= 100; q++) {
        uint64_t n = st.jpeg_quality_n[q] - C.pbase.jpeg_quality_n[q];
        if (n > mode_n) {
            mode = q;
            mode_n = n;
        }
    }
    g_string_append_printf(s, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                           " %" G_GUINT64_FORMAT, C.resumed ? C.vupd_window : vall, vall,
                           st.jpeg_frames - C.pbase.jpeg_frames,
                           st.jpeg_quality_sum - C.pbase.jpeg_quality_sum);
    for (int k = 0; k < DMSG_COUNT; k++) {
        g_string_append_printf(s, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                               st.msgs[k] - C.pbase.msgs[k],
                               st.msg_bytes[k] - C.pbase.msg_bytes[k]);
    }
    for (int k = 0; k < IMGK_COUNT; k++) {
        g_string_append_printf(s, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                               st.imgs[k] - C.pbase.imgs[k],
                               st.img_bytes[k] - C.pbase.img_bytes[k]);
    }
    g_string_append_printf(s, " %d", mode);
    out_line("%s\n", s->str);
    g_string_free(s, TRUE);
}

static void dump(void)
{
    SpiceDisplayPrimary p;
    uint64_t bytes, dbytes;

    stats();

    wire_bytes(&bytes, &dbytes);
    uint64_t upd = C.updates - C.updates_base;
    bytes -= C.bytes_base;
    dbytes -= C.dbytes_base;
    if (!C.display || !spice_display_channel_get_primary(C.display, 0, &p) || !p.data ||
        p.width <= 0 || p.height <= 0) {
        out_line("dump none %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                 " %d\n", upd, bytes, dbytes, C.disconnected);
        return;
    }
    size_t row = (size_t)p.width * 4;
    for (gint y = 0; y < p.height; y++) {
        if (pwrite(SHM_FD, p.data + (size_t)y * p.stride, row, (off_t)(row * y)) != (ssize_t)row) {
            out_line("dump none %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                     " %d\n", upd, bytes, dbytes, C.disconnected);
            return;
        }
    }
    out_line("dump %d %d %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
             " %d\n", p.width, p.height, p.marked ? (int)p.format : -1, upd, bytes, dbytes,
             C.disconnected);
}

static void run_command(const char *cmd)
{
    if (g_str_has_prefix(cmd, "start ")) {
        unsigned ms = (unsigned)strtoul(cmd + 6, NULL, 10);
        C.updates_base = C.updates;
        C.vupd_base = C.vupd;
        C.resumed = false;
        if (C.proxy) {
            bench_proxy_snapshot(C.proxy, &C.pbase);
        }
        wire_bytes(&C.bytes_base, &C.dbytes_base);
        out_line("started\n");
        if (ms) {
            stall(ms);
        }
    } else if (!strcmp(cmd, "dump")) {
        dump();
    } else if (!strcmp(cmd, "quit")) {
        g_main_loop_quit(C.loop);
    } else if (!strcmp(cmd, "resume") && !C.resumed) {
        /* The window ended: what the video rate counts. */
        C.resumed = true;
        C.vupd_window = C.vupd - C.vupd_base;
    }
}

static gboolean ctl_cb(gint fd, GIOCondition cond, gpointer data)
{
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n <= 0) {
        if (n < 0 && errno == EINTR) {
            return G_SOURCE_CONTINUE;
        }
        g_main_loop_quit(C.loop);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(C.ctl, buf, n);
    char *nl;
    /* A stall may read further commands into the buffer: loop until none. */
    while ((nl = strchr(C.ctl->str, '\n'))) {
        g_autofree char *cmd = g_strndup(C.ctl->str, (gsize)(nl - C.ctl->str));
        g_string_erase(C.ctl, 0, nl - C.ctl->str + 1);
        run_command(cmd);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean lifetime_cb(gpointer data)
{
    g_printerr("bench-client: lifetime exceeded, exiting\n");
    C.exit_code = 2;
    g_main_loop_quit(C.loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    const char *port = NULL;
    double max_s = 300;
    bool proxy = false;

    /* Never outlive the bench. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--proxy")) {
            proxy = true;
            continue;
        }
        if (i + 1 >= argc) {
            break;
        }
        if (!strcmp(argv[i], "--video-rect")) {
            if (sscanf(argv[i + 1], "%d,%d,%d,%d", &C.video[0], &C.video[1], &C.video[2],
                       &C.video[3]) != 4) {
                C.video[2] = 0;
            }
        } else if (!strcmp(argv[i], "--port")) {
            port = argv[i + 1];
        } else if (!strcmp(argv[i], "--delay-ms")) {
            C.delay_ms = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--max-seconds")) {
            max_s = g_ascii_strtod(argv[i + 1], NULL);
        }
        i++;
    }
    if (!port) {
        fprintf(stderr, "usage: bench-client --port P [--delay-ms N] [--max-seconds S] [--proxy]\n"
                "  [--video-rect X,Y,W,H]\n"
                "  control on stdin, replies on fd 3, pixels into fd 4\n");
        return 2;
    }
    g_autofree char *proxy_port = NULL;
    if (proxy) {
        GError *err = NULL;
        int lp = -1;
        C.proxy = bench_proxy_start(atoi(port), &lp, &err);
        if (!C.proxy) {
            fprintf(stderr, "bench-client: %s\n", err->message);
            return 1;
        }
        proxy_port = g_strdup_printf("%d", lp);
        port = proxy_port;
    }
    C.ctl = g_string_new(NULL);
    C.loop = g_main_loop_new(NULL, FALSE);
    C.session = spice_session_new();
    g_object_set(C.session, "host", "127.0.0.1", "port", port, "enable-audio", FALSE,
                 "enable-usbredir", FALSE, NULL);
    g_signal_connect(C.session, "channel-new", G_CALLBACK(channel_new_cb), NULL);
    g_signal_connect(C.session, "channel-destroy", G_CALLBACK(channel_destroy_cb), NULL);
    g_unix_fd_add(CTL_FD, G_IO_IN | G_IO_HUP | G_IO_ERR, ctl_cb, NULL);
    g_timeout_add((guint)(max_s * 1000), lifetime_cb, NULL);
    if (!spice_session_connect(C.session)) {
        fprintf(stderr, "bench-client: spice_session_connect failed\n");
        return 1;
    }
    g_main_loop_run(C.loop);
    fflush(stderr);
    /* _exit: the session's coroutines and sockets die with the process. */
    _exit(C.exit_code);
}

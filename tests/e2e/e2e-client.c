/* e2e-client PORT SECONDS: a spice-client-glib client for the end-to-end
 * tests. Connects to 127.0.0.1:PORT (no ticket), follows display channel 0
 * and answers commands read from stdin, one a line:
 *
 *   dump PATH   writes the client's decoded primary surface as an RGB PPM;
 *               answers "DUMPED <invalidate count>" or "NODUMP <why>"
 *   quit        disconnects and exits 0
 *   band Y0 Y1  counts from now on the invalidates touching rows Y0..Y1-1
 *   stats       answers "STATS invalidates=N band=N bytes=N creates=N
 *               destroys=N frames=N late=N dropped=N shown=N" (bytes: what
 *               the display channel has read; video streams below)
 *
 * Video streams: spice-client-glib has no API for them (its
 * "streaming-mode" signal is for GStreamer overlays), so the client turns
 * on the library's debug output and reads its own stream lines (Debian's
 * 0.42 channel-display.c / channel-display-mjpeg.c): STREAM_CREATE and
 * STREAM_DESTROY handled, each STREAM_DATA received ("video margin" or
 * "stream data too late"), MJPEG frames dropped at playback, and the
 * per-stream summary at destroy ("#in-frames=N out/in=R": shown = N * R).
 * It also prints "STREAM-CREATE" and "STREAM-DESTROY IN SHOWN" lines.
 *
 * Cursor channel: "CURSOR-SET W H HOT_X HOT_Y HEX" per shape set (HEX: the
 * W*H*4 bytes of the "cursor-set" signal's rgba, as the library hands them
 * over, two hex digits a byte), "CURSOR-MOVE X Y", "CURSOR-HIDE" and
 * "CURSOR-RESET" as the signals arrive.
 *
 * and reports on stdout "PRIMARY W H FORMAT" when the primary is created,
 * "MARK N" on display marks, "CHANNEL TYPE ID" per channel, "DISCONNECTED"
 * when the session ends. It exits after SECONDS (bounded), on stdin EOF or
 * on a channel error (exit 1). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <spice-client.h>

static GMainLoop *loop;
static SpiceChannel *display;
static guint64 invalidates;
static int exit_code;
static GString *inbuf;
static guint64 band_invalidates;
static int band_y0, band_y1;
static struct {
    unsigned creates, destroys, frames, late, dropped, shown;
} streams;

static void say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* Converts one surface pixel to RGB; false for formats we cannot read. */
static bool to_rgb(enum SpiceSurfaceFmt fmt, const guint8 *p, guint8 rgb[3])
{
    switch (fmt) {
    case SPICE_SURFACE_FMT_32_xRGB:
    case SPICE_SURFACE_FMT_32_ARGB:
        rgb[0] = p[2]; rgb[1] = p[1]; rgb[2] = p[0];
        return true;
    case SPICE_SURFACE_FMT_16_565: {
        guint16 v = (guint16)(p[0] | p[1] << 8);
        rgb[0] = (guint8)(((v >> 11) & 0x1f) * 255 / 31);
        rgb[1] = (guint8)(((v >> 5) & 0x3f) * 255 / 63);
        rgb[2] = (guint8)((v & 0x1f) * 255 / 31);
        return true;
    }
    case SPICE_SURFACE_FMT_16_555: {
        guint16 v = (guint16)(p[0] | p[1] << 8);
        rgb[0] = (guint8)(((v >> 10) & 0x1f) * 255 / 31);
        rgb[1] = (guint8)(((v >> 5) & 0x1f) * 255 / 31);
        rgb[2] = (guint8)((v & 0x1f) * 255 / 31);
        return true;
    }
    default:
        return false;
    }
}

static void dump(const char *path)
{
    SpiceDisplayPrimary pr;
    if (display == NULL || !spice_display_channel_get_primary(display, 0, &pr) || pr.data == NULL) {
        say("NODUMP no primary surface");
        return;
    }
    int bpp = pr.format == SPICE_SURFACE_FMT_16_565 || pr.format == SPICE_SURFACE_FMT_16_555 ? 2 : 4;
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        say("NODUMP %s: %s", path, strerror(errno));
        return;
    }
    fprintf(f, "P6\n%d %d\n255\n", pr.width, pr.height);
    guint8 *row = g_malloc((gsize)pr.width * 3);
    bool ok = true;
    for (int y = 0; y < pr.height && ok; y++) {
        const guint8 *src = pr.data + (gssize)y * pr.stride;
        for (int x = 0; x < pr.width && ok; x++) {
            ok = to_rgb(pr.format, src + x * bpp, row + x * 3);
        }
        ok = ok && fwrite(row, 3, (size_t)pr.width, f) == (size_t)pr.width;
    }
    g_free(row);
    if (fclose(f) != 0 || !ok) {
        say("NODUMP format %d or write error", pr.format);
        return;
    }
    say("DUMPED %" G_GUINT64_FORMAT, invalidates);
}

static void primary_create(SpiceChannel *ch, gint format, gint width, gint height, gint stride,
                           gint shmid, gpointer data, gpointer user)
{
    say("PRIMARY %d %d %d", width, height, format);
}

static void invalidate(SpiceChannel *ch, gint x, gint y, gint w, gint h, gpointer user)
{
    invalidates++;
    if (band_y1 > band_y0 && y < band_y1 && y + h > band_y0) {
        band_invalidates++;
    }
}

/* Reads spice-client-glib's debug lines about video streams (see the top
 * comment); every other debug line is dropped, other levels go to GLib's
 * default writer. */
static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                   gpointer user)
{
    if (!(level & G_LOG_LEVEL_DEBUG)) {
        return g_log_writer_default(level, fields, n, user);
    }
    const char *msg = NULL;
    for (gsize i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0) {
            msg = fields[i].value;
        }
    }
    if (msg == NULL) {
        return G_LOG_WRITER_HANDLED;
    }
    const char *p;
    if (strstr(msg, "display_handle_stream_create:") != NULL) {
        streams.creates++;
        say("STREAM-CREATE");
    } else if (strstr(msg, "display_handle_stream_destroy:") != NULL) {
        streams.destroys++;
    } else if (strstr(msg, "video margin:") != NULL) {
        streams.frames++;
    } else if (strstr(msg, "stream data too late") != NULL) {
        streams.frames++;
        streams.late++;
    } else if (strstr(msg, "dropping a late MJPEG frame") != NULL ||
               strstr(msg, "rendering too late") != NULL) {
        streams.dropped++;
    } else if ((p = strstr(msg, "#in-frames=")) != NULL) {
        unsigned in = 0;
        double ratio = 0;
        if (sscanf(p, "#in-frames=%u out/in=%lf", &in, &ratio) == 2) {
            unsigned shown = (unsigned)(in * ratio + 0.5);
            streams.shown += shown;
            say("STREAM-DESTROY %u %u", in, shown);
        }
    }
    return G_LOG_WRITER_HANDLED;
}

static void mark(SpiceChannel *ch, gint m, gpointer user)
{
    say("MARK %d", m);
}

static void cursor_set(SpiceChannel *ch, gint w, gint h, gint hot_x, gint hot_y, gpointer rgba,
                       gpointer user)
{
    size_t n = w > 0 && h > 0 && w <= 512 && h <= 512 && rgba != NULL ? (size_t)w * (size_t)h * 4 : 0;
    GString *hex = g_string_sized_new(n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(hex, "%02x", ((const guint8 *)rgba)[i]);
    }
    say("CURSOR-SET %d %d %d %d %s", w, h, hot_x, hot_y, n ? hex->str : "-");
    g_string_free(hex, TRUE);
}

static void cursor_move(SpiceChannel *ch, gint x, gint y, gpointer user)
{
    say("CURSOR-MOVE %d %d", x, y);
}

static void cursor_hide(SpiceChannel *ch, gpointer user)
{
    say("CURSOR-HIDE");
}

static void cursor_reset(SpiceChannel *ch, gpointer user)
{
    say("CURSOR-RESET");
}

static void channel_event(SpiceChannel *ch, SpiceChannelEvent ev, gpointer user)
{
    switch (ev) {
    case SPICE_CHANNEL_OPENED:
        break;
    case SPICE_CHANNEL_CLOSED:
        say("DISCONNECTED");
        g_main_loop_quit(loop);
        break;
    default:
        say("CHANNEL-ERROR %d", ev);
        exit_code = 1;
        g_main_loop_quit(loop);
        break;
    }
}

static void channel_new(SpiceSession *s, SpiceChannel *ch, gpointer user)
{
    int type, id;
    g_object_get(ch, "channel-type", &type, "channel-id", &id, NULL);
    say("CHANNEL %d %d", type, id);
    g_signal_connect(ch, "channel-event", G_CALLBACK(channel_event), NULL);
    if (SPICE_IS_DISPLAY_CHANNEL(ch) && id == 0) {
        display = ch;
        g_signal_connect(ch, "display-primary-create", G_CALLBACK(primary_create), NULL);
        g_signal_connect(ch, "display-invalidate", G_CALLBACK(invalidate), NULL);
        g_signal_connect(ch, "display-mark", G_CALLBACK(mark), NULL);
    }
    if (SPICE_IS_CURSOR_CHANNEL(ch)) {
        g_signal_connect(ch, "cursor-set", G_CALLBACK(cursor_set), NULL);
        g_signal_connect(ch, "cursor-move", G_CALLBACK(cursor_move), NULL);
        g_signal_connect(ch, "cursor-hide", G_CALLBACK(cursor_hide), NULL);
        g_signal_connect(ch, "cursor-reset", G_CALLBACK(cursor_reset), NULL);
    }
    if (!SPICE_IS_MAIN_CHANNEL(ch)) {
        spice_channel_connect(ch);
    }
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer user)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(inbuf, buf, n);
    char *nl;
    while ((nl = memchr(inbuf->str, '\n', inbuf->len)) != NULL) {
        *nl = '\0';
        if (g_str_has_prefix(inbuf->str, "dump ")) {
            dump(inbuf->str + 5);
        } else if (sscanf(inbuf->str, "band %d %d", &band_y0, &band_y1) == 2) {
            band_invalidates = 0;
            say("BAND %d %d", band_y0, band_y1);
        } else if (strcmp(inbuf->str, "stats") == 0) {
            gulong bytes = 0;
            if (display != NULL) {
                g_object_get(display, "total-read-bytes", &bytes, NULL);
            }
            say("STATS invalidates=%" G_GUINT64_FORMAT " band=%" G_GUINT64_FORMAT
                " bytes=%lu creates=%u destroys=%u frames=%u late=%u dropped=%u shown=%u",
                invalidates, band_invalidates, bytes, streams.creates, streams.destroys,
                streams.frames, streams.late, streams.dropped, streams.shown);
        } else if (strcmp(inbuf->str, "quit") == 0) {
            g_main_loop_quit(loop);
        } else {
            say("UNKNOWN %s", inbuf->str);
        }
        g_string_erase(inbuf, 0, nl - inbuf->str + 1);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_timeout(gpointer user)
{
    say("TIMEOUT");
    exit_code = 1;
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT SECONDS\n", argv[0]);
        return 2;
    }
    int seconds = CLAMP(atoi(argv[2]), 1, 600);
    /* The library's debug lines are how streams are seen (log_writer). */
    g_setenv("G_MESSAGES_DEBUG", "GSpice", TRUE);
    g_log_set_writer_func(log_writer, NULL, NULL);
    spice_util_set_debug(TRUE);
    loop = g_main_loop_new(NULL, FALSE);
    inbuf = g_string_new(NULL);
    SpiceSession *s = spice_session_new();
    g_object_set(s, "host", "127.0.0.1", "port", argv[1], NULL);
    g_signal_connect(s, "channel-new", G_CALLBACK(channel_new), NULL);
    g_unix_fd_add(0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
    g_timeout_add_seconds((guint)seconds, on_timeout, NULL);
    if (!spice_session_connect(s)) {
        say("CONNECT-FAILED");
        return 1;
    }
    g_main_loop_run(loop);
    spice_session_disconnect(s);
    g_object_unref(s);
    g_string_free(inbuf, TRUE);
    g_main_loop_unref(loop);
    return exit_code;
}

/* Video streams against the real spice-client-glib.
 *
 * The harness is tests/integration/display's: the test plays the QXL
 * worker on a thread with its own GMainContext, the server and the client
 * run on this thread's default context. A region of the primary changes at
 * 30 fps for 2 s: it must become a stream (STREAM_CREATE, MJPEG frames,
 * client reports), the client's primary must show the frames within a
 * PSNR bound while they play, and once the frames stop and the stream
 * times out, the client's primary must equal the server canvas exactly
 * (the lossless upgrade). Every wait is bounded; no sleeps (pacing waits
 * iterate the main loop until a timer fires). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <math.h>

#include <glib.h>
#include <spice-client.h>

#include "core-loop.h"
#include "server/core/reds.h"
#include "server/display/cursor-channel.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"
#include "tests/unit/stream/stream-util.h"

#define WAIT_MS 15000
#define BUDGET (1u << 20)

static gboolean wait_timeout_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

#define WAIT_FOR(cond, ms) ({                                             \
        bool timed_out_ = false;                                          \
        guint id_ = g_timeout_add((ms), wait_timeout_cb, &timed_out_);    \
        while (!(cond) && !timed_out_) {                                  \
            g_main_context_iteration(NULL, TRUE);                         \
        }                                                                 \
        if (!timed_out_) {                                                \
            g_source_remove(id_);                                         \
        }                                                                 \
        (cond);                                                           \
    })

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* ---- the fake worker ---- */

typedef struct Worker {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    RedLoop *rloop;
    RedChannel *dc, *cc;
    RedCanvas *canvases[TEST_MAX_SURFACES];
    GMutex lock;
    GCond cond;
    unsigned render_calls;
} Worker;

static Worker W;

static gpointer worker_thread(gpointer data)
{
    g_main_context_push_thread_default(W.ctx);
    g_main_loop_run(W.loop);
    g_main_context_pop_thread_default(W.ctx);
    return NULL;
}

typedef struct Job {
    void (*func)(void *data);
    void *data;
    bool done;
} Job;

static gboolean job_cb(gpointer p)
{
    Job *j = p;
    j->func(j->data);
    g_mutex_lock(&W.lock);
    j->done = true;
    g_cond_broadcast(&W.cond);
    g_mutex_unlock(&W.lock);
    return G_SOURCE_REMOVE;
}

/* Runs func on the worker thread and waits for it (the main context is
 * not iterated meanwhile: the client reads nothing). */
static void on_worker(void (*func)(void *data), void *data)
{
    Job j = { func, data, false };
    g_main_context_invoke(W.ctx, job_cb, &j);
    g_mutex_lock(&W.lock);
    while (!j.done) {
        g_cond_wait(&W.cond, &W.lock);
    }
    g_mutex_unlock(&W.lock);
}

typedef struct Post {
    void (*func)(void *data);
    void *data;
} Post;

static gboolean post_cb(gpointer p)
{
    Post *post = p;
    post->func(post->data);
    g_free(post);
    return G_SOURCE_REMOVE;
}

static void host_post(void *opaque, void (*func)(void *data), void *data)
{
    Post *p = g_new(Post, 1);
    p->func = func;
    p->data = data;
    g_main_context_invoke(W.ctx, post_cb, p);
}

static void host_render(void *opaque, uint32_t id, const pixman_region32_t *region)
{
    W.render_calls++;               /* drawing is rendered eagerly here */
}

static RedCanvas *host_canvas(void *opaque, uint32_t id)
{
    return id < TEST_MAX_SURFACES ? W.canvases[id] : NULL;
}

/* ---- worker jobs ---- */

#define SX 40
#define SY 30
#define SW 192
#define SH 144
#define FPS 30

static void surface_job(void *data)
{
    W.canvases[0] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 320, 240, NULL);
    RedCanvasBrush b = { .type = RED_CANVAS_BRUSH_SOLID, .color = 0x204060 };
    pixman_box32_t box = { 0, 0, 320, 240 };
    red_canvas_fill(W.canvases[0], NULL, &box, &b, SPICE_ROPD_OP_PUT, NULL);
    display_channel_surface_create(W.dc, 0, 320, 240, SPICE_SURFACE_FMT_32_xRGB, true);
}

static void draw(TestDraw *d)
{
    test_draw_render(d, W.canvases);
    display_channel_draw(W.dc, &d->red, NULL);
    test_draw_free(d);
}

typedef struct FrameJob {
    int n;
    bool text;
} FrameJob;

static void frame_job(void *data)
{
    FrameJob *j = data;
    draw(j->text ? stream_test_text_frame(SX, SY, SW, SH, j->n)
                 : stream_test_video_frame(SX, SY, SW, SH, j->n));
}

static void fill_job(void *data)
{
    /* something covering part of the video: a clip update before it */
    draw(test_draw_fill(0, SX + 10, SY + 10, 30, 20, 0xff8000));
}

typedef struct StatsJob {
    uint32_t live;                  /* channel streams */
    uint32_t active;                /* client agents */
    uint64_t frames_sent, reports, bytes;
    int quality;
} StatsJob;

static void stats_job(void *data)
{
    StatsJob *j = data;
    DisplayChannel *dc = (DisplayChannel *)W.dc;
    memset(j, 0, sizeof(*j));
    j->live = dc->streams.n_live;
    for (GList *l = W.dc->clients; l; l = l->next) {
        DisplayChannelClient *dcc = l->data;
        for (uint32_t i = 0; i < STREAM_MAX; i++) {
            StreamAgent *a = &dcc->agents[i];
            j->active += a->active;
            j->frames_sent += a->rate.frames_sent;
            j->reports += a->rate.reports;
            j->bytes += a->rate.bytes_sent;
            j->quality = MAX(j->quality, a->rate.quality);
        }
    }
}

static StatsJob stats(void)
{
    StatsJob j;
    on_worker(stats_job, &j);
    return j;
}

/* Iterates the main loop (client and server) for ms. */
static void pump(unsigned ms)
{
    WAIT_FOR(false, ms);
}
typedef struct SnapJob {
    uint32_t *pixels;
    int w, h;
} SnapJob;

static void snap_job(void *data)
{
    SnapJob *j = data;
    RedCanvas *c = W.canvases[0];
    j->w = red_canvas_get_width(c);
    j->h = red_canvas_get_height(c);
    j->pixels = g_new(uint32_t, (size_t)j->w * j->h);
    pixman_box32_t all = { 0, 0, j->w, j->h };
    red_canvas_read(c, &all, (uint8_t *)j->pixels, j->w * 4);
}

static void free_channels_job(void *data)
{
    display_channel_free(W.dc);
    cursor_channel_free(W.cc);
    W.dc = W.cc = NULL;
    for (int i = 0; i < TEST_MAX_SURFACES; i++) {
        g_clear_pointer(&W.canvases[i], red_canvas_destroy);
    }
}

/* ---- client ---- */

typedef struct Client {
    SpiceSession *session;
    SpiceChannel *main, *display, *cursor;
    int display_event;
    unsigned cursor_sets;
    int cursor_w, cursor_hx;
    uint32_t cursor_px;
} Client;

static Client C;

static void display_event_cb(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
    C.display_event = ev;
}

static void cursor_set_cb(SpiceCursorChannel *ch, gint w, gint h, gint hx, gint hy,
                          gpointer rgba, gpointer data)
{
    C.cursor_sets++;
    C.cursor_w = w;
    C.cursor_hx = hx;
    if (rgba) {
        memcpy(&C.cursor_px, rgba, 4);
    }
}

static void channel_new_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    if (SPICE_IS_MAIN_CHANNEL(ch)) {
        C.main = ch;
    } else if (SPICE_IS_DISPLAY_CHANNEL(ch)) {
        C.display = ch;
        g_signal_connect(ch, "channel-event", G_CALLBACK(display_event_cb), NULL);
        spice_channel_connect(ch);
    } else if (SPICE_IS_CURSOR_CHANNEL(ch)) {
        C.cursor = ch;
        g_signal_connect(ch, "cursor-set", G_CALLBACK(cursor_set_cb), NULL);
        spice_channel_connect(ch);
    }
}

static void channel_destroy_cb(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
    g_signal_handlers_disconnect_by_data(ch, NULL);
    if (ch == C.main) {
        C.main = NULL;
    } else if (ch == C.display) {
        C.display = NULL;
    } else if (ch == C.cursor) {
        C.cursor = NULL;
    }
}

static bool get_primary(SpiceDisplayPrimary *p, const SnapJob *snap)
{
    return C.display && spice_display_channel_get_primary(C.display, 0, p) && p->marked &&
           p->width == snap->w && p->height == snap->h;
}

/* PSNR (dB, RGB) of the client's primary against snap inside the stream
 * rectangle; 999 when identical, -1 without a primary. */
static double stream_psnr(const SnapJob *snap)
{
    SpiceDisplayPrimary p;
    if (!get_primary(&p, snap)) {
        return -1;
    }
    double se = 0;
    for (int y = SY; y < SY + SH; y++) {
        const uint32_t *row = (const uint32_t *)(void *)(p.data + (size_t)y * p.stride);
        for (int x = SX; x < SX + SW; x++) {
            uint32_t a = row[x], b = snap->pixels[(size_t)y * snap->w + x];
            for (int sh = 0; sh < 24; sh += 8) {
                double d = (double)((a >> sh) & 0xff) - (double)((b >> sh) & 0xff);
                se += d * d;
            }
        }
    }
    if (se == 0) {
        return 999;
    }
    double mse = se / (3.0 * SW * SH);
    return 10 * log10(255.0 * 255.0 / mse);
}

static bool primary_matches(const SnapJob *snap)
{
    SpiceDisplayPrimary p;
    if (!get_primary(&p, snap)) {
        return false;
    }
    for (int y = 0; y < p.height; y++) {
        const uint32_t *row = (const uint32_t *)(void *)(p.data + (size_t)y * p.stride);
        for (int x = 0; x < p.width; x++) {
            if ((row[x] ^ snap->pixels[(size_t)y * snap->w + x]) & 0xffffff) {
                return false;
            }
        }
    }
    return true;
}

static void expect_converged(const char *what)
{
    SnapJob snap = { 0 };
    on_worker(snap_job, &snap);
    if (!WAIT_FOR(primary_matches(&snap), WAIT_MS)) {
        g_error("%s: client primary differs from the server canvas", what);
    }
    g_free(snap.pixels);
}

/* Waits (bounded) until the server has no live stream. */
static bool wait_streams_gone(unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 50) {
        if (stats().live == 0) {
            return true;
        }
        pump(50);
    }
    return stats().live == 0;
}

static gboolean log_fatal_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                             gpointer data)
{
    return level & G_LOG_LEVEL_ERROR;
}

static void test_stream_client(void)
{
    g_test_log_set_fatal_handler(log_fatal_cb, NULL);
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(1048576), TRUE);

    SpiceCoreInterface *core = embedder_core_new(NULL);
    SpiceServer *server = spice_server_new();
    int port = free_port();
    spice_server_set_addr(server, "127.0.0.1", 0);
    spice_server_set_port(server, port);
    spice_server_set_noauth(server);
    /* the default, said explicitly: text-like updates must not stream */
    g_assert_cmpint(spice_server_set_streaming_video(server, SPICE_STREAM_VIDEO_FILTER), ==, 0);
    g_assert_cmpint(spice_server_init(server, core), ==, 0);
    RedsState *reds = server;

    W.ctx = g_main_context_new();
    W.loop = g_main_loop_new(W.ctx, FALSE);
    W.rloop = red_loop_new_glib(W.ctx);
    g_mutex_init(&W.lock);
    g_cond_init(&W.cond);
    DisplayChannelHost dhost = { NULL, host_post, host_render, host_canvas, NULL };
    CursorChannelHost chost = { NULL, host_post };
    W.dc = display_channel_new(reds, W.rloop, 0, &dhost);
    W.cc = cursor_channel_new(reds, W.rloop, 0, &chost);
    reds_register_channel(reds, W.dc);
    reds_register_channel(reds, W.cc);
    W.thread = g_thread_new("fake-worker", worker_thread, NULL);
    on_worker(surface_job, NULL);

    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    C.session = spice_session_new();
    g_object_set(C.session, "host", "127.0.0.1", "port", portstr, NULL);
    g_signal_connect(C.session, "channel-new", G_CALLBACK(channel_new_cb), NULL);
    g_signal_connect(C.session, "channel-destroy", G_CALLBACK(channel_destroy_cb), NULL);
    g_assert_true(spice_session_connect(C.session));
    g_assert_true(WAIT_FOR(C.display_event == SPICE_CHANNEL_OPENED, WAIT_MS));
    expect_converged("initial picture");

    /* text-like updates at video rate: FILTER keeps them lossless */
    for (int n = 0; n < FPS; n++) {
        FrameJob fj = { n, true };
        on_worker(frame_job, &fj);
        pump(1000 / FPS);
    }
    StatsJob st = stats();
    g_assert_cmpuint(st.live, ==, 0);
    g_assert_cmpuint(st.frames_sent, ==, 0);
    expect_converged("text at video rate");

    /* a video region at 30 fps for 2 s */
    double min_psnr = 999, last_psnr = -1;
    bool lossy_seen = false;
    uint32_t max_active = 0;
    for (int n = 0; n < 2 * FPS; n++) {
        FrameJob fj = { n, false };
        on_worker(frame_job, &fj);
        if (n == STREAM_START_FRAMES + 10) {
            on_worker(fill_job, NULL);
        }
        pump(1000 / FPS);
        if (n % 10 == 9) {
            max_active = MAX(max_active, stats().active);
        }
    }
    /* the frames show on the client, lossy but close */
    SnapJob snap = { 0 };
    on_worker(snap_job, &snap);
    bool close = WAIT_FOR((last_psnr = stream_psnr(&snap)) >= 30.0, 800);
    st = stats();
    g_test_message("streaming: %" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
                   " bytes, %" G_GUINT64_FORMAT " reports, quality %d, last psnr %.1f dB",
                   st.frames_sent, st.bytes, st.reports, st.quality, last_psnr);
    lossy_seen = last_psnr < 999;
    min_psnr = last_psnr;
    g_assert_true(close);
    g_assert_cmpfloat(min_psnr, >=, 30.0);
    g_assert_true(lossy_seen);                      /* a JPEG frame, not a lossless copy */
    g_assert_cmpuint(max_active, ==, 1);            /* one stream on the client */
    g_assert_cmpuint(st.live, ==, 1);
    g_assert_cmpuint(st.frames_sent, >=, 2 * FPS - STREAM_START_FRAMES - 10);
    g_assert_cmpuint(st.reports, >=, 1);            /* STREAM_ACTIVATE_REPORT took */
    g_free(snap.pixels);

    /* frames stop: the stream times out and the area goes lossless */
    g_assert_true(wait_streams_gone(STREAM_TIMEOUT_MS * 4));
    g_assert_cmpuint(stats().active, ==, 0);
    expect_converged("after the stream ended");

    /* a second run streams again (ids are reused), then the primary goes
     * away under it */
    for (int n = 0; n < (int)STREAM_START_FRAMES + 10; n++) {
        FrameJob fj = { n, false };
        on_worker(frame_job, &fj);
        pump(1000 / FPS);
    }
    g_assert_cmpuint(stats().live, ==, 1);
    g_assert_true(wait_streams_gone(STREAM_TIMEOUT_MS * 4));
    expect_converged("after the second stream");

    /* teardown */
    spice_session_disconnect(C.session);
    WAIT_FOR(C.main == NULL && C.display == NULL && C.cursor == NULL, WAIT_MS);
    g_object_unref(C.session);
    reds_unregister_channel(reds, W.dc);
    reds_unregister_channel(reds, W.cc);
    on_worker(free_channels_job, NULL);
    g_main_loop_quit(W.loop);
    g_thread_join(W.thread);
    spice_server_destroy(server);
    red_loop_free(W.rloop);
    g_main_loop_unref(W.loop);
    g_main_context_unref(W.ctx);
    embedder_core_free(core);
    g_unsetenv(DISPLAY_ENV_PIPE_BUDGET);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stream/spice-gtk", test_stream_client);
    return g_test_run();
}

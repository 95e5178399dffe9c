/* The display and cursor channels against the real spice-client-glib.
 *
 * The test plays the QXL worker: a thread with its own GMainContext owns
 * the surfaces (RedCanvas) and feeds display_channel_* / cursor_channel_*
 * events made from RedDrawable / RedCursorCmd structs. The server runs on
 * this thread's default context (tools/embedder core loop) with the client
 * (spice-gtk's coroutines run there too). Since the display channel's
 * registration normally comes from the worker, the test registers the
 * channels with reds itself.
 *
 * After each workload the client's decoded primary
 * (spice_display_channel_get_primary) must equal the server canvas pixel
 * for pixel. A stalled client (this thread blocks while the worker draws,
 * so the client reads nothing) keeps the server pipe under budget and then
 * converges. Every wait is bounded (WAIT_MS); no sleeps. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <spice-client.h>

#include "core-loop.h"
#include "server/core/reds.h"
#include "server/display/cursor-channel.h"
#include "server/display/dcc.h"
#include "server/display/display-channel.h"
#include "tests/unit/display/draw-util.h"

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

typedef struct SurfaceJob {
    uint32_t id, w, h, color;
    bool primary, destroy;
} SurfaceJob;

static void surface_job(void *data)
{
    SurfaceJob *j = data;
    if (j->destroy) {
        display_channel_surface_destroy(W.dc, j->id);
        red_canvas_destroy(W.canvases[j->id]);
        W.canvases[j->id] = NULL;
        if (j->primary) {
            cursor_channel_reset(W.cc);
        }
        return;
    }
    W.canvases[j->id] = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, (int)j->w, (int)j->h, NULL);
    RedCanvasBrush b = { .type = RED_CANVAS_BRUSH_SOLID, .color = j->color };
    pixman_box32_t box = { 0, 0, (int)j->w, (int)j->h };
    red_canvas_fill(W.canvases[j->id], NULL, &box, &b, SPICE_ROPD_OP_PUT, NULL);
    display_channel_surface_create(W.dc, j->id, j->w, j->h, SPICE_SURFACE_FMT_32_xRGB, j->primary);
}

static void draw(TestDraw *d)
{
    test_draw_render(d, W.canvases);
    display_channel_draw(W.dc, &d->red, NULL);
    test_draw_free(d);
}

typedef struct DrawJob {
    uint32_t seed;
    int count;
    int width, height;
    size_t max_pipe;                /* out: largest pipe seen */
    uint64_t cache_hits;            /* out */
    bool stalled;                   /* out: the client went into damage mode */
} DrawJob;

static void draw_job(void *data)
{
    DrawJob *j = data;
    GRand *r = g_rand_new_with_seed(j->seed);
    for (int i = 0; i < j->count; i++) {
        int w = g_rand_int_range(r, 1, 64), h = g_rand_int_range(r, 1, 64);
        int x = g_rand_int_range(r, 0, j->width - w), y = g_rand_int_range(r, 0, j->height - h);
        int kind = g_rand_int_range(r, 0, 12);
        if (kind < 4) {
            draw(test_draw_fill(0, x, y, w, h, g_rand_int(r) & 0xffffff));
        } else if (kind < 8) {
            /* varied bitmaps: formats, orientation, cacheable ids that repeat */
            uint64_t id = (uint64_t)g_rand_int_range(r, 1, 10);
            int s = 12 + (int)id * 3;
            uint8_t fmt = (id & 1) ? SPICE_BITMAP_FMT_24BIT : SPICE_BITMAP_FMT_32BIT;
            draw(test_draw_copy_bitmap(0, MIN(x, j->width - s), MIN(y, j->height - s), s, s,
                                       (uint32_t)id, id << 24, fmt, id % 3 != 0));
        } else if (kind < 9) {
            draw(test_draw_copy_bitmap(0, x, y, w, h, g_rand_int(r), 0, SPICE_BITMAP_FMT_32BIT,
                                       false));
        } else if (kind < 11) {
            draw(test_draw_fill(1, x % 48, y % 48, 16, 16, g_rand_int(r) & 0xffffff));
            draw(test_draw_copy_surface(0, x % (j->width - 64), y % (j->height - 64), 64, 64,
                                        1, 0, 0));
        } else {
            draw(test_draw_copy_bits(0, 0, 0, j->width, j->height - 8, 0, 8));
        }
        j->max_pipe = MAX(j->max_pipe, display_channel_pipe_bytes(W.dc));
        for (GList *l = W.dc->clients; l; l = l->next) {
            DisplayChannelClient *dcc = l->data;
            j->stalled |= dcc->mode == DCC_DAMAGE;
        }
    }
    for (GList *l = W.dc->clients; l; l = l->next) {
        j->cache_hits += ((DisplayChannelClient *)l->data)->cache.hits;
    }
    g_rand_free(r);
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

typedef struct CursorJob {
    int kind;                       /* 0 set, 1 move, 2 hide */
    uint64_t unique;
    uint32_t color;
    int16_t x, y;
} CursorJob;

static void cursor_job(void *data)
{
    CursorJob *j = data;
    if (j->kind == 1) {
        cursor_channel_move(W.cc, (RedPoint16){ j->x, j->y });
        return;
    }
    if (j->kind == 2) {
        cursor_channel_hide(W.cc);
        return;
    }
    RedCursorCmd cmd = { .type = QXL_CURSOR_SET };
    uint32_t px[32 * 32];
    for (int i = 0; i < 32 * 32; i++) {
        px[i] = j->color;
    }
    cmd.u.set.position = (RedPoint16){ j->x, j->y };
    cmd.u.set.visible = 1;
    cmd.u.set.shape = (RedCursorShape){ .unique = j->unique, .type = SPICE_CURSOR_TYPE_ALPHA,
                                        .width = 32, .height = 32, .hot_spot_x = 2,
                                        .hot_spot_y = 3, .data_size = sizeof(px),
                                        .data = (uint8_t *)px };
    cursor_channel_process_cmd(W.cc, &cmd);
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

/* spice-gtk hands ALPHA cursors over as RGBA bytes; ours are B,G,R,A. */
static uint32_t as_rgba(uint32_t bgra)
{
    return (bgra & 0xff00ff00u) | ((bgra >> 16) & 0xffu) | ((bgra & 0xffu) << 16);
}

/* Client primary equals the server canvas (low 24 bits). */
static bool primary_matches(const SnapJob *snap)
{
    SpiceDisplayPrimary p;
    if (!C.display || !spice_display_channel_get_primary(C.display, 0, &p) || !p.marked ||
        p.width != snap->w || p.height != snap->h) {
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

static gboolean log_fatal_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                             gpointer data)
{
    return level & G_LOG_LEVEL_ERROR;
}

static void test_display_client(void)
{
    g_test_log_set_fatal_handler(log_fatal_cb, NULL);
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(1048576), TRUE);

    SpiceCoreInterface *core = embedder_core_new(NULL);
    SpiceServer *server = spice_server_new();
    int port = free_port();
    spice_server_set_addr(server, "127.0.0.1", 0);
    spice_server_set_port(server, port);
    spice_server_set_noauth(server);
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

    SurfaceJob primary = { 0, 320, 240, 0x204060, true, false };
    on_worker(surface_job, &primary);
    SurfaceJob off = { 1, 64, 64, 0x808000, false, false };
    on_worker(surface_job, &off);
    CursorJob cur = { 0, 77, 0xff00ff00, 5, 6 };
    on_worker(cursor_job, &cur);

    /* connect: initial picture and cursor */
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    C.session = spice_session_new();
    g_object_set(C.session, "host", "127.0.0.1", "port", portstr, NULL);
    g_signal_connect(C.session, "channel-new", G_CALLBACK(channel_new_cb), NULL);
    g_signal_connect(C.session, "channel-destroy", G_CALLBACK(channel_destroy_cb), NULL);
    g_assert_true(spice_session_connect(C.session));
    g_assert_true(WAIT_FOR(C.display_event == SPICE_CHANNEL_OPENED, WAIT_MS));
    expect_converged("initial picture");
    g_assert_true(WAIT_FOR(C.cursor_sets >= 1, WAIT_MS));
    g_assert_cmpint(C.cursor_w, ==, 32);
    g_assert_cmpint(C.cursor_hx, ==, 2);

    /* fills, varied bitmaps (cached ids repeat), surfaces, scrolling */
    DrawJob dj = { .seed = 1, .count = 300, .width = 320, .height = 240 };
    on_worker(draw_job, &dj);
    expect_converged("draw workload");
    DrawJob dj2 = { .seed = 2, .count = 300, .width = 320, .height = 240 };
    on_worker(draw_job, &dj2);
    expect_converged("second draw workload");
    g_assert_cmpuint(dj2.cache_hits, >, 0);

    /* cursor: a new shape, then the first again (from the client cache) */
    unsigned sets = C.cursor_sets;
    CursorJob cur2 = { 0, 78, 0xff0000ff, 10, 10 };
    on_worker(cursor_job, &cur2);
    g_assert_true(WAIT_FOR(C.cursor_sets > sets && C.cursor_px == as_rgba(0xff0000ff), WAIT_MS));
    sets = C.cursor_sets;
    on_worker(cursor_job, &cur);
    g_assert_true(WAIT_FOR(C.cursor_sets > sets && C.cursor_px == as_rgba(0xff00ff00), WAIT_MS));

    /* resolution change */
    SurfaceJob destroy = { 0, 0, 0, 0, true, true };
    on_worker(surface_job, &destroy);
    SurfaceJob bigger = { 0, 400, 300, 0x102030, true, false };
    on_worker(surface_job, &bigger);
    on_worker(cursor_job, &cur);
    DrawJob dj3 = { .seed = 3, .count = 200, .width = 400, .height = 300 };
    on_worker(draw_job, &dj3);
    expect_converged("after resolution change");

    /* stalled client: this thread blocks while the worker draws thousands
     * of drawables, so the client reads nothing meanwhile */
    DrawJob stall = { .seed = 4, .count = 4000, .width = 400, .height = 300 };
    on_worker(draw_job, &stall);
    g_assert_true(stall.stalled);
    g_assert_cmpuint(stall.max_pipe, <=, BUDGET);
    expect_converged("after the stall");

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
    g_test_add_func("/display/spice-gtk", test_display_client);
    return g_test_run();
}

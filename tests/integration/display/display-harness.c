/* Shared harness for the display-channel tests against the real
 * spice-client-glib: see display-harness.h. */
#include "tests/integration/display/display-harness.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

Worker W;
Client C;

static SpiceCoreInterface *H_core;
static SpiceServer *H_server;

/* ---- the fake worker ---- */

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

void on_worker(void (*func)(void *data), void *data)
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

void surface_job(void *data)
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

void harness_draw(TestDraw *d)
{
    test_draw_render(d, W.canvases);
    display_channel_draw(W.dc, &d->red, NULL);
    test_draw_free(d);
}

void snap_job(void *data)
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

bool primary_matches(const SnapJob *snap)
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

double primary_psnr(const SnapJob *snap)
{
    return primary_psnr_rect(snap, 0, 0, snap->w, snap->h);
}

double primary_psnr_rect(const SnapJob *snap, int x0, int y0, int w, int h)
{
    SpiceDisplayPrimary p;
    if (!C.display || !spice_display_channel_get_primary(C.display, 0, &p) || !p.marked ||
        p.width != snap->w || p.height != snap->h) {
        return -1;
    }
    g_assert_true(x0 >= 0 && y0 >= 0 && x0 + w <= p.width && y0 + h <= p.height);
    double se = 0;
    for (int y = y0; y < y0 + h; y++) {
        const uint32_t *row = (const uint32_t *)(void *)(p.data + (size_t)y * p.stride);
        for (int x = x0; x < x0 + w; x++) {
            uint32_t a = row[x], b = snap->pixels[(size_t)y * snap->w + x];
            for (int s = 0; s < 24; s += 8) {
                double d = (double)((a >> s) & 0xff) - (double)((b >> s) & 0xff);
                se += d * d;
            }
        }
    }
    if (se == 0) {
        return INFINITY;
    }
    double mse = se / ((double)w * h * 3);
    return 10 * log10(255.0 * 255.0 / mse);
}

void expect_converged(const char *what)
{
    SnapJob snap = { 0 };
    on_worker(snap_job, &snap);
    if (!WAIT_FOR(primary_matches(&snap), WAIT_MS)) {
        SpiceDisplayPrimary p;
        long n = 0;
        int x1 = INT32_MAX, y1 = INT32_MAX, x2 = -1, y2 = -1;
        if (C.display && spice_display_channel_get_primary(C.display, 0, &p) &&
            p.width == snap.w && p.height == snap.h) {
            for (int y = 0; y < p.height; y++) {
                const uint32_t *row = (const uint32_t *)(void *)(p.data + (size_t)y * p.stride);
                for (int x = 0; x < p.width; x++) {
                    if ((row[x] ^ snap.pixels[(size_t)y * snap.w + x]) & 0xffffff) {
                        n++;
                        x1 = MIN(x1, x), y1 = MIN(y1, y), x2 = MAX(x2, x), y2 = MAX(y2, y);
                    }
                }
            }
        }
        g_error("%s: client primary differs from the server canvas (%ld pixels in "
                "(%d,%d)-(%d,%d))", what, n, x1, y1, x2, y2);
    }
    g_free(snap.pixels);
}

static gboolean log_fatal_cb(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                             gpointer data)
{
    return level & G_LOG_LEVEL_ERROR;
}

SpiceServer *harness_start(void (*configure)(SpiceServer *server))
{
    g_test_log_set_fatal_handler(log_fatal_cb, NULL);
    H_core = embedder_core_new(NULL);
    H_server = spice_server_new();
    int port = loop_free_port();
    spice_server_set_addr(H_server, "127.0.0.1", 0);
    spice_server_set_port(H_server, port);
    spice_server_set_noauth(H_server);
    if (configure) {
        configure(H_server);
    }
    g_assert_cmpint(spice_server_init(H_server, H_core), ==, 0);
    RedsState *reds = H_server;

    memset(&W, 0, sizeof(W));
    memset(&C, 0, sizeof(C));
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

    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    C.session = spice_session_new();
    g_object_set(C.session, "host", "127.0.0.1", "port", portstr, NULL);
    g_signal_connect(C.session, "channel-new", G_CALLBACK(channel_new_cb), NULL);
    g_signal_connect(C.session, "channel-destroy", G_CALLBACK(channel_destroy_cb), NULL);
    return H_server;
}

void harness_connect(void)
{
    g_assert_true(spice_session_connect(C.session));
    g_assert_true(WAIT_FOR(C.display_event == SPICE_CHANNEL_OPENED, WAIT_MS));
}

void harness_stop(void)
{
    RedsState *reds = H_server;
    spice_session_disconnect(C.session);
    WAIT_FOR(C.main == NULL && C.display == NULL && C.cursor == NULL, WAIT_MS);
    g_object_unref(C.session);
    reds_unregister_channel(reds, W.dc);
    reds_unregister_channel(reds, W.cc);
    on_worker(free_channels_job, NULL);
    g_main_loop_quit(W.loop);
    g_thread_join(W.thread);
    spice_server_destroy(H_server);
    red_loop_free(W.rloop);
    g_main_loop_unref(W.loop);
    g_main_context_unref(W.ctx);
    g_mutex_clear(&W.lock);
    g_cond_clear(&W.cond);
    embedder_core_free(H_core);
    H_server = NULL;
    H_core = NULL;
}

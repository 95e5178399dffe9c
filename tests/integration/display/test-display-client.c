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
#include <string.h>

#include "tests/integration/display/display-harness.h"

#define BUDGET (1u << 20)

#define draw harness_draw

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

/* spice-gtk hands ALPHA cursors over as RGBA bytes; ours are B,G,R,A. */
static uint32_t as_rgba(uint32_t bgra)
{
    return (bgra & 0xff00ff00u) | ((bgra >> 16) & 0xffu) | ((bgra & 0xffu) << 16);
}

static void test_display_client(void)
{
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(1048576), TRUE);
    harness_start(NULL);

    SurfaceJob primary = { 0, 320, 240, 0x204060, true, false };
    on_worker(surface_job, &primary);
    SurfaceJob off = { 1, 64, 64, 0x808000, false, false };
    on_worker(surface_job, &off);
    CursorJob cur = { 0, 77, 0xff00ff00, 5, 6 };
    on_worker(cursor_job, &cur);

    /* connect: initial picture and cursor */
    harness_connect();
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

    harness_stop();
    g_unsetenv(DISPLAY_ENV_PIPE_BUDGET);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/spice-gtk", test_display_client);
    return g_test_run();
}

/* Image compression against the real spice-client-glib, for every setting
 * of spice_server_set_image_compression (plus jpeg / zlib-glz "always" on
 * top of auto_glz), with the display harness (tests/integration/display)
 * playing the QXL worker.
 *
 * Per setting: the first picture, a mixed workload (fills, photo-like and
 * text-like bitmaps in 32/24/16-bit and 8-bit palette, cached ids that
 * repeat, off-screen surface copies, scrolling copy_bits), a resolution
 * change, a stalled client, and for the GLZ settings a run of full-screen
 * images that wraps the client's GLZ window. After each step the client's
 * primary equals the server canvas exactly; with JPEG it is first within a
 * PSNR bound, then exact after the lossless upgrade. The codec the setting
 * implies must have been used, and the bytes sent are printed per setting
 * (a first look at bandwidth). Bounded waits, no sleeps. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tests/integration/display/display-harness.h"

#define BUDGET (1u << 20)
#define JPEG_MIN_PSNR 30.0

typedef struct Setting {
    const char *name;
    SpiceImageCompression ic;
    spice_wan_compression_t jpeg, zlib;
    RedEncCodec expect;             /* must have been used */
    bool glz;                       /* the GLZ window is exercised */
} Setting;

static const Setting *S;

static void configure(SpiceServer *server)
{
    g_assert_cmpint(spice_server_set_image_compression(server, S->ic), ==, 0);
    g_assert_cmpint(spice_server_set_jpeg_compression(server, S->jpeg), ==, 0);
    g_assert_cmpint(spice_server_set_zlib_glz_compression(server, S->zlib), ==, 0);
    /* frames of this test must stay ordinary draws */
    g_assert_cmpint(spice_server_set_streaming_video(server, SPICE_STREAM_VIDEO_OFF), ==, 0);
}

/* ---- pictures ---- */

static RedPalette palette;

/* Photographic: smooth colour fields with a little noise (graduality HIGH). */
static uint32_t photo_px(int x, int y, uint32_t seed, GRand *r)
{
    double f = 1.0 + (seed % 7) * 0.3;
    int rr = 128 + (int)(100 * sin(x / (11.0 * f) + seed));
    int gg = 128 + (int)(100 * cos(y / (13.0 * f)));
    int bb = (int)((x + y + seed) / 4 % 200) + g_rand_int_range(r, 0, 4);
    return (uint32_t)rr << 16 | (uint32_t)gg << 8 | (uint32_t)(bb & 0xff);
}

/* Text-like: dark strokes in 8x12 cells on a light background. */
static uint32_t text_px(int x, int y, uint32_t seed)
{
    uint32_t cell = (uint32_t)(x / 8) * 7919u + (uint32_t)(y / 12) * 104729u + seed;
    uint32_t bits = cell * 2654435761u;
    int cx = x % 8, cy = y % 12;
    bool ink = cy >= 2 && cy < 10 && cx < 6 && ((bits >> ((cx + cy * 3) % 32)) & 1) &&
               (cell % 5 != 0);
    return ink ? 0x101018 : 0xf0f0e8;
}

/* A copy of a w x h bitmap in `format` (32/24/16-bit or 8-bit palette),
 * photo- or text-like, cache_id != 0 marks it CACHE_ME. */
static TestDraw *bitmap_draw(uint32_t sid, int x, int y, int w, int h, uint32_t seed, bool photo,
                             uint8_t format, uint64_t cache_id, bool top_down)
{
    TestDraw *d = test_draw_copy_bitmap(sid, x, y, w, h, seed, cache_id,
                                        SPICE_BITMAP_FMT_32BIT, top_down);
    unsigned bpp = format == SPICE_BITMAP_FMT_24BIT ? 3 : format == SPICE_BITMAP_FMT_16BIT ? 2
                   : format == SPICE_BITMAP_FMT_8BIT ? 1 : 4;
    uint32_t stride = ((uint32_t)w * bpp + 3) & ~3u;
    g_free(d->pixels);
    d->pixels = g_malloc0((size_t)stride * h);
    GRand *r = g_rand_new_with_seed(seed);
    for (int row = 0; row < h; row++) {
        uint8_t *p = d->pixels + (size_t)row * stride;
        for (int col = 0; col < w; col++) {
            uint32_t v = photo ? photo_px(col, row, seed, r) : text_px(col, row, seed);
            if (format == SPICE_BITMAP_FMT_8BIT) {
                p[col] = (uint8_t)(photo ? (v >> 8) : (v & 0x80 ? 200 : 17));
            } else if (format == SPICE_BITMAP_FMT_16BIT) {
                uint16_t s = (uint16_t)(((v >> 19) & 0x1f) << 10 | ((v >> 11) & 0x1f) << 5 |
                                        ((v >> 3) & 0x1f));
                memcpy(p + 2 * col, &s, 2);
            } else {
                memcpy(p + (size_t)col * bpp, &v, bpp);
            }
        }
    }
    g_rand_free(r);
    RedBitmap *b = &d->image.u.bitmap;
    b->format = format;
    b->stride = stride;
    b->data = d->pixels;
    b->data_size = (size_t)stride * h;
    b->palette = format == SPICE_BITMAP_FMT_8BIT ? &palette : NULL;
    return d;
}

static void init_palette(void)
{
    palette.unique = 0;
    palette.num_ents = 256;
    for (uint32_t i = 0; i < 256; i++) {
        palette.ents[i] = (i * 0x010203u) ^ (i << 16);
    }
}

/* ---- worker jobs ---- */

/* Worker thread: like harness_draw, but renders palette bitmaps too (the
 * shared test renderer passes no palette). */
static void draw(TestDraw *d)
{
    const RedImage *img = d->red.type == QXL_DRAW_COPY ? d->red.u.copy.src_bitmap : NULL;
    if (!img || img->type != SPICE_IMAGE_TYPE_BITMAP || !img->u.bitmap.palette) {
        harness_draw(d);
        return;
    }
    const RedBitmap *b = &img->u.bitmap;
    RedCanvasBitmap bm = {
        .format = b->format, .top_down = b->flags & SPICE_BITMAP_FLAGS_TOP_DOWN,
        .width = b->width, .height = b->height, .stride = b->stride, .data = b->data,
        .data_size = b->data_size, .palette = b->palette->ents,
        .palette_entries = b->palette->num_ents,
    };
    pixman_image_t *src = red_canvas_decode_bitmap(&bm, false, NULL);
    g_assert_nonnull(src);
    const RedRect *a = &d->red.u.copy.src_area;
    pixman_box32_t box = { d->red.bbox.left, d->red.bbox.top, d->red.bbox.right,
                           d->red.bbox.bottom };
    RedCanvasSource s = { src, { a->left, a->top, a->right, a->bottom },
                          SPICE_IMAGE_SCALE_MODE_NEAREST };
    g_assert_true(red_canvas_copy(W.canvases[d->red.surface_id], NULL, &box, &s,
                                  SPICE_ROPD_OP_PUT, NULL));
    pixman_image_unref(src);
    display_channel_draw(W.dc, &d->red, NULL);
    test_draw_free(d);
}

typedef struct DrawJob {
    uint32_t seed;
    int count;
    int width, height;
    size_t max_pipe;                /* out */
    bool stalled;                   /* out: the client went into damage mode */
} DrawJob;

static void draw_job(void *data)
{
    DrawJob *j = data;
    GRand *r = g_rand_new_with_seed(j->seed);
    static const uint8_t fmts[] = { SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_24BIT,
                                    SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_8BIT };
    for (int i = 0; i < j->count; i++) {
        int w = g_rand_int_range(r, 1, 96), h = g_rand_int_range(r, 1, 96);
        int x = g_rand_int_range(r, 0, j->width - w), y = g_rand_int_range(r, 0, j->height - h);
        int kind = g_rand_int_range(r, 0, 16);
        if (kind < 3) {
            draw(test_draw_fill(0, x, y, w, h, g_rand_int(r) & 0xffffff));
        } else if (kind < 7) {
            /* photo-like, large enough for QUIC / JPEG; some cached (an
             * id always names the same picture) */
            uint64_t id = kind == 3 ? (uint64_t)g_rand_int_range(r, 100, 104) : 0;
            int pw = id ? 160 : MIN(160, j->width - x), ph = id ? 120 : MIN(120, j->height - y);
            uint8_t fmt = id ? fmts[id % 3] : fmts[g_rand_int_range(r, 0, 3)];
            draw(bitmap_draw(0, MIN(x, j->width - pw), MIN(y, j->height - ph), pw, ph,
                                         id ? (uint32_t)id : g_rand_int(r), true, fmt, id,
                                         id ? (id & 1) : (kind & 1)));
        } else if (kind < 11) {
            /* text-like, every format, cached ids that repeat */
            uint64_t id = (uint64_t)g_rand_int_range(r, 1, 10);
            int s = 12 + (int)id * 5;
            draw(bitmap_draw(0, MIN(x, j->width - s), MIN(y, j->height - s), s, s,
                                     (uint32_t)id, false, fmts[id % 4], id, id % 3 != 0));
        } else if (kind < 13) {
            draw(test_draw_fill(1, x % 48, y % 48, 16, 16, g_rand_int(r) & 0xffffff));
            draw(bitmap_draw(1, 0, 40, 64, 24, g_rand_int(r), false,
                                     SPICE_BITMAP_FMT_32BIT, 0, true));
            draw(test_draw_copy_surface(0, x % (j->width - 64), y % (j->height - 64),
                                                64, 64, 1, 0, 0));
        } else {
            /* scrolling */
            draw(test_draw_copy_bits(0, 0, 0, j->width, j->height - 8, 0, 8));
        }
        j->max_pipe = MAX(j->max_pipe, display_channel_pipe_bytes(W.dc));
        for (GList *l = W.dc->clients; l; l = l->next) {
            j->stalled |= ((DisplayChannelClient *)l->data)->mode == DCC_DAMAGE;
        }
    }
    g_rand_free(r);
}

/* Full-screen text-like pages scrolled a little each time: GLZ finds the
 * previous page in its window; `pixels` of GLZ images in all. */
typedef struct PagesJob {
    int width, height;
    uint64_t pixels;                /* page number + 1; 0 = only read the window */
    uint32_t window;                /* out: the client's GLZ window */
    uint64_t first_id, next_id;     /* out */
} PagesJob;

static DisplayChannelClient *the_dcc(void)
{
    g_assert_nonnull(W.dc->clients);
    return W.dc->clients->data;
}

static void pages_job(void *data)
{
    PagesJob *j = data;
    DisplayChannelClient *dcc = the_dcc();
    g_assert_nonnull(dcc->glz);
    j->window = glz_dictionary_window(dcc->glz);
    j->first_id = glz_dictionary_next_id(dcc->glz);
    if (j->pixels) {
        draw(bitmap_draw(0, 0, 0, j->width, j->height, (uint32_t)j->pixels / 3 * 977, false,
                         SPICE_BITMAP_FMT_32BIT, 0, true));
    }
}

static void pipe_bytes_job(void *data)
{
    *(size_t *)data = display_channel_pipe_bytes(W.dc);
}

static bool pipe_idle(void)
{
    size_t bytes = 1;
    on_worker(pipe_bytes_job, &bytes);
    return bytes == 0;
}

/* Draws count drawables in chunks, letting the client keep up between
 * them, so they go as draw operations rather than as damage. */
static void paced_draws(uint32_t seed, int count, int width, int height)
{
    for (int done = 0; done < count; done += 8) {
        DrawJob dj = { .seed = seed * 1000 + (uint32_t)done, .count = MIN(8, count - done),
                       .width = width, .height = height };
        on_worker(draw_job, &dj);
        if (!WAIT_FOR(pipe_idle(), WAIT_MS)) {
            g_error("%s: the client does not keep up", S->name);
        }
    }
}

static void glz_ids_job(void *data)
{
    ((PagesJob *)data)->next_id = glz_dictionary_next_id(the_dcc()->glz);
}

typedef struct Stats {
    uint64_t bytes;
    uint64_t images[RED_CODEC_COUNT];
    uint64_t body[RED_CODEC_COUNT];
    uint64_t pal_adds, pal_hits;
} Stats;

static void stats_job(void *data)
{
    Stats *st = data;
    DisplayChannelClient *dcc = the_dcc();
    st->bytes = dcc->base.bytes_sent;
    memcpy(st->images, dcc->enc_images, sizeof(st->images));
    memcpy(st->body, dcc->enc_bytes, sizeof(st->body));
    st->pal_adds = dcc->palettes.adds;
    st->pal_hits = dcc->palettes.hits;
}

static void upgrade_now_job(void *data)
{
    display_channel_set_lossy_upgrade_delay(W.dc, GPOINTER_TO_UINT(data));
}

/* ---- checks ---- */

static void print_stats(const char *step)
{
    Stats st;
    on_worker(stats_job, &st);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%-16s %-22s bytes %9" G_GUINT64_FORMAT " palettes %" G_GUINT64_FORMAT
                           "+%" G_GUINT64_FORMAT " |", S->name, step, st.bytes, st.pal_adds,
                           st.pal_hits);
    for (int c = 0; c < RED_CODEC_COUNT; c++) {
        if (st.images[c]) {
            g_string_append_printf(s, " %s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "B",
                                   red_encoder_codec_name((RedEncCodec)c), st.images[c],
                                   st.body[c]);
        }
    }
    g_test_message("%s", s->str);
    printf("# %s\n", s->str);
    g_string_free(s, TRUE);
}

static bool psnr_ok(const SnapJob *snap, double *db)
{
    *db = primary_psnr(snap);
    return *db >= JPEG_MIN_PSNR;
}

/* After a workload: exact, or for JPEG within the PSNR bound and then exact
 * after the lossless upgrade. */
static void check_picture(const char *what)
{
    if (S->expect == RED_CODEC_JPEG) {
        SnapJob snap = { 0 };
        on_worker(snap_job, &snap);
        double db = -1;
        if (!WAIT_FOR(psnr_ok(&snap, &db), WAIT_MS)) {
            g_error("%s: PSNR %.1f dB below %.1f", what, db, JPEG_MIN_PSNR);
        }
        g_test_message("%s: %.1f dB before the lossless upgrade", what, db);
        g_free(snap.pixels);
        on_worker(upgrade_now_job, GUINT_TO_POINTER(10));
        expect_converged(what);
        on_worker(upgrade_now_job, GUINT_TO_POINTER(600000));
    } else {
        expect_converged(what);
    }
}

static void run_setting(gconstpointer data)
{
    S = data;
    init_palette();
    g_setenv(DISPLAY_ENV_PIPE_BUDGET, G_STRINGIFY(1048576), TRUE);
    harness_start(configure);
    /* JPEG areas stay lossy until the test asks for the upgrade */
    on_worker(upgrade_now_job, GUINT_TO_POINTER(600000));

    SurfaceJob primary = { 0, 480, 360, 0x204060, true, false };
    on_worker(surface_job, &primary);
    SurfaceJob off = { 1, 64, 64, 0x808000, false, false };
    on_worker(surface_job, &off);
    /* a first picture worth encoding: a photo and a page of text */
    DrawJob first = { .seed = 99, .count = 40, .width = 480, .height = 360 };
    on_worker(draw_job, &first);
    harness_connect();
    expect_converged("initial picture");
    print_stats("initial");

    paced_draws(1, 300, 480, 360);
    check_picture("mixed workload");
    print_stats("mixed");
    /* Every 8-bit bitmap of the workload shares one palette: once the
     * client holds it, later ones must name it by id (the picture check
     * above proves the client resolved them). */
    Stats pal;
    on_worker(stats_job, &pal);
    if (pal.pal_adds > 0) {
        g_assert_cmpuint(pal.pal_hits, >, 0);
    }

    /* resolution change */
    SurfaceJob destroy = { 0, 0, 0, 0, true, true };
    on_worker(surface_job, &destroy);
    SurfaceJob bigger = { 0, 640, 400, 0x102030, true, false };
    on_worker(surface_job, &bigger);
    paced_draws(2, 200, 640, 400);
    check_picture("after resolution change");
    print_stats("resized");

    /* stalled client: the client reads nothing while the worker draws */
    DrawJob stall = { .seed = 3, .count = 1500, .width = 640, .height = 400 };
    on_worker(draw_job, &stall);
    g_assert_true(stall.stalled);
    g_assert_cmpuint(stall.max_pipe, <=, BUDGET);
    check_picture("after the stall");
    print_stats("stalled");

    if (S->glz) {
        /* more GLZ pixels than the client's window holds: ids go on, old
         * images leave the window, the picture stays exact */
        PagesJob probe = { .width = 640, .height = 400, .pixels = 0 };
        on_worker(pages_job, &probe);
        Stats st0, st1;
        on_worker(stats_job, &st0);
        uint64_t want = (uint64_t)probe.window * 3 / 2, glz_pixels = 0;
        for (uint64_t page = 1; glz_pixels < want; page++) {
            g_assert_cmpuint(page, <, 200);
            PagesJob pj = { .width = 640, .height = 400, .pixels = page };
            on_worker(pages_job, &pj);
            if (!WAIT_FOR(pipe_idle(), WAIT_MS)) {
                g_error("%s: the client does not keep up", S->name);
            }
            glz_pixels += 640 * 400;
        }
        expect_converged("after wrapping the GLZ window");
        on_worker(stats_job, &st1);
        PagesJob ids = { 0 };
        on_worker(glz_ids_job, &ids);
        g_test_message("GLZ window %u pixels, %" G_GUINT64_FORMAT " images so far",
                       probe.window, ids.next_id);
        g_assert_cmpuint(st1.images[RED_CODEC_GLZ] + st1.images[RED_CODEC_ZLIB_GLZ], >,
                         st0.images[RED_CODEC_GLZ] + st0.images[RED_CODEC_ZLIB_GLZ]);
        print_stats("glz window wrapped");
    }

    Stats st;
    on_worker(stats_job, &st);
    if (st.images[S->expect] == 0) {
        g_error("%s: no image went out as %s", S->name, red_encoder_codec_name(S->expect));
    }
    harness_stop();
    g_unsetenv(DISPLAY_ENV_PIPE_BUDGET);
}

/* The client's PREFERRED_COMPRESSION overrides the server's setting for
 * that client, and a later server change overrides it again. */
static const Setting pref_setting = { "preferred", SPICE_IMAGE_COMPRESSION_OFF,
                                      SPICE_WAN_COMPRESSION_NEVER, SPICE_WAN_COMPRESSION_NEVER,
                                      RED_CODEC_LZ4, false };

static void compression_job(void *data)
{
    display_channel_set_compression(W.dc, GPOINTER_TO_INT(data), SPICE_WAN_COMPRESSION_NEVER,
                                    SPICE_WAN_COMPRESSION_NEVER);
}

static void test_preferred(void)
{
    S = &pref_setting;
    init_palette();
    harness_start(configure);
    SurfaceJob primary = { 0, 320, 240, 0x204060, true, false };
    on_worker(surface_job, &primary);
    SurfaceJob off = { 1, 64, 64, 0x808000, false, false };
    on_worker(surface_job, &off);
    harness_connect();
    expect_converged("initial picture");
    Stats before, after;
    on_worker(stats_job, &before);
    g_assert_cmpuint(before.images[RED_CODEC_LZ4], ==, 0);

    spice_display_channel_change_preferred_compression(C.display, SPICE_IMAGE_COMPRESSION_LZ4);
    /* the message travels with the next round trip: draw until LZ4 shows */
    for (uint32_t seed = 10; seed < 60; seed++) {
        DrawJob dj = { .seed = seed, .count = 40, .width = 320, .height = 240 };
        on_worker(draw_job, &dj);
        expect_converged("client prefers lz4");
        on_worker(stats_job, &after);
        if (after.images[RED_CODEC_LZ4] > 0) {
            break;
        }
    }
    g_assert_cmpuint(after.images[RED_CODEC_LZ4], >, 0);

    /* the server's setting changes: quic for everyone */
    on_worker(compression_job, GINT_TO_POINTER(SPICE_IMAGE_COMPRESSION_QUIC));
    on_worker(stats_job, &before);
    DrawJob dj = { .seed = 77, .count = 200, .width = 320, .height = 240 };
    on_worker(draw_job, &dj);
    expect_converged("server switched to quic");
    on_worker(stats_job, &after);
    g_assert_cmpuint(after.images[RED_CODEC_QUIC], >, before.images[RED_CODEC_QUIC]);
    g_assert_cmpuint(after.images[RED_CODEC_LZ4], ==, before.images[RED_CODEC_LZ4]);
    harness_stop();
}

#define NEVER SPICE_WAN_COMPRESSION_NEVER
#define ALWAYS SPICE_WAN_COMPRESSION_ALWAYS

static const Setting settings[] = {
    { "off", SPICE_IMAGE_COMPRESSION_OFF, NEVER, NEVER, RED_CODEC_RAW, false },
    { "auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ, NEVER, NEVER, RED_CODEC_GLZ, true },
    { "auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ, NEVER, NEVER, RED_CODEC_LZ, false },
    { "quic", SPICE_IMAGE_COMPRESSION_QUIC, NEVER, NEVER, RED_CODEC_QUIC, false },
    { "glz", SPICE_IMAGE_COMPRESSION_GLZ, NEVER, NEVER, RED_CODEC_GLZ, true },
    { "lz", SPICE_IMAGE_COMPRESSION_LZ, NEVER, NEVER, RED_CODEC_LZ, false },
    { "lz4", SPICE_IMAGE_COMPRESSION_LZ4, NEVER, NEVER, RED_CODEC_LZ4, false },
    { "auto_glz+jpeg", SPICE_IMAGE_COMPRESSION_AUTO_GLZ, ALWAYS, NEVER, RED_CODEC_JPEG, false },
    { "auto_glz+zlib", SPICE_IMAGE_COMPRESSION_AUTO_GLZ, NEVER, ALWAYS, RED_CODEC_ZLIB_GLZ,
      true },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(settings); i++) {
        char *path = g_strdup_printf("/compression/%s", settings[i].name);
        g_test_add_data_func(path, &settings[i], run_setting);
        g_free(path);
    }
    g_test_add_func("/compression/preferred", test_preferred);
    return g_test_run();
}

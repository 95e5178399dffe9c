/* red_canvas_copy_bitmap against the general path: seeded random bitmaps
 * (every format it takes, both row orders, padded strides, palettes short
 * of entries, high bits, data in one buffer or split into chunks at random
 * points, empty chunks included) copied with random areas, boxes and clips
 * onto xRGB and ARGB canvases (either stride sign). The general path is
 * what the renderer did before: wrap the bitmap in place or decode it,
 * then red_canvas_copy. Pixels must match byte for byte, and a copy the
 * direct path declines (rop, scaling, 8BIT_A, 16-bpp canvas, bad bitmap)
 * must leave the canvas untouched. RED_CANVAS_SEED / _ITERATIONS as the
 * random test. */
#include "canvas-test-util.h"

#define CW 48
#define CH 40

static const uint32_t formats[] = {
    SPICE_BITMAP_FMT_1BIT_LE, SPICE_BITMAP_FMT_1BIT_BE, SPICE_BITMAP_FMT_4BIT_LE,
    SPICE_BITMAP_FMT_4BIT_BE, SPICE_BITMAP_FMT_8BIT, SPICE_BITMAP_FMT_16BIT,
    SPICE_BITMAP_FMT_24BIT, SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
    SPICE_BITMAP_FMT_8BIT_A,
};

static uint32_t bpp_of(uint32_t f)
{
    switch (f) {
    case SPICE_BITMAP_FMT_1BIT_LE: case SPICE_BITMAP_FMT_1BIT_BE: return 1;
    case SPICE_BITMAP_FMT_4BIT_LE: case SPICE_BITMAP_FMT_4BIT_BE: return 4;
    case SPICE_BITMAP_FMT_8BIT: case SPICE_BITMAP_FMT_8BIT_A: return 8;
    case SPICE_BITMAP_FMT_16BIT: return 16;
    case SPICE_BITMAP_FMT_24BIT: return 24;
    default: return 32;
    }
}

static const uint16_t descs[] = {
    SPICE_ROPD_OP_PUT, SPICE_ROPD_OP_PUT, SPICE_ROPD_OP_PUT, SPICE_ROPD_OP_PUT,
    SPICE_ROPD_OP_OR, SPICE_ROPD_OP_XOR, SPICE_ROPD_OP_PUT | SPICE_ROPD_INVERS_SRC,
};

typedef struct Case {
    RedCanvasBitmap bm;
    bool high;
    pixman_box32_t box, area;
    pixman_region32_t clip;
    bool use_clip;
    uint16_t desc;
    uint8_t *data;
    uint32_t pal[256];
    RedCanvasChunk chunks[6];
} Case;

static void make_case(Rng *r, Case *c)
{
    memset(c, 0, sizeof(*c));
    uint32_t f = formats[rng_next(r) % G_N_ELEMENTS(formats)];
    uint32_t w = (uint32_t)rng_range(r, 1, 40), h = (uint32_t)rng_range(r, 1, 30);
    uint32_t row = (w * bpp_of(f) + 7) / 8;
    uint32_t stride = row + (uint32_t)rng_range(r, 0, 9);
    if (rng_next(r) & 1) {
        stride = (stride + 3) & ~3u;    /* aligned: the wrap path applies */
    }
    size_t size = (size_t)stride * h;
    /* One spare word in front so odd offsets exercise unaligned rows. */
    c->data = g_malloc(size + 4);
    uint8_t *d = c->data + ((rng_next(r) & 1) ? 0 : 1 + rng_next(r) % 3);
    for (size_t i = 0; i < size; i++) {
        d[i] = (uint8_t)rng_next(r);
    }
    for (int i = 0; i < 256; i++) {
        c->pal[i] = rng_next(r);
    }
    c->bm = (RedCanvasBitmap){
        .format = f, .top_down = rng_next(r) & 1, .width = w, .height = h, .stride = stride,
        .data = d, .data_size = size, .palette = c->pal,
        .palette_entries = (uint32_t)rng_range(r, 0, 256),
    };
    if (rng_next(r) % 16 == 0) {
        c->bm.data_size = size - 1;     /* short: both paths must refuse */
    }
    if (rng_next(r) % 3 == 0) {
        /* Split into up to 6 pieces at random points (empty ones allowed). */
        uint32_t n = (uint32_t)rng_range(r, 1, 6);
        size_t cuts[7] = { 0 };
        for (uint32_t i = 1; i < n; i++) {
            cuts[i] = (size_t)rng_next(r) % (size + 1);
        }
        cuts[n] = c->bm.data_size;
        for (uint32_t i = 1; i < n; i++) {          /* sort the inner cuts */
            for (uint32_t j = i + 1; j < n; j++) {
                if (cuts[j] < cuts[i]) {
                    size_t t = cuts[i];
                    cuts[i] = cuts[j];
                    cuts[j] = t;
                }
            }
            cuts[i] = MIN(cuts[i], c->bm.data_size);
        }
        for (uint32_t i = 0; i < n; i++) {
            c->chunks[i] = (RedCanvasChunk){ d + cuts[i], cuts[i + 1] - cuts[i] };
        }
        c->bm.chunks = c->chunks;
        c->bm.n_chunks = n;
    }
    c->high = rng_next(r) & 1;
    int ax = rng_range(r, -3, (int)w - 1), ay = rng_range(r, -3, (int)h - 1);
    c->area = (pixman_box32_t){ ax, ay, ax + rng_range(r, 1, (int)w + 3),
                                ay + rng_range(r, 1, (int)h + 3) };
    int bx = rng_range(r, -10, CW), by = rng_range(r, -10, CH);
    c->box = (pixman_box32_t){ bx, by, bx + c->area.x2 - c->area.x1,
                               by + c->area.y2 - c->area.y1 };
    if (rng_next(r) % 8 == 0) {
        c->box.x2 += 1;                 /* scaled: not for the direct path */
    }
    pixman_box32_t rects[4];
    for (int i = 0; i < 4; i++) {
        int x = rng_range(r, -5, CW), y = rng_range(r, -5, CH);
        rects[i] = (pixman_box32_t){ x, y, x + rng_range(r, 1, CW), y + rng_range(r, 1, CH) };
    }
    pixman_region32_init_rects(&c->clip, rects, rng_range(r, 1, 4));
    c->use_clip = rng_next(r) & 1;
    c->desc = descs[rng_next(r) % G_N_ELEMENTS(descs)];
}

/* What render.c did before the direct path. */
static bool general_copy(RedCanvas *cv, const Case *c)
{
    RedCanvasBitmap bm = c->bm;
    bm.chunks = NULL;
    bm.n_chunks = 0;
    pixman_image_t *img = red_canvas_wrap_bitmap(&bm, c->high);
    if (!img) {
        img = red_canvas_decode_bitmap(&bm, c->high, NULL);
    }
    if (!img) {
        return false;
    }
    RedCanvasSource src = { img, c->area, SPICE_IMAGE_SCALE_MODE_NEAREST };
    bool ok = red_canvas_copy(cv, c->use_clip ? &c->clip : NULL, &c->box, &src, c->desc, NULL);
    pixman_image_unref(img);
    return ok;
}

static RedCanvas *make_canvas(uint32_t format, bool bottom_up, uint8_t *mem, int stride)
{
    int s = bottom_up ? -stride : stride;
    RedCanvas *cv = red_canvas_create_for_data(format, CW, CH, mem, s, NULL);
    g_assert_nonnull(cv);
    return cv;
}

int main(void)
{
    const char *seed_s = g_getenv("RED_CANVAS_SEED");
    const char *it_s = g_getenv("RED_CANVAS_ITERATIONS");
    uint64_t seed = seed_s ? g_ascii_strtoull(seed_s, NULL, 10) : 12345;
    unsigned iterations = it_s ? (unsigned)g_ascii_strtoull(it_s, NULL, 10) : 4000;
    Rng r = { seed ? seed : 1 };
    static const uint32_t cformats[] = {
        SPICE_SURFACE_FMT_32_xRGB, SPICE_SURFACE_FMT_32_ARGB, SPICE_SURFACE_FMT_16_555,
    };
    unsigned direct = 0, declined = 0;

    for (unsigned it = 0; it < iterations; it++) {
        uint32_t cf = cformats[rng_next(&r) % G_N_ELEMENTS(cformats)];
        bool bottom_up = rng_next(&r) & 1;
        int stride = ((CW * fmt_bpp(cf) + 31) / 32) * 4 + 4 * rng_range(&r, 0, 2);
        size_t msize = (size_t)stride * CH;
        uint8_t *m1 = g_malloc(msize), *m2 = g_malloc(msize);
        for (size_t i = 0; i < msize; i++) {
            m1[i] = (uint8_t)rng_next(&r);
        }
        memcpy(m2, m1, msize);
        RedCanvas *c1 = make_canvas(cf, bottom_up, m1, stride);
        RedCanvas *c2 = make_canvas(cf, bottom_up, m2, stride);
        Case k;
        make_case(&r, &k);

        RedCanvasDirect res = red_canvas_copy_bitmap(c1, k.use_clip ? &k.clip : NULL, &k.box,
                                                     &k.bm, k.high, &k.area, k.desc);
        if (res == RED_CANVAS_DIRECT_DONE) {
            direct++;
            bool ok = general_copy(c2, &k);
            if (!ok || memcmp(m1, m2, msize) != 0) {
                size_t at = 0;
                while (at < msize && m1[at] == m2[at]) {
                    at++;
                }
                g_error("seed %" G_GUINT64_FORMAT " iteration %u: fmt %u %ux%u stride %u "
                        "top_down %d high %d chunks %u canvas %u: general ok %d, first "
                        "difference at byte %zu", seed, it, k.bm.format, k.bm.width,
                        k.bm.height, k.bm.stride, k.bm.top_down, k.high, k.bm.n_chunks, cf,
                        ok, at);
            }
        } else {
            declined++;
            if (memcmp(m1, m2, msize) != 0) {
                g_error("seed %" G_GUINT64_FORMAT " iteration %u: declined but drew", seed, it);
            }
        }
        pixman_region32_fini(&k.clip);
        g_free(k.data);
        red_canvas_destroy(c1);
        red_canvas_destroy(c2);
        g_free(m1);
        g_free(m2);
    }
    /* Both outcomes must have been exercised a fair number of times. */
    g_assert_cmpuint(direct, >, iterations / 4);
    g_assert_cmpuint(declined, >, iterations / 20);

    /* The reference mode always declines. */
    uint8_t mem[CW * CH * 4] = { 0 };
    RedCanvas *cv = red_canvas_create_for_data(SPICE_SURFACE_FMT_32_xRGB, CW, CH, mem, CW * 4,
                                               NULL);
    uint32_t px = 0x123456;
    RedCanvasBitmap one = { .format = SPICE_BITMAP_FMT_32BIT, .top_down = true, .width = 1,
                            .height = 1, .stride = 4, .data = (const uint8_t *)&px,
                            .data_size = 4 };
    pixman_box32_t b = { 0, 0, 1, 1 };
    red_canvas_set_reference(true);
    g_assert_cmpint(red_canvas_copy_bitmap(cv, NULL, &b, &one, false, &b, SPICE_ROPD_OP_PUT), ==,
                    RED_CANVAS_DIRECT_UNSUPPORTED);
    red_canvas_set_reference(false);
    g_assert_cmpint(red_canvas_copy_bitmap(cv, NULL, &b, &one, false, &b, SPICE_ROPD_OP_PUT), ==,
                    RED_CANVAS_DIRECT_DONE);
    g_assert_cmpuint(((uint32_t *)(void *)mem)[0], ==, 0x123456);
    red_canvas_destroy(cv);
    printf("direct %u, declined %u\n", direct, declined);
    return 0;
}

/* All 256 rop3 codes, with solid and pattern brushes, on 32 and 16 bpp,
 * folded into checksums that must equal checksums of a bit-by-bit
 * reference (result bit = code >> (p << 2 | s << 1 | d)). Also checks a
 * scaled-source rop3 and the clip. */
#include "canvas-test-util.h"

#define W 19
#define H 13

static uint32_t ref_rop3(uint8_t code, uint32_t p, uint32_t s, uint32_t d, int bits)
{
    uint32_t r = 0;
    for (int b = 0; b < bits; b++) {
        unsigned idx = ((p >> b) & 1) << 2 | ((s >> b) & 1) << 1 | ((d >> b) & 1);
        r |= (uint32_t)((code >> idx) & 1) << b;
    }
    return r;
}

static uint64_t fold(uint64_t h, uint32_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static void run(uint32_t format, bool pattern)
{
    Rng rng = { 0x5eed + format + pattern };
    int bits = fmt_bpp(format);
    pixman_format_code_t pf = red_canvas_surface_format_to_pixman(format);
    uint64_t got_sum = 0xcbf29ce484222325ull, want_sum = got_sum;
    pixman_box32_t rects[1] = { { 1, 0, W, H - 1 } };
    pixman_region32_t clip;
    pixman_region32_init_rects(&clip, rects, 1);

    for (int code = 0; code < 256; code++) {
        TestCanvas tc;
        tc_init(&tc, format, W, H, code & 1, &rng);
        pixman_image_t *src = random_image(&rng, pf, W + 4, H + 6);
        RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID, .color = rng_next(&rng) };
        int tw = 5, th = 3;
        if (pattern) {
            brush.type = RED_CANVAS_BRUSH_PATTERN;
            brush.pattern = random_image(&rng, pf, tw, th);
            brush.x = rng_range(&rng, -7, 7);
            brush.y = rng_range(&rng, -7, 7);
        }
        /* the box sticks out of the canvas on every side but the right */
        pixman_box32_t box = { -2, -1, W - 2, H + 3 };
        RedCanvasSource so = { src, { 2, 1, 2 + W, 1 + H + 4 }, SPICE_IMAGE_SCALE_MODE_NEAREST };
        uint32_t *want = tc_snapshot(&tc);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                if (x < box.x1 || x >= box.x2 || y < box.y1 || y >= box.y2 ||
                    !ref_in_rects(rects, 1, x, y)) {
                    continue;
                }
                uint32_t p = pattern ? img_get(brush.pattern, ((x - brush.x) % tw + tw) % tw,
                                               ((y - brush.y) % th + th) % th)
                                     : brush.color;
                uint32_t s = img_get(src, x - box.x1 + 2, y - box.y1 + 1);
                want[y * W + x] = ref_rop3((uint8_t)code, p, s, want[y * W + x], bits);
            }
        }
        g_assert_true(red_canvas_rop3(tc.canvas, &clip, &box, &so, &brush, (uint8_t)code, NULL));
        for (int i = 0; i < W * H; i++) {
            got_sum = fold(got_sum, tc_get(&tc, i % W, i / W));
            want_sum = fold(want_sum, want[i]);
        }
        if (got_sum != want_sum) {
            tc_expect(&tc, want, "rop3");       /* names the first bad pixel */
            g_error("rop3 code 0x%02x differs", code);
        }
        g_free(want);
        if (brush.pattern) {
            pixman_image_unref(brush.pattern);
        }
        pixman_image_unref(src);
        tc_fini(&tc);
    }
    pixman_region32_fini(&clip);
    g_test_message("format %u pattern %d checksum %016" G_GINT64_MODIFIER "x", format, pattern,
                   (guint64)got_sum);
}

static void test_rop3_32_color(void) { run(SPICE_SURFACE_FMT_32_xRGB, false); }
static void test_rop3_32_pattern(void) { run(SPICE_SURFACE_FMT_32_ARGB, true); }
static void test_rop3_16_color(void) { run(SPICE_SURFACE_FMT_16_555, false); }
static void test_rop3_16_pattern(void) { run(SPICE_SURFACE_FMT_16_565, true); }

/* 2x NEAREST scaled source: SRC copy (0xcc) must show each source pixel twice. */
static void test_rop3_scaled(void)
{
    Rng rng = { 1 };
    RedCanvas *c = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 8, 8, NULL);
    pixman_image_t *src = random_image(&rng, PIXMAN_x8r8g8b8, 4, 4);
    RedCanvasSource so = { src, { 0, 0, 4, 4 }, SPICE_IMAGE_SCALE_MODE_NEAREST };
    RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID };
    pixman_box32_t box = { 0, 0, 8, 8 };
    g_assert_true(red_canvas_rop3(c, NULL, &box, &so, &brush, 0xcc, NULL));
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
            g_assert_cmphex(img_get(red_canvas_get_image(c), x, y) & 0xffffff, ==,
                            img_get(src, x / 2, y / 2) & 0xffffff);
        }
    }
    /* a box hanging off the canvas samples the same source points */
    pixman_box32_t off = { -4, -4, 8, 8 };
    RedCanvasSource so6 = { src, { 0, 0, 4, 4 }, SPICE_IMAGE_SCALE_MODE_NEAREST };
    g_assert_true(red_canvas_rop3(c, NULL, &off, &so6, &brush, 0xcc, NULL));
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
            /* 12 box pixels from 4 source pixels: factor 3 */
            g_assert_cmphex(img_get(red_canvas_get_image(c), x, y) & 0xffffff, ==,
                            img_get(src, (x + 4) / 3, (y + 4) / 3) & 0xffffff);
        }
    }
    /* a source smaller than the box is refused */
    RedCanvasSource small = { src, { 2, 2, 10, 10 }, SPICE_IMAGE_SCALE_MODE_NEAREST };
    g_assert_false(red_canvas_rop3(c, NULL, &box, &small, &brush, 0xcc, NULL));
    pixman_image_unref(src);
    red_canvas_destroy(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/canvas/rop3/32-color", test_rop3_32_color);
    g_test_add_func("/canvas/rop3/32-pattern", test_rop3_32_pattern);
    g_test_add_func("/canvas/rop3/16-color", test_rop3_16_color);
    g_test_add_func("/canvas/rop3/16-pattern", test_rop3_16_pattern);
    g_test_add_func("/canvas/rop3/scaled", test_rop3_scaled);
    return g_test_run();
}

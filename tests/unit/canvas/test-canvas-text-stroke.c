/* Text (1/4/8-bpp glyphs, back area, clip) and stroke (zero-width lines in
 * every octant, clipping, polylines with XOR, closed paths, beziers,
 * dashes) against per-pixel references. The line reference is X11's
 * incremental Bresenham loop, independent of the canvas's closed form. */
#include "canvas-test-util.h"

#define W 32
#define H 24

static uint32_t mul_un8(uint32_t a, uint32_t b)
{
    uint32_t t = a * b + 0x80;
    return (t + (t >> 8)) >> 8;
}

/* Glyph mask value at (x, y) from all glyphs (max for a8, or for a1). */
static uint32_t ref_coverage(const RedCanvasGlyph *g, int n, uint32_t depth, int x, int y)
{
    uint32_t m = 0;
    for (int i = 0; i < n; i++) {
        int gx = x - g[i].x, gy = y - g[i].y;
        if (gx < 0 || gy < 0 || gx >= (int)g[i].width || gy >= (int)g[i].height) {
            continue;
        }
        size_t stride = (g[i].width * depth + 7) / 8;
        const uint8_t *row = g[i].data + stride * (g[i].height - 1 - gy);    /* bottom-up */
        uint32_t v;
        if (depth == 1) {
            v = (row[gx / 8] >> (7 - gx % 8)) & 1 ? 255 : 0;
        } else if (depth == 4) {
            v = (gx % 2 ? row[gx / 2] & 15 : row[gx / 2] >> 4) << 4;
        } else {
            v = row[gx];
        }
        m = MAX(m, v);
    }
    return m;
}

static void test_text_depth(uint32_t depth)
{
    Rng rng = { 600 + depth };
    for (int iter = 0; iter < 8; iter++) {
        TestCanvas tc;
        tc_init(&tc, SPICE_SURFACE_FMT_32_ARGB, W, H, iter & 1, &rng);
        RedCanvasGlyph glyphs[3];
        uint8_t *datas[3];
        for (int i = 0; i < 3; i++) {
            glyphs[i].width = (uint32_t)rng_range(&rng, 1, 12);
            glyphs[i].height = (uint32_t)rng_range(&rng, 1, 12);
            glyphs[i].x = rng_range(&rng, -3, W - 5);
            glyphs[i].y = rng_range(&rng, -3, H - 5);
            size_t size = (glyphs[i].width * depth + 7) / 8 * glyphs[i].height;
            datas[i] = g_malloc(size);
            for (size_t j = 0; j < size; j++) {
                datas[i][j] = (uint8_t)rng_next(&rng);
            }
            glyphs[i].data = datas[i];
            glyphs[i].data_size = size;
        }
        uint32_t color = rng_next(&rng) & 0xffffff, back = rng_next(&rng);
        RedCanvasText text = {
            .glyphs = glyphs, .n_glyphs = 3, .depth = depth,
            .fore = { .type = RED_CANVAS_BRUSH_SOLID, .color = color },
            .back = { .type = RED_CANVAS_BRUSH_SOLID, .color = back },
            .fore_mode = SPICE_ROPD_OP_PUT, .back_mode = SPICE_ROPD_OP_PUT,
            .back_area = { 4, 3, 14, 12 },
        };
        if (iter & 2) {
            text.back_area = (pixman_box32_t){ 0, 0, 0, 0 };
        }
        pixman_box32_t box = { 1, 1, W - 1, H - 2 };
        pixman_box32_t rects[2] = { { 0, 0, W, 9 }, { 0, 12, W - 6, H } };
        pixman_region32_t clip;
        pixman_region32_init_rects(&clip, rects, 2);
        uint32_t *want = tc_snapshot(&tc);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                if (x < box.x1 || x >= box.x2 || y < box.y1 || y >= box.y2 ||
                    !ref_in_rects(rects, 2, x, y)) {
                    continue;
                }
                uint32_t d = want[y * W + x];
                if (!(iter & 2) && x >= 4 && x < 14 && y >= 3 && y < 12) {
                    d = back;
                }
                uint32_t m = ref_coverage(glyphs, 3, depth, x, y);
                if (m) {
                    uint32_t s = color | 0xff000000u, r = 0;
                    for (int sh = 0; sh < 32; sh += 8) {
                        uint32_t c = mul_un8((s >> sh) & 0xff, m) + mul_un8((d >> sh) & 0xff, 255 - m);
                        r |= MIN(c, 255u) << sh;
                    }
                    d = r;
                }
                want[y * W + x] = d;
            }
        }
        g_assert_true(red_canvas_text(tc.canvas, &clip, &box, &text));
        tc_expect(&tc, want, "text");
        g_free(want);
        pixman_region32_fini(&clip);
        for (int i = 0; i < 3; i++) {
            g_free(datas[i]);
        }
        tc_fini(&tc);
    }
}

static void test_text_1(void) { test_text_depth(1); }
static void test_text_4(void) { test_text_depth(4); }
static void test_text_8(void) { test_text_depth(8); }

static void test_text_rejects(void)
{
    RedCanvas *c = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, 8, 8, NULL);
    uint8_t data[2] = { 0xff, 0xff };
    RedCanvasGlyph g = { 0, 0, 8, 3, data, sizeof(data) };     /* needs 3 bytes */
    RedCanvasText t = { .glyphs = &g, .n_glyphs = 1, .depth = 1,
                        .fore = { .type = RED_CANVAS_BRUSH_SOLID } };
    pixman_box32_t box = { 0, 0, 8, 8 };
    g_assert_false(red_canvas_text(c, NULL, &box, &t));
    t.depth = 2;
    g.height = 1;
    g_assert_false(red_canvas_text(c, NULL, &box, &t));
    /* glyphs far apart only cost the canvas-sized part of the mask */
    RedCanvasGlyph far[2] = { { 0, 0, 8, 1, data, 1 }, { 1 << 27, 1 << 27, 8, 1, data, 1 } };
    t = (RedCanvasText){ .glyphs = far, .n_glyphs = 2, .depth = 1,
                         .fore = { .type = RED_CANVAS_BRUSH_SOLID, .color = 0xffffff } };
    g_assert_true(red_canvas_text(c, NULL, &box, &t));
    g_assert_cmphex(img_get(red_canvas_get_image(c), 7, 0) & 0xffffff, ==, 0xffffff);
    g_assert_cmphex(img_get(red_canvas_get_image(c), 7, 1) & 0xffffff, ==, 0);
    red_canvas_destroy(c);
}

/* ---- stroke ------------------------------------------------------------ */

typedef struct {
    uint32_t *px;
    const pixman_box32_t *rects;
    int n_rects;
    uint32_t color;
} RefTarget;

static void ref_plot(RefTarget *t, int x, int y)
{
    if (x >= 0 && y >= 0 && x < W && y < H && ref_in_rects(t->rects, t->n_rects, x, y)) {
        t->px[y * W + x] ^= t->color;
    }
}

/* X11 miZeroLine's loop for one segment, last pixel excluded. */
static void ref_line(RefTarget *t, int x1, int y1, int x2, int y2)
{
    int adx = x2 - x1, ady = y2 - y1, sx = 1, sy = 1, octant = 0;
    const unsigned bias = (1u << 3) | (1u << 4) | (1u << 6) | (1u << 7);
    if (adx < 0) { adx = -adx; sx = -1; octant |= 4; }
    if (ady < 0) { ady = -ady; sy = -1; octant |= 2; }
    int x = x1, y = y1;
    if (adx > ady) {
        int e1 = ady << 1, e2 = e1 - (adx << 1), e = e1 - adx;
        e -= (bias >> octant) & 1;
        int e3 = e2 - e1;
        e -= e1;
        for (int len = adx; len--;) {
            ref_plot(t, x, y);
            e += e1;
            if (e >= 0) { y += sy; e += e3; }
            x += sx;
        }
    } else {
        octant |= 1;
        int e1 = adx << 1, e2 = e1 - (ady << 1), e = e1 - ady;
        e -= (bias >> octant) & 1;
        int e3 = e2 - e1;
        e -= e1;
        for (int len = ady; len--;) {
            ref_plot(t, x, y);
            e += e1;
            if (e >= 0) { x += sx; e += e3; }
            y += sy;
        }
    }
}

static RedCanvasPointFix fx(int x, int y)
{
    return (RedCanvasPointFix){ x * 16, y * 16 };
}

static void test_stroke_lines(void)
{
    Rng rng = { 2024 };
    pixman_box32_t rects[2] = { { 0, 0, W, 15 }, { 3, 15, W - 4, H } };
    pixman_region32_t clip;
    pixman_region32_init_rects(&clip, rects, 2);
    for (int iter = 0; iter < 300; iter++) {
        TestCanvas tc;
        tc_init(&tc, SPICE_SURFACE_FMT_32_xRGB, W, H, iter & 1, &rng);
        int npts = rng_range(&rng, 2, 6);
        RedCanvasPointFix pts[7];
        int ix[7], iy[7];
        for (int i = 0; i < npts; i++) {
            /* mostly inside, sometimes far outside (clipping) */
            int span = iter % 4 == 0 ? 200 : 20;
            ix[i] = W / 2 + rng_range(&rng, -span, span);
            iy[i] = H / 2 + rng_range(&rng, -span, span);
            pts[i] = fx(ix[i], iy[i]);
        }
        bool close = iter & 2;
        RedCanvasPathSeg seg = { SPICE_PATH_BEGIN | SPICE_PATH_END | (close ? SPICE_PATH_CLOSE : 0),
                                 (uint32_t)npts, pts };
        RedCanvasLineAttr attr = { 0 };
        uint32_t color = rng_next(&rng);
        RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID, .color = color };
        uint32_t *want = tc_snapshot(&tc);
        RefTarget t = { want, rects, 2, color };
        for (int i = 1; i < npts; i++) {
            ref_line(&t, ix[i - 1], iy[i - 1], ix[i], iy[i]);
        }
        if (close) {
            ref_line(&t, ix[npts - 1], iy[npts - 1], ix[0], iy[0]);
        }
        pixman_box32_t box = { 0, 0, W, H };
        g_assert_true(red_canvas_stroke(tc.canvas, &clip, &box, &seg, 1, &attr, &brush,
                                        SPICE_ROPD_OP_XOR, 0));
        tc_expect(&tc, want, "stroke");
        g_free(want);
        tc_fini(&tc);
    }
    pixman_region32_fini(&clip);
}

static void test_stroke_bezier_and_dash(void)
{
    /* a flat bezier is one chord: same pixels as the line */
    RedCanvas *a = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, W, H, NULL);
    RedCanvas *b = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, W, H, NULL);
    RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID, .color = 0xffffff };
    RedCanvasLineAttr attr = { 0 };
    pixman_box32_t box = { 0, 0, W, H };
    RedCanvasPointFix line[2] = { fx(1, 2), fx(28, 11) };
    RedCanvasPointFix bez0 = fx(1, 2);
    RedCanvasPointFix bez[3] = { fx(10, 5), fx(19, 8), fx(28, 11) };
    RedCanvasPathSeg sl = { SPICE_PATH_BEGIN | SPICE_PATH_END, 2, line };
    RedCanvasPathSeg sb[2] = { { SPICE_PATH_BEGIN, 1, &bez0 },
                               { SPICE_PATH_BEZIER | SPICE_PATH_END, 3, bez } };
    g_assert_true(red_canvas_stroke(a, NULL, &box, &sl, 1, &attr, &brush, SPICE_ROPD_OP_PUT, 0));
    g_assert_true(red_canvas_stroke(b, NULL, &box, sb, 2, &attr, &brush, SPICE_ROPD_OP_PUT, 0));
    g_assert_cmpint(memcmp(pixman_image_get_data(red_canvas_get_image(a)),
                           pixman_image_get_data(red_canvas_get_image(b)), W * H * 4), ==, 0);
    /* a curved bezier reaches its end point's neighbourhood and stays in its hull */
    RedCanvasPointFix curve[3] = { fx(1, 22), fx(30, 22), fx(30, 2) };
    sb[1].points = curve;
    red_canvas_blackness(b, NULL, &box, NULL);
    g_assert_true(red_canvas_stroke(b, NULL, &box, sb, 2, &attr, &brush, SPICE_ROPD_OP_PUT, 0));
    int lit = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            if (img_get(red_canvas_get_image(b), x, y)) {
                lit++;
                g_assert_true(x >= 1 && x <= 30 && y >= 2 && y <= 22);
            }
        }
    }
    g_assert_cmpint(lit, >, 30);
    /* a bezier with a point count not a multiple of 3 is refused */
    sb[1].count = 2;
    g_assert_false(red_canvas_stroke(b, NULL, &box, sb, 2, &attr, &brush, SPICE_ROPD_OP_PUT, 0));

    /* dashes 3 on, 2 off along a horizontal line */
    red_canvas_blackness(a, NULL, &box, NULL);
    int32_t style[2] = { 3 * 16, 2 * 16 };
    RedCanvasLineAttr dashed = { SPICE_LINE_FLAGS_STYLED, 2, style };
    RedCanvasPointFix hl[2] = { fx(0, 5), fx(20, 5) };
    RedCanvasPathSeg sh = { SPICE_PATH_BEGIN | SPICE_PATH_END, 2, hl };
    g_assert_true(red_canvas_stroke(a, NULL, &box, &sh, 1, &dashed, &brush, SPICE_ROPD_OP_PUT, 0));
    for (int x = 0; x < W; x++) {
        bool on = x < 20 && x % 5 < 3;
        g_assert_cmpint(img_get(red_canvas_get_image(a), x, 5) != 0, ==, on);
    }
    red_canvas_destroy(a);
    red_canvas_destroy(b);
}

/* A line of length 2^26 must cost the canvas size, not its length. */
static void test_stroke_huge(void)
{
    RedCanvas *c = red_canvas_create(SPICE_SURFACE_FMT_32_xRGB, W, H, NULL);
    RedCanvasBrush brush = { .type = RED_CANVAS_BRUSH_SOLID, .color = 1 };
    RedCanvasLineAttr attr = { 0 };
    pixman_box32_t box = { 0, 0, W, H };
    RedCanvasPointFix pts[2] = { { -(1 << 29), 5 * 16 }, { (1 << 29), 6 * 16 } };
    RedCanvasPathSeg s = { SPICE_PATH_BEGIN | SPICE_PATH_END, 2, pts };
    g_assert_true(red_canvas_stroke(c, NULL, &box, &s, 1, &attr, &brush, SPICE_ROPD_OP_PUT, 0));
    int32_t style[2] = { 16, 16 };
    RedCanvasLineAttr dashed = { SPICE_LINE_FLAGS_STYLED, 2, style };
    g_assert_true(red_canvas_stroke(c, NULL, &box, &s, 1, &dashed, &brush, SPICE_ROPD_OP_PUT, 0));
    red_canvas_destroy(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/canvas/text/a1", test_text_1);
    g_test_add_func("/canvas/text/a4", test_text_4);
    g_test_add_func("/canvas/text/a8", test_text_8);
    g_test_add_func("/canvas/text/rejects", test_text_rejects);
    g_test_add_func("/canvas/stroke/lines", test_stroke_lines);
    g_test_add_func("/canvas/stroke/bezier-dash", test_stroke_bezier_and_dash);
    g_test_add_func("/canvas/stroke/huge", test_stroke_huge);
    return g_test_run();
}

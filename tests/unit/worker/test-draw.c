/* Pixel-exact rendering of the draw types test-worker.c does not cover,
 * through the guest path: a QXLDrawable in fake device memory, the command
 * ring, the worker, update_area, then the pixels of the (bottom-up)
 * primary compared with a reference computed here, with pixman or plain
 * per-pixel loops that restate the documented rules (canvas.h, spice-common
 * behaviour). The server's canvas is never called from this file.
 *
 * Covered: ROP3 (two codes, pattern brush, bitmap and surface sources),
 * STROKE (zero-width solid polylines: X11 zero-width rules restated below),
 * TEXT (1 bpp glyphs with a back area), TRANSPARENT (colour key),
 * ALPHA_BLEND (global alpha over a source with alpha), COMPOSITE (OVER
 * with an a8 mask), q-masks (COPY with a mask, WHITENESS with an inverted
 * one) and OPAQUE with a surface source and a pattern brush. */
#include <stdlib.h>
#include <string.h>

#include "fake-device.h"

#define W 64
#define H 48

typedef struct Ctx {
    FakeDev *d;
    uint8_t *row0;
    int32_t stride;
    pixman_image_t *ref;        /* x8r8g8b8 W x H: what the primary must hold */
    uint32_t *rb;               /* ref pixels, W per row */
} Ctx;

/* Pseudo-random but fixed xRGB pixels. */
static void make_pixels(uint32_t *px, int n, uint32_t seed)
{
    for (int i = 0; i < n; i++) {
        px[i] = (seed * 2654435761u + (uint32_t)i * 40503u + ((uint32_t)i << 17)) & 0x00ffffff;
    }
}

/* A running server with a bottom-up primary already covered by a known
 * full-screen COPY, so every operation below reads non-trivial pixels. */
static void setup(Ctx *c)
{
    c->d = fake_dev_new(16, 8 << 20);
    c->row0 = fake_create_primary(c->d, W, H, true, &c->stride);
    c->ref = pixman_image_create_bits(PIXMAN_x8r8g8b8, W, H, NULL, W * 4);
    c->rb = pixman_image_get_data(c->ref);
    uint32_t *bg = g_new(uint32_t, W * H);
    make_pixels(bg, W * H, 77);
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(c->d, 0, QXL_DRAW_COPY, 0, 0, W, H, &p);
    dr->u.copy.src_bitmap = fake_image(c->d, W, H, bg);
    dr->u.copy.src_area = (QXLRect){ .right = W, .bottom = H };
    dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    fake_push(c->d, false, p, QXL_CMD_DRAW);
    memcpy(c->rb, bg, W * H * 4);
    g_free(bg);
}

/* Renders everything and compares the low 24 bits of every pixel. */
static void check(Ctx *c, const char *what)
{
    QXLRect area = { .top = 0, .left = 0, .bottom = H, .right = W };
    spice_qxl_update_area(&c->d->qxl, 0, &area, NULL, 0, 1);
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint32_t got = fake_pixel(c->row0, c->stride, x, y) & 0xffffff;
            uint32_t want = c->rb[y * W + x] & 0xffffff;
            if (got != want) {
                g_error("%s: pixel (%d,%d): got %06x want %06x", what, x, y, got, want);
            }
        }
    }
}

static void finish(Ctx *c)
{
    spice_qxl_destroy_surfaces(&c->d->qxl);
    g_assert_true(fake_wait_all_released(c->d));
    g_assert_cmpuint(c->d->bad_releases, ==, 0);
    g_assert_cmpuint(c->d->wrong_thread, ==, 0);
    fake_dev_free(c->d);
    pixman_image_unref(c->ref);
}

/* A top-down direct bitmap image of any format; `bytes` holds h rows of
 * `stride` bytes. */
static QXLPHYSICAL bitmap_image(FakeDev *d, uint8_t format, uint32_t w, uint32_t h,
                                uint32_t stride, const void *bytes)
{
    QXLPHYSICAL phys, data;
    QXLImage *img = fake_alloc(d, sizeof(QXLImageDescriptor) + sizeof(QXLBitmap), &phys);
    void *px = fake_alloc(d, (size_t)stride * h, &data);
    memcpy(px, bytes, (size_t)stride * h);
    img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    img->descriptor.width = w;
    img->descriptor.height = h;
    img->bitmap.format = format;
    img->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
    img->bitmap.x = w;
    img->bitmap.y = h;
    img->bitmap.stride = stride;
    img->bitmap.data = data;
    return phys;
}

/* 1-bit masks: bit (x, y) of an MSB-first (1BIT_BE) top-down bitmap. */
#define MASK_STRIDE 4
static bool mask_bit(const uint8_t *m, int x, int y)
{
    return (m[y * MASK_STRIDE + x / 8] >> (7 - x % 8)) & 1;
}

static void make_mask(uint8_t *m, int h, uint32_t seed)
{
    for (int i = 0; i < h * MASK_STRIDE; i++) {
        m[i] = (uint8_t)((seed + (uint32_t)i) * 2654435761u >> 13);
    }
}

/* Bitwise ternary raster op: bit i of `code` is the result for the input
 * bits pattern = i>>2 & 1, source = i>>1 & 1, dest = i & 1 (SRCCOPY 0xcc,
 * PATCOPY 0xf0, ...). */
static uint32_t rop3_ref(uint8_t code, uint32_t p, uint32_t s, uint32_t d)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (code & (1u << i)) {
            r |= ((i & 4) ? p : ~p) & ((i & 2) ? s : ~s) & ((i & 1) ? d : ~d);
        }
    }
    return r;
}

/* Pattern tile pixel for surface pixel (x, y): tile pixel (0, 0) sits at
 * the brush position and the tile repeats. */
static uint32_t tile_at(const uint32_t *tile, int tw, int th, int px, int py, int x, int y)
{
    int tx = ((x - px) % tw + tw) % tw, ty = ((y - py) % th + th) % th;
    return tile[ty * tw + tx];
}

static void set_pattern(FakeDev *d, QXLBrush *b, const uint32_t *tile, int tw, int th, int x,
                        int y)
{
    b->type = SPICE_BRUSH_TYPE_PATTERN;
    b->u.pattern.pat = fake_image(d, (uint32_t)tw, (uint32_t)th, tile);
    b->u.pattern.pos.x = x;
    b->u.pattern.pos.y = y;
}

/* ---- ROP3 ---- */

static void push_rop3(Ctx *c, uint8_t code, QXLPHYSICAL src, const uint32_t *spx, int sw,
                      int sx, int sy, int l, int t, int r, int b, const uint32_t *tile, int tw,
                      int th, int px, int py)
{
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(c->d, 0, QXL_DRAW_ROP3, l, t, r, b, &p);
    dr->u.rop3.src_bitmap = src;
    dr->u.rop3.src_area = (QXLRect){ .left = sx, .top = sy, .right = sx + r - l,
                                     .bottom = sy + b - t };
    dr->u.rop3.rop3 = code;
    set_pattern(c->d, &dr->u.rop3.brush, tile, tw, th, px, py);
    fake_push(c->d, false, p, QXL_CMD_DRAW);
    for (int y = t; y < b; y++) {
        for (int x = l; x < r; x++) {
            uint32_t *dp = &c->rb[y * W + x];
            uint32_t s = spx[(sy + y - t) * sw + sx + x - l];
            *dp = rop3_ref(code, tile_at(tile, tw, th, px, py, x, y), s, *dp) & 0xffffff;
        }
    }
}

static void test_rop3(void)
{
    Ctx c;
    setup(&c);
    uint32_t src[12 * 10], tile[4 * 3];
    make_pixels(src, 12 * 10, 5);
    make_pixels(tile, 4 * 3, 6);
    QXLPHYSICAL img = fake_image(c.d, 12, 10, src);
    /* 0xb8 ("PSDPxax"): S ? D : P. */
    push_rop3(&c, 0xb8, img, src, 12, 0, 0, 5, 6, 17, 16, tile, 4, 3, 3, 5);
    check(&c, "rop3 0xb8");
    /* 0x96 (P ^ S ^ D) from a sub-area, pattern anchored left of and
     * above the surface, overlapping the first. */
    push_rop3(&c, 0x96, img, src, 12, 2, 3, 10, 12, 20, 19, tile, 4, 3, -7, -2);
    check(&c, "rop3 0x96");
    finish(&c);
}

/* ---- STROKE ----
 *
 * Reference: X11's zero-width line rules, which the canvas documents as
 * its model (miZeroLine: Bresenham with an error term, ties broken by the
 * default octant bias, CapNotLast so a segment never draws its end point,
 * each segment of a polyline drawn on its own). Restated from the rules,
 * not from our canvas code:
 *   octant bits: 4 when x decreases, 2 when y decreases, 1 when the line
 *   is not x-major (|dx| > |dy| is x-major); the bias bit is set for
 *   octants 2, 3, 4 and 5 = bit values 3, 7, 6 and 4;
 *   x-major: e1 = 2|dy|, e3 = -2|dx|, e = -|dx| - bias; |dx| times: plot,
 *   e += e1, step y when e >= 0 (then e += e3), step x.  Y-major swaps. */
static void x11_segment(uint32_t *rb, int l, int t, int r, int b, int x1, int y1, int x2,
                        int y2, uint32_t color, bool xor)
{
    int adx = abs(x2 - x1), ady = abs(y2 - y1);
    int sx = x2 < x1 ? -1 : 1, sy = y2 < y1 ? -1 : 1;
    unsigned octant = (x2 < x1 ? 4u : 0u) | (y2 < y1 ? 2u : 0u) | (adx > ady ? 0u : 1u);
    const unsigned bias_octants = (1u << 3) | (1u << 7) | (1u << 6) | (1u << 4);
    int bias = (int)((bias_octants >> octant) & 1);
    bool xmajor = adx > ady;
    int major = xmajor ? adx : ady, minor = xmajor ? ady : adx;
    int e1 = 2 * minor, e3 = -2 * major, e = -major - bias;
    int x = x1, y = y1;
    for (int i = 0; i < major; i++) {
        if (x >= l && x < r && y >= t && y < b) {
            uint32_t *p = &rb[y * W + x];
            *p = (xor ? *p ^ color : color) & 0xffffff;
        }
        e += e1;
        if (e >= 0) {
            if (xmajor) {
                y += sy;
            } else {
                x += sx;
            }
            e += e3;
        }
        if (xmajor) {
            x += sx;
        } else {
            y += sy;
        }
    }
}

/* A one-segment path through n integer points (closed: back to the
 * first), stroked zero-width with a solid colour. */
static void push_stroke(Ctx *c, const int (*pts)[2], uint32_t n, bool closed, int l, int t,
                        int r, int b, uint32_t color, uint16_t rop)
{
    QXLPHYSICAL p, path_phys;
    size_t seg_size = sizeof(QXLPathSeg) + n * sizeof(QXLPointFix);
    QXLPath *path = fake_alloc(c->d, sizeof(QXLPath) + seg_size, &path_phys);
    path->data_size = (uint32_t)seg_size;
    path->chunk.data_size = (uint32_t)seg_size;
    QXLPathSeg *seg = (QXLPathSeg *)path->chunk.data;
    seg->flags = QXL_PATH_BEGIN | QXL_PATH_END | (closed ? QXL_PATH_CLOSE : 0);
    seg->count = n;
    for (uint32_t i = 0; i < n; i++) {
        seg->points[i].x = pts[i][0] * 16;      /* 28.4 fixed */
        seg->points[i].y = pts[i][1] * 16;
    }
    QXLDrawable *dr = fake_drawable(c->d, 0, QXL_DRAW_STROKE, l, t, r, b, &p);
    dr->effect = QXL_EFFECT_OPAQUE_BRUSH;
    dr->u.stroke.path = path_phys;
    dr->u.stroke.attr.width = 0;
    dr->u.stroke.brush.type = SPICE_BRUSH_TYPE_SOLID;
    dr->u.stroke.brush.u.color = color;
    dr->u.stroke.fore_mode = rop;
    dr->u.stroke.back_mode = SPICE_ROPD_OP_PUT;
    fake_push(c->d, false, p, QXL_CMD_DRAW);
    for (uint32_t i = 0; i + 1 < n + (closed ? 1 : 0); i++) {
        const int *a = pts[i], *z = pts[(i + 1) % n];
        x11_segment(c->rb, l, t, r, b, a[0], a[1], z[0], z[1], color,
                    rop == SPICE_ROPD_OP_XOR);
    }
}

static void test_stroke(void)
{
    Ctx c;
    setup(&c);
    /* Every octant, horizontal, vertical, exact diagonals and ties (the
     * bias decides: |dx| = 2|dy| and odd spans). */
    static const int poly[][2] = {
        { 2, 2 }, { 30, 2 }, { 30, 20 }, { 10, 25 }, { 3, 40 }, { 20, 44 }, { 60, 30 },
        { 50, 5 }, { 41, 10 }, { 35, 6 }, { 37, 40 }, { 62, 46 }, { 62, 45 },
    };
    push_stroke(&c, poly, G_N_ELEMENTS(poly), false, 0, 0, W, H, 0xff8800, SPICE_ROPD_OP_PUT);
    check(&c, "stroke polyline");
    /* A closed XOR path whose bbox cuts it: crossings toggle twice. */
    static const int star[][2] = {
        { 32, 4 }, { 44, 40 }, { 12, 16 }, { 54, 16 }, { 20, 40 },
    };
    push_stroke(&c, star, G_N_ELEMENTS(star), true, 14, 8, 50, 38, 0x5a5aa5, SPICE_ROPD_OP_XOR);
    check(&c, "stroke closed xor");
    /* Ties in all eight octants (|dx| = 2|dy| or |dy| = 2|dx|): only the
     * octant bias decides which of two pixels each one draws. */
    static const int ties[][2] = {
        { 8, 30 }, { 12, 32 }, { 14, 36 }, { 12, 40 }, { 8, 42 }, { 4, 40 }, { 2, 36 },
        { 4, 32 }, { 8, 30 },
    };
    push_stroke(&c, ties, G_N_ELEMENTS(ties), false, 0, 0, W, H, 0x00ffff, SPICE_ROPD_OP_PUT);
    check(&c, "stroke ties");
    finish(&c);
}

/* ---- TEXT ----
 *
 * 1 bpp glyphs: box (render_pos + glyph_origin, + width/height), rows of
 * ceil(width/8) bytes stored bottom row first, pixels MSB first. The back
 * area is filled with the back brush, then set glyph pixels take the fore
 * colour; both limited to the bbox. */
static void test_text(void)
{
    Ctx c;
    setup(&c);
    enum { NG = 3 };
    static const int gw[NG] = { 7, 12, 9 }, gh[NG] = { 8, 6, 11 };
    size_t size = 0;
    for (int i = 0; i < NG; i++) {
        size += sizeof(QXLRasterGlyph) + (size_t)gh[i] * (size_t)((gw[i] + 7) / 8);
    }
    QXLPHYSICAL sp, p;
    QXLString *str = fake_alloc(c.d, sizeof(QXLString) + size, &sp);
    str->data_size = (uint32_t)size;
    str->length = NG;
    str->flags = SPICE_STRING_FLAGS_RASTER_A1;
    str->chunk.data_size = (uint32_t)size;
    const int l = 6, t = 18, r = 46, b = 36;
    const uint32_t fore = 0xffee00, back = 0x203060;
    const QXLRect back_area = { .left = 8, .top = 20, .right = 50, .bottom = 34 };
    for (int y = MAX(t, back_area.top); y < MIN(b, back_area.bottom); y++) {
        for (int x = MAX(l, back_area.left); x < MIN(r, back_area.right); x++) {
            c.rb[y * W + x] = back;
        }
    }
    uint8_t *at = str->chunk.data;
    for (int i = 0; i < NG; i++) {
        QXLRasterGlyph g = {
            .render_pos = { .x = 10 + 13 * i, .y = 31 },
            .glyph_origin = { .x = i - 1, .y = -gh[i] + 2 * i },
            .width = (uint16_t)gw[i], .height = (uint16_t)gh[i],
        };
        memcpy(at, &g, sizeof(g));
        uint8_t *bits = at + sizeof(g);
        int gstride = (gw[i] + 7) / 8;
        for (int k = 0; k < gh[i] * gstride; k++) {
            bits[k] = (uint8_t)((uint32_t)(k + 31 * i + 1) * 2654435761u >> 11);
        }
        int gx = g.render_pos.x + g.glyph_origin.x, gy = g.render_pos.y + g.glyph_origin.y;
        for (int row = 0; row < gh[i]; row++) {
            const uint8_t *src = bits + (gh[i] - 1 - row) * gstride;
            for (int col = 0; col < gw[i]; col++) {
                int x = gx + col, y = gy + row;
                if ((src[col / 8] >> (7 - col % 8)) & 1 && x >= l && x < r && y >= t && y < b) {
                    c.rb[y * W + x] = fore;
                }
            }
        }
        at += sizeof(g) + (size_t)gh[i] * (size_t)gstride;
    }
    QXLDrawable *dr = fake_drawable(c.d, 0, QXL_DRAW_TEXT, l, t, r, b, &p);
    dr->effect = QXL_EFFECT_BLEND;
    dr->u.text.str = sp;
    dr->u.text.back_area = back_area;
    dr->u.text.fore_brush.type = SPICE_BRUSH_TYPE_SOLID;
    dr->u.text.fore_brush.u.color = fore;
    dr->u.text.back_brush.type = SPICE_BRUSH_TYPE_SOLID;
    dr->u.text.back_brush.u.color = back;
    dr->u.text.fore_mode = SPICE_ROPD_OP_PUT;
    dr->u.text.back_mode = SPICE_ROPD_OP_PUT;
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    check(&c, "text");
    finish(&c);
}

/* ---- TRANSPARENT ----
 *
 * Source pixels whose low 24 bits equal true_color are skipped. src_color
 * (the key in the source's own format) is set to something else on
 * purpose: spice-common keys on true_color for 32-bit surfaces, and so
 * must we. */
static void test_transparent(void)
{
    Ctx c;
    setup(&c);
    enum { SW = 14, SH = 11 };
    const uint32_t key = 0x123456;
    uint32_t src[SW * SH];
    make_pixels(src, SW * SH, 9);
    for (int i = 0; i < SW * SH; i++) {
        if ((i % SW + i / SW) % 3 == 0) {
            src[i] = key | (i & 1 ? 0xff000000u : 0);   /* the x byte does not count */
        }
    }
    QXLPHYSICAL p;
    const int l = 30, t = 4, sx = 2, sy = 1, w = 12, h = 10;
    QXLDrawable *dr = fake_drawable(c.d, 0, QXL_DRAW_TRANSPARENT, l, t, l + w, t + h, &p);
    dr->effect = QXL_EFFECT_BLEND;
    dr->u.transparent.src_bitmap = fake_image(c.d, SW, SH, src);
    dr->u.transparent.src_area = (QXLRect){ .left = sx, .top = sy, .right = sx + w,
                                            .bottom = sy + h };
    dr->u.transparent.src_color = 0x00abcdef;
    dr->u.transparent.true_color = key;
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t s = src[(sy + y) * SW + sx + x];
            if ((s & 0xffffff) != key) {
                c.rb[(t + y) * W + l + x] = s & 0xffffff;
            }
        }
    }
    check(&c, "transparent");
    finish(&c);
}

/* ---- ALPHA_BLEND and COMPOSITE: pixman references ---- */

/* Premultiplied ARGB pixels with varied alpha (0 and 255 included). */
static void make_argb(uint32_t *px, int n, uint32_t seed)
{
    for (int i = 0; i < n; i++) {
        uint32_t v = (seed + (uint32_t)i) * 2654435761u;
        uint32_t a = i % 7 == 0 ? 0 : i % 5 == 0 ? 255 : (v >> 24);
        uint32_t r = ((v >> 16) & 0xff) * a / 255, g = ((v >> 8) & 0xff) * a / 255,
                 b = (v & 0xff) * a / 255;
        px[i] = a << 24 | r << 16 | g << 8 | b;
    }
}

static void push_alpha_blend(Ctx *c, QXLPHYSICAL img, pixman_image_t *src, uint8_t alpha,
                             int sx, int sy, int l, int t, int w, int h)
{
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(c->d, 0, QXL_DRAW_ALPHA_BLEND, l, t, l + w, t + h, &p);
    dr->effect = QXL_EFFECT_BLEND;
    dr->u.alpha_blend.alpha_flags = 0;
    dr->u.alpha_blend.alpha = alpha;
    dr->u.alpha_blend.src_bitmap = img;
    dr->u.alpha_blend.src_area = (QXLRect){ .left = sx, .top = sy, .right = sx + w,
                                            .bottom = sy + h };
    fake_push(c->d, false, p, QXL_CMD_DRAW);
    pixman_image_t *mask = NULL;
    if (alpha != 0xff) {
        pixman_color_t a = { 0, 0, 0, (uint16_t)(alpha * 0x101) };
        mask = pixman_image_create_solid_fill(&a);
    }
    pixman_image_composite32(PIXMAN_OP_OVER, src, mask, c->ref, sx, sy, 0, 0, l, t, w, h);
    if (mask) {
        pixman_image_unref(mask);
    }
}

static void test_alpha_blend(void)
{
    Ctx c;
    setup(&c);
    enum { SW = 12, SH = 10 };
    uint32_t px[SW * SH];
    make_argb(px, SW * SH, 3);
    pixman_image_t *src = pixman_image_create_bits(PIXMAN_a8r8g8b8, SW, SH, px, SW * 4);
    QXLPHYSICAL img = bitmap_image(c.d, SPICE_BITMAP_FMT_RGBA, SW, SH, SW * 4, px);
    push_alpha_blend(&c, img, src, 0x80, 0, 0, 40, 20, SW, SH);
    check(&c, "alpha blend 0x80");
    push_alpha_blend(&c, img, src, 0xff, 3, 2, 44, 24, 8, 7);
    check(&c, "alpha blend 0xff");
    push_alpha_blend(&c, img, src, 0x17, 1, 1, 2, 30, 10, 9);
    check(&c, "alpha blend 0x17");
    pixman_image_unref(src);
    finish(&c);
}

static void test_composite(void)
{
    Ctx c;
    setup(&c);
    enum { SW = 16, SH = 12 };
    uint32_t px[SW * SH];
    uint8_t m8[SW * SH];
    make_argb(px, SW * SH, 11);
    for (int i = 0; i < SW * SH; i++) {
        m8[i] = (uint8_t)(i % 6 == 0 ? 0 : i % 4 == 0 ? 255 : (uint32_t)i * 37u);
    }
    pixman_image_t *src = pixman_image_create_bits(PIXMAN_a8r8g8b8, SW, SH, px, SW * 4);
    pixman_image_t *msk = pixman_image_create_bits(PIXMAN_a8, SW, SH, (uint32_t *)m8, SW);
    QXLPHYSICAL p;
    const int l = 4, t = 30, w = 10, h = 10;
    QXLDrawable *dr = fake_drawable(c.d, 0, QXL_DRAW_COMPOSITE, l, t, l + w, t + h, &p);
    dr->effect = QXL_EFFECT_BLEND;
    dr->u.composite.flags = PIXMAN_OP_OVER;     /* nearest filters, no repeat */
    dr->u.composite.src = bitmap_image(c.d, SPICE_BITMAP_FMT_RGBA, SW, SH, SW * 4, px);
    dr->u.composite.mask = bitmap_image(c.d, SPICE_BITMAP_FMT_8BIT_A, SW, SH, SW, m8);
    dr->u.composite.src_origin = (QXLPoint16){ 2, 1 };
    dr->u.composite.mask_origin = (QXLPoint16){ 5, 2 };
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    pixman_image_composite32(PIXMAN_OP_OVER, src, msk, c.ref, 2, 1, 5, 2, l, t, w, h);
    check(&c, "composite over a8 mask");
    pixman_image_unref(src);
    pixman_image_unref(msk);
    finish(&c);
}

/* ---- q-masks ----
 *
 * Box pixel (x, y) is drawn only where the mask bit at (x - box.left +
 * pos.x, y - box.top + pos.y) is set (clear with SPICE_MASK_FLAGS_INVERS);
 * pixels that fall outside the mask bitmap are never drawn. */
static QXLPHYSICAL mask_image(FakeDev *d, const uint8_t *m, uint32_t w, uint32_t h)
{
    return bitmap_image(d, SPICE_BITMAP_FMT_1BIT_BE, w, h, MASK_STRIDE, m);
}

static void test_qmask(void)
{
    Ctx c;
    setup(&c);
    enum { MW = 20, MH = 16, SW = 12 };
    uint8_t m[MH * MASK_STRIDE];
    make_mask(m, MH, 1);
    uint32_t src[SW * SW];
    make_pixels(src, SW * SW, 21);

    /* COPY through a mask at an offset. */
    QXLPHYSICAL p;
    const int l = 20, t = 30, mx = 2, my = 3;
    QXLDrawable *dr = fake_drawable(c.d, 0, QXL_DRAW_COPY, l, t, l + SW, t + SW, &p);
    dr->u.copy.src_bitmap = fake_image(c.d, SW, SW, src);
    dr->u.copy.src_area = (QXLRect){ .right = SW, .bottom = SW };
    dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    dr->u.copy.mask.bitmap = mask_image(c.d, m, MW, MH);
    dr->u.copy.mask.pos = (QXLPoint){ mx, my };
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    for (int y = 0; y < SW; y++) {
        for (int x = 0; x < SW; x++) {
            if (mask_bit(m, x + mx, y + my)) {
                c.rb[(t + y) * W + l + x] = src[y * SW + x];
            }
        }
    }
    check(&c, "copy with mask");

    /* WHITENESS through an inverted mask smaller than the box. */
    const int wl = 44, wt = 2, ww = 18, wh = 14, wmx = 4, wmy = 5;
    dr = fake_drawable(c.d, 0, QXL_DRAW_WHITENESS, wl, wt, wl + ww, wt + wh, &p);
    dr->u.whiteness.mask.bitmap = mask_image(c.d, m, MW, MH);
    dr->u.whiteness.mask.flags = SPICE_MASK_FLAGS_INVERS;
    dr->u.whiteness.mask.pos = (QXLPoint){ wmx, wmy };
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    for (int y = 0; y < wh; y++) {
        for (int x = 0; x < ww; x++) {
            int bx = x + wmx, by = y + wmy;
            if (bx < MW && by < MH && !mask_bit(m, bx, by)) {
                c.rb[(wt + y) * W + wl + x] = 0xffffff;
            }
        }
    }
    check(&c, "whiteness with inverted mask");
    finish(&c);
}

/* ---- another surface as source, with a pattern brush ---- */

static void test_surface_source_pattern(void)
{
    Ctx c;
    setup(&c);
    enum { SS = 16 };
    uint8_t *smem;
    fake_push(c.d, false, fake_surface_create(c.d, 2, SS, SS, &smem), QXL_CMD_SURFACE);
    /* Surface 2: a bitmap, then a fill over part of it. */
    uint32_t s2[SS * SS];
    make_pixels(s2, SS * SS, 41);
    QXLPHYSICAL p;
    QXLDrawable *dr = fake_drawable(c.d, 2, QXL_DRAW_COPY, 0, 0, SS, SS, &p);
    dr->u.copy.src_bitmap = fake_image(c.d, SS, SS, s2);
    dr->u.copy.src_area = (QXLRect){ .right = SS, .bottom = SS };
    dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    dr = fake_drawable(c.d, 2, QXL_DRAW_FILL, 5, 5, 9, 12, &p);
    dr->u.fill.brush.type = SPICE_BRUSH_TYPE_SOLID;
    dr->u.fill.brush.u.color = 0x10ff20;
    dr->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    for (int y = 5; y < 12; y++) {
        for (int x = 5; x < 9; x++) {
            s2[y * SS + x] = 0x10ff20;
        }
    }
    uint32_t tile[5 * 4];
    make_pixels(tile, 5 * 4, 43);

    /* OPAQUE: surface 2's (2,3)-(14,13) copied, then XOR with the pattern
     * (brush as source operand, the copied pixels as destination). */
    const int l = 44, t = 34, sx = 2, sy = 3, w = 12, h = 10, px = 1, py = 2;
    dr = fake_drawable(c.d, 0, QXL_DRAW_OPAQUE, l, t, l + w, t + h, &p);
    dr->u.opaque.src_bitmap = fake_surface_image(c.d, 2);
    dr->u.opaque.src_area = (QXLRect){ .left = sx, .top = sy, .right = sx + w,
                                       .bottom = sy + h };
    set_pattern(c.d, &dr->u.opaque.brush, tile, 5, 4, px, py);
    dr->u.opaque.rop_descriptor = SPICE_ROPD_OP_XOR;
    fake_push(c.d, false, p, QXL_CMD_DRAW);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            c.rb[(t + y) * W + l + x] = (s2[(sy + y) * SS + sx + x] ^
                                         tile_at(tile, 5, 4, px, py, l + x, t + y)) & 0xffffff;
        }
    }
    check(&c, "opaque surface source, pattern xor");

    /* ROP3 0xe2 ("DSPDxax": S ? P : D) from the same surface and pattern. */
    push_rop3(&c, 0xe2, fake_surface_image(c.d, 2), s2, SS, 1, 0, 3, 2, 17, 14, tile, 5, 4,
              px, py);
    check(&c, "rop3 surface source");
    finish(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    g_test_add_func("/worker/draw/rop3", test_rop3);
    g_test_add_func("/worker/draw/stroke", test_stroke);
    g_test_add_func("/worker/draw/text", test_text);
    g_test_add_func("/worker/draw/transparent", test_transparent);
    g_test_add_func("/worker/draw/alpha-blend", test_alpha_blend);
    g_test_add_func("/worker/draw/composite", test_composite);
    g_test_add_func("/worker/draw/qmask", test_qmask);
    g_test_add_func("/worker/draw/surface-source-pattern", test_surface_source_pattern);
    return g_test_run();
}

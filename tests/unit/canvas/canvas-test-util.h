/* Helpers for the canvas tests: a seeded generator, plain pixel buffers that
 * mirror a canvas, and independent per-pixel reference formulas. Nothing
 * here calls into the canvas implementation except to create canvases. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "common/canvas/canvas-private.h"

typedef struct {
    uint64_t s;
} Rng;

static inline uint32_t rng_next(Rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 11);
}

static inline int rng_range(Rng *r, int lo, int hi)   /* inclusive */
{
    return lo + (int)(rng_next(r) % (uint32_t)(hi - lo + 1));
}

static inline int fmt_bpp(uint32_t f)
{
    return PIXMAN_FORMAT_BPP(red_canvas_surface_format_to_pixman(f));
}

static inline uint32_t fmt_mask(uint32_t f)
{
    int b = fmt_bpp(f);
    return b == 32 ? 0xffffffffu : (1u << b) - 1;
}

/* A canvas over test-owned memory plus the memory itself. */
typedef struct {
    RedCanvas *canvas;
    uint8_t *mem;
    int w, h;
    int32_t stride;
    uint32_t format;
} TestCanvas;

static inline void tc_init(TestCanvas *tc, uint32_t format, int w, int h, bool negative, Rng *rng)
{
    int bpp = fmt_bpp(format);
    int32_t stride = (int32_t)((((w * bpp + 7) / 8) + 3) / 4 * 4 + 4 * rng_range(rng, 0, 2));
    tc->mem = g_malloc((size_t)stride * h);
    for (size_t i = 0; i < (size_t)stride * h; i++) {
        tc->mem[i] = (uint8_t)rng_next(rng);
    }
    tc->w = w;
    tc->h = h;
    tc->stride = negative ? -stride : stride;
    tc->format = format;
    GError *err = NULL;
    tc->canvas = red_canvas_create_for_data(format, w, h, tc->mem, tc->stride, &err);
    g_assert_no_error(err);
    g_assert_nonnull(tc->canvas);
}

static inline void tc_fini(TestCanvas *tc)
{
    red_canvas_destroy(tc->canvas);
    g_free(tc->mem);
}

/* Pixel (x, y) read straight from memory with the documented layout. */
static inline uint32_t tc_get(const TestCanvas *tc, int x, int y)
{
    int32_t as = tc->stride < 0 ? -tc->stride : tc->stride;
    const uint8_t *row = tc->stride < 0 ? tc->mem + (size_t)(tc->h - 1 - y) * as
                                        : tc->mem + (size_t)y * as;
    switch (fmt_bpp(tc->format)) {
    case 1: return (row[x >> 3] >> (x & 7)) & 1;
    case 8: return row[x];
    case 16: return (uint32_t)row[2 * x] | (uint32_t)row[2 * x + 1] << 8;
    default: return (uint32_t)row[4 * x] | (uint32_t)row[4 * x + 1] << 8 |
                    (uint32_t)row[4 * x + 2] << 16 | (uint32_t)row[4 * x + 3] << 24;
    }
}

/* Snapshot of all pixels, row-major. */
static inline uint32_t *tc_snapshot(const TestCanvas *tc)
{
    uint32_t *p = g_new(uint32_t, (size_t)tc->w * tc->h);
    for (int y = 0; y < tc->h; y++) {
        for (int x = 0; x < tc->w; x++) {
            p[y * tc->w + x] = tc_get(tc, x, y);
        }
    }
    return p;
}

static inline void tc_expect(const TestCanvas *tc, const uint32_t *want, const char *what)
{
    for (int y = 0; y < tc->h; y++) {
        for (int x = 0; x < tc->w; x++) {
            uint32_t got = tc_get(tc, x, y);
            if (got != want[y * tc->w + x]) {
                g_error("%s: pixel (%d,%d) is 0x%08x, expected 0x%08x", what, x, y, got,
                        want[y * tc->w + x]);
            }
        }
    }
}

/* Independent rop-descriptor semantics: operands optionally inverted, the
 * first op bit in PUT, OR, AND, XOR, BLACKNESS, WHITENESS, INVERS order. */
static inline uint32_t ref_ropd(uint16_t desc, uint32_t s, uint32_t d, uint16_t inv_s_bit,
                                uint16_t inv_d_bit)
{
    uint32_t s2 = (desc & inv_s_bit) ? ~s : s;
    uint32_t d2 = (desc & inv_d_bit) ? ~d : d;
    uint32_t r;
    if (desc & SPICE_ROPD_OP_PUT) {
        r = s2;
    } else if (desc & SPICE_ROPD_OP_OR) {
        r = s2 | d2;
    } else if (desc & SPICE_ROPD_OP_AND) {
        r = s2 & d2;
    } else if (desc & SPICE_ROPD_OP_XOR) {
        r = s2 ^ d2;
    } else if (desc & SPICE_ROPD_OP_BLACKNESS) {
        return 0;
    } else if (desc & SPICE_ROPD_OP_WHITENESS) {
        return 0xffffffffu;
    } else if (desc & SPICE_ROPD_OP_INVERS) {
        return ~d;
    } else {
        return s;
    }
    return (desc & SPICE_ROPD_INVERS_RES) ? ~r : r;
}

static inline bool ref_in_rects(const pixman_box32_t *rects, int n, int x, int y)
{
    for (int i = 0; i < n; i++) {
        if (x >= rects[i].x1 && x < rects[i].x2 && y >= rects[i].y1 && y < rects[i].y2) {
            return true;
        }
    }
    return false;
}

/* A random a1 mask image and its bits as a plain array (1 = set). */
static inline pixman_image_t *make_mask(Rng *rng, int w, int h, uint8_t **bits_out)
{
    pixman_image_t *m = pixman_image_create_bits(PIXMAN_a1, w, h, NULL, 0);
    uint8_t *bits = g_malloc((size_t)w * h);
    uint8_t *data = (uint8_t *)pixman_image_get_data(m);
    int stride = pixman_image_get_stride(m);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            bits[y * w + x] = rng_next(rng) % 3 != 0;
            if (bits[y * w + x]) {
                data[y * stride + (x >> 3)] |= (uint8_t)(1u << (x & 7));
            }
        }
    }
    *bits_out = bits;
    return m;
}

/* Plain pixel writer/reader for test-made images (top-down, positive stride). */
static inline void img_put(pixman_image_t *img, int x, int y, uint32_t v)
{
    uint8_t *row = (uint8_t *)pixman_image_get_data(img) + (size_t)y * pixman_image_get_stride(img);
    switch (PIXMAN_FORMAT_BPP(pixman_image_get_format(img))) {
    case 1:
        row[x >> 3] = (uint8_t)((row[x >> 3] & ~(1u << (x & 7))) | ((v & 1) << (x & 7)));
        break;
    case 8: row[x] = (uint8_t)v; break;
    case 16: row[2 * x] = (uint8_t)v; row[2 * x + 1] = (uint8_t)(v >> 8); break;
    default:
        for (int i = 0; i < 4; i++) {
            row[4 * x + i] = (uint8_t)(v >> (8 * i));
        }
    }
}

static inline uint32_t img_get(pixman_image_t *img, int x, int y)
{
    const uint8_t *row = (const uint8_t *)pixman_image_get_data(img) +
                         (ptrdiff_t)y * pixman_image_get_stride(img);
    switch (PIXMAN_FORMAT_BPP(pixman_image_get_format(img))) {
    case 1: return (row[x >> 3] >> (x & 7)) & 1;
    case 8: return row[x];
    case 16: return (uint32_t)row[2 * x] | (uint32_t)row[2 * x + 1] << 8;
    default: return (uint32_t)row[4 * x] | (uint32_t)row[4 * x + 1] << 8 |
                    (uint32_t)row[4 * x + 2] << 16 | (uint32_t)row[4 * x + 3] << 24;
    }
}

static inline pixman_image_t *random_image(Rng *rng, pixman_format_code_t f, int w, int h)
{
    pixman_image_t *img = pixman_image_create_bits(f, w, h, NULL, 0);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            img_put(img, x, y, rng_next(rng));
        }
    }
    return img;
}

static const uint32_t all_formats[] = {
    SPICE_SURFACE_FMT_32_xRGB, SPICE_SURFACE_FMT_32_ARGB, SPICE_SURFACE_FMT_16_555,
    SPICE_SURFACE_FMT_16_565, SPICE_SURFACE_FMT_8_A, SPICE_SURFACE_FMT_1_A,
};

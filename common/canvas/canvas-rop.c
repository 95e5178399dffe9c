/* Raster-op kernels: solid, tiled and copied rectangles under the 16 GX
 * raster ops, colour-keyed copies and overlapping self copies.
 *
 * Two implementations: word loops specialised per pixel size (the default)
 * and a per-pixel reference built on red_pixel_get/put and the truth-table
 * formula, selected by RED_CANVAS_REFERENCE=1 so tests can compare them.
 * 1-bpp images always take the reference path. */
#include <stdlib.h>
#include <string.h>

#include "common/canvas/canvas-private.h"

/* -1 = not read from the environment yet. Atomic: several render workers
 * (one per QXL instance) may ask at once; they all read the same value. */
static gint reference_mode = -1;

bool red_canvas_use_reference(void)
{
    gint mode = g_atomic_int_get(&reference_mode);
    if (mode < 0) {
        const char *env = getenv("RED_CANVAS_REFERENCE");
        mode = env && env[0] == '1';
        g_atomic_int_set(&reference_mode, mode);
    }
    return mode;
}

void red_canvas_set_reference(bool on)
{
    g_atomic_int_set(&reference_mode, on);
}

int red_canvas_image_bpp(pixman_image_t *image)
{
    return PIXMAN_FORMAT_BPP(pixman_image_get_format(image));
}

static inline uint8_t *row_ptr(pixman_image_t *image, int y)
{
    return (uint8_t *)pixman_image_get_data(image) + (ptrdiff_t)y * pixman_image_get_stride(image);
}

uint32_t red_pixel_get(pixman_image_t *image, int x, int y)
{
    uint8_t *row = row_ptr(image, y);
    switch (red_canvas_image_bpp(image)) {
    case 1:
        return (row[x >> 3] >> (x & 7)) & 1;
    case 8:
        return row[x];
    case 16: {
        uint16_t v;
        memcpy(&v, row + 2 * x, 2);
        return v;
    }
    default: {
        uint32_t v;
        memcpy(&v, row + 4 * x, 4);
        return v;
    }
    }
}

void red_pixel_put(pixman_image_t *image, int x, int y, uint32_t v)
{
    uint8_t *row = row_ptr(image, y);
    switch (red_canvas_image_bpp(image)) {
    case 1:
        if (v & 1) {
            row[x >> 3] |= (uint8_t)(1u << (x & 7));
        } else {
            row[x >> 3] &= (uint8_t)~(1u << (x & 7));
        }
        break;
    case 8:
        row[x] = (uint8_t)v;
        break;
    case 16: {
        uint16_t s = (uint16_t)v;
        memcpy(row + 2 * x, &s, 2);
        break;
    }
    default:
        memcpy(row + 4 * x, &v, 4);
        break;
    }
}

static inline int pos_mod(int64_t a, int b)
{
    int64_t r = a % b;
    return (int)(r < 0 ? r + b : r);
}

/* ---- reference path ---------------------------------------------------- */

static void ref_fill(pixman_image_t *dest, int x, int y, int w, int h, uint32_t value, RedRop rop)
{
    for (int j = y; j < y + h; j++) {
        for (int i = x; i < x + w; i++) {
            red_pixel_put(dest, i, j, red_rop_apply(rop, value, red_pixel_get(dest, i, j)));
        }
    }
}

static void ref_tile(pixman_image_t *dest, int x, int y, int w, int h,
                     pixman_image_t *tile, int ox, int oy, RedRop rop)
{
    int tw = pixman_image_get_width(tile), th = pixman_image_get_height(tile);
    for (int j = y; j < y + h; j++) {
        for (int i = x; i < x + w; i++) {
            uint32_t s = red_pixel_get(tile, pos_mod((int64_t)i - ox, tw), pos_mod((int64_t)j - oy, th));
            red_pixel_put(dest, i, j, red_rop_apply(rop, s, red_pixel_get(dest, i, j)));
        }
    }
}

static void ref_blit(pixman_image_t *dest, pixman_image_t *src, int sx, int sy,
                     int dx, int dy, int w, int h, RedRop rop)
{
    for (int j = 0; j < h; j++) {
        for (int i = 0; i < w; i++) {
            uint32_t s = red_pixel_get(src, sx + i, sy + j);
            uint32_t d = red_pixel_get(dest, dx + i, dy + j);
            red_pixel_put(dest, dx + i, dy + j, red_rop_apply(rop, s, d));
        }
    }
}

/* ---- specialised path -------------------------------------------------- */

/* Specialised kernels: the switch is hoisted so the compiler emits one tight
 * loop per rop. */
#define SPEC_ROW(T, GET)                                                      \
    switch (rop) {                                                            \
    case RED_ROP_CLEAR: for (int i = 0; i < w; i++) { d[i] = 0; } break;      \
    case RED_ROP_AND: for (int i = 0; i < w; i++) { T s = GET; d[i] &= s; } break; \
    case RED_ROP_AND_REVERSE: for (int i = 0; i < w; i++) { T s = GET; d[i] = s & (T)~d[i]; } break; \
    case RED_ROP_COPY: for (int i = 0; i < w; i++) { T s = GET; d[i] = s; } break; \
    case RED_ROP_AND_INVERTED: for (int i = 0; i < w; i++) { T s = GET; d[i] &= (T)~s; } break; \
    case RED_ROP_NOOP: break;                                                 \
    case RED_ROP_XOR: for (int i = 0; i < w; i++) { T s = GET; d[i] ^= s; } break; \
    case RED_ROP_OR: for (int i = 0; i < w; i++) { T s = GET; d[i] |= s; } break; \
    case RED_ROP_NOR: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)(~s & ~d[i]); } break; \
    case RED_ROP_EQUIV: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)(~s ^ d[i]); } break; \
    case RED_ROP_INVERT: for (int i = 0; i < w; i++) { d[i] = (T)~d[i]; } break; \
    case RED_ROP_OR_REVERSE: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)(s | ~d[i]); } break; \
    case RED_ROP_COPY_INVERTED: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)~s; } break; \
    case RED_ROP_OR_INVERTED: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)(~s | d[i]); } break; \
    case RED_ROP_NAND: for (int i = 0; i < w; i++) { T s = GET; d[i] = (T)(~s | ~d[i]); } break; \
    case RED_ROP_SET: for (int i = 0; i < w; i++) { d[i] = (T)~(T)0; } break; \
    }

#define DEFINE_SPEC(T, BITS)                                                  \
static void spec_fill_##BITS(pixman_image_t *dest, int x, int y, int w, int h, \
                             uint32_t value, RedRop rop)                      \
{                                                                             \
    T v = (T)value;                                                           \
    /* Row pointers by stepping: pixman's getters are calls. */               \
    ptrdiff_t dstride = pixman_image_get_stride(dest);                        \
    uint8_t *drow = row_ptr(dest, y);                                         \
    for (int j = y; j < y + h; j++, drow += dstride) {                        \
        T *d = (T *)(void *)drow + x;                                         \
        SPEC_ROW(T, v)                                                        \
    }                                                                         \
}                                                                             \
static void spec_tile_##BITS(pixman_image_t *dest, int x, int y, int w, int h, \
                             pixman_image_t *tile, int ox, int oy, RedRop rop) \
{                                                                             \
    int tw = pixman_image_get_width(tile), th = pixman_image_get_height(tile);\
    int tx0 = pos_mod((int64_t)x - ox, tw);                                   \
    int ty = pos_mod((int64_t)y - oy, th);                                    \
    for (int j = y; j < y + h; j++) {                                         \
        T *d = (T *)(void *)row_ptr(dest, j) + x;                             \
        const T *t = (const T *)(const void *)row_ptr(tile, ty);              \
        /* Row-local tile index: wraps at the tile width. */                  \
        int tx = tx0;                                                         \
        SPEC_ROW(T, t[tx]; if (++tx == tw) tx = 0)                            \
        if (++ty == th) {                                                     \
            ty = 0;                                                           \
        }                                                                     \
    }                                                                         \
}                                                                             \
static void spec_blit_##BITS(pixman_image_t *dest, pixman_image_t *src, int sx, \
                             int sy, int dx, int dy, int w, int h, RedRop rop) \
{                                                                             \
    ptrdiff_t dstride = pixman_image_get_stride(dest);                        \
    ptrdiff_t sstride = pixman_image_get_stride(src);                         \
    uint8_t *drow = row_ptr(dest, dy);                                        \
    const uint8_t *srow = row_ptr(src, sy);                                   \
    for (int j = 0; j < h; j++, drow += dstride, srow += sstride) {           \
        T *d = (T *)(void *)drow + dx;                                        \
        const T *sp = (const T *)(const void *)srow + sx;                     \
        if (rop == RED_ROP_COPY) {                                            \
            memmove(d, sp, (size_t)w * sizeof(T));                            \
            continue;                                                         \
        }                                                                     \
        SPEC_ROW(T, sp[i])                                                    \
    }                                                                         \
}

DEFINE_SPEC(uint8_t, 8)
DEFINE_SPEC(uint16_t, 16)
DEFINE_SPEC(uint32_t, 32)

void red_rop_fill_rect(pixman_image_t *dest, int x, int y, int w, int h,
                       uint32_t value, RedRop rop)
{
    int bpp = red_canvas_image_bpp(dest);
    if (w <= 0 || h <= 0) {
        return;
    }
    g_assert(x >= 0 && y >= 0 && x + w <= pixman_image_get_width(dest) &&
             y + h <= pixman_image_get_height(dest));
    if (red_canvas_use_reference() || bpp == 1) {
        ref_fill(dest, x, y, w, h, value, rop);
        return;
    }
    if ((rop == RED_ROP_COPY || rop == RED_ROP_CLEAR || rop == RED_ROP_SET) &&
        (int64_t)w * h >= 64) {
        /* Plain stores: pixman's fill uses wide (SIMD) stores, several times
         * fewer instructions than the word loop on anything but tiny areas. */
        uint32_t v = rop == RED_ROP_CLEAR ? 0 : rop == RED_ROP_SET ? ~0u : value;
        v &= bpp == 32 ? ~0u : (1u << bpp) - 1;
        if (pixman_fill(pixman_image_get_data(dest), pixman_image_get_stride(dest) / 4, bpp,
                        x, y, w, h, v)) {
            return;
        }
    }
    if (bpp == 8) {
        spec_fill_8(dest, x, y, w, h, value, rop);
    } else if (bpp == 16) {
        spec_fill_16(dest, x, y, w, h, value, rop);
    } else {
        spec_fill_32(dest, x, y, w, h, value, rop);
    }
}

void red_rop_fill_rects(pixman_image_t *dest, const pixman_box32_t *r, int n, uint32_t value,
                        RedRop rop)
{
    int bpp = red_canvas_image_bpp(dest);
    if (bpp != 32 || rop != RED_ROP_COPY || red_canvas_use_reference()) {
        for (int i = 0; i < n; i++) {
            red_rop_fill_rect(dest, r[i].x1, r[i].y1, r[i].x2 - r[i].x1, r[i].y2 - r[i].y1,
                              value, rop);
        }
        return;
    }
    /* The common case (solid fills of clip bands, often a few pixels each)
     * with the image looked up once, not per rectangle. */
    uint32_t *bits = pixman_image_get_data(dest);
    int stride = pixman_image_get_stride(dest);
    int iw = pixman_image_get_width(dest), ih = pixman_image_get_height(dest);
    for (int i = 0; i < n; i++) {
        int x = r[i].x1, y = r[i].y1, w = r[i].x2 - r[i].x1, h = r[i].y2 - r[i].y1;
        if (w <= 0 || h <= 0) {
            continue;
        }
        g_assert(x >= 0 && y >= 0 && x + w <= iw && y + h <= ih);
        if ((int64_t)w * h >= 64 && pixman_fill(bits, stride / 4, 32, x, y, w, h, value)) {
            continue;
        }
        uint8_t *row = (uint8_t *)bits + (ptrdiff_t)y * stride;
        for (int j = 0; j < h; j++, row += stride) {
            uint32_t *d = (uint32_t *)(void *)row + x;
            for (int k = 0; k < w; k++) {
                d[k] = value;
            }
        }
    }
}

void red_rop_tile_rect(pixman_image_t *dest, int x, int y, int w, int h,
                       pixman_image_t *tile, int ox, int oy, RedRop rop)
{
    int bpp = red_canvas_image_bpp(dest);
    if (w <= 0 || h <= 0) {
        return;
    }
    g_assert(x >= 0 && y >= 0 && x + w <= pixman_image_get_width(dest) &&
             y + h <= pixman_image_get_height(dest));
    g_assert(bpp == red_canvas_image_bpp(tile));
    g_assert(pixman_image_get_width(tile) > 0 && pixman_image_get_height(tile) > 0);
    if (red_canvas_use_reference() || bpp == 1) {
        ref_tile(dest, x, y, w, h, tile, ox, oy, rop);
    } else if (bpp == 8) {
        spec_tile_8(dest, x, y, w, h, tile, ox, oy, rop);
    } else if (bpp == 16) {
        spec_tile_16(dest, x, y, w, h, tile, ox, oy, rop);
    } else {
        spec_tile_32(dest, x, y, w, h, tile, ox, oy, rop);
    }
}

/* Shrinks a blit so the source rectangle lies inside src; false if empty. */
static bool clip_blit(pixman_image_t *src, int *sx, int *sy, int *dx, int *dy, int *w, int *h)
{
    if (*sx < 0) {
        *w += *sx;
        *dx -= *sx;
        *sx = 0;
    }
    if (*sy < 0) {
        *h += *sy;
        *dy -= *sy;
        *sy = 0;
    }
    if (*sx + *w > pixman_image_get_width(src)) {
        *w = pixman_image_get_width(src) - *sx;
    }
    if (*sy + *h > pixman_image_get_height(src)) {
        *h = pixman_image_get_height(src) - *sy;
    }
    return *w > 0 && *h > 0;
}

void red_rop_blit(pixman_image_t *dest, pixman_image_t *src, int sx, int sy,
                  int dx, int dy, int w, int h, RedRop rop)
{
    int bpp = red_canvas_image_bpp(dest);
    if (!clip_blit(src, &sx, &sy, &dx, &dy, &w, &h)) {
        return;
    }
    g_assert(dx >= 0 && dy >= 0 && dx + w <= pixman_image_get_width(dest) &&
             dy + h <= pixman_image_get_height(dest));
    g_assert(bpp == red_canvas_image_bpp(src));
    if (red_canvas_use_reference() || bpp == 1) {
        ref_blit(dest, src, sx, sy, dx, dy, w, h, rop);
    } else if (bpp == 8) {
        spec_blit_8(dest, src, sx, sy, dx, dy, w, h, rop);
    } else if (bpp == 16) {
        spec_blit_16(dest, src, sx, sy, dx, dy, w, h, rop);
    } else {
        spec_blit_32(dest, src, sx, sy, dx, dy, w, h, rop);
    }
}

void red_rop_blit_colorkey(pixman_image_t *dest, pixman_image_t *src, int sx, int sy,
                           int dx, int dy, int w, int h, uint32_t key)
{
    int bpp = red_canvas_image_bpp(dest);
    uint32_t cmp_mask = bpp == 32 ? 0xffffffu : bpp == 16 ? 0xffffu : bpp == 8 ? 0xffu : 1u;

    if (!clip_blit(src, &sx, &sy, &dx, &dy, &w, &h)) {
        return;
    }
    g_assert(dx >= 0 && dy >= 0 && dx + w <= pixman_image_get_width(dest) &&
             dy + h <= pixman_image_get_height(dest));
    g_assert(bpp == red_canvas_image_bpp(src));
    key &= cmp_mask;
    if (bpp == 32 && !red_canvas_use_reference()) {
        for (int j = 0; j < h; j++) {
            uint32_t *d = (uint32_t *)(void *)row_ptr(dest, dy + j) + dx;
            const uint32_t *s = (const uint32_t *)(const void *)row_ptr(src, sy + j) + sx;
            for (int i = 0; i < w; i++) {
                if ((s[i] & 0xffffff) != key) {
                    d[i] = s[i];
                }
            }
        }
        return;
    }
    for (int j = 0; j < h; j++) {
        for (int i = 0; i < w; i++) {
            uint32_t s = red_pixel_get(src, sx + i, sy + j);
            if ((s & cmp_mask) != key) {
                red_pixel_put(dest, dx + i, dy + j, s);
            }
        }
    }
}

void red_rop_copy_rect(pixman_image_t *image, int sx, int sy, int w, int h, int dx, int dy)
{
    int bpp = red_canvas_image_bpp(image);
    if (w <= 0 || h <= 0) {
        return;
    }
    if (bpp == 1 || red_canvas_use_reference()) {
        /* Walk rows and columns away from the overlap. */
        bool down = dy > sy, right = dx > sx;
        for (int jj = 0; jj < h; jj++) {
            int j = down ? h - 1 - jj : jj;
            for (int ii = 0; ii < w; ii++) {
                int i = right ? w - 1 - ii : ii;
                red_pixel_put(image, dx + i, dy + j, red_pixel_get(image, sx + i, sy + j));
            }
        }
        return;
    }
    size_t bytes = (size_t)w * (size_t)(bpp / 8);
    ptrdiff_t stride = pixman_image_get_stride(image);
    uint8_t *base = (uint8_t *)pixman_image_get_data(image);
    uint8_t *d = base + (ptrdiff_t)dy * stride + dx * (bpp / 8);
    const uint8_t *s = base + (ptrdiff_t)sy * stride + sx * (bpp / 8);
    if (dy > sy) {
        /* Bottom row first: rows not yet read lie above. */
        for (int j = h - 1; j >= 0; j--) {
            memmove(d + j * stride, s + j * stride, bytes);
        }
    } else {
        for (int j = 0; j < h; j++) {
            memmove(d + j * stride, s + j * stride, bytes);
        }
    }
}

RedRop red_canvas_ropd_to_rop(uint16_t desc, RedRopInput src_input, RedRopInput dest_input)
{
    static const uint16_t invert_bits[] = {
        [RED_ROP_INPUT_SRC] = SPICE_ROPD_INVERS_SRC,
        [RED_ROP_INPUT_BRUSH] = SPICE_ROPD_INVERS_BRUSH,
        [RED_ROP_INPUT_DEST] = SPICE_ROPD_INVERS_DEST,
    };
    bool inv_s = desc & invert_bits[src_input];
    bool inv_d = desc & invert_bits[dest_input];
    bool inv_r = desc & SPICE_ROPD_INVERS_RES;
    /* Truth tables over (s, d) with bit 3 = (0,0) .. bit 0 = (1,1); the
     * operand inversions permute the table, the result inversion negates it. */
    unsigned table;

    if (desc & SPICE_ROPD_OP_PUT) {
        /* PUT ignores dest inversion */
        unsigned t = (inv_s ? 0xc : 0x3);
        return (RedRop)(inv_r ? (~t & 0xf) : t);
    } else if (desc & SPICE_ROPD_OP_OR) {
        table = 0x7;
    } else if (desc & SPICE_ROPD_OP_AND) {
        table = 0x1;
    } else if (desc & SPICE_ROPD_OP_XOR) {
        table = 0x6;
    } else if (desc & SPICE_ROPD_OP_BLACKNESS) {
        return RED_ROP_CLEAR;
    } else if (desc & SPICE_ROPD_OP_WHITENESS) {
        return RED_ROP_SET;
    } else if (desc & SPICE_ROPD_OP_INVERS) {
        return RED_ROP_INVERT;
    } else {
        return RED_ROP_COPY;
    }
    unsigned out = 0;
    for (unsigned s = 0; s < 2; s++) {
        for (unsigned d = 0; d < 2; d++) {
            unsigned es = s ^ inv_s, ed = d ^ inv_d;
            unsigned bit = (table >> (3 - (es * 2 + ed))) & 1;
            bit ^= inv_r;
            out |= bit << (3 - (s * 2 + d));
        }
    }
    return (RedRop)out;
}

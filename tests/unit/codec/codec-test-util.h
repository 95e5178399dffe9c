/* Test images for the codec round trips: seeded generators for text, UI,
 * photo-like, gradient, noise and few-colour pictures, laid out in any
 * bitmap format with padded strides, top-down or bottom-up. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "common/codec/codec.h"

typedef struct {
    uint64_t s;
} Rng;

static inline uint32_t rng_next(Rng *r)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(r->s >> 33);
}

static inline uint32_t rng_range(Rng *r, uint32_t lo, uint32_t hi)   /* [lo, hi] */
{
    return lo + rng_next(r) % (hi - lo + 1);
}

enum { KIND_TEXT, KIND_UI, KIND_PHOTO, KIND_GRADIENT, KIND_NOISE, KIND_FEW, KIND_COUNT };

static const char *const kind_names[KIND_COUNT] = {
    "text", "ui", "photo", "gradient", "noise", "few-colours",
};

static inline uint32_t clamp8(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (uint32_t)v;
}

/* A top-down 0xAARRGGBB master picture of the given kind. */
static inline uint32_t *make_master(Rng *r, int kind, uint32_t w, uint32_t h)
{
    uint32_t *px = g_new(uint32_t, (size_t)w * h);
    uint32_t pal[8];
    for (int i = 0; i < 8; i++) {
        pal[i] = rng_next(r) | 0xff000000u;
    }
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v;
            switch (kind) {
            case KIND_TEXT:
                v = 0xffffffffu;
                break;
            case KIND_UI:
                v = pal[((x / 37) + (y / 23)) % 3];
                break;
            case KIND_PHOTO: {
                int base = (int)(128 + 60 * ((x * 7 + y * 3) % 97) / 97.0);
                int n = (int)(rng_next(r) % 9) - 4;
                v = clamp8(base + n) << 16 | clamp8(base / 2 + n * 2) << 8 | clamp8(255 - base + n);
                v |= (uint32_t)(200 + rng_next(r) % 56) << 24;
                break;
            }
            case KIND_GRADIENT:
                v = (x * 255 / (w > 1 ? w - 1 : 1)) << 16 | (y * 255 / (h > 1 ? h - 1 : 1)) << 8 |
                    ((x + y) & 0xff);
                v |= ((x * 3) & 0xff) << 24;
                break;
            case KIND_NOISE:
                v = rng_next(r);
                break;
            default:
                v = pal[rng_next(r) % 4];
                break;
            }
            px[(size_t)y * w + x] = v;
        }
    }
    if (kind == KIND_TEXT) {
        /* glyph-like strokes: short dark runs on a light background */
        uint32_t strokes = w * h / 12 + 1;
        for (uint32_t s = 0; s < strokes; s++) {
            uint32_t x = rng_next(r) % w, y = rng_next(r) % h, len = rng_range(r, 1, 6);
            uint32_t c = rng_next(r) % 5 ? 0xff000000u : pal[0];
            bool vert = rng_next(r) & 1;
            for (uint32_t k = 0; k < len; k++) {
                uint32_t xx = vert ? x : x + k, yy = vert ? y + k : y;
                if (xx < w && yy < h) {
                    px[(size_t)yy * w + xx] = c;
                }
            }
        }
    }
    if (kind == KIND_UI) {
        /* a bordered window with a flat title bar */
        for (uint32_t y = 0; y < h; y++) {
            for (uint32_t x = 0; x < w; x++) {
                if (y < h / 8 + 1) {
                    px[(size_t)y * w + x] = pal[4];
                } else if (x == 0 || y == h - 1 || x == w - 1) {
                    px[(size_t)y * w + x] = pal[5];
                }
            }
        }
    }
    return px;
}

/* A bitmap in `fmt` showing master, with `pad` extra stride bytes, stored
 * top-down or bottom-up. Owns *buf_out (g_free); palette for 8BIT goes into
 * pal (256 entries). */
static inline CodecImage make_image(Rng *r, const uint32_t *master, uint32_t w, uint32_t h,
                                    uint8_t fmt, size_t pad, bool top_down,
                                    uint8_t **buf_out, uint32_t *pal)
{
    unsigned bpp = codec_fmt_bpp(fmt);
    size_t stride = (size_t)w * bpp + pad;
    uint8_t *buf = g_malloc(stride * h);
    memset(buf, 0xa5, stride * h);
    uint32_t npal = 0;
    if (fmt == SPICE_BITMAP_FMT_8BIT) {
        npal = rng_range(r, 2, 256);
        for (uint32_t i = 0; i < npal; i++) {
            pal[i] = rng_next(r) & 0xffffff;
        }
    }
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *d = buf + (size_t)(top_down ? y : h - 1 - y) * stride;
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = master[(size_t)y * w + x];
            switch (fmt) {
            case SPICE_BITMAP_FMT_8BIT:
                d[x] = (uint8_t)((v ^ (v >> 8) ^ (v >> 16)) % npal);
                break;
            case SPICE_BITMAP_FMT_16BIT: {
                uint32_t v16 = ((v >> 19) & 0x1f) << 10 | ((v >> 11) & 0x1f) << 5 | ((v >> 3) & 0x1f);
                v16 |= (v >> 31) << 15;     /* the unused top bit varies too */
                d[2 * x] = (uint8_t)v16;
                d[2 * x + 1] = (uint8_t)(v16 >> 8);
                break;
            }
            case SPICE_BITMAP_FMT_24BIT:
                d[3 * x] = (uint8_t)v;
                d[3 * x + 1] = (uint8_t)(v >> 8);
                d[3 * x + 2] = (uint8_t)(v >> 16);
                break;
            default:
                codec_put_u32le(d + 4 * x, v);
                break;
            }
        }
    }
    *buf_out = buf;
    return (CodecImage){ .fmt = fmt, .width = w, .height = h, .stride = stride, .data = buf,
                         .top_down = top_down, .palette = pal, .palette_n = npal };
}

/* Exact comparison of a decoded picture with the bitmap's reference view. */
static inline bool picture_matches(const CodecImage *img, const CodecPicture *pic, const char *what)
{
    CodecPicture ref;
    codec_image_to_picture(img, &ref);
    bool ok = pic->width == ref.width && pic->height == ref.height;
    if (!ok) {
        fprintf(stderr, "%s: size %ux%u, want %ux%u\n", what, pic->width, pic->height,
                ref.width, ref.height);
    }
    for (size_t i = 0; ok && i < (size_t)ref.width * ref.height; i++) {
        uint32_t mask = ref.has_alpha ? 0xffffffffu : 0xffffffu;
        if ((pic->px[i] & mask) != (ref.px[i] & mask)) {
            fprintf(stderr, "%s: pixel %zu (x %zu y %zu) 0x%08x, want 0x%08x\n", what, i,
                    i % ref.width, i / ref.width, pic->px[i] & mask, ref.px[i] & mask);
            ok = false;
        }
    }
    codec_picture_clear(&ref);
    return ok;
}

static const uint8_t rgb_fmts[] = {
    SPICE_BITMAP_FMT_16BIT, SPICE_BITMAP_FMT_24BIT, SPICE_BITMAP_FMT_32BIT, SPICE_BITMAP_FMT_RGBA,
};

/* Random case: size, kind, format from fmts, padding, orientation. */
typedef struct {
    uint32_t w, h;
    int kind;
    uint8_t fmt;
    size_t pad;
    bool top_down;
} Case;

static inline Case random_case(Rng *r, const uint8_t *fmts, size_t nfmts, uint32_t max_w, uint32_t max_h)
{
    Case c;
    switch (rng_next(r) % 8) {
    case 0:
        c.w = rng_range(r, 1, 4);
        c.h = rng_range(r, 1, 4);
        break;
    case 1:
        c.w = rng_range(r, 1, 3);
        c.h = rng_range(r, 1, max_h);
        break;
    default:
        c.w = rng_range(r, 1, max_w);
        c.h = rng_range(r, 1, max_h);
        break;
    }
    c.kind = (int)(rng_next(r) % KIND_COUNT);
    c.fmt = fmts[rng_next(r) % nfmts];
    c.pad = rng_next(r) % 3 ? 0 : rng_range(r, 1, 9);
    c.top_down = rng_next(r) & 1;
    return c;
}

/* Shared types of the image codec cores: the bitmap an encoder reads, the
 * growable byte buffer it writes, and the decoded picture the test decoders
 * produce. No server state here; any thread may use these on its own data.
 *
 * Wire formats: see docs/codecs.md. Encoders write the bytes the client's
 * decoder reads (spice-common canvas_base.c, lz.c, quic.c; spice-gtk
 * decode-glz.c, decode-zlib.c, decode-jpeg.c). The *-dec.c files are test
 * decoders written from those decoders' semantics, bounds-checked so they
 * can be fuzzed; the server never decodes images.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <spice/enums.h>

/* A bitmap as the display channel holds it. fmt is a SpiceBitmapFmt:
 * SPICE_BITMAP_FMT_8BIT (palette index), 16BIT (x1r5g5b5 little-endian),
 * 24BIT (bytes B,G,R), 32BIT (bytes B,G,R,x) or RGBA (bytes B,G,R,A). */
typedef struct CodecImage {
    uint8_t fmt;               /* SpiceBitmapFmt */
    uint32_t width, height;    /* pixels, both > 0 */
    size_t stride;             /* bytes from one memory row to the next, >= width * bpp */
    const uint8_t *data;       /* first row in memory; borrowed */
    bool top_down;             /* the first memory row is the top of the picture */
    const uint32_t *palette;   /* 8BIT only: x8r8g8b8 entries; borrowed */
    uint32_t palette_n;        /* entries in palette, 1..256 */
} CodecImage;

/* Growable output buffer (glib allocator). */
typedef struct CodecBuf {
    uint8_t *data;             /* owned; g_free in codec_buf_clear() */
    size_t len;                /* bytes written */
    size_t cap;                /* bytes allocated */
} CodecBuf;

/* A decoded picture: top row first, width * height pixels packed, each
 * 0xAARRGGBB. Alpha is meaningful only when has_alpha. */
typedef struct CodecPicture {
    uint32_t width, height;
    uint32_t *px;              /* owned; g_free in codec_picture_clear() */
    bool has_alpha;
} CodecPicture;

/* Upper bound on width * height any codec here accepts (the LZ decoder's
 * own limit is 1 GiB of pixel bytes; we stay far below it). */
#define CODEC_MAX_PIXELS (1u << 26)

/* Bytes per pixel of a supported SpiceBitmapFmt, 0 if unsupported. */
unsigned codec_fmt_bpp(uint8_t fmt);

/* True if img is a well-formed bitmap (format, non-zero sizes, stride,
 * palette), whatever its size. Any thread. */
bool codec_image_sane(const CodecImage *img);

/* codec_image_sane() and at most CODEC_MAX_PIXELS pixels: what the codecs
 * accept. Any thread. */
bool codec_image_valid(const CodecImage *img);

/* Memory row `row` (0 = first row in memory). */
static inline const uint8_t *codec_image_row(const CodecImage *img, uint32_t row)
{
    return img->data + (size_t)row * img->stride;
}

/* Picture row y (0 = top). */
static inline const uint8_t *codec_image_top_row(const CodecImage *img, uint32_t y)
{
    return codec_image_row(img, img->top_down ? y : img->height - 1 - y);
}

/* Expands x1r5g5b5 to x8r8g8b8 the way the client's canvas does
 * (canvas_16bpp_to_32bpp: each 5-bit field v becomes v << 3 | v >> 2). */
static inline uint32_t codec_rgb16_to_32(uint16_t v)
{
    uint32_t r = (v >> 10) & 0x1f, g = (v >> 5) & 0x1f, b = v & 0x1f;
    return ((r << 3 | r >> 2) << 16) | ((g << 3 | g >> 2) << 8) | (b << 3 | b >> 2);
}

/* Reference conversion of img to a top-down 0xAARRGGBB picture, as the
 * client shows it (alpha kept only for RGBA, else 0). For tests and tools;
 * the caller owns pic (codec_picture_clear). */
void codec_image_to_picture(const CodecImage *img, CodecPicture *pic);

/* Frees pic->px and zeroes pic. Accepts an empty picture. */
void codec_picture_clear(CodecPicture *pic);

/* Makes room for `extra` more bytes. */
void codec_buf_reserve(CodecBuf *buf, size_t extra);
/* Frees the buffer and zeroes it. */
void codec_buf_clear(CodecBuf *buf);

static inline void codec_buf_put_u8(CodecBuf *buf, uint8_t v)
{
    if (buf->len == buf->cap) {
        codec_buf_reserve(buf, 1);
    }
    buf->data[buf->len++] = v;
}

static inline void codec_buf_put_u32be(CodecBuf *buf, uint32_t v)
{
    codec_buf_reserve(buf, 4);
    buf->data[buf->len++] = (uint8_t)(v >> 24);
    buf->data[buf->len++] = (uint8_t)(v >> 16);
    buf->data[buf->len++] = (uint8_t)(v >> 8);
    buf->data[buf->len++] = (uint8_t)v;
}

static inline void codec_buf_put_u32le(CodecBuf *buf, uint32_t v)
{
    codec_buf_reserve(buf, 4);
    buf->data[buf->len++] = (uint8_t)v;
    buf->data[buf->len++] = (uint8_t)(v >> 8);
    buf->data[buf->len++] = (uint8_t)(v >> 16);
    buf->data[buf->len++] = (uint8_t)(v >> 24);
}

static inline void codec_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t codec_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t codec_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* LZ4 test decoder, following canvas_get_lz4(): header, then blocks decoded
 * with one LZ4_streamDecode_t into a packed width*bpp*height buffer. Stricter
 * than the client in one way: the blocks must fill the picture exactly. */
#include <string.h>
#include <glib.h>
#include <lz4.h>

#include "common/codec/lz4-codec.h"

static uint32_t pixel_at(uint8_t fmt, const uint8_t *p)
{
    switch (fmt) {
    case SPICE_BITMAP_FMT_16BIT:
        return codec_rgb16_to_32((uint16_t)(p[0] | p[1] << 8));
    case SPICE_BITMAP_FMT_24BIT:
        return (uint32_t)p[0] | p[1] << 8 | (uint32_t)p[2] << 16;
    case SPICE_BITMAP_FMT_32BIT:
        return codec_get_u32le(p) & 0xffffff;
    default:
        return codec_get_u32le(p);
    }
}

bool lz4_decode(const uint8_t *data, size_t len, uint32_t width, uint32_t height,
                CodecPicture *pic, const char **err)
{
    memset(pic, 0, sizeof(*pic));
    if (len < 2) {
        *err = "lz4: missing header";
        return false;
    }
    bool top_down = data[0] != 0;
    uint8_t fmt = data[1];
    if (fmt == SPICE_BITMAP_FMT_8BIT || codec_fmt_bpp(fmt) == 0) {
        *err = "lz4: unsupported bitmap format";
        return false;
    }
    if (width == 0 || height == 0 || (uint64_t)width * height > CODEC_MAX_PIXELS) {
        *err = "lz4: bad size";
        return false;
    }
    size_t row_bytes = (size_t)width * codec_fmt_bpp(fmt);
    size_t total = row_bytes * height;
    uint8_t *buf = g_malloc(total);
    size_t done = 0;
    const uint8_t *p = data + 2, *end = data + len;
    LZ4_streamDecode_t *sd = LZ4_createStreamDecode();
    bool ok = true;

    do {
        if (end - p < 4) {
            *err = "lz4: truncated block header";
            ok = false;
            break;
        }
        uint32_t n = codec_get_u32be(p);
        p += 4;
        if (n > (size_t)(end - p) || n > INT32_MAX) {
            *err = "lz4: block past the end";
            ok = false;
            break;
        }
        int got = LZ4_decompress_safe_continue(sd, (const char *)p, (char *)buf + done,
                                               (int)n, (int)(total - done));
        if (got <= 0) {
            *err = "lz4: bad block";
            ok = false;
            break;
        }
        done += (size_t)got;
        p += n;
    } while (p < end);
    LZ4_freeStreamDecode(sd);

    if (ok && done != total) {
        *err = "lz4: picture not filled";
        ok = false;
    }
    if (ok) {
        pic->width = width;
        pic->height = height;
        pic->has_alpha = fmt == SPICE_BITMAP_FMT_RGBA;
        pic->px = g_new(uint32_t, (size_t)width * height);
        for (uint32_t r = 0; r < height; r++) {
            uint32_t y = top_down ? r : height - 1 - r;
            for (uint32_t x = 0; x < width; x++) {
                pic->px[(size_t)y * width + x] =
                    pixel_at(fmt, buf + r * row_bytes + x * codec_fmt_bpp(fmt));
            }
        }
    }
    g_free(buf);
    return ok;
}

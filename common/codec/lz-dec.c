/* LZ test decoder, from lz.c lz_decode_begin/lz_decode and
 * lz_decompress_tmpl.c: control byte < 32 = ctrl+1 literal pixels, else a
 * match of (ctrl >> 5) - 1 (+ extension bytes while 255) + bias pixels at
 * distance ((ctrl & 31) << 8 | next) + 1, or 16 more bits + 8191 when those
 * are 31/255. Every read and copy is bounds-checked; the whole input must be
 * consumed, as the client asserts. Decodes PLT8, RGB16/24/32, RGBA, XXXA
 * (the types our encoder emits). */
#include <string.h>
#include <glib.h>

#include "common/codec/be-reader.h"
#include "common/codec/lz-codec.h"

#define LZ_MAX_IMAGE_BYTES (1024u * 1024 * 1024 - 1)

typedef enum { PASS_RGB, PASS_RGB16, PASS_PLT8, PASS_ALPHA } PassKind;

static bool lz_dec_pass(BeReader *r, uint32_t *out, uint32_t n, PassKind kind,
                        const uint32_t *palette, uint32_t palette_n, const char **err)
{
    uint32_t bias = kind == PASS_RGB ? 1 : kind == PASS_RGB16 ? 2 : 3;
    uint32_t op = 0;
    uint32_t ctrl = rd8(r);

    for (;;) {
        if (r->bad) {
            *err = "lz: truncated";
            return false;
        }
        if (ctrl >= 32) {
            uint64_t len = (ctrl >> 5) - 1;
            if (len == 6) {
                uint32_t c;
                do {
                    c = rd8(r);
                    len += c;
                } while (c == 255 && !r->bad && len <= n);
            }
            uint32_t c = rd8(r);
            uint32_t ofs = ((ctrl & 31) << 8) + c;
            if (c == 255 && (ctrl & 31) == 31) {
                ofs = rd8(r) << 8;
                ofs += rd8(r);
                ofs += 8191;
            }
            len += bias;
            ofs += 1;
            if (r->bad) {
                *err = "lz: truncated match";
                return false;
            }
            if (len > n - op || ofs > op) {
                *err = "lz: match out of bounds";
                return false;
            }
            for (uint32_t k = 0; k < len; k++, op++) {
                if (kind == PASS_ALPHA) {
                    out[op] = (out[op] & 0xffffff) | (out[op - ofs] & 0xff000000);
                } else {
                    out[op] = out[op - ofs];
                }
            }
        } else {
            uint32_t cnt = ctrl + 1;
            if (cnt > n - op) {
                *err = "lz: literals out of bounds";
                return false;
            }
            for (uint32_t k = 0; k < cnt; k++, op++) {
                switch (kind) {
                case PASS_RGB: {
                    uint32_t b = rd8(r), g = rd8(r), red = rd8(r);
                    out[op] = b | g << 8 | red << 16;
                    break;
                }
                case PASS_RGB16: {
                    uint32_t hi = rd8(r), lo = rd8(r);
                    out[op] = codec_rgb16_to_32((uint16_t)(hi << 8 | lo));
                    break;
                }
                case PASS_PLT8: {
                    uint32_t idx = rd8(r);
                    if (idx >= palette_n) {
                        *err = "lz: palette index out of range";
                        return false;
                    }
                    out[op] = palette[idx] & 0xffffff;
                    break;
                }
                case PASS_ALPHA:
                    out[op] = (out[op] & 0xffffff) | rd8(r) << 24;
                    break;
                }
            }
            if (r->bad) {
                *err = "lz: truncated literals";
                return false;
            }
        }
        if (op >= n) {
            return true;
        }
        ctrl = rd8(r);
    }
}

bool lz_decode(const uint8_t *data, size_t len, const uint32_t *palette, uint32_t palette_n,
               CodecPicture *pic, uint8_t *out_type, const char **err)
{
    BeReader r = { data, data + len, false };
    memset(pic, 0, sizeof(*pic));

    if (rd32(&r) != LZ_MAGIC || rd32(&r) != LZ_VERSION) {
        *err = "lz: bad magic or version";
        return false;
    }
    uint32_t type = rd32(&r), width = rd32(&r), height = rd32(&r), stride = rd32(&r);
    uint32_t top_down = rd32(&r);
    if (r.bad) {
        *err = "lz: truncated header";
        return false;
    }
    static const uint32_t bpp[] = { [LZ_TYPE_PLT8] = 1, [LZ_TYPE_RGB16] = 2, [LZ_TYPE_RGB24] = 3,
                                    [LZ_TYPE_RGB32] = 4, [LZ_TYPE_RGBA] = 4, [LZ_TYPE_XXXA] = 4 };
    if (type >= G_N_ELEMENTS(bpp) || bpp[type] == 0) {
        *err = "lz: image type not supported";
        return false;
    }
    /* lz_set_sizes(): RGB strides are exact; PLT8 has one pixel per byte so
     * its stride must equal the width too. */
    if (width == 0 || height == 0 || (uint64_t)width * bpp[type] != stride ||
        (uint64_t)stride * height > LZ_MAX_IMAGE_BYTES ||
        (uint64_t)width * height > CODEC_MAX_PIXELS) {
        *err = "lz: bad sizes";
        return false;
    }
    if (type == LZ_TYPE_PLT8 && (palette == NULL || palette_n == 0)) {
        *err = "lz: palette missing";
        return false;
    }
    uint32_t n = width * height;
    uint32_t *buf = g_new0(uint32_t, n);
    bool ok;
    switch (type) {
    case LZ_TYPE_PLT8:
        ok = lz_dec_pass(&r, buf, n, PASS_PLT8, palette, palette_n, err);
        break;
    case LZ_TYPE_RGB16:
        ok = lz_dec_pass(&r, buf, n, PASS_RGB16, NULL, 0, err);
        break;
    case LZ_TYPE_RGBA:
        ok = lz_dec_pass(&r, buf, n, PASS_RGB, NULL, 0, err) &&
             lz_dec_pass(&r, buf, n, PASS_ALPHA, NULL, 0, err);
        break;
    case LZ_TYPE_XXXA:
        ok = lz_dec_pass(&r, buf, n, PASS_ALPHA, NULL, 0, err);
        break;
    default:
        ok = lz_dec_pass(&r, buf, n, PASS_RGB, NULL, 0, err);
        break;
    }
    if (ok && r.p != r.end) {
        *err = "lz: trailing bytes";
        ok = false;
    }
    if (!ok) {
        g_free(buf);
        return false;
    }
    pic->width = width;
    pic->height = height;
    pic->has_alpha = type == LZ_TYPE_RGBA || type == LZ_TYPE_XXXA;
    pic->px = g_new(uint32_t, n);
    for (uint32_t row = 0; row < height; row++) {
        uint32_t y = top_down ? row : height - 1 - row;
        memcpy(pic->px + (size_t)y * width, buf + (size_t)row * width, width * 4u);
    }
    g_free(buf);
    if (out_type) {
        *out_type = (uint8_t)type;
    }
    return true;
}
